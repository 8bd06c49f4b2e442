"""The background jobs of an uploaded extract: the check (the preview's counts) and the match (all or nothing).

Both follow the worker import's jobs (portal.imports.checking/committing): the jobs table is the source of
truth, the extract's status says which job holds it (checking, matching), and a job killed mid-way is run again
by the consumers' sweep from a state that nothing half-wrote (the match writes in one transaction, committed
at its end), or failed by the framework, whose ``on_failure`` (:func:`reset_after_failed_job`) fails the
extract. Registered in portal.wiring.
"""
from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l

from portal.clock import local_today
from portal.health import extracts
from portal.health.models import HealthExtract
from portal.jobs.execution import is_database_away
from portal.jobs.services import Outcome
from portal.messages import Message, Refusal
from portal.storage import blob_store

GENERIC_FAILURE = _l("The work on this extract stopped because of an error on our side; nothing was written. "
                     "Please upload the file again.")


def next_step_to_extract(extract_id: int) -> dict:
    """The next step of an extract's job: its page, with the preview (or what the match did)."""
    return {"next_endpoint": "health.preview", "next_params": {"extract_id": extract_id},
            "next_label": _l("See the extract")}


def _fail(session, extract_id: int, message) -> None:
    """Fail the extract in a transaction of its own, then delete its file (nothing of the job is kept)."""
    session.rollback()
    extract = session.get(HealthExtract, extract_id)
    key = extracts.fail(session, extract, message)
    session.commit()
    if key:
        blob_store(current_app).delete(key)


def check_job(ctx, extract_id: int) -> Outcome | dict:
    """Read and match an uploaded extract without writing a record, with progress in rows read."""
    session = ctx.session
    extract = session.get(HealthExtract, extract_id)
    if extract is None or extract.status != "checking" or not extract.blob_key:
        return {"skipped": True}
    key = extract.blob_key
    session.rollback()  # hold no transaction (on SQLite: no write lock) while the file is copied

    def between(rows: int) -> None:
        session.rollback()  # nothing is written: end each batch's read transaction, so progress can be written
        ctx.progress(rows, 0, _l("Checking the extract: %(rows)s rows read…", rows=rows))

    try:
        ctx.progress(0, 0, _l("Reading the file…"))
        extract = session.get(HealthExtract, extract_id)
        extracts.check_extract(session, blob_store(current_app), extract, local_today(), between=between)
        counts, failed = dict(extract.counts), extract.status == "failed"
        session.commit()
    except Refusal as refusal:
        _fail(session, extract_id, refusal.message)
        return Outcome({"extract_id": extract_id, "refused": True}, summary=refusal.message,
                       **next_step_to_extract(extract_id))
    except Exception as error:
        if not is_database_away(error):  # else the framework runs the job again (or fails it at the last try)
            _fail(session, extract_id, GENERIC_FAILURE)
        raise
    if failed:
        blob_store(current_app).delete(key)  # rows with problems: it can never be matched
    summary = _l("%(rows)s rows checked: %(errors)s with problems, %(matched)s matching a worker.",
                 rows=counts["rows"], errors=counts["errors"], matched=counts["matched"])
    return Outcome({"extract_id": extract_id, "rows": counts["rows"], "errors": counts["errors"]},
                   summary=summary, **next_step_to_extract(extract_id))


def match_job(ctx, extract_id: int) -> Outcome | dict:
    """Match a claimed extract for good in one transaction, with progress in rows; then delete its file."""
    from portal.auth.models import User

    session = ctx.session
    extract = session.get(HealthExtract, extract_id)
    if extract is None or extract.status != "matching" or not extract.blob_key:
        return {"skipped": True}
    total = int(extract.counts.get("rows") or 0)
    session.rollback()
    ctx.progress(0, total, _l("Matching the rows…"))

    def between(rows: int) -> None:
        # On SQLite the match's one transaction holds the lock: the jobs framework writes this when it ends.
        ctx.progress(rows, total, _l("Matching the rows…"))

    try:
        extract = session.get(HealthExtract, extract_id)
        key = extracts.commit_extract(session, current_app.extensions["portal.plugins"].registry,
                                      blob_store(current_app), extract, session.get(User, ctx.user_id),
                                      local_today(), between=between)
        counts = dict(extract.counts)
        session.commit()
    except Refusal as refusal:
        _fail(session, extract_id, refusal.message)
        return Outcome({"extract_id": extract_id, "refused": True}, summary=refusal.message,
                       **next_step_to_extract(extract_id))
    except Exception as error:
        if not is_database_away(error):
            _fail(session, extract_id, GENERIC_FAILURE)
        raise
    blob_store(current_app).delete(key)
    summary = _l("%(matched)s rows matched %(workers)s workers; the file was deleted.",
                 matched=counts.get("matched", 0), workers=counts.get("workers", 0))
    return Outcome({"extract_id": extract_id, **{name: counts.get(name, 0) for name in ("matched", "unmatched",
                                                                                        "changed")}},
                   summary=summary, **next_step_to_extract(extract_id))


def reset_after_failed_job(session, params: dict, reason) -> None:
    """Fail an extract whose check or match job was given up, so it never stays "checking" or "matching".

    Called by the jobs framework (wired in portal.wiring), which commits. The file stays named on the
    extract (deleting it here would wait on this transaction's SQLite lock): ``portal health expire`` deletes it.
    """
    extract = session.get(HealthExtract, params.get("extract_id"))
    if extract is not None and extract.status in ("checking", "matching"):
        extract.status = "failed"
        extract.message = Message.of(GENERIC_FAILURE).as_json()
