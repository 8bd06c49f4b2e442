from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from portal import clock
from portal.audit.models import AuditEvent
from portal.extensions import db

UTC = UTC


def test_local_day_begins_at_17_utc_the_day_before():
    assert clock.start_of_local_day(date(2021, 9, 30)) == datetime(2021, 9, 29, 17, 0, tzinfo=UTC)
    assert clock.end_of_local_day(date(2021, 9, 30)) == datetime(2021, 9, 30, 17, 0, tzinfo=UTC)


@pytest.mark.parametrize("instant, expected", [
    (datetime(2021, 9, 30, 16, 59, 59, tzinfo=UTC), date(2021, 9, 30)),  # 23:59:59 local: the day's last second
    (datetime(2021, 9, 30, 17, 0, 0, tzinfo=UTC), date(2021, 10, 1)),    # local midnight
    (datetime(2021, 10, 1, 0, 0, 0, tzinfo=UTC), date(2021, 10, 1)),     # UTC midnight is 07:00 local
])
def test_local_today_around_midnights(instant, expected):
    assert clock.local_today(instant) == expected


def test_formats_are_dd_mm_yyyy_and_24_hour():
    instant = datetime(2021, 9, 5, 11, 7, tzinfo=UTC)  # 18:07 local
    assert clock.format_date(date(2021, 9, 5)) == "05/09/2021"
    assert clock.format_datetime(instant) == "05/09/2021 18:07"
    assert clock.format_time(time(6, 30)) == "06:30"
    assert clock.format_date(datetime(2021, 9, 30, 17, 0, tzinfo=UTC)) == "01/10/2021"
    assert clock.format_date(None) == ""


@pytest.mark.parametrize("text, expected", [
    ("5/9/2021", date(2021, 9, 5)), ("05/09/2021", date(2021, 9, 5)), ("05-09-2021", date(2021, 9, 5)),
    ("05.09.2021", date(2021, 9, 5)), ("2021-09-05", date(2021, 9, 5)), (" 31/12/1999 ", date(1999, 12, 31)),
])
def test_parse_date_accepts_what_offices_type(text, expected):
    assert clock.parse_date(text) == expected


@pytest.mark.parametrize("text", ["31/02/2021", "5/9/21", "2021/09/05", "hôm qua", "", "13/13/2021"])
def test_parse_date_refuses_the_rest(text):
    with pytest.raises(ValueError):
        clock.parse_date(text)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        clock.local(datetime(2021, 9, 5, 8, 0))


def test_instants_round_trip_through_the_database_as_utc(app):
    local_instant = datetime(2021, 9, 30, 23, 59, 59, tzinfo=clock.HCMC)
    with app.app_context():
        event = AuditEvent(actor_label="test", action="clock.test", object_type="", at=local_instant)
        db.session.add(event)
        db.session.commit()
        db.session.expire_all()
        stored = db.session.scalar(select(AuditEvent.at))
    assert stored.tzinfo is not None and stored.utcoffset() == timedelta(0)
    assert stored == local_instant
    assert stored == datetime(2021, 9, 30, 16, 59, 59, tzinfo=UTC)


def test_a_naive_datetime_cannot_be_stored(app):
    with app.app_context():
        db.session.add(AuditEvent(actor_label="t", action="x", object_type="", at=datetime(2021, 9, 30, 8)))
        with pytest.raises(Exception, match="naive"):
            db.session.flush()
        db.session.rollback()
