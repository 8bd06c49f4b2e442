"""Step 2 of an import: write a checked batch, all rows or the valid ones, here or in a background job.

Nothing here commits but the job handler: a request's view commits what :func:`commit_now` did,
whether the rows were written or the batch was put back with the reason they were not.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import update

from portal.audit.services import record
from portal.clock import utcnow
from portal.imports.batches import store_check, stored_rows
from portal.imports.checking import GENERIC_FAILURE, classify, fail, next_step_to_batch
from portal.imports.models import ImportBatch, ImportStatus
from portal.imports.settings import setting
from portal.jobs.services import Outcome, enqueue
from portal.messages import Message, Refusal
from portal.workers.services import upsert_workers


@dataclass(frozen=True)
class CommitResult:
    """What a commit did: wrote the rows, queued a job for them, or kept the batch with why it refused."""

    written: bool = False
    job_id: int | None = None
    refusal: Refusal | None = None


def commit_now(session, registry, batch: ImportBatch, actor, *, valid_only: bool) -> CommitResult:
    """Commit ``batch`` for a request (the caller commits the session afterwards, whatever the outcome).

    Raise Refusal when the batch cannot be taken (expired, already taken). When the rows are the
    reason, the batch goes back to ready with the reason and the refreshed report, so the user may
    still import the valid rows only; the outcome carries the refusal.
    """
    claim(session, batch)
    batch.valid_only = valid_only
    if batch.total_rows > setting("IMPORT_JOB_THRESHOLD"):
        job = enqueue(session, "imports.commit", {"batch_id": batch.id}, user_id=actor.id,
                      enterprise_id=batch.enterprise_id)
        batch.job_id = job.id
        return CommitResult(job_id=job.id)
    try:
        write_batch(session, registry, batch, actor)
    except Refusal as refusal:
        keep_refusal(batch, refusal)
        return CommitResult(refusal=refusal)
    return CommitResult(written=True)


def claim(session, batch: ImportBatch) -> None:
    """Take the batch for committing; a second click or a second tab finds it taken (Refusal)."""
    if batch.status == ImportStatus.READY.value and batch.expires_at <= utcnow():
        raise Refusal(_l("This import is more than a day old and was deleted. Upload the file again."))
    claimed = session.execute(
        update(ImportBatch)
        .where(ImportBatch.id == batch.id, ImportBatch.status == ImportStatus.READY.value)
        .values(status=ImportStatus.COMMITTING.value, message=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise Refusal(_l("This list is already imported, or being imported. Upload the file again to import it "
                         "once more."))
    batch.status = ImportStatus.COMMITTING.value


def write_batch(session, registry, batch: ImportBatch, actor) -> None:
    """Compare the checked rows with the database again, then write them: all, or the valid ones when asked.

    Someone may have registered one of the IDs since the preview; the report is refreshed either way.
    Raise Refusal (nothing written) when a row is wrong and the user wanted all rows or none.
    """
    enterprise = batch.enterprise
    check = classify(session, enterprise, stored_rows(batch))
    store_check(batch, check.report, check.cleaned, check.counts, rows=False)
    problems = check.problems
    if problems and not batch.valid_only:
        raise Refusal(_l("Nothing was imported: %(count)s rows have problems. Fix them in your file and upload it "
                         "again, or tick “Import only the valid rows”."), count=problems)
    if not check.writable:
        raise Refusal(_l("Nothing was imported: no row of the list is valid."))
    try:
        with session.begin_nested():
            result = upsert_workers(session, registry, enterprise, check.writable, actor,
                                    reason=f"import #{batch.id}: {batch.filename}")
    except Refusal as refusal:
        # Someone registered one of these IDs between the check and the write, or the unit is not active.
        raise Refusal(_l("%(reason)s Nothing was imported; check the list again."), reason=refusal.message) \
            from refusal
    batch.status = ImportStatus.COMMITTED.value
    batch.committed_at = utcnow()
    batch.written_created, batch.written_updated = len(result.created), len(result.updated)
    record(session, actor, "workers.imported", batch, enterprise_id=enterprise.id, unit_id=enterprise.unit_id,
           after={"file": batch.filename, "sha256": batch.sha256, "rows": batch.total_rows,
                  "created": len(result.created), "updated": len(result.updated),
                  "unchanged": len(result.unchanged), "skipped": problems, "valid_only": batch.valid_only})


def keep_refusal(batch: ImportBatch, refusal: Refusal) -> None:
    """Put the batch back to ready with the reason (its refreshed report stays)."""
    batch.status = ImportStatus.READY.value
    batch.message = refusal.message.as_json()


def written_message(batch: ImportBatch) -> Message:
    """Say what a committed batch wrote."""
    return Message.of(_l("Imported: %(created)s new workers, %(updated)s updated.", created=batch.written_created,
                         updated=batch.written_updated))


def commit_job(ctx, batch_id: int) -> dict:
    """Write a large batch that the request queuing this job claimed."""
    from portal.auth.models import User

    session = ctx.session
    batch = session.get(ImportBatch, batch_id)
    if batch is None or batch.status != ImportStatus.COMMITTING.value:
        return {"skipped": True}
    registry = current_app.extensions["portal.plugins"].registry
    try:
        ctx.progress(0, batch.total_rows, _l("Importing…"))
        write_batch(session, registry, batch, session.get(User, ctx.user_id))
    except Refusal as refusal:
        keep_refusal(batch, refusal)
        session.commit()
        return Outcome({"batch_id": batch_id, "refused": True}, summary=refusal.message, **next_step_to_batch(batch_id))
    except Exception:
        session.rollback()
        fail(session, batch_id, Message.of(GENERIC_FAILURE))
        session.commit()
        raise
    session.commit()
    return Outcome({"batch_id": batch_id, "created": batch.written_created, "updated": batch.written_updated},
                   summary=written_message(batch), **next_step_to_batch(batch_id))
