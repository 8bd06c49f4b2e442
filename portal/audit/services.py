"""Write the audit trail."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from portal.audit.models import AuditEvent


def record(session: Session, actor, action: str, obj=None, *, reason: str | None = None,
           before: dict | None = None, after: dict | None = None,
           enterprise_id: int | None = None, unit_id: int | None = None) -> AuditEvent:
    """Add an audit event to ``session`` (committed with the change it describes).

    ``actor`` is a User, or None for the system; ``obj`` is the changed row (its table name and id
    are kept).
    """
    event = AuditEvent(
        actor_id=getattr(actor, "id", None),
        actor_label=getattr(actor, "email", None) or "system",
        action=action,
        object_type=getattr(obj, "__tablename__", None) or "",
        object_id=getattr(obj, "id", None),
        enterprise_id=enterprise_id,
        unit_id=unit_id,
        reason=reason,
        before=before,
        after=after,
    )
    session.add(event)
    return event


def trail(session: Session, obj, limit: int = 200) -> list[AuditEvent]:
    """Return the latest events about one row (``obj``), newest first, with their actors loaded."""
    return list(session.scalars(
        select(AuditEvent)
        .where(AuditEvent.object_type == obj.__tablename__, AuditEvent.object_id == obj.id)
        .options(joinedload(AuditEvent.actor))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
    ))
