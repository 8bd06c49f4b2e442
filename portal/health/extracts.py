"""A registry extract from a file: check it (preview), then match it (all or nothing), then forget the file.

The file waits in the blob store between the preview and the commit, and is deleted once matched (or as
soon as its check fails). Rows are read, validated and matched in batches, so a million-row extract never
sits in memory; an uploaded file is checked and matched by background jobs (portal.health.extract_jobs).
"""
from __future__ import annotations

import shutil
import tempfile
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from portal import events
from portal.audit.services import record as audit
from portal.clock import utcnow
from portal.health.columns import KINDS, RowProblem, clean_row, header_spec
from portal.health.matching import BATCH, MatchOutcome, batched, match
from portal.health.models import HealthExtract
from portal.health.provenance import assess_workers
from portal.health.share import record_share
from portal.imports.parsing import Limits, stream_file
from portal.jobs.services import enqueue
from portal.messages import Message, Refusal
from portal.plugins.types import RegistryRecord

#: How many row problems the preview keeps (the counts cover them all).
PROBLEMS_KEPT = 50
#: The counts every extract keeps (zero when nothing counted).
COUNT_KEYS = ("rows", "valid", "errors", "matched", "unmatched", "birth_date_differs", "name_differs")

#: The jobs that check an uploaded extract and match it (handlers in portal.health.extract_jobs, wired in
#: portal.wiring).
CHECK_JOB, MATCH_JOB = "health.check", "health.match"
ROWS_WITH_PROBLEMS = _l("%(count)s rows of this extract have problems: correct the file and upload it again.")
ALREADY_MATCHING = _l("This extract is already being matched: its page shows the progress.")

#: What an extract may hold: no row limit (the reading streams), the usual limits on a row.
LIMITS = Limits(max_bytes=2**40, max_rows=2**40)


def read_records(stream, kind: str, today, counts: Counter, problems: list) -> Iterator[RegistryRecord]:
    """Yield the valid records of an extract file, counting rows and keeping the first problems."""
    parsed = stream_file(stream, header_spec(kind), LIMITS)
    for row in parsed.rows:
        counts["rows"] += 1
        message = row.problems[0].message if row.problems else None
        if message is None:
            try:
                record = clean_row(kind, row.values, today)
            except RowProblem as problem:
                message = problem.message
            else:
                counts["valid"] += 1
                yield record
                continue
        counts["errors"] += 1
        if len(problems) < PROBLEMS_KEPT:
            problems.append({"row": row.number, "message": Message.of(message).as_json()})


def _counts(counts: Counter, outcome: MatchOutcome, workers: int) -> dict:
    merged = counts + outcome.counts
    return {**{key: merged.get(key, 0) for key in COUNT_KEYS}, "workers": workers}


def _spooled(reader) -> tempfile.SpooledTemporaryFile:
    """Copy a stored file into a seekable local file (in memory up to 8 MB)."""
    local = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    shutil.copyfileobj(reader, local, 1024 * 1024)
    local.seek(0)
    return local


def store_upload(store, stream) -> str:
    """Put an uploaded extract in the blob store (before any write of the caller's session); return its key."""
    key = f"health/extracts/{uuid.uuid4().hex}"
    store.put(key, stream, content_type="application/octet-stream")
    return key


def start_check(session, key: str, *, kind: str, filename: str, actor) -> HealthExtract:
    """Keep a stored upload as an extract being checked and queue the job that checks it (the caller commits)."""
    if kind not in KINDS:
        raise Refusal(_l("Choose what the extract holds."), field="kind")
    extract = HealthExtract(kind=kind, source="file", filename=filename[:255], status="checking", blob_key=key,
                            created_by=actor, counts={}, problems=[])
    session.add(extract)
    session.flush()
    extract.job_id = enqueue(session, CHECK_JOB, {"extract_id": extract.id}, user_id=actor.id).id
    return extract


def read_and_match(session, stream, kind: str, today, *, extract_id: int | None = None, write: bool = False,
                   between: Callable[[int], None] | None = None) -> tuple[Counter, list, MatchOutcome]:
    """Read an extract file and match its valid records batch by batch; return (counts, problems, outcome).

    ``between(rows_read)`` is called after each batch: the caller's chance to report progress (and, when
    nothing is written, to end its read transaction).
    """
    counts, problems, outcome = Counter(), [], MatchOutcome()
    for batch in batched(read_records(stream, kind, today, counts, problems), BATCH):
        match(session, batch, extract_id=extract_id, write=write, outcome=outcome)
        if between is not None:
            between(counts["rows"])
    return counts, problems, outcome


def check_extract(session, store, extract: HealthExtract, today, *, between=None) -> None:
    """Read and match the extract's stored file without writing a record; keep the counts and problems.

    An extract with a row problem can never be matched (all or nothing): it is failed, and its file is
    the caller's to delete. Raise Refusal when the file as a whole cannot be read.
    """
    with store.open(extract.blob_key) as reader, _spooled(reader) as local:
        counts, problems, outcome = read_and_match(session, local, extract.kind, today, between=between)
    if not counts["rows"]:
        raise Refusal(_l("The file has a header row but no rows under it."))
    extract.counts = _counts(counts, outcome, len(outcome.worker_ids))
    extract.problems = problems
    extract.status = "ready"
    if counts["errors"]:
        extract.status, extract.blob_key = "failed", None
        extract.message = Message.of(ROWS_WITH_PROBLEMS, count=counts["errors"]).as_json()
    session.flush()


def fail(session, extract: HealthExtract, message) -> str | None:
    """Mark the extract failed with ``message`` (stored); return its file's key, for the caller to delete."""
    key = extract.blob_key
    extract.status, extract.blob_key = "failed", None
    extract.message = Message.of(message).as_json()
    return key


def expire_uploads(session, now, *, older_than=timedelta(days=1)) -> list[str]:
    """Mark extracts checked but never matched within ``older_than`` expired; return their files' keys to delete.

    The file of an extract failed more than ``older_than`` ago goes too.
    """
    stale = session.scalars(select(HealthExtract).where(HealthExtract.status.in_(("ready", "failed")),
                                                        HealthExtract.blob_key.is_not(None),
                                                        HealthExtract.created_at < now - older_than)).all()
    keys = []
    for extract in stale:
        # A failed extract keeps its file only when its job was given up (the jobs framework failed it).
        keys.append(extract.blob_key)
        extract.status = "expired" if extract.status == "ready" else extract.status
        extract.blob_key = None
    return keys


def claim_match(session, extract: HealthExtract, actor):
    """Take a checked extract for matching and queue the job that matches it; return the job (the caller commits).

    A second click, a second tab or a second officer finds it taken (Refusal).
    """
    refused = {"checking": _l("This extract is still being checked: wait for its preview."),
               "matching": ALREADY_MATCHING,
               "committed": _l("This extract was already matched.")}.get(extract.status)
    if refused is not None:
        raise Refusal(refused)
    if extract.status != "ready" or not extract.blob_key:
        raise Refusal(_l("This extract was already matched or has expired."))
    if extract.counts.get("errors"):
        raise Refusal(ROWS_WITH_PROBLEMS, count=extract.counts["errors"])
    claimed = session.execute(
        update(HealthExtract).where(HealthExtract.id == extract.id, HealthExtract.status == "ready")
        .values(status="matching", message=None).execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise Refusal(ALREADY_MATCHING)
    extract.status, extract.message = "matching", None
    job = enqueue(session, MATCH_JOB, {"extract_id": extract.id}, user_id=actor.id)
    extract.job_id = job.id
    return job


def commit_extract(session, registry, store, extract: HealthExtract, actor, today, *, between=None) -> str:
    """Match an extract taken for matching for good: keep the matched rows, set every fact's provenance, tell the
    other features.

    All or nothing: a file with problems is refused whole (the caller rolls back). Return the stored file's key,
    which the caller deletes once committed. ``between(rows_read)`` is called after each batch.
    """
    if extract.status != "matching" or not extract.blob_key:
        raise Refusal(_l("This extract was already matched or has expired."))
    with store.open(extract.blob_key) as reader, _spooled(reader) as local:
        counts, _problems, outcome = read_and_match(session, local, extract.kind, today, extract_id=extract.id,
                                                    write=True, between=between)
    if counts["errors"]:  # the stored file is the one checked; this only guards against a changed rule
        raise Refusal(ROWS_WITH_PROBLEMS, count=counts["errors"])
    key = extract.blob_key
    finish(session, registry, extract, outcome, counts, actor)
    return key


def finish(session, registry, extract: HealthExtract, outcome: MatchOutcome, counts: Counter, actor) -> dict:
    """Set the provenance of the matched workers' facts, tell the other features, record today's confirmed share,
    close the extract."""
    changed = assess_workers(session, outcome.worker_ids)
    notify(session, registry, changed, actor)
    record_share(session)
    extract.counts = {**_counts(counts, outcome, len(outcome.worker_ids)), "changed": len(changed)}
    extract.status, extract.committed_at, extract.blob_key = "committed", utcnow(), None
    session.flush()
    audit(session, actor, "health.extract_matched", extract, after={"kind": extract.kind, "source": extract.source,
                                                                     **extract.counts})
    return changed


def notify(session, registry, changed: dict[int, int], actor) -> None:
    """Tell the features that follow a worker's data (eligibility, cards) that the registry changed these workers."""
    from portal.enterprises.models import Enterprise

    by_enterprise: dict[int, list[int]] = {}
    for worker_id, enterprise_id in changed.items():
        by_enterprise.setdefault(enterprise_id, []).append(worker_id)
    for enterprise_id, worker_ids in sorted(by_enterprise.items()):
        events.workers_changed.send(session.get(Enterprise, enterprise_id), session=session, registry=registry,
                                    actor=actor, worker_ids=sorted(worker_ids), cause="registry")


def take_records(session, registry, records: Iterable[RegistryRecord], *, source: str, kind: str,
                 actor) -> HealthExtract:
    """Match records pushed by the API or pulled by a connector (already validated): one extract, committed."""
    extract = HealthExtract(kind=kind, source=source[:40], filename="", status="ready", created_by=actor,
                            counts={}, problems=[])
    session.add(extract)
    session.flush()
    counts = Counter()

    def counted(items):
        for item in items:
            counts["rows"] += 1
            counts["valid"] += 1
            yield item

    outcome = match(session, counted(records), extract_id=extract.id, write=True)
    finish(session, registry, extract, outcome, counts, actor)
    return extract
