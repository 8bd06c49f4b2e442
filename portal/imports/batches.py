"""A checked upload kept server-side: its stored report and validated rows, who may read it, when it is forgotten.

A report entry is ``{"row", "name", "id", "action", "problems": [{"field", "message"}], "changes"}``,
each problem's message a stored :class:`portal.messages.Message`; the page renders it in the
reader's language.
"""
from __future__ import annotations

from dataclasses import fields
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import update

from portal.clock import utcnow
from portal.imports.models import ImportBatch, ImportStatus, pack
from portal.messages import Refusal
from portal.workers.validation import CleanWorker

#: What the preview says will happen to a row (the labels are portal.vocabulary.IMPORT_ACTION_LABELS).
ACTIONS = ("create", "update", "unchanged", "error", "conflict")
#: CleanWorker's fields holding a date (or None); its ``doses`` hold (vaccine code, date) pairs.
DATE_FIELDS = ("date_of_birth", "recovered_on", "tested_on")
CLEAN_FIELDS = tuple(f.name for f in fields(CleanWorker))

Cleaned = list[tuple[dict, CleanWorker | None]]


def store_check(batch: ImportBatch, report: list[dict], cleaned: Cleaned, counts, *, rows: bool = True) -> None:
    """Keep the report, the validated rows beside it (unless unchanged), and the counts on the batch."""
    batch.report_data = pack(report)
    if rows:
        batch.rows_data = pack([_plain(clean) if clean is not None else None for _entry, clean in cleaned])
    for action in ACTIONS:
        setattr(batch, f"{action}_count", counts.get(action, 0))


def stored_rows(batch: ImportBatch) -> Cleaned:
    """Return the batch's report entries with their validated workers, as they were checked."""
    try:
        cleans = [_unplain(values) if values is not None else None for values in batch.rows()]
    except (TypeError, KeyError, ValueError):  # stored by an older release: the file must be checked again
        raise Refusal(_l("This import was checked by an older version of the portal. Upload the file "
                         "again.")) from None
    return list(zip(batch.report(), cleans, strict=True))


def _plain(clean: CleanWorker) -> dict:
    """Return ``clean`` as JSON-ready values (dates in ISO form)."""
    values = {name: getattr(clean, name) for name in CLEAN_FIELDS}
    for name in DATE_FIELDS:
        if values[name] is not None:
            values[name] = values[name].isoformat()
    values["doses"] = [[product, day.isoformat()] for product, day in clean.doses]
    return values


def _unplain(values: dict) -> CleanWorker:
    values = dict(values)
    for name in DATE_FIELDS:
        if values[name] is not None:
            values[name] = date.fromisoformat(values[name])
    values["doses"] = tuple((product, date.fromisoformat(day)) for product, day in values["doses"])
    return CleanWorker(**values)


def get_batch_for(session, user, batch_id: int) -> ImportBatch | None:
    """Return the batch when ``user`` uploaded it for their own enterprise; None otherwise."""
    batch = session.get(ImportBatch, batch_id)
    if batch is None or not user.is_authenticated or not user.is_hr:
        return None
    if batch.user_id != user.id or batch.enterprise_id != user.enterprise_id:
        return None
    return batch


def purge_expired(session, now=None) -> int:
    """Delete the rows of batches past their keep time; keep their counts as the import's record."""
    now = now or utcnow()
    old = (ImportBatch.expires_at <= now) & (ImportBatch.rows_data.is_not(None))
    expired = session.execute(
        update(ImportBatch).where(old, ImportBatch.status != ImportStatus.COMMITTED.value)
        .values(status=ImportStatus.EXPIRED.value, rows_data=None, report_data=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    committed = session.execute(
        update(ImportBatch).where(old).values(rows_data=None, report_data=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    return expired + committed
