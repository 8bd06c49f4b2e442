"""Find a worker's own green card from what only they should know, saying nothing on a mismatch."""
from __future__ import annotations

import hmac
from datetime import date

from sqlalchemy import and_, select
from sqlalchemy.orm import contains_eager

from portal.clock import utcnow
from portal.enterprises.models import Enterprise, EnterpriseStatus
from portal.passes.models import Pass, PassStatus
from portal.workers.models import Worker

#: Compared against when no worker has the ID, so that every mismatch does the same work.
_NOBODY = ("0000-00-00", "....")


def find_own_pass(session, citizen_id: str, date_of_birth: date, phone_last4: str) -> Pass | None:
    """Return the active, unexpired pass of the active worker these details describe, else None.

    An unknown ID, a wrong date of birth or phone digits, no pass, a revoked or expired pass: all
    give None after the same single query and the same comparisons.
    """
    pass_ = session.scalar(
        select(Pass)
        .join(Worker, and_(Worker.id == Pass.worker_id, Worker.active.is_(True), Worker.citizen_id == citizen_id))
        .join(Enterprise, Enterprise.id == Pass.enterprise_id)
        .where(Pass.status == PassStatus.ACTIVE.value, Pass.valid_until > utcnow(),
               Enterprise.status == EnterpriseStatus.APPROVED.value)
        .options(contains_eager(Pass.worker), contains_eager(Pass.enterprise))
    )
    known = (pass_.worker.date_of_birth.isoformat(), pass_.worker.phone[-4:]) if pass_ else _NOBODY
    birth_matches = hmac.compare_digest(known[0].encode(), date_of_birth.isoformat().encode())
    phone_matches = hmac.compare_digest(known[1].encode(), phone_last4.encode())
    if pass_ is not None and birth_matches & phone_matches:
        return pass_
    return None


def proven_pass(session, pass_id: int, version: int) -> Pass | None:
    """Return the pass a worker proved to be theirs, if it is still the same active, unexpired card; else None."""
    pass_ = session.scalar(
        select(Pass)
        .join(Worker, and_(Worker.id == Pass.worker_id, Worker.active.is_(True)))
        .join(Enterprise, Enterprise.id == Pass.enterprise_id)
        .where(Pass.id == pass_id, Pass.version == version, Pass.status == PassStatus.ACTIVE.value,
               Pass.valid_until > utcnow(), Enterprise.status == EnterpriseStatus.APPROVED.value)
        .options(contains_eager(Pass.worker), contains_eager(Pass.enterprise))
    )
    return pass_
