#!/usr/bin/env python3
"""Match a health-registry vaccination extract against the workers, beside a floor measured in the same run.

    .venv/bin/python bench/health_match.py                        # 1,000,000 rows, 300,000 workers, SQLite in /tmp
    .venv/bin/python bench/health_match.py --postgres postgresql://postgres@127.0.0.1:5432/bench_health
    .venv/bin/python bench/health_match.py --rows 100000 --workers 30000     # a quick run
    .venv/bin/python bench/health_match.py --reuse                # keep the seeded workers, time again

The workers (two declared doses each) are seeded with bulk inserts. The extract is a CSV file on disk,
written as the health sector exports it: two rows per worker (most confirm, some differ in date or
vaccine) and rows of people who are no worker (dropped, only counted), shuffled.

* floor: the same file read with the same streaming reader and row validation, every valid row bulk
  inserted into a scratch table (no matching) — what any import of this file costs;
* match: the portal's path (``portal.health.extracts.read_records`` → ``matching.match`` writing the
  matched rows → ``provenance.assess_workers``), one transaction, at a tenth of the rows and at all of them;
* jobs: the officer's path, the file into the blob store, then the ``health.check`` job (read and match without
  writing) and the ``health.match`` job (the match above, with progress and the audit), run right after
  their commits as under TESTING.

Each phase runs in a forked child that reports its peak resident memory above what it started with, so
the phases do not hide each other's peaks. Figures are printed side by side; nothing is asserted.
"""
from __future__ import annotations

import argparse
import csv
import multiprocessing
import random
import resource
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CHUNK = 20_000
HEADERS = ["STT", "Họ và tên", "Ngày sinh", "Số CCCD/CMND", "Mũi số", "Ngày tiêm", "Loại vắc xin", "Nơi tiêm"]
PRODUCTS = {"astrazeneca": "AstraZeneca", "pfizer": "Pfizer", "moderna": "Moderna", "verocell": "Vero Cell"}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the extract")
    parser.add_argument("--workers", type=int, default=300_000)
    parser.add_argument("--enterprises", type=int, default=1_000)
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL database to use (its tables are dropped)")
    parser.add_argument("--sqlite", metavar="PATH", default="/tmp/bench-health.sqlite3")
    parser.add_argument("--extract", metavar="PATH", default="/tmp/bench-health-extract.csv")
    parser.add_argument("--reuse", action="store_true", help="keep the seeded workers and the extract file")
    return parser.parse_args()


def build_app(args):
    from portal import create_app

    url = args.postgres or f"sqlite:///{args.sqlite}"
    if url.startswith("postgresql://"):
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True,
                       "SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789",
                       "SIGNING_KEY_DIR": "/tmp/bench-health-instance/keys"})


def step(label: str):
    class Timer:
        def __enter__(self):
            self.started = time.perf_counter()
            print(f"{label} …", end="", flush=True)
            return self

        def __exit__(self, *exc):
            self.seconds = time.perf_counter() - self.started
            print(f" {self.seconds:.1f} s", flush=True)

    return Timer()


def _born(worker_id: int) -> date:
    return date(1965 + worker_id % 37, 1 + worker_id % 12, 1 + worker_id % 28)


def _doses(worker_id: int, today: date) -> list[tuple[str, date]]:
    product = list(PRODUCTS)[worker_id % 4]
    second = today - timedelta(days=15 + worker_id % 100)
    return [(product, second - timedelta(days=35)), (product, second)]


# ---------------------------------------------------------------------------
# Seeding
# ---------------------------------------------------------------------------

def seed(app, args) -> None:
    from sqlalchemy import text

    from portal.auth.models import Role
    from portal.auth.services import create_user
    from portal.clock import local_today, utcnow
    from portal.enterprises.models import Enterprise
    from portal.extensions import db
    from portal.units.services import sync_units
    from portal.workers.identity import make_cccd
    from portal.workers.models import VaccineDose, Worker

    registry = app.extensions["portal.plugins"].registry
    with app.app_context():
        with step("schema"):
            db.drop_all()
            if db.engine.dialect.name == "postgresql":
                with db.engine.begin() as connection:
                    connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
            db.create_all()
        units = [(unit.id, unit.code) for unit in sync_units(db.session, registry)]
        create_user(db.session, email="yte@bench.vn", password="bench-password-123", full_name="Cán bộ y tế",
                    role=Role.HEALTH)
        db.session.commit()
        db.session.close()
        now, today = utcnow(), local_today()
        with db.engine.begin() as connection, step(f"{args.enterprises:,} enterprises, {args.workers:,} workers"):
            rows = []
            for index in range(1, args.enterprises + 1):
                unit_id, unit_code = units[index % len(units)]
                rows.append({"id": index, "name": f"Công ty {index}", "tax_code": f"03{index:08d}",
                             "address": "1 Nguyễn Văn Linh", "ward": "Tân Phong", "district": "Quận 7",
                             "unit_id": unit_id, "business_type": next(iter(registry.business_types[unit_code])),
                             "sector": next(iter(registry.sectors[unit_code])),
                             "location": next(iter(registry.locations[unit_code]), None), "headcount": 300,
                             "contact_name": "Lê Hoa", "phone": "0283775000", "email": f"hr{index}@bench.vn",
                             "status": "approved", "created_at": now, "updated_at": now, "version": 1})
            connection.execute(Enterprise.__table__.insert(), rows)
            workers, doses, dose_id = [], [], 0
            for worker_id in range(1, args.workers + 1):
                born, sex = _born(worker_id), "MF"[worker_id % 2]
                workers.append({
                    "id": worker_id, "enterprise_id": 1 + worker_id % args.enterprises,
                    "full_name": f"Nguyễn Văn {worker_id}", "name_key": f"nguyen van {worker_id}",
                    "date_of_birth": born, "sex": sex, "citizen_id": make_cccd(79, born, sex, worker_id),
                    "phone": "0909123456", "home_address": "45 Lê Văn Lương", "home_ward": "Tân Hưng",
                    "home_district": "Quận 7", "job_title": "Công nhân", "shift": "office", "active": True,
                    "created_at": now, "updated_at": now})
                for number, (product, given_on) in enumerate(_doses(worker_id, today), start=1):
                    dose_id += 1
                    doses.append({"id": dose_id, "worker_id": worker_id, "number": number, "product": product,
                                  "given_on": given_on})
                if len(workers) >= CHUNK:
                    connection.execute(Worker.__table__.insert(), workers)
                    connection.execute(VaccineDose.__table__.insert(), doses)
                    workers, doses = [], []
            if workers:
                connection.execute(Worker.__table__.insert(), workers)
                connection.execute(VaccineDose.__table__.insert(), doses)
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("ANALYZE"))


def write_extract(path: Path, rows: int, workers: int, today: date) -> None:
    """Two rows per worker while they last (9 in 10 confirm, the others differ), the rest unknown people."""
    from portal.workers.identity import make_cccd

    rng = random.Random(13)
    lines = []
    matched = min(rows * 6 // 10, workers * 2)
    for index in range(matched):
        worker_id, number = 1 + index // 2, 1 + index % 2
        product, given_on = _doses(worker_id, today)[number - 1]
        if rng.random() < 0.1:
            given_on -= timedelta(days=3)
        born, sex = _born(worker_id), "MF"[worker_id % 2]
        lines.append([f"Nguyễn Văn {worker_id}", born.strftime("%d/%m/%Y"), make_cccd(79, born, sex, worker_id),
                      number, given_on.strftime("%d/%m/%Y"), PRODUCTS[product], "TYT Tân Phong"])
    for index in range(rows - matched):
        born = date(1970 + index % 30, 1 + index % 12, 1 + index % 28)
        lines.append([f"Người dân {index}", born.strftime("%d/%m/%Y"), make_cccd(80, born, "MF"[index % 2], index),
                      1 + index % 2, (today - timedelta(days=30 + index % 200)).strftime("%d/%m/%Y"), "Pfizer",
                      "TYT Bình Chánh"])
    rng.shuffle(lines)
    with path.open("w", encoding="utf-8-sig", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(HEADERS)
        for number, line in enumerate(lines, start=1):
            writer.writerow([number, *line])


# ---------------------------------------------------------------------------
# The phases, each in a child process
# ---------------------------------------------------------------------------

def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _current_rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 1024 / 1024


def _in_child(target, *args) -> dict:
    context = multiprocessing.get_context("fork")
    queue = context.Queue()

    def run():
        # The parent's pooled connections must not be shared with the child (PostgreSQL's above all).
        app = args[0]
        with app.app_context():
            app.extensions["sqlalchemy"].engine.dispose(close=False)
        started_rss = _current_rss_mb()
        result = target(*args)
        result["peak_mb_above_start"] = max(0.0, _rss_mb() - started_rss)
        queue.put(result)

    process = context.Process(target=run)
    process.start()
    result = queue.get()
    process.join()
    return result


def _reset(app) -> None:
    from sqlalchemy import text

    from portal.extensions import db

    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text("DELETE FROM health_records"))
        connection.execute(text("DELETE FROM health_extracts"))
        connection.execute(text("DROP TABLE IF EXISTS bench_floor"))
        connection.execute(text("UPDATE vaccine_doses SET provenance = 'declared', registry_data = NULL "
                                "WHERE provenance != 'declared'"))


def floor(app, path: Path, limit: int | None) -> dict:
    """Read and validate the file like the portal, bulk insert every valid row into a scratch table."""
    from collections import Counter

    from sqlalchemy import Column, Date, Integer, MetaData, String, Table

    from portal.clock import local_today
    from portal.extensions import db
    from portal.health.extracts import read_records
    from portal.health.matching import batched

    metadata = MetaData()
    table = Table("bench_floor", metadata, Column("id", Integer, primary_key=True),
                  Column("citizen_id", String(12)), Column("date_of_birth", Date), Column("number", Integer),
                  Column("product", String(32)), Column("on_date", Date), Column("place", String(200)))
    with app.app_context():
        metadata.create_all(db.engine)
        counts, problems = Counter(), []
        started = time.perf_counter()
        with path.open("rb") as stream:
            records = _limited(read_records(stream, "vaccination", local_today(), counts, problems), limit)
            for batch in batched(records, 2000):
                db.session.execute(table.insert(), [
                    {"citizen_id": r.citizen_id, "date_of_birth": r.date_of_birth, "number": r.dose_number,
                     "product": r.product, "on_date": r.on_date, "place": r.place} for r in batch])
        db.session.commit()
        seconds = time.perf_counter() - started
        metadata.drop_all(db.engine)
    return {"rows": counts["rows"], "seconds": seconds}


def _limited(records, limit):
    for index, record in enumerate(records):
        if limit is not None and index >= limit:
            return
        yield record


def match_phase(app, path: Path, limit: int | None) -> dict:
    """The portal's path: stream, validate, match and write the matched rows, set every fact's provenance."""
    from collections import Counter

    from sqlalchemy import func, select

    from portal.clock import local_today
    from portal.extensions import db
    from portal.health.extracts import read_records
    from portal.health.matching import match
    from portal.health.models import HealthRecord
    from portal.health.provenance import assess_workers

    with app.app_context():
        counts, problems = Counter(), []
        started = time.perf_counter()
        with path.open("rb") as stream:
            outcome = match(db.session, _limited(read_records(stream, "vaccination", local_today(), counts,
                                                              problems), limit), extract_id=None, write=True)
        matched_at = time.perf_counter()
        changed = assess_workers(db.session, outcome.worker_ids)
        db.session.commit()
        seconds = time.perf_counter() - started
        kept = db.session.scalar(select(func.count()).select_from(HealthRecord))
    return {"rows": counts["rows"] if limit is None else min(limit, counts["rows"]), "seconds": seconds,
            "match_seconds": matched_at - started, "assess_seconds": seconds - (matched_at - started),
            "matched": outcome.counts["matched"], "unmatched": outcome.counts["unmatched"], "kept": kept,
            "workers_changed": len(changed)}


def jobs_phase(app, path: Path, limit: int | None) -> dict:
    """The officer's path: the file into the blob store, the check job, then the match job (each run right after
    its commit, as under TESTING: the same code a consumer runs)."""
    from sqlalchemy import select

    from portal.auth.models import User
    from portal.extensions import db
    from portal.health import extracts
    from portal.health.models import HealthExtract
    from portal.jobs.models import Job
    from portal.storage import blob_store

    with app.test_request_context():
        officer_id = db.session.scalar(select(User.id).where(User.email == "yte@bench.vn"))
        db.session.commit()
        started = time.perf_counter()
        with path.open("rb") as stream:
            key = extracts.store_upload(blob_store(app), stream)
        stored_at = time.perf_counter()
        extract_id = extracts.start_check(db.session, key, kind="vaccination", filename=path.name,
                                          actor=db.session.get(User, officer_id)).id
        db.session.commit()  # the check job runs here
        checked_at = time.perf_counter()
        extracts.claim_match(db.session, db.session.get(HealthExtract, extract_id), db.session.get(User, officer_id))
        db.session.commit()  # the match job runs here
        seconds = time.perf_counter() - started
        extract = db.session.get(HealthExtract, extract_id)
        job = db.session.get(Job, extract.job_id)
        if extract.status != "committed":
            raise SystemExit(f"the match job ended {job.status}: {job.error}")
        return {"rows": extract.counts["rows"], "seconds": seconds, "store_seconds": stored_at - started,
                "check_seconds": checked_at - stored_at, "match_seconds": seconds - (checked_at - started)}


def main() -> None:
    args = parse_args()
    app = build_app(args)
    from portal.clock import local_today

    path = Path(args.extract)
    if not args.reuse:
        seed(app, args)
        with step(f"an extract of {args.rows:,} rows ({path})"):
            write_extract(path, args.rows, args.workers, local_today())
    with app.app_context():
        app.extensions["sqlalchemy"].engine.dispose()
    print(f"database: {'PostgreSQL' if args.postgres else 'SQLite'}; extract {path.stat().st_size / 1e6:.0f} MB")
    results = []
    _reset(app)
    results.append(("floor: parse + bulk insert, all rows", _in_child(floor, app, path, None)))
    tenth = max(1, args.rows // 10)
    _reset(app)
    results.append((f"match + provenance, first {tenth:,} rows", _in_child(match_phase, app, path, tenth)))
    _reset(app)
    results.append(("match + provenance, all rows", _in_child(match_phase, app, path, None)))
    _reset(app)
    results.append(("jobs: store, check job, match job, all rows", _in_child(jobs_phase, app, path, None)))
    base = results[0][1]["rows"] / results[0][1]["seconds"]
    print()
    print(f"{'phase':44} {'rows':>10} {'seconds':>8} {'rows/s':>9} {'× floor':>8} {'peak MB':>8}")
    for label, result in results:
        rate = result["rows"] / result["seconds"]
        print(f"{label:44} {result['rows']:>10,} {result['seconds']:>8.1f} {rate:>9,.0f} {base / rate:>8.2f} "
              f"{result['peak_mb_above_start']:>8.1f}")
    jobs = results[-1][1]
    print(f"\njobs: file stored {jobs['store_seconds']:.1f} s, check job {jobs['check_seconds']:.1f} s, "
          f"match job {jobs['match_seconds']:.1f} s")
    last = results[-2][1]
    print(f"\nall rows: matched {last['matched']:,}, unmatched {last['unmatched']:,} (not kept), records kept "
          f"{last['kept']:,}, workers whose provenance changed {last['workers_changed']:,}; "
          f"match {last['match_seconds']:.1f} s, provenance {last['assess_seconds']:.1f} s")


if __name__ == "__main__":
    main()
