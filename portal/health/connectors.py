"""Live registry connectors declared by plugins (``portal_health_registry_connector``), asked in batches."""
from __future__ import annotations

from sqlalchemy import select

from portal.health.columns import KINDS
from portal.health.extracts import take_records
from portal.health.matching import batched
from portal.plugins.registry import DuplicateDeclaration
from portal.plugins.types import RegistryConnector
from portal.workers.models import Worker

BATCH = 1000


def connectors(pm) -> dict[str, RegistryConnector]:
    """Return every declared connector by code; two with the same code are refused."""
    found: dict[str, RegistryConnector] = {}
    for answer in pm.hook.portal_health_registry_connector():
        for connector in answer or ():
            if connector.code in found:
                raise DuplicateDeclaration(f"Two plugins declare the registry connector {connector.code!r}.")
            found[connector.code] = connector
    return found


def pull(session, pm, code: str, actor) -> list:
    """Ask connector ``code`` about every active worker's citizen ID, kind by kind; KeyError for an unknown code."""
    connector = connectors(pm)[code]
    citizen_ids = session.scalars(select(Worker.citizen_id).where(Worker.active.is_(True),
                                                                  Worker.erased_at.is_(None)).order_by(Worker.id))
    ids = list(citizen_ids)

    def records(kind):
        for batch in batched(ids, BATCH):
            for record in connector.fetch(kind, batch):
                if record.kind == kind:
                    yield record

    return [take_records(session, pm.registry, records(kind), source=connector.code, kind=kind, actor=actor)
            for kind in KINDS]
