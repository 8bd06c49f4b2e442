"""Bench: the officials' queue and an enterprise's page with 440 enterprises and 100,000 workers.

Not a test (pytest does not collect it). Run:

    .venv/bin/python bench/enterprises_queue.py [--database-url URL] [--workers N]

Prints the median and 95th percentile of each page beside a baseline measured in the same run
(the start page: routing, session, one template), and the SQL statements each page sends. The
enterprise page reads the eligibility snapshot (filled after seeding, as the nightly command does);
beside it, the live evaluation of the same workers that the page did before the snapshot.
Without --database-url it uses a fresh SQLite file; with one, it DROPS and recreates that database's tables.
"""
from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import event, insert, select

PASSWORD = "bench-password-123"
UNITS = {"district7": (150, 50), "cugi": (40, 20), "cangio": (40, 20), "industrial_zones": (40, 20),
         "hitech_park": (40, 20)}  # unit: (approved, pending)


def build_app(url: str, instance: Path):
    from portal import create_app
    from portal.config import normalise_database_url

    return create_app({
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(url), "SECRET_KEY": "bench-" + "x" * 40,
        "WTF_CSRF_ENABLED": False, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "SIGNING_KEY_DIR": str(instance / "keys"),
        "LOGIN_RATE_LIMIT": "1000 per minute",
    })


def seed(app, total_workers: int) -> int:
    """Fill the database; return the id of a District 7 enterprise with workers."""
    from portal.auth.models import Role
    from portal.auth.services import create_user
    from portal.enterprises.models import Enterprise
    from portal.extensions import db
    from portal.units.services import sync_units
    from portal.workers.models import VaccineDose, Worker

    rng = random.Random(2021)
    registry = app.extensions["portal.plugins"].registry
    with app.app_context():
        db.drop_all()
        db.create_all()
        units = {unit.code: unit for unit in sync_units(db.session, registry)}
        rows, serial = [], 0
        for code, (approved, pending) in UNITS.items():
            types, sectors = list(registry.business_types[code]), list(registry.sectors[code])
            locations = list(registry.locations[code]) or [None]
            for n in range(approved + pending):
                serial += 1
                rows.append({
                    "name": f"Công ty TNHH Sản xuất Thương mại Số {serial}", "tax_code": f"7{serial:09d}",
                    "address": f"{n} Nguyễn Văn Linh", "ward": "Tân Phong", "district": "Quận 7",
                    "unit_id": units[code].id, "business_type": rng.choice(types), "sector": rng.choice(sectors),
                    "location": rng.choice(locations), "headcount": 250, "contact_name": "Lê Thị Hoa",
                    "phone": "0909123456", "email": "hr@example.vn",
                    "status": "approved" if n < approved else "pending",
                })
        db.session.execute(insert(Enterprise), rows)
        ids = db.session.scalars(select(Enterprise.id).order_by(Enterprise.id)).all()
        today = date.today()
        for start in range(0, total_workers, 10_000):
            batch = []
            for number in range(start, min(start + 10_000, total_workers)):
                batch.append({
                    "enterprise_id": ids[number % len(ids)], "full_name": "Nguyễn Văn An",
                    "name_key": "nguyen van an", "date_of_birth": date(1990, 1, 1), "sex": "M",
                    "citizen_id": f"0790{number:08d}", "phone": "0909123456", "home_address": "1 Lê Văn Lương",
                    "home_ward": "Tân Hưng", "home_district": "Quận 7", "job_title": "Công nhân", "shift": "office",
                    # One worker in twenty of each enterprise has left (every enterprise has some active ones).
                    "active": (number // len(ids)) % 20 != 0,
                })
            db.session.execute(insert(Worker), batch)
        worker_ids = db.session.scalars(select(Worker.id).where(Worker.enterprise_id == ids[0])).all()
        db.session.execute(insert(VaccineDose), [
            {"worker_id": worker_id, "number": number, "product": "pfizer",
                 "given_on": today - timedelta(days=rng.randint(1, 60) + (30 if number == 1 else 0))}
            for worker_id in worker_ids for number in (1, 2)])
        create_user(db.session, email="official@bench.vn", password=PASSWORD, full_name="Cán bộ Quận 7",
                    role=Role.OFFICIAL, unit=units["district7"])
        create_user(db.session, email="admin@bench.vn", password=PASSWORD, full_name="Quản trị", role=Role.ADMIN)
        db.session.commit()
        return ids[0]


def refresh_snapshot(app) -> float:
    """Evaluate every active worker as ``portal eligibility refresh`` does; return the seconds it took."""
    from portal import clock
    from portal.eligibility.upkeep import RefreshScope, refresh_eligibility
    from portal.extensions import db

    with app.app_context():
        began, now = time.perf_counter(), clock.utcnow()
        refresh_eligibility(db.session, app.extensions["portal.plugins"].registry, RefreshScope(),
                            on_date=clock.local_today(now), now=now, after_batch=lambda *_: db.session.commit())
        db.session.commit()
        return time.perf_counter() - began


def live_evaluation(app, enterprise_id: int, repeat: int) -> tuple[float, float, int]:
    """Time what the enterprise page did before the snapshot: load its workers with doses, ask the rules for each."""
    from sqlalchemy.orm import selectinload

    from portal import clock
    from portal.eligibility.facts import evaluate
    from portal.extensions import db
    from portal.workers.models import Worker

    timings, count = [], 0
    with app.test_request_context():
        registry = app.extensions["portal.plugins"].registry
        for _ in range(repeat + 1):
            began = time.perf_counter()
            workers = db.session.scalars(select(Worker).where(Worker.enterprise_id == enterprise_id,
                                                              Worker.active.is_(True))
                                         .options(selectinload(Worker.doses))).all()
            answers = [evaluate(registry, worker, clock.local_today()) for worker in workers]
            count = len(answers)
            timings.append((time.perf_counter() - began) * 1000)
            db.session.expunge_all()
    timings = sorted(timings[1:])
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1], count


def measure(app, client, path: str, repeat: int) -> tuple[float, float, int]:
    """Return (median ms, p95 ms, SQL statements of one request) for GET ``path``."""
    from portal.extensions import db

    with app.app_context():
        engine = db.engine
    statements = []

    def counter(*_args):
        statements.append(1)

    assert client.get(path).status_code == 200, path  # warm up
    event.listen(engine, "before_cursor_execute", counter)
    client.get(path)
    event.remove(engine, "before_cursor_execute", counter)
    timings = []
    for _ in range(repeat):
        began = time.perf_counter()
        response = client.get(path)
        timings.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, path
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1], len(statements)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--workers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30)
    options = parser.parse_args()
    instance = Path(tempfile.mkdtemp(prefix="bench-enterprises-"))
    url = options.database_url or f"sqlite:///{instance / 'bench.sqlite3'}"
    app = build_app(url, instance)
    began = time.perf_counter()
    busy = seed(app, options.workers)
    print(f"seeded {sum(a + p for a, p in UNITS.values())} enterprises, {options.workers} workers "
          f"in {time.perf_counter() - began:.1f} s on {app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}")
    print(f"eligibility snapshot of every active worker (the nightly command) in {refresh_snapshot(app):.1f} s")

    official, admin = app.test_client(), app.test_client()
    official.post("/login", data={"email": "official@bench.vn", "password": PASSWORD})
    admin.post("/login", data={"email": "admin@bench.vn", "password": PASSWORD})
    pages = [
        ("baseline: start page (anonymous)", app.test_client(), "/"),
        ("queue, District 7 official, pending", official, "/officials/enterprises"),
        ("queue, District 7 official, all statuses", official, "/officials/enterprises?status=all"),
        ("queue, admin, all units, all statuses", admin, "/officials/enterprises?status=all"),
        ("queue, admin, search 'so 12' (folded)", admin, "/officials/enterprises?status=all&q=s%E1%BB%91+12"),
        ("queue, admin, page 10", admin, "/officials/enterprises?status=all&page=10"),
        (f"enterprise page (snapshot of ~{options.workers // 440} workers)", official, f"/enterprises/{busy}"),
    ]
    print(f"{'page':48} {'median ms':>10} {'p95 ms':>8} {'× baseline':>11} {'SQL':>4}")
    baseline = None
    for label, client, path in pages:
        median, p95, statements = measure(app, client, path, options.repeat)
        baseline = baseline or median
        print(f"{label:48} {median:10.1f} {p95:8.1f} {median / baseline:11.1f} {statements:4d}")
    median, p95, count = live_evaluation(app, busy, options.repeat)
    print(f"{f'(before: {count} workers evaluated live, no page)':48} {median:10.1f} {p95:8.1f} "
          f"{median / baseline:11.1f}")


if __name__ == "__main__":
    main()
