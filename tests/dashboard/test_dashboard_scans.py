"""Checkpoint scans counted per Ho Chi Minh City day: live for today, rolled up once a day is closed."""
from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import func, select

from portal.dashboard import scans
from portal.dashboard.models import ScanDailyCount, ScanDay
from portal.dashboard.scope import Scope
from portal.enterprises.models import Enterprise
from portal.extensions import db
from portal.verify.models import VerificationRecord

UTC = UTC
SEPT_30 = date(2021, 9, 30)


def _record(at: datetime, outcome: str = "valid", unit_id=None, sector=None) -> None:
    db.session.add(VerificationRecord(at=at, outcome=outcome, unit_id=unit_id, sector=sector))


def _seed_around_midnight(unit_id: int) -> None:
    for at, outcome in (
        (datetime(2021, 9, 29, 16, 59, 59, tzinfo=UTC), "valid"),      # 29/09 23:59:59 in HCMC
        (datetime(2021, 9, 29, 17, 0, 0, tzinfo=UTC), "valid"),        # 30/09 00:00:00
        (datetime(2021, 9, 29, 23, 30, tzinfo=UTC), "outside_window"), # 30/09 06:30 (23:30 UTC the day before)
        (datetime(2021, 9, 30, 16, 59, 59, tzinfo=UTC), "expired"),    # 30/09 23:59:59
        (datetime(2021, 9, 30, 17, 0, 0, tzinfo=UTC), "revoked"),      # 01/10 00:00:00
    ):
        _record(at, outcome, unit_id, "food_processing")
    db.session.commit()


def _per_day(counts) -> dict[date, dict[str, int]]:
    found: dict[date, dict[str, int]] = {}
    for key, count in counts.items():
        found.setdefault(key.day, {}).setdefault(key.outcome, 0)
        found[key.day][key.outcome] += count
    return found


def test_a_day_is_counted_live_then_rolled_up_with_the_same_figures(app, world):
    with app.app_context():
        unit_id = db.session.get(Enterprise, world.enterprise_a).unit_id
        _seed_around_midnight(unit_id)
        scope = Scope(None)
        expected = {date(2021, 9, 29): {"valid": 1}, SEPT_30: {"valid": 1, "outside_window": 1, "expired": 1},
                    date(2021, 10, 1): {"revoked": 1}}
        # Five minutes after local midnight 30/09 is not closed yet: it is counted live.
        just_after = datetime(2021, 9, 30, 17, 5, tzinfo=UTC)
        live = scans.scan_counts(db.session, scope, date(2021, 9, 29), date(2021, 10, 1), just_after)
        assert _per_day(live) == expected
        assert db.session.get(ScanDay, SEPT_30) is None
        # The next morning it is closed: counted once into the roll-up, with the same figures.
        morning = datetime(2021, 10, 1, 3, 0, tzinfo=UTC)
        rolled = scans.scan_counts(db.session, scope, date(2021, 9, 29), date(2021, 10, 1), morning)
        db.session.commit()
        assert _per_day(rolled) == expected
        assert db.session.get(ScanDay, SEPT_30) is not None
        assert db.session.scalar(select(func.sum(ScanDailyCount.scans)).where(ScanDailyCount.day == SEPT_30)) == 3


def test_late_records_wait_for_a_recount(app, runner, world):
    with app.app_context():
        _seed_around_midnight(None)
        scope, later = Scope(None), datetime(2021, 10, 5, tzinfo=UTC)
        scans.scan_counts(db.session, scope, SEPT_30, SEPT_30, later)
        db.session.commit()
        _record(datetime(2021, 9, 30, 5, 0, tzinfo=UTC), "invalid")  # written after the day was counted
        db.session.commit()
        assert sum(scans.scan_counts(db.session, scope, SEPT_30, SEPT_30, later).values()) == 3
    result = runner.invoke(args=["dashboard", "recount-scans", "--from", "30/09/2021", "--to", "30/09/2021"])
    assert result.exit_code == 0 and "Recounted 1 day" in result.output
    with app.app_context():
        assert sum(scans.scan_counts(db.session, Scope(None), SEPT_30, SEPT_30, later).values()) == 4


def test_recount_refuses_a_reversed_period(runner, world):
    result = runner.invoke(args=["dashboard", "recount-scans", "--from", "30/09/2021", "--to", "01/09/2021"])
    assert result.exit_code == 2 and "--from is after --to" in result.output


def test_the_local_day_expression_agrees_with_the_clock(app, world):
    """The SQL for 'HCMC day of an instant' (SQLite or PostgreSQL) gives what portal.clock gives."""
    from portal.clock import local

    instants = [datetime(2021, 9, 29, 16, 59, 59, tzinfo=UTC), datetime(2021, 9, 29, 17, 0, tzinfo=UTC),
                datetime(2021, 9, 30, 23, 30, tzinfo=UTC), datetime(2021, 12, 31, 17, 0, tzinfo=UTC)]
    with app.app_context():
        for at in instants:
            _record(at)
        db.session.commit()
        dialect = db.session.get_bind().dialect.name
        day = scans.local_day_of(VerificationRecord.at, dialect)
        rows = db.session.execute(select(VerificationRecord.at, day).order_by(VerificationRecord.at)).all()
    assert [found for _at, found in rows] == [local(at).date() for at in instants]
    assert [found for _at, found in rows] == [date(2021, 9, 29), date(2021, 9, 30), date(2021, 10, 1),
                                              date(2022, 1, 1)]
