"""The built-in rules: a plugin like any unit's, registered by the same manager, answering last.

The rule follows HCMC decision 3328/QĐ-BCĐ (15/9/2021) as it was reported: a green card for a
worker fully vaccinated with the last dose at least 14 days before, or recovered from COVID-19
within the last 180 days; a card is valid six months and never past the end of the recovery window.
"""
from __future__ import annotations

import calendar
from datetime import date, time, timedelta

from flask_babel import lazy_gettext as _l

from portal.clock import format_date
from portal.plugins import hookimpl
from portal.plugins.types import (
    Admission,
    Basis,
    CommuteWindow,
    Dose,
    Eligibility,
    Provenance,
    Shift,
    Validity,
    WorkerFacts,
)

#: Days between the dose completing the primary series and eligibility.
VACCINATION_WAIT_DAYS = 14
#: Days after recovery during which a recovered worker is eligible (the 180th day included).
RECOVERY_WINDOW_DAYS = 180
#: Months a card is valid.
PASS_LIFETIME_MONTHS = 6

DEFAULT_WINDOWS = (
    CommuteWindow(time(6, 30), time(8, 0), "to_work"),
    CommuteWindow(time(16, 30), time(18, 0), "to_home"),
)

STANDARD_SHIFTS = (
    Shift("office", "Hành chính", "Office hours", time(7, 30), time(16, 30),
          aliases=("hanh chinh", "hc", "office", "giờ hành chính", "gio hanh chinh")),
    Shift("shift1", "Ca 1", "Shift 1", time(6, 0), time(14, 0), aliases=("ca 1", "ca1", "ca sáng", "ca sang")),
    Shift("shift2", "Ca 2", "Shift 2", time(14, 0), time(22, 0), aliases=("ca 2", "ca2", "ca chiều", "ca chieu")),
    Shift("shift3", "Ca 3", "Shift 3", time(22, 0), time(6, 0), aliases=("ca 3", "ca3", "ca đêm", "ca dem")),
)


def add_months(day: date, months: int) -> date:
    """Return the same day ``months`` later, clamped to the end of a shorter month."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def completing_dose(doses: tuple[Dose, ...]) -> Dose | None:
    """Return the dose that completed the primary series, or None."""
    for index, dose in enumerate(doses, start=1):
        required = max(d.doses_required for d in doses[:index])
        if index >= required:
            return dose
    return None


def positive_hold(worker: WorkerFacts) -> Eligibility | None:
    """Return the refusal for a worker on hold after a positive test (``worker.positive_hold_since``), else None."""
    since = worker.positive_hold_since
    if since is None:
        return None
    return Eligibility(False, Basis.POSITIVE_HOLD,
                       _l("Tested positive on %(day)s; needs a recovery or a negative test after that date.",
                          day=format_date(since)))


def default_eligibility(worker: WorkerFacts, on_date: date) -> Eligibility:
    """Decide eligibility on ``on_date`` by the city's default rule (a worker on hold is refused first)."""
    held = positive_hold(worker)
    if held is not None:
        return held
    doses = tuple(sorted((d for d in worker.doses if d.given_on is None or d.given_on <= on_date),
                         key=lambda d: (d.given_on or date.min, d.number)))
    incomplete = [d for d in doses if d.given_on is None or not d.product]
    if incomplete:
        return Eligibility(False, Basis.MISSING_DATA,
                           _l("Dose %(number)s is missing its vaccine or its date.", number=incomplete[0].number))

    done = completing_dose(doses)
    ready = done.given_on + timedelta(days=VACCINATION_WAIT_DAYS) if done else None
    if ready and on_date >= ready:
        return Eligibility(True, Basis.VACCINATED,
                           _l("Dose %(number)s on %(given)s — 14 days reached on %(ready)s.",
                              number=done.number, given=format_date(done.given_on), ready=format_date(ready)),
                           since=ready)

    recovered = worker.recovered_on if worker.recovered_on and worker.recovered_on <= on_date else None
    if recovered and (on_date - recovered).days <= RECOVERY_WINDOW_DAYS:
        until = recovered + timedelta(days=RECOVERY_WINDOW_DAYS)
        return Eligibility(True, Basis.RECOVERED,
                           _l("Recovered from COVID-19 on %(recovered)s — eligible until %(until)s.",
                              recovered=format_date(recovered), until=format_date(until)),
                           since=recovered, until=until)

    if ready:
        return Eligibility(False, Basis.WAITING_PERIOD,
                           _l("Dose %(number)s on %(given)s — eligible from %(ready)s (14 days after).",
                              number=done.number, given=format_date(done.given_on), ready=format_date(ready)),
                           since=ready)

    if recovered:
        return Eligibility(False, Basis.RECOVERY_EXPIRED,
                           _l("Recovered on %(recovered)s, more than 180 days ago, and not fully vaccinated.",
                              recovered=format_date(recovered)))
    if doses:
        required = max(d.doses_required for d in doses)
        return Eligibility(False, Basis.PARTIALLY_VACCINATED,
                           _l("%(given)s of %(required)s doses of %(product)s received.",
                              given=len(doses), required=required, product=doses[-1].product_name))
    return Eligibility(False, Basis.NOT_VACCINATED, _l("No vaccine dose and no recovery registered."))


_FIELD_WORDS = {
    "given_on": _l("the date"),
    "product": _l("the vaccine"),
    "recovered_on": _l("the recovery date"),
    "taken_on": _l("the test date"),
    "kind": _l("the kind of test"),
    "result": _l("the result"),
    "missing": _l("it is in the registry but was not declared"),
}


def _why_unconfirmed(provenance: str, differences: tuple[str, ...]):
    if provenance == Provenance.CONFLICTING.value:
        words = [_FIELD_WORDS.get(name, name) for name in differences] or [_l("the details")]
        what = words[0] if len(words) == 1 else _l("%(first)s and %(second)s", first=words[0], second=words[1])
        return _l("the health registry differs on %(what)s", what=what)
    if provenance == Provenance.NOT_FOUND.value:
        return _l("the health registry has no record of it")
    return _l("it has not been checked against the health registry yet")


def require_confirmed(worker: WorkerFacts, eligibility: Eligibility) -> Eligibility:
    """Refuse an eligible answer whose basis rests on a dose or a recovery the registry has not confirmed.

    The refusal (basis ``UNCONFIRMED``) says which fact is unconfirmed and why; a refusal, or an
    answer whose facts are all confirmed, is returned as it is. The built-in rules apply it from
    ``PORTAL_REQUIRE_CONFIRMED_FROM``; a unit plugin may call it from its own rule.
    """
    if not eligibility.eligible:
        return eligibility
    if eligibility.basis == Basis.VACCINATED:
        on_date = eligibility.since or date.max
        given = tuple(sorted((d for d in worker.doses if d.given_on is not None and d.given_on <= on_date),
                             key=lambda d: (d.given_on, d.number)))
        done = completing_dose(given)
        series = given[:given.index(done) + 1] if done else given
        for dose in series:
            if dose.provenance != Provenance.CONFIRMED.value:
                return Eligibility(False, Basis.UNCONFIRMED, _l(
                    "Dose %(number)s (%(given)s) is not confirmed: %(why)s.", number=dose.number,
                    given=format_date(dose.given_on), why=_why_unconfirmed(dose.provenance, dose.differences)))
    elif eligibility.basis == Basis.RECOVERED and worker.recovery_provenance != Provenance.CONFIRMED.value:
        return Eligibility(False, Basis.UNCONFIRMED, _l(
            "The recovery on %(recovered)s is not confirmed: %(why)s.", recovered=format_date(worker.recovered_on),
            why=_why_unconfirmed(worker.recovery_provenance, worker.recovery_differences)))
    return eligibility


def default_validity(eligibility: Eligibility, issued_on: date) -> Validity:
    """Return six months from ``issued_on`` (last day inclusive), never past ``eligibility.until``."""
    until = add_months(issued_on, PASS_LIFETIME_MONTHS) - timedelta(days=1)
    if eligibility.until is not None:
        until = min(until, eligibility.until)
    return Validity(valid_from=issued_on, valid_until=until)


@hookimpl(trylast=True)
def portal_shifts():
    return list(STANDARD_SHIFTS)


@hookimpl(trylast=True)
def portal_windows_follow_shift(unit):
    return False


@hookimpl(trylast=True)
def portal_commute_windows(unit, shift):
    return list(DEFAULT_WINDOWS)


@hookimpl(trylast=True)
def portal_admit_enterprise(unit, enterprise, approved_count):
    return Admission(True)


@hookimpl(trylast=True)
def portal_worker_eligibility(unit, worker, on_date):
    return default_eligibility(worker, on_date)


@hookimpl(trylast=True)
def portal_pass_validity(unit, worker, eligibility, issued_on):
    return default_validity(eligibility, issued_on)
