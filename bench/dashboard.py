#!/usr/bin/env python3
"""Time the pilot dashboard on a city-sized database, beside the home page measured in the same run.

    .venv/bin/python bench/dashboard.py                       # SQLite file in /tmp
    .venv/bin/python bench/dashboard.py --postgres postgresql://postgres@127.0.0.1:5432/bench_dashboard
    .venv/bin/python bench/dashboard.py --workers 30000 --enterprises 200 --scans 100000   # a quick run

The database is built with bulk executemany inserts: 2,000 enterprises, 300,000 workers (with
doses), the eligibility snapshot (the bulk refresh is timed too), passes for most eligible workers
and 1,000,000 checkpoint scans over 45 days. Pages are fetched through Flask's test client: the
median and 95th percentile of N requests after a warm-up. Nothing is asserted.
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
OUTCOMES = (("valid", 86), ("outside_window", 6), ("expired", 3), ("revoked", 1), ("superseded", 2), ("invalid", 2))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=300_000)
    parser.add_argument("--enterprises", type=int, default=2_000)
    parser.add_argument("--scans", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=45, help="days of checkpoint scans, ending now")
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL database to use (its tables are dropped)")
    parser.add_argument("--sqlite", metavar="PATH", default="/tmp/bench-dashboard.sqlite3")
    parser.add_argument("--reuse", action="store_true", help="time an already built database")
    return parser.parse_args()


def build_app(args):
    from portal import create_app

    url = args.postgres or f"sqlite:///{args.sqlite}"
    instance = Path("/tmp/bench-dashboard-instance")
    return create_app({
        "SQLALCHEMY_DATABASE_URI": url if not url.startswith("postgresql://") else
        url.replace("postgresql://", "postgresql+psycopg://", 1),
        "SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789",
        "TESTING": True, "WTF_CSRF_ENABLED": True, "LOGIN_RATE_LIMIT": "10000 per minute",
        "SIGNING_KEY_DIR": str(instance / "keys"),
    })


def step(label: str):
    class Timer:
        def __enter__(self):
            self.started = time.perf_counter()
            print(f"{label} …", end="", flush=True)
            return self

        def __exit__(self, *exc):
            print(f" {time.perf_counter() - self.started:.1f} s", flush=True)

    return Timer()


def insert(connection, table, rows: list[dict]) -> None:
    for start in range(0, len(rows), CHUNK):
        connection.execute(table.insert(), rows[start:start + CHUNK])


# ---------------------------------------------------------------------------
# The city
# ---------------------------------------------------------------------------

def seed(app, args, rng: random.Random) -> None:
    from sqlalchemy import text

    from portal.clock import local_today, start_of_local_day, utcnow
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
        _users(db.session, units)
        db.session.commit()
        now, today = utcnow(), local_today()
        with db.engine.begin() as connection:
            with step(f"{args.enterprises:,} enterprises"):
                enterprises = _enterprises(connection, registry, units, args.enterprises, rng, now)
            with step(f"{args.workers:,} workers and their doses"):
                _workers(connection, enterprises, args.workers, rng, now, today)
        _refresh(app)
        with db.engine.begin() as connection:
            with step("passes for most eligible workers"):
                passes = _passes(connection, rng, now, today)
            with step(f"{args.scans:,} checkpoint scans over {args.days} days"):
                _scans(connection, passes, args.scans, args.days, rng, now, start_of_local_day)
        with step("ANALYZE"):
            _analyze(db.engine)


def _users(session, units: dict[str, int]) -> None:
    from portal.auth.models import Role
    from portal.auth.services import create_user
    from portal.units.models import PilotUnit

    create_user(session, email="admin@bench.vn", password=PASSWORD, full_name="Quản trị", role=Role.ADMIN)
    create_user(session, email="official@bench.vn", password=PASSWORD, full_name="Cán bộ Quận 7",
                role=Role.OFFICIAL, unit=session.get(PilotUnit, units["district7"]))


def _enterprises(connection, registry, units, count, rng, now) -> list[tuple[int, int, str]]:
    from stdnum.vn import mst

    from portal.enterprises.models import Enterprise

    codes = list(units)
    weights = [4 if code in ("district7", "industrial_zones") else 2 if code == "hitech_park" else 1 for code in codes]
    rows, found = [], []
    for index in range(1, count + 1):
        code = rng.choices(codes, weights)[0]
        sector = rng.choice(list(registry.sectors[code]))
        status = rng.choices(["approved", "pending", "suspended", "rejected"], [85, 8, 4, 3])[0]
        body = f"03{index:07d}"
        rows.append({
            "id": index, "name": f"Công ty TNHH Thí điểm {index}", "tax_code": body + mst.calc_check_digit(body),
            "address": "1 Nguyễn Văn Linh", "ward": "Tân Phong", "district": "Quận 7", "unit_id": units[code],
            "business_type": next(iter(registry.business_types[code])), "sector": sector,
            "location": next(iter(registry.locations[code]), None), "headcount": 150, "contact_name": "Lê Hoa",
            "phone": "0283775000", "email": f"hr{index}@bench.vn", "status": status, "created_at": now,
            "updated_at": now, "version": 1,
        })
        found.append((index, units[code], status))
    insert(connection, Enterprise.__table__, rows)
    return found


def _profile(rng, today: date):
    """Return (doses as (product, date), recovered_on) in the proportions of the demo data."""
    kind = rng.choices(["full", "waiting", "one", "none", "recovered", "expired", "missing"],
                       [62, 6, 10, 8, 9, 3, 2])[0]
    product = rng.choice(["astrazeneca", "pfizer", "moderna", "verocell"])
    if kind == "full":
        second = today - timedelta(days=rng.randint(15, 120))
        return [(product, second - timedelta(days=35)), (product, second)], None
    if kind == "waiting":
        second = today - timedelta(days=rng.randint(1, 13))
        return [(product, second - timedelta(days=30)), (product, second)], None
    if kind == "one":
        return [(product, today - timedelta(days=rng.randint(3, 60)))], None
    if kind == "recovered":
        return [], today - timedelta(days=rng.randint(10, 170))
    if kind == "expired":
        return [], today - timedelta(days=rng.randint(190, 300))
    if kind == "missing":
        return [(product, today - timedelta(days=60)), (product, None)], None
    return [], None


def _workers(connection, enterprises, count, rng, now, today) -> None:
    from portal.workers.identity import make_cccd
    from portal.workers.models import VaccineDose, Worker

    hosts = [e for e in enterprises if e[2] in ("approved", "suspended")]
    workers, doses, dose_id = [], [], 0
    for worker_id in range(1, count + 1):
        enterprise_id = hosts[worker_id % len(hosts)][0]
        sex = "MF"[worker_id % 2]
        born = date(1965 + worker_id % 37, 1 + worker_id % 12, 1 + worker_id % 28)
        given, recovered = _profile(rng, today)
        workers.append({
            "id": worker_id, "enterprise_id": enterprise_id, "full_name": f"Nguyễn Văn {worker_id}",
            "name_key": f"nguyen van {worker_id}", "date_of_birth": born, "sex": sex,
            "citizen_id": make_cccd(79, born, sex, worker_id), "phone": "0909123456",
            "home_address": "45 Lê Văn Lương", "home_ward": "Tân Hưng", "home_district": "Quận 7",
            "job_title": "Công nhân", "shift": "office", "recovered_on": recovered, "test_kind": None,
            "tested_on": None, "active": worker_id % 50 != 0, "left_on": None, "created_at": now, "updated_at": now,
        })
        for number, (product, given_on) in enumerate(given, start=1):
            dose_id += 1
            doses.append({"id": dose_id, "worker_id": worker_id, "number": number, "product": product,
                          "given_on": given_on})
        if len(workers) >= CHUNK:
            insert(connection, Worker.__table__, workers)
            insert(connection, VaccineDose.__table__, doses)
            workers, doses = [], []
    insert(connection, Worker.__table__, workers)
    insert(connection, VaccineDose.__table__, doses)


def _refresh(app) -> None:
    from portal.clock import local_today, utcnow
    from portal.eligibility.upkeep import RefreshScope, refresh_eligibility, tidy_after_bulk_refresh
    from portal.extensions import db

    with app.app_context():
        started = time.perf_counter()
        done = refresh_eligibility(db.session, app.extensions["portal.plugins"].registry, RefreshScope(),
                                   on_date=local_today(), now=utcnow(), after_batch=lambda *_: db.session.commit())
        db.session.commit()
        tidy_after_bulk_refresh(db.engine)
        elapsed = time.perf_counter() - started
        print(f"eligibility refresh (bulk, as 'portal eligibility refresh') … {elapsed:.1f} s "
              f"for {done:,} workers ({done / elapsed:,.0f} workers/s)")


def _passes(connection, rng, now, today) -> list[tuple[int, int, str]]:
    from sqlalchemy import select

    from portal.clock import start_of_local_day
    from portal.eligibility.models import EligibilitySnapshot
    from portal.enterprises.models import Enterprise
    from portal.passes.models import Pass

    snapshot = EligibilitySnapshot
    eligible = connection.execute(
        select(snapshot.worker_id, snapshot.enterprise_id, snapshot.unit_id, Enterprise.sector)
        .join(Enterprise, Enterprise.id == snapshot.enterprise_id).where(snapshot.eligible.is_(True))
    ).all()
    rows, issued = [], []
    for row in eligible:
        if rng.random() > 0.9:
            continue
        first_day = today - timedelta(days=rng.randint(0, 60))
        last_day = first_day + timedelta(days=rng.choice([180, 180, 180, 30]))
        common = {"worker_id": row.worker_id, "enterprise_id": row.enterprise_id, "unit_id": row.unit_id,
                  "windows": [], "route_from": "Nhà", "route_to": "Công ty", "content_digest": "0" * 64,
                  "updated_at": now, "valid_from": start_of_local_day(first_day),
                  "issued_at": start_of_local_day(first_day)}
        if rng.random() < 0.05:  # revoked, then issued again
            rows.append({**common, "serial": f"R{len(rows):09d}", "version": 1, "status": "revoked",
                         "valid_until": start_of_local_day(last_day), "revoked_at": now - timedelta(days=1)})
        rows.append({**common, "serial": f"P{len(rows):09d}", "version": rng.choices([1, 2, 3], [85, 12, 3])[0],
                     "status": "active", "valid_until": start_of_local_day(last_day + timedelta(days=1)),
                     "revoked_at": None})
        issued.append((row.unit_id, row.sector))
    insert(connection, Pass.__table__, rows)
    print(f" ({len(rows):,} passes)", end="")
    return issued


def _scans(connection, passes, count, days, rng, now, start_of_local_day) -> None:
    from portal.verify.models import VerificationRecord

    outcomes, weights = zip(*OUTCOMES, strict=True)
    first = now - timedelta(days=days)
    span = (now - first).total_seconds()
    rows = []
    for _ in range(count):
        outcome = rng.choices(outcomes, weights)[0]
        unit_id, sector = (None, None) if outcome == "invalid" else rng.choice(passes)
        rows.append({"at": first + timedelta(seconds=rng.random() * span), "outcome": outcome, "unit_id": unit_id,
                     "sector": sector})
        if len(rows) >= CHUNK:
            insert(connection, VerificationRecord.__table__, rows)
            rows = []
    insert(connection, VerificationRecord.__table__, rows)


def _analyze(engine) -> None:
    from sqlalchemy import text

    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))


# ---------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------

def login(app, email: str):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, f"login failed for {email}"
    return client


def timed(client, url: str, warmup: int, requests: int) -> list[float]:
    for _ in range(warmup):
        assert client.get(url).status_code == 200, url
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, url
    return times


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    args = parse_args()
    app = build_app(args)
    rng = random.Random(2021)
    print(f"database: {app.config['SQLALCHEMY_DATABASE_URI'].split('@')[-1]}")
    if not args.reuse:
        seed(app, args, rng)
    admin, official = login(app, "admin@bench.vn"), login(app, "official@bench.vn")
    pages = [
        ("baseline: home page (anonymous)", app.test_client(), "/"),
        ("baseline: home page (admin)", admin, "/"),
        ("dashboard, official of District 7", official, "/dashboard"),
        ("dashboard, admin, city-wide", admin, "/dashboard"),
        ("dashboard, admin, ?unit=industrial_zones", admin, "/dashboard?unit=industrial_zones"),
        ("report page (14 days), admin", admin, "/dashboard/report"),
        ("data quality, admin", admin, "/dashboard/data-quality"),
    ]
    print(f"\n{'page':44} {'median ms':>10} {'p95 ms':>10}   ({args.requests} requests after {args.warmup} warm-up)")
    for label, client, url in pages:
        times = timed(client, url, args.warmup, args.requests)
        print(f"{label:44} {statistics.median(times):10.1f} {p95(times):10.1f}")
    for label, url in (("report.pdf (14 days), admin", "/dashboard/report.pdf"),
                       ("report.xlsx (14 days), admin", "/dashboard/report.xlsx")):
        times = timed(admin, url, 1, 3)
        print(f"{label:44} {statistics.median(times):10.1f} {max(times):10.1f}   (3 requests; max)")
    time_confirmed_share(app, args.requests)


def time_confirmed_share(app, runs: int) -> None:
    """Time the confirmed share counted now (city, one unit) and today's record of it (rolled back)."""
    from sqlalchemy import select

    from portal.extensions import db
    from portal.health.share import record_share, share_now
    from portal.units.models import PilotUnit

    with app.app_context():
        unit_id = db.session.scalar(select(PilotUnit.id).where(PilotUnit.code == "district7"))
        calls = (("confirmed share now, city (share_now)", lambda: share_now(db.session)),
                 ("confirmed share now, District 7", lambda: share_now(db.session, unit_id)),
                 ("record today's share, city (record_share)", lambda: record_share(db.session)),
                 ("record today's share, District 7", lambda: record_share(db.session, unit_id=unit_id)))
        for label, call in calls:
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                call()
                times.append((time.perf_counter() - started) * 1000)
            db.session.rollback()
            print(f"{label:44} {statistics.median(times):10.1f} {p95(times):10.1f}")


if __name__ == "__main__":
    main()
