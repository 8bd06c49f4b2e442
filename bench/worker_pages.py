#!/usr/bin/env python3
"""Time HR's worker list (and the officials' queue) on a database of 100,000 workers, beside baselines.

    .venv/bin/python bench/worker_pages.py                    # SQLite file in /tmp
    .venv/bin/python bench/worker_pages.py --postgres postgresql://postgres@127.0.0.1:5432/bench_workers
    .venv/bin/python bench/worker_pages.py --requests 50      # a quicker run

The database is built with bulk executemany inserts: one enterprise of District 7 with 5,000 workers, the
other 95,000 spread over ~150 enterprises of the five units, two doses for most workers. Pages are
fetched through Flask's test client, signed in as that enterprise's HR (or District 7's official):
the median and 95th percentile of N requests after a warm-up, next to two baselines measured in the
same run (the language-switch redirect and the static home page). Nothing is asserted.
"""
from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PASSWORD = "bench-password-123"
CHUNK = 20_000
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô"]
MIDDLE = ["Văn", "Thị", "Minh", "Ngọc", "Hữu", "Thu", "Đức", "Kim", "Thanh", "Hồng"]
GIVEN = ["An", "Bình", "Cường", "Dũng", "Hà", "Hương", "Khoa", "Lan", "Linh", "Mai", "Nam", "Phúc", "Quang",
         "Sơn", "Thảo", "Trang", "Uyên", "Vinh"]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=100_000, help="workers in the whole database")
    parser.add_argument("--own", type=int, default=5_000, help="workers of the timed enterprise")
    parser.add_argument("--enterprises", type=int, default=150, help="other enterprises")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL database to use (its tables are dropped)")
    parser.add_argument("--sqlite", metavar="PATH", default="/tmp/bench-worker-pages.sqlite3")
    parser.add_argument("--reuse", action="store_true", help="time an already built database")
    return parser.parse_args()


def build_app(args):
    from portal import create_app
    from portal.config import normalise_database_url

    url = normalise_database_url(args.postgres) if args.postgres else f"sqlite:///{args.sqlite}"
    instance = Path("/tmp/bench-worker-pages-instance")
    return create_app({
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789",
        "LOGIN_RATE_LIMIT": "10000 per minute",
        "SIGNING_KEY_DIR": str(instance / "keys"),
    })


def step(label: str):
    class Timer:
        def __enter__(self):
            self.started = time.perf_counter()
            print(f"{label} …", end="", flush=True)

        def __exit__(self, *exc):
            print(f" {time.perf_counter() - self.started:.1f} s", flush=True)

    return Timer()


def insert(connection, table, rows: list[dict]) -> None:
    for start in range(0, len(rows), CHUNK):
        connection.execute(table.insert(), rows[start:start + CHUNK])  # executemany


# -- the database ---------------------------------------------------------------------------------


def seed(app, args, rng: random.Random) -> None:
    from sqlalchemy import text

    from portal.clock import local_today, utcnow
    from portal.extensions import db
    from portal.units.services import sync_units

    registry = app.extensions["portal.plugins"].registry
    with app.app_context():
        with step("schema"):
            db.drop_all()
            if db.engine.dialect.name == "postgresql":
                with db.engine.begin() as connection:
                    connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
            db.create_all()
        units = {unit.code: unit.id for unit in sync_units(db.session, registry)}
        db.session.commit()
        now, today = utcnow(), local_today()
        with db.engine.begin() as connection:
            with step(f"{args.enterprises + 1} enterprises"):
                enterprise_ids = _enterprises(connection, registry, units, args.enterprises, now)
            with step(f"{args.workers:,} workers ({args.own:,} in the timed enterprise) and their doses"):
                _workers(connection, enterprise_ids, args, rng, now, today)
        _users(app, units)
        with step("ANALYZE"):
            _analyze(db.engine)


def _enterprises(connection, registry, units: dict[str, int], count: int, now) -> list[int]:
    """Insert the timed enterprise (id 1, District 7) and ``count`` others; return their ids."""
    from stdnum.vn import mst

    from portal.enterprises.models import Enterprise

    codes = list(units)
    rows = []
    for index in range(1, count + 2):
        code = "district7" if index == 1 or index % 3 == 0 else codes[index % len(codes)]
        body = f"03{index:07d}"
        rows.append({
            "id": index, "name": f"Công ty TNHH Thí điểm {index}", "tax_code": body + mst.calc_check_digit(body),
            "address": "1 Nguyễn Văn Linh", "ward": "Tân Phong", "district": "Quận 7", "unit_id": units[code],
            "business_type": next(iter(registry.business_types[code])), "sector": next(iter(registry.sectors[code])),
            "location": next(iter(registry.locations[code]), None), "headcount": 150, "contact_name": "Lê Hoa",
            "phone": "02837750000", "email": f"hr{index}@bench.vn", "status": "approved" if index % 7 else "pending",
            "created_at": now, "updated_at": now, "version": 1,
        })
    insert(connection, Enterprise.__table__, rows)
    return [row["id"] for row in rows]


def _workers(connection, enterprise_ids: list[int], args, rng: random.Random, now, today: date) -> None:
    from portal.plugins.registry import fold
    from portal.workers.identity import make_cccd
    from portal.workers.models import VaccineDose, Worker

    others = enterprise_ids[1:]
    workers, doses = [], []
    for worker_id in range(1, args.workers + 1):
        enterprise_id = 1 if worker_id <= args.own else others[worker_id % len(others)]
        sex = "MF"[worker_id % 2]
        born = date(1965 + worker_id % 37, 1 + worker_id % 12, 1 + worker_id % 28)
        name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
        workers.append({
            "id": worker_id, "enterprise_id": enterprise_id, "full_name": name, "name_key": fold(name),
            "date_of_birth": born, "sex": sex, "citizen_id": make_cccd(79, born, sex, worker_id),
            "phone": f"09{worker_id:08d}", "home_address": "45 Lê Văn Lương", "home_ward": "Tân Hưng",
            "home_district": "Quận 7", "job_title": "Công nhân",
            "shift": rng.choice(["office", "shift1", "shift2", "shift3"]), "recovered_on": None, "test_kind": None,
            "tested_on": None, "active": worker_id % 40 != 0, "left_on": None if worker_id % 40 else today,
            "created_at": now, "updated_at": now,
        })
        if worker_id % 10:
            second = today - timedelta(days=15 + worker_id % 90)
            product = rng.choice(["astrazeneca", "pfizer", "moderna", "verocell"])
            first = second - timedelta(days=35)
            doses += [{"worker_id": worker_id, "number": 1, "product": product, "given_on": first},
                      {"worker_id": worker_id, "number": 2, "product": product, "given_on": second}]
        if len(workers) >= CHUNK:
            insert(connection, Worker.__table__, workers)
            insert(connection, VaccineDose.__table__, doses)
            workers, doses = [], []
    insert(connection, Worker.__table__, workers)
    insert(connection, VaccineDose.__table__, doses)


def _users(app, units: dict[str, int]) -> None:
    from portal.auth.models import Role
    from portal.auth.services import create_user
    from portal.enterprises.models import Enterprise
    from portal.extensions import db
    from portal.units.models import PilotUnit

    with app.app_context():
        create_user(db.session, email="hr@bench.vn", password=PASSWORD, full_name="Nhân sự", role=Role.HR,
                    enterprise=db.session.get(Enterprise, 1))
        create_user(db.session, email="official@bench.vn", password=PASSWORD, full_name="Cán bộ Quận 7",
                    role=Role.OFFICIAL, unit=db.session.get(PilotUnit, units["district7"]))
        db.session.commit()


def _analyze(engine) -> None:
    from sqlalchemy import text

    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))


# -- timing ---------------------------------------------------------------------------------------


def login(app, email: str):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, f"login failed for {email}"
    return client


def timed(client, url: str, warmup: int, requests: int, status: int = 200) -> list[float]:
    for _ in range(warmup):
        assert client.get(url).status_code == status, url
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == status, url
    return times


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    args = parse_args()
    app = build_app(args)
    print(f"database: {app.config['SQLALCHEMY_DATABASE_URI'].split('@')[-1]}")
    if not args.reuse:
        seed(app, args, random.Random(2021))
    hr, official = login(app, "hr@bench.vn"), login(app, "official@bench.vn")
    last_page = (args.own - args.own // 40 + 49) // 50
    pages = [
        ("baseline: /lang/vi redirect", app.test_client(), "/lang/vi", 302),
        ("baseline: home page (anonymous)", app.test_client(), "/", 200),
        ("workers list, page 1 (HR)", hr, "/workers", 200),
        ("workers list, search 'nguyen van an'", hr, "/workers?q=nguyen+van+an", 200),
        ("workers list, search ID digits '0001'", hr, "/workers?q=0001", 200),
        (f"workers list, late page {last_page - 1}", hr, f"/workers?page={last_page - 1}", 200),
    ]
    if "enterprises.queue" in app.view_functions:
        pages.append(("officials' queue /officials/enterprises", official, "/officials/enterprises", 200))
    else:
        print("note: /officials/enterprises is not in this build yet; skipped")
    print(f"\n{'page':44} {'median ms':>10} {'p95 ms':>10}   ({args.requests} requests after {args.warmup} warm-up)")
    for label, client, url, status in pages:
        times = timed(client, url, args.warmup, args.requests, status)
        print(f"{label:44} {statistics.median(times):10.1f} {p95(times):10.1f}")
    for fmt in ("xlsx", "csv"):
        times = timed(hr, f"/workers/export.{fmt}", 1, 5)
        print(f"{f'export .{fmt} of {args.own - args.own // 40:,} workers':44} {statistics.median(times):10.1f} "
              f"{max(times):10.1f}   (5 requests; max)")


if __name__ == "__main__":
    main()
