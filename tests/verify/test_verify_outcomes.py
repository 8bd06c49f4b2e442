"""verify(): signature first, then the database, then HCMC time to the second."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from portal.clock import HCMC
from portal.enterprises.models import Enterprise
from portal.extensions import db
from portal.messages import literal
from portal.passes.models import Pass
from portal.tokens.codec import sign_pass_token
from portal.verify.models import VerificationRecord
from portal.verify.outcomes import Outcome
from portal.verify.services import ENTERPRISE_SUSPENDED, record_scan, verify
from portal.verify.testing import make_pass
from portal.workers.models import Worker

FIRST, LAST = date(2021, 9, 20), date(2022, 3, 19)


def hcmc(*parts) -> datetime:
    return datetime(*parts, tzinfo=HCMC)


@pytest.fixture
def ctx(app, world):
    """An app context with a pass of worker A (windows 06:30–08:00 and 16:30–18:00) and its token."""
    with app.app_context():
        pass_ = make_pass(db.session, db.session.get(Worker, world.worker_a), first_day=FIRST, last_day=LAST)
        db.session.commit()
        token = sign_pass_token(pass_)

        def check(now, token_=token):
            result = verify(db.session, token_, now=now)
            record_scan(db.session, result)
            return result

        yield pass_, token, check


@pytest.mark.parametrize("moment, expected", [
    (hcmc(2021, 10, 1, 6, 29, 59), Outcome.OUTSIDE_WINDOW),
    (hcmc(2021, 10, 1, 6, 30, 0), Outcome.VALID),
    (hcmc(2021, 10, 1, 8, 0, 0), Outcome.VALID),
    (hcmc(2021, 10, 1, 8, 0, 1), Outcome.OUTSIDE_WINDOW),
    (hcmc(2021, 10, 1, 18, 0, 0), Outcome.VALID),
    (hcmc(2021, 10, 1, 18, 0, 1), Outcome.OUTSIDE_WINDOW),
    (hcmc(2021, 10, 1, 8, 0, 0, 999999), Outcome.VALID),  # to the second: 08:00:00.999 is still 08:00:00
])
def test_windows_are_inclusive_to_the_second_in_hcmc_time(ctx, moment, expected):
    _pass, _token, check = ctx
    assert check(moment).outcome is expected
    assert check(moment.astimezone(UTC)).outcome is expected  # the same instant given in UTC


@pytest.mark.parametrize("moment, expected, reason", [
    (hcmc(2021, 9, 19, 23, 59, 59), Outcome.NOT_YET_VALID, ""),  # the day before the first day: its own outcome
    (hcmc(2021, 9, 20, 7, 0, 0), Outcome.VALID, ""),
    (hcmc(2022, 3, 19, 17, 0, 0), Outcome.VALID, ""),  # the last day
    (hcmc(2022, 3, 19, 23, 59, 59), Outcome.OUTSIDE_WINDOW, ""),  # the last second of the last day: still valid
    (hcmc(2022, 3, 20, 0, 0, 0), Outcome.EXPIRED, ""),  # local midnight after the last day
    # UTC midnight after the last day is 07:00 HCMC on the 20th: expired, not "still the 19th in UTC".
    (datetime(2022, 3, 20, 0, 0, 0, tzinfo=UTC), Outcome.EXPIRED, ""),
    # 16:59:59 UTC on the 19th is 23:59:59 local on the 19th.
    (datetime(2022, 3, 19, 16, 59, 59, tzinfo=UTC), Outcome.OUTSIDE_WINDOW, ""),
    (datetime(2022, 3, 19, 17, 0, 0, tzinfo=UTC), Outcome.EXPIRED, ""),
])
def test_validity_runs_from_local_midnight_to_local_midnight(ctx, moment, expected, reason):
    _pass, _token, check = ctx
    result = check(moment)
    assert result.outcome is expected
    assert result.reason == reason


def test_a_window_across_midnight(app, world):
    with app.app_context():
        night = ({"start": "22:00", "end": "06:00", "direction": "to_home"},)
        pass_ = make_pass(db.session, db.session.get(Worker, world.worker_b), first_day=FIRST, last_day=LAST,
                          windows=night)
        db.session.commit()
        token = sign_pass_token(pass_)
        outcomes = [verify(db.session, token, now=hcmc(2021, 10, 1, *hms)).outcome
                    for hms in ((21, 59, 59), (22, 0, 0), (23, 59, 59), (0, 0, 0), (6, 0, 0), (6, 0, 1))]
    assert outcomes == [Outcome.OUTSIDE_WINDOW] + [Outcome.VALID] * 4 + [Outcome.OUTSIDE_WINDOW]


def test_state_in_the_database_decides_revoked_and_superseded(ctx):
    pass_, token, check = ctx
    during = hcmc(2021, 10, 1, 7, 0, 0)
    pass_.version = 2
    db.session.commit()
    superseded = check(during)
    assert superseded.outcome is Outcome.SUPERSEDED
    assert superseded.version == 1 and superseded.holder_name == "NGUYEN V. AN"  # as printed on the old card
    pass_.version = 1
    pass_.status, pass_.revoked_at, pass_.revocation_code = "revoked", during, "f0"
    pass_.revocation_note = literal("tested positive at the factory").as_json()
    db.session.commit()
    revoked = check(during)
    assert (revoked.outcome, revoked.reason) == (Outcome.REVOKED, "")  # the typed reason is never shown
    assert "positive" not in str(revoked.as_json())
    assert check(hcmc(2023, 1, 1, 7, 0, 0)).outcome is Outcome.REVOKED  # revoked beats expired


@pytest.mark.parametrize("status", ["suspended", "rejected", "pending"])
def test_a_pass_of_an_enterprise_no_longer_approved_is_revoked(ctx, status):
    pass_, _token, check = ctx
    enterprise = db.session.get(Enterprise, pass_.enterprise_id)
    enterprise.status = status
    db.session.commit()
    result = check(hcmc(2021, 10, 1, 7, 0, 0))
    assert (result.outcome, result.reason) == (Outcome.REVOKED, ENTERPRISE_SUSPENDED)


def test_a_token_version_never_issued_is_invalid(app, ctx):
    pass_, _token, check = ctx
    pass_.version = 3
    future = sign_pass_token(pass_)
    db.session.rollback()
    assert check(hcmc(2021, 10, 1, 7, 0, 0), future).outcome is Outcome.INVALID


def test_an_invalid_token_reads_no_pass_and_is_recorded_without_unit(app, ctx):
    _pass, _token, check = ctx
    statements = []
    from sqlalchemy import event

    def count(*args):
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        result = check(hcmc(2021, 10, 1, 7, 0, 0), "AAAA" * 30)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert result.outcome is Outcome.INVALID and result.holder_name == ""
    assert not any("passes" in statement for statement in statements)
    db.session.commit()
    record = db.session.scalars(select(VerificationRecord)).one()
    assert (record.outcome, record.unit_id, record.sector) == ("invalid", None, None)


def test_every_verification_is_recorded_with_unit_and_sector_never_the_holder(app, ctx):
    pass_, token, check = ctx
    for moment in (hcmc(2021, 10, 1, 7, 0, 0), hcmc(2021, 10, 1, 12, 0, 0), hcmc(2030, 1, 1, 7, 0, 0)):
        check(moment)
    db.session.commit()
    rows = db.session.execute(select(VerificationRecord.outcome, VerificationRecord.unit_id,
                                     VerificationRecord.sector, VerificationRecord.at)
                              .order_by(VerificationRecord.id)).all()
    enterprise = db.session.get(Enterprise, pass_.enterprise_id)
    assert [(row[0], row[1], row[2]) for row in rows] == [
        ("valid", pass_.unit_id, enterprise.sector), ("outside_window", pass_.unit_id, enterprise.sector),
        ("expired", pass_.unit_id, enterprise.sector)]
    assert rows[0][3] == hcmc(2021, 10, 1, 7, 0, 0)
    assert set(VerificationRecord.__table__.columns.keys()) == {"id", "at", "outcome", "unit_id", "sector"}


def test_verify_itself_records_nothing(app, ctx):
    _pass, token, _check = ctx
    assert verify(db.session, token).outcome is not Outcome.INVALID
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(VerificationRecord)) == 0


def test_the_answer_describes_a_genuine_pass_minimally(ctx):
    pass_, _token, check = ctx
    answer = check(hcmc(2021, 10, 1, 7, 0, 0)).as_json()
    assert answer["outcome"] == "valid"
    assert answer["checked_at"] == "2021-10-01T00:00:00+00:00"
    assert answer["checked_at_local"] == "2021-10-01T07:00:00+07:00"
    assert answer["pass"]["masked_id"] == "••••••••1234"
    assert answer["pass"]["valid_until"] == "2022-03-19"
    assert answer["pass"]["windows"][0] == {"start": "06:30", "end": "08:00", "direction": "to_work"}
    assert "079090001234" not in str(answer) and "1990-05-17" not in str(answer)
    assert set(answer["pass"]) == {"serial", "version", "holder_name", "birth_year", "masked_id", "enterprise",
                                   "unit", "windows", "route_from", "route_to", "valid_from", "valid_until",
                                   "as_printed"}
    assert answer["signal"] == "green" and answer["pass"]["as_printed"] is False


def test_revocation_list(app, ctx):
    from portal.verify.services import revocation_list

    pass_, _token, _check = ctx
    now = hcmc(2021, 10, 1, 7, 0, 0)
    assert revocation_list(db.session, now) == {"revoked": [], "superseded": [], "last_modified": None}
    pass_.version = 2
    db.session.commit()
    listed = revocation_list(db.session, now)
    assert [item["serial"] for item in listed["superseded"]] == [pass_.serial]
    assert listed["superseded"][0]["current_version"] == 2
    pass_.status, pass_.revoked_at, pass_.revocation_code = "revoked", now, "other"
    pass_.revocation_note = literal("private reason").as_json()
    db.session.commit()
    listed = revocation_list(db.session, now)
    assert listed["revoked"] == [{"serial": pass_.serial, "version": 2, "revoked_at": now.astimezone(
        UTC).isoformat(), "reason": None}]
    assert "private reason" not in str(listed)
    assert revocation_list(db.session, hcmc(2022, 3, 20, 0, 0, 0))["revoked"] == []  # expired: no longer listed
    assert db.session.get(Pass, pass_.id).valid_until == hcmc(2022, 3, 20, 0, 0, 0)


def test_a_superseded_card_is_described_only_by_what_its_own_token_proves(ctx):
    pass_, token, check = ctx
    # The newer version moved the holder and changed the hours and dates: none of it may show on the old card.
    pass_.version = 2
    pass_.route_from, pass_.route_to = "Phường Mới, Quận 9", "Khu công nghệ cao"
    pass_.windows = [{"start": "21:00", "end": "22:00", "direction": "to_work"}]
    db.session.commit()
    result = check(hcmc(2021, 10, 1, 7, 0, 0))
    assert result.outcome is Outcome.SUPERSEDED and result.as_printed
    assert (result.valid_from, result.valid_until) == (FIRST, LAST)
    assert [window.label() for window in result.windows] == ["06:30–08:00", "16:30–18:00"]
    answer = result.as_json()
    assert answer["signal"] == "red" and answer["pass"]["as_printed"] is True
    assert answer["pass"]["route_from"] is None and answer["pass"]["route_to"] is None
    assert "Quận 9" not in str(answer) and "21:00" not in str(answer) and "Ánh Dương" not in str(answer)
    assert answer["pass"]["masked_id"] is None and answer["pass"]["birth_year"] is None


@pytest.mark.parametrize("moment, expected", [
    (hcmc(2021, 10, 1, 5, 0, 0), ("2021-10-01", "06:30", "08:00", "to_work")),
    (hcmc(2021, 10, 1, 12, 0, 0), ("2021-10-01", "16:30", "18:00", "to_home")),
    (hcmc(2021, 10, 1, 19, 0, 0), ("2021-10-02", "06:30", "08:00", "to_work")),
    (hcmc(2022, 3, 19, 19, 0, 0), None),  # the last day's windows are over: no next window on this card
])
def test_outside_hours_names_the_cards_next_window(ctx, moment, expected):
    _pass, _token, check = ctx
    result = check(moment)
    assert result.outcome is Outcome.OUTSIDE_WINDOW
    answer = result.as_json()
    assert answer["signal"] == "amber"
    got = answer.get("next_window")
    assert (None if got is None else (got["date"], got["start"], got["end"], got["direction"])) == expected


def test_not_yet_valid_is_its_own_red_outcome_not_expired(ctx):
    _pass, _token, check = ctx
    early, late = check(hcmc(2021, 9, 19, 7, 0, 0)), check(hcmc(2022, 3, 20, 7, 0, 0))
    assert (early.outcome, early.as_json()["signal"]) == (Outcome.NOT_YET_VALID, "red")
    assert (late.outcome, late.as_json()["signal"]) == (Outcome.EXPIRED, "red")
    db.session.commit()
    assert db.session.scalars(select(VerificationRecord.outcome).order_by(VerificationRecord.id)).all() == [
        "not_yet_valid", "expired"]
