"""Turn a stored worker into the facts a unit's rules see, and ask those rules."""
from __future__ import annotations

from datetime import date

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l

from portal.plugins.default import positive_hold as hold_refusal
from portal.plugins.default import require_confirmed
from portal.plugins.registry import UnitRegistry
from portal.plugins.types import Basis, Dose, Eligibility, NegativeTest, WorkerFacts
from portal.units.services import is_active
from portal.workers.vaccines import BY_CODE

#: The answer for a worker whose unit is not active: no rule can make them eligible.
UNIT_NOT_ACTIVE_REASON = _l("The rules of this worker's pilot unit are not active on the portal now.")


def positive_hold(worker) -> date | None:
    """Return the day ``worker`` was put on hold after a positive test, unless a recovery or a negative test
    dated after that day is recorded since (then None: the hold is over)."""
    since = getattr(worker, "tested_positive_on", None)
    if since is None:
        return None
    cleared = [day for day in (worker.recovered_on, worker.tested_on) if day is not None and day > since]
    return None if cleared else since


def worker_facts(worker) -> WorkerFacts:
    """Return what the rules may know about ``worker`` (its enterprise gives sector and business type).

    ``worker`` is a ``Worker`` or anything shaped like one (the snapshot's bulk reader passes namespaces).
    """
    doses = []
    for dose in worker.doses:
        vaccine = BY_CODE.get(dose.product or "")
        doses.append(Dose(
            number=dose.number,
            product=vaccine.code if vaccine else "",
            product_name=vaccine.name if vaccine else (dose.product or ""),
            doses_required=vaccine.doses_required if vaccine else 2,
            given_on=dose.given_on,
            provenance=getattr(dose, "provenance", None) or "declared",
            differences=_differences(getattr(dose, "registry_data", None)),
        ))
    test = (NegativeTest(worker.test_kind or "unknown", worker.tested_on,
                         provenance=getattr(worker, "test_provenance", None) or "declared",
                         differences=_differences(getattr(worker, "test_registry", None)))
            if worker.tested_on else None)
    enterprise = worker.enterprise
    return WorkerFacts(
        date_of_birth=worker.date_of_birth,
        sex=worker.sex,
        shift=worker.shift,
        job_title=worker.job_title or "",
        doses=tuple(doses),
        recovered_on=worker.recovered_on,
        negative_test=test,
        sector=enterprise.sector if enterprise else None,
        business_type=enterprise.business_type if enterprise else None,
        recovery_provenance=getattr(worker, "recovery_provenance", None) or "declared",
        recovery_differences=_differences(getattr(worker, "recovery_registry", None)),
        positive_hold_since=positive_hold(worker),
    )


def _differences(registry: dict | None) -> tuple[str, ...]:
    return tuple((registry or {}).get("differences", ()))


def confirmed_required_from(settings=None) -> date | None:
    """Return the day from which the built-in rules want registry-confirmed data (``PORTAL_REQUIRE_CONFIRMED_FROM``)."""
    if settings is None:
        if not has_app_context():
            return None
        settings = current_app.config
    value = settings.get("PORTAL_REQUIRE_CONFIRMED_FROM")
    return date.fromisoformat(value) if isinstance(value, str) else value


def evaluate(registry: UnitRegistry, worker, on_date: date) -> Eligibility:
    """Ask the worker's unit whether ``worker`` is eligible on the local day ``on_date``.

    A unit whose plugin is not installed (or disabled) has no rules: its workers are not eligible.
    """
    unit_code = worker.enterprise.unit.code
    if not is_active(registry, unit_code):
        return Eligibility(False, Basis.OTHER, UNIT_NOT_ACTIVE_REASON)
    facts = worker_facts(worker)
    answer = registry.eligibility(unit_code, facts, on_date)
    if answer.eligible and facts.positive_hold_since is not None:
        # A unit may tighten the rule, never loosen it: a worker on hold gets no card whatever it answers.
        return hold_refusal(facts)
    required_from = confirmed_required_from()
    if required_from is not None and on_date >= required_from:
        answer = require_confirmed(facts, answer)
    return answer
