"""Accept the registry's version of a conflicting fact: the worker's data changes, audited with its source.

The change is a worker change like any other (``events.workers_changed``, ``cause="registry"``): the
eligibility snapshot is evaluated again and a card the worker is no longer eligible for is revoked
with the reason ``registry_conflict``.
"""
from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal import events
from portal.audit.services import record as audit
from portal.clock import utcnow
from portal.health.models import HealthExtract, HealthRecord
from portal.health.provenance import CONFLICTING, assess_workers
from portal.health.share import record_share
from portal.messages import Refusal
from portal.workers.models import VaccineDose
from portal.workers.vaccines import BY_CODE

NOTHING_TO_ACCEPT = _l("The registry does not hold this fact differently any more: there is nothing to accept.")


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _source(session, held: dict) -> dict:
    found = session.get(HealthRecord, held.get("record_id")) if held.get("record_id") else None
    extract = session.get(HealthExtract, found.extract_id) if found and found.extract_id else None
    return {"record_id": held.get("record_id"), "extract_id": extract.id if extract else None,
            "source": extract.source if extract else "registry", "filename": extract.filename if extract else ""}


def accept_registry(session, registry, worker, fact: str, actor) -> dict:
    """Replace the declared ``fact`` of ``worker`` ("dose:<n>", "recovery" or "test") by the registry's, or add
    the registry's dose HR did not declare ("registry-dose:<n>"); return the audit's ``after``. Raise Refusal
    when there is nothing to accept."""
    before, after = {}, {}
    if fact.startswith("registry-dose:"):
        held, after = _add_registry_dose(session, worker, fact.partition(":")[2])
    elif fact.startswith("dose:"):
        number = int(fact.partition(":")[2]) if fact.partition(":")[2].isdigit() else None
        dose = next((dose for dose in worker.doses if dose.number == number), None)
        if dose is None or dose.provenance != CONFLICTING or not dose.registry_data:
            raise Refusal(NOTHING_TO_ACCEPT)
        held = dose.registry_data
        if held.get("product") not in BY_CODE:
            raise Refusal(_l("The registry names a vaccine the portal does not know (%(name)s): correct the dose "
                             "by hand.", name=held.get("product") or "?"))
        before = {"dose": number, "product": dose.product, "given_on": dose.given_on.isoformat()
                  if dose.given_on else None}
        dose.product, dose.given_on = held["product"], _day(held.get("given_on"))
        after = {"dose": number, "product": dose.product, "given_on": held.get("given_on")}
    elif fact == "recovery":
        held = worker.recovery_registry
        if worker.recovery_provenance != CONFLICTING or not held:
            raise Refusal(NOTHING_TO_ACCEPT)
        before = {"recovered_on": worker.recovered_on.isoformat() if worker.recovered_on else None}
        worker.recovered_on = _day(held.get("recovered_on"))
        after = {"recovered_on": held.get("recovered_on")}
    elif fact == "test":
        held = worker.test_registry
        if worker.test_provenance != CONFLICTING or not held:
            raise Refusal(NOTHING_TO_ACCEPT)
        before = {"test_kind": worker.test_kind, "tested_on": worker.tested_on.isoformat() if worker.tested_on
                  else None}
        if held.get("result") == "positive":
            # The registry's test of that day was positive: the declared negative test does not stand.
            worker.test_kind, worker.tested_on = None, None
        else:
            worker.test_kind = held.get("kind") or worker.test_kind
        after = {"test_kind": worker.test_kind, "tested_on": worker.tested_on.isoformat() if worker.tested_on
                 else None, "registry_result": held.get("result")}
    else:
        raise Refusal(NOTHING_TO_ACCEPT)
    after["registry"] = _source(session, held)
    worker.updated_at = utcnow()  # the worker's data changed: API clients syncing on updated_at see it
    session.flush()
    assess_workers(session, [worker.id])
    enterprise = worker.enterprise
    audit(session, actor, "worker.registry_accepted", worker, reason=fact, before=before, after=after,
          enterprise_id=enterprise.id, unit_id=enterprise.unit_id)
    events.workers_changed.send(enterprise, session=session, registry=registry, actor=actor, worker_ids=[worker.id],
                                cause="registry")
    record_share(session, unit_id=enterprise.unit_id)
    return after


def _add_registry_dose(session, worker, number_text: str) -> tuple[dict, dict]:
    """Add to ``worker`` the registry's dose ``number_text`` that HR did not declare; return (held, after)."""
    number = int(number_text) if number_text.isdigit() and len(number_text) < 3 else None
    record = None if number is None else session.scalar(
        select(HealthRecord).where(HealthRecord.worker_id == worker.id, HealthRecord.kind == "dose",
                                   HealthRecord.number == number))
    if record is None or any(dose.number == number for dose in worker.doses):
        raise Refusal(NOTHING_TO_ACCEPT)
    if record.product not in BY_CODE or record.on_date is None:
        raise Refusal(_l("The registry names a vaccine the portal does not know (%(name)s): correct the dose "
                         "by hand.", name=record.product or "?"))
    worker.doses.append(VaccineDose(number=number, product=record.product, given_on=record.on_date))
    held = {"record_id": record.id}
    return held, {"dose": number, "product": record.product, "given_on": record.on_date.isoformat(), "added": True}


def on_workers_declared(enterprise, *, session, worker_ids=(), **_ignored) -> None:
    """Compare the changed workers' new declarations with the registry's records already held."""
    assess_workers(session, worker_ids)
