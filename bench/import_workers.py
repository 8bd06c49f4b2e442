"""Measure the worker-list import against a floor measured in the same run.

    .venv/bin/python bench/import_workers.py [--rows 10000] [--postgres postgresql://postgres@127.0.0.1:5432/DB]

For a CSV and an XLSX file of realistic rows, it times the import through the services the pages use
(preview = parse + validate + compare with the database; commit = validate again + write, both as the
background jobs that run for lists this large) and, beside it, the floor: parsing the same file alone plus
a raw executemany insert of the same rows into a scratch table. The PostgreSQL database given is emptied
(every table dropped and created again): give it a scratch database. Nothing is asserted; figures are printed.
"""
from __future__ import annotations

import argparse
import csv
import io
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô",
          "Dương", "Lý"]
MIDDLE_M = ["Văn", "Hữu", "Đức", "Minh", "Quốc", "Thành", "Hoàng", "Công"]
MIDDLE_F = ["Thị", "Ngọc", "Thu", "Mỹ", "Thanh", "Kim", "Bích", "Hồng"]
GIVEN_M = ["An", "Bình", "Cường", "Dũng", "Hải", "Hùng", "Khoa", "Long", "Nam", "Phúc", "Quân", "Sơn", "Tài",
           "Thịnh", "Trí", "Tuấn", "Việt"]
GIVEN_F = ["Anh", "Chi", "Duyên", "Hà", "Hằng", "Hương", "Lan", "Linh", "Mai", "Ngân", "Nhung", "Oanh", "Phương",
           "Thảo", "Trang", "Tuyết", "Yến"]
STREETS = ["Nguyễn Văn Linh", "Huỳnh Tấn Phát", "Nguyễn Thị Thập", "Lê Văn Lương", "Trần Xuân Soạn",
           "Nguyễn Hữu Thọ", "Lý Phục Man", "Đào Trí", "Phạm Hữu Lầu"]
PLACES = [("Tân Phong", "Quận 7"), ("Tân Hưng", "Quận 7"), ("Tân Thuận Tây", "Quận 7"), ("Phường 1", "Quận 8"),
          ("Phường 4", "Quận 4"), ("Hiệp Phước", "Huyện Nhà Bè"), ("Phước Kiển", "Huyện Nhà Bè"),
          ("Bình Hưng", "Huyện Bình Chánh")]
JOBS = ["Công nhân may", "Công nhân đóng gói", "Nhân viên kho", "Kế toán", "Bảo vệ", "Tổ trưởng sản xuất",
        "Nhân viên văn phòng", "Tài xế giao hàng"]
SHIFTS = ["Hành chính", "Ca 1", "Ca 2", "Ca 3"]
VACCINES = ["AstraZeneca", "Pfizer", "Moderna", "Vero Cell", "Sputnik V"]
PHONE_PREFIXES = ["090", "091", "093", "094", "097", "098", "032", "033", "035", "070", "077", "081", "085"]
PROVINCES = [79, 80, 83, 87, 89, 75, 72, 52]


def make_rows(count: int, serial_start: int, today: date, seed: int) -> list[dict[str, str]]:
    """Return ``count`` valid worker rows (header → text) with distinct citizen IDs."""
    from portal.workers.identity import make_cccd

    rng = random.Random(seed)
    rows = []
    for index in range(count):
        sex = rng.choice("MF")
        born = date(rng.randint(1965, 2003), rng.randint(1, 12), rng.randint(1, 28))
        name = " ".join([rng.choice(FAMILY), rng.choice(MIDDLE_F if sex == "F" else MIDDLE_M),
                         rng.choice(GIVEN_F if sex == "F" else GIVEN_M)])
        ward, district = rng.choice(PLACES)
        row = {
            "STT": str(index + 1), "Họ và tên": name, "Ngày sinh": born.strftime("%d/%m/%Y"),
            "Giới tính": "Nữ" if sex == "F" else "Nam",
            "Số CCCD/CMND": make_cccd(rng.choice(PROVINCES), born, sex, serial_start + index),
            "Số điện thoại": rng.choice(PHONE_PREFIXES) + f"{rng.randint(0, 9_999_999):07d}",
            "Địa chỉ thường trú": f"{rng.randint(1, 400)}/{rng.randint(1, 99)} {rng.choice(STREETS)}",
            "Phường/Xã": ward, "Quận/Huyện": district, "Chức vụ": rng.choice(JOBS),
            "Ca làm việc": rng.choice(SHIFTS),
        }
        doses = rng.choice([0, 1, 2, 2, 2])
        vaccine = rng.choice(VACCINES)
        first = today - timedelta(days=rng.randint(60, 150))
        for number in range(1, doses + 1):
            row[f"Vắc xin mũi {number}"] = vaccine
            row[f"Ngày tiêm mũi {number}"] = (first + timedelta(days=(number - 1) * 35)).strftime("%d/%m/%Y")
        if rng.random() < 0.3:
            row["Loại xét nghiệm"] = rng.choice(["PCR", "Nhanh"])
            row["Ngày xét nghiệm âm tính"] = (today - timedelta(days=rng.randint(0, 3))).strftime("%d/%m/%Y")
        rows.append(row)
    return rows


HEADERS = ["STT", "Họ và tên", "Ngày sinh", "Giới tính", "Số CCCD/CMND", "Số điện thoại", "Địa chỉ thường trú",
           "Phường/Xã", "Quận/Huyện", "Chức vụ", "Ca làm việc", "Vắc xin mũi 1", "Ngày tiêm mũi 1", "Vắc xin mũi 2",
           "Ngày tiêm mũi 2", "Loại xét nghiệm", "Ngày xét nghiệm âm tính"]


def to_csv(rows) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADERS)
    writer.writerows([row.get(header, "") for header in HEADERS] for row in rows)
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(rows) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Danh sách")
    sheet.append(["DANH SÁCH NGƯỜI LAO ĐỘNG ĐĂNG KÝ THẺ XANH COVID"])
    sheet.append(HEADERS)
    for row in rows:
        sheet.append([row.get(header) or None for header in HEADERS])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# -- the run -------------------------------------------------------------------------------------------------

def build_app(url: str, instance: Path):
    from portal import create_app

    return create_app({
        "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-secret-key-0123456789-abcdefghijklmnop",
        "JOBS_IMMEDIATE": True, "SIGNING_KEY_DIR": str(instance / "keys"), "IMPORT_MAX_BYTES": 12 * 1024 * 1024,
    })


def reset_schema(app) -> None:
    from sqlalchemy import text

    from portal.extensions import db

    with app.app_context():
        db.drop_all()
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(text("DROP TABLE IF EXISTS alembic_version, bench_floor"))
        db.create_all()


def make_hr(app, tax_code: str, email: str):
    from portal.auth.models import Role
    from portal.auth.services import create_user
    from portal.extensions import db
    from portal.testing.fixtures import make_enterprise

    with app.app_context():
        registry = app.extensions["portal.plugins"].registry
        enterprise = make_enterprise(db.session, registry, "district7", f"Công ty {tax_code}", tax_code)
        user = create_user(db.session, email=email, password="bench-password-123", full_name="Trần Thị Hạnh",
                           role=Role.HR, enterprise=enterprise)
        db.session.commit()
        return enterprise.id, user.id


def floor(app, data: bytes) -> tuple[float, float, int]:
    """Time parsing the file alone, then a raw executemany insert of its cells into a scratch table."""
    from sqlalchemy import Column, MetaData, String, Table

    from portal.extensions import db
    from portal.imports.parsing import Limits, parse_upload
    from portal.imports.settings import header_spec

    with app.app_context():
        spec = header_spec()
        started = time.perf_counter()
        parsed = parse_upload(data, spec, Limits(max_bytes=len(data)))
        parse_seconds = time.perf_counter() - started
        fields = list(spec.labels)
        table = Table("bench_floor", MetaData(), *(Column(name, String(300)) for name in fields))
        table.drop(db.engine, checkfirst=True)
        table.create(db.engine)
        values = [{name: row.values.get(name) for name in fields} for row in parsed.rows]
        started = time.perf_counter()
        with db.engine.begin() as connection:
            connection.execute(table.insert(), values)
        insert_seconds = time.perf_counter() - started
        table.drop(db.engine)
        return parse_seconds, insert_seconds, len(parsed.rows)


class Stopwatch:
    """Add up the time spent inside one function (to tell the import's own time from what it calls)."""

    def __init__(self, module, name: str):
        self.module, self.name, self.original, self.seconds = module, name, getattr(module, name), 0.0

    def __enter__(self):
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return self.original(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started

        setattr(self.module, self.name, timed)
        return self

    def __exit__(self, *_exc):
        setattr(self.module, self.name, self.original)


def through_services(app, enterprise_id: int, user_id: int, name: str, data: bytes) -> dict[str, float]:
    """Time preview and commit the way the pages run them (large lists: as inline background jobs)."""
    from portal.auth.models import User
    from portal.enterprises.models import Enterprise
    from portal.extensions import db
    from portal.imports import checking, committing
    from portal.imports.checking import start_import
    from portal.imports.committing import commit_now
    from portal.imports.models import ImportBatch

    timings = {}
    with app.test_request_context(), Stopwatch(checking, "clean_worker") as validation, \
            Stopwatch(committing, "upsert_workers") as upsert:
        registry = app.extensions["portal.plugins"].registry
        user, enterprise = db.session.get(User, user_id), db.session.get(Enterprise, enterprise_id)
        started = time.perf_counter()
        batch = start_import(db.session, enterprise, user, name, data, registry=registry)
        db.session.commit()  # the check job runs here
        batch_id = batch.id
        timings["preview"] = time.perf_counter() - started
        batch = db.session.get(ImportBatch, batch_id)
        db.session.refresh(batch)
        assert batch.status == "ready", batch.status
        timings["counts"] = (batch.create_count, batch.error_count + batch.conflict_count)
        started = time.perf_counter()
        commit_now(db.session, registry, batch, user, valid_only=False)
        db.session.commit()  # the commit job runs here
        timings["commit"] = time.perf_counter() - started
        db.session.refresh(batch)
        assert batch.status == "committed", (batch.status, batch.message)
        timings["written"] = batch.written_created
        db.session.remove()
    timings["clean_worker"], timings["upsert_workers"] = validation.seconds, upsert.seconds
    return timings


def run(label: str, url: str, rows: int, files: dict[str, bytes], instance: Path) -> list[tuple]:
    app = build_app(url, instance)
    reset_schema(app)
    results = []
    for index, (kind, data) in enumerate(files.items()):
        enterprise_id, user_id = make_hr(app, f"03012345{index:02d}", f"hr{index}@bench.example")
        parse_seconds, insert_seconds, parsed_rows = floor(app, data)
        timings = through_services(app, enterprise_id, user_id, f"bench.{kind}", data)
        total = timings["preview"] + timings["commit"]
        base = parse_seconds + insert_seconds
        own = total - timings["clean_worker"] - timings["upsert_workers"]
        results.append((label, kind, parsed_rows, parse_seconds, insert_seconds, base, timings["preview"],
                        timings["commit"], total, total / base, timings["clean_worker"], timings["upsert_workers"],
                        own, own / base, timings["written"]))
    with app.app_context():
        from portal.extensions import db

        db.engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--postgres", help="URL of a scratch PostgreSQL database (its tables are dropped)")
    args = parser.parse_args()

    from portal.clock import local_today

    today = local_today()
    print(f"Generating {args.rows} rows per file…", flush=True)
    files = {"csv": to_csv(make_rows(args.rows, 100_000, today, seed=1)),
             "xlsx": to_xlsx(make_rows(args.rows, 400_000, today, seed=2))}
    for kind, data in files.items():
        print(f"  {kind}: {len(data) / 1024:,.0f} KB")
    results = []
    with tempfile.TemporaryDirectory() as folder:
        instance = Path(folder)
        results += run("sqlite", f"sqlite:///{instance / 'bench.sqlite3'}", args.rows, files, instance)
        if args.postgres:
            from portal.config import normalise_database_url

            results += run("postgresql", normalise_database_url(args.postgres), args.rows, files, instance)
    header = ("db", "file", "rows", "parse", "insert", "floor", "preview", "commit", "import", "ratio",
              "validate", "upsert", "rest", "ratio", "written")
    print()
    print("{:<10} {:<5} {:>6} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>6} │ {:>8} {:>8} {:>8} {:>6} {:>7}"
          .format(*header))
    for row in results:
        print("{:<10} {:<5} {:>6} {:>7.2f}s {:>7.2f}s {:>7.2f}s {:>7.2f}s {:>7.2f}s {:>7.2f}s {:>5.1f}× │ "
              "{:>7.2f}s {:>7.2f}s {:>7.2f}s {:>5.1f}× {:>7}".format(*row))
    print("\nfloor  = parsing the file alone + a raw executemany insert of its cells, measured in this run;\n"
          "import = preview + commit through the services the pages use (aim: import within 3× the floor).\n"
          "Right of │, the import split: time inside the workers feature's clean_worker (once per row) and\n"
          "upsert_workers (includes the listeners of workers_changed), and the rest (parsing, comparing with the\n"
          "database, storing the batch, jobs), with the rest's own ratio to the floor.")


if __name__ == "__main__":
    main()
