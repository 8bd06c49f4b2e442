"""A registry extract from a file: check it (preview), then match it (all or nothing), then forget the file.

The file waits in the blob store between the preview and the commit, and is deleted once matched.
Rows are read, validated and matched in batches, so a million-row extract never sits in memory.
"""
from __future__ import annotations

import shutil
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal import events
from portal.audit.services import record as audit
from portal.clock import utcnow
from portal.health.columns import KINDS, RowProblem, clean_row, header_spec
from portal.health.matching import MatchOutcome, match
from portal.health.models import HealthExtract
from portal.health.provenance import assess_workers
from portal.health.share import record_share
from portal.imports.parsing import Limits, stream_file
from portal.messages import Message, Refusal
from portal.plugins.types import RegistryRecord

#: How many row problems the preview keeps (the counts cover them all).
PROBLEMS_KEPT = 50
#: The counts every extract keeps (zero when nothing counted).
COUNT_KEYS = ("rows", "valid", "errors", "matched", "unmatched", "birth_date_differs", "name_differs")

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


def check_extract(session, store, key: str, *, kind: str, filename: str, actor, today) -> HealthExtract:
    """Read and match the stored file without writing a record; keep the counts and problems for the preview.

    Raise Refusal when the file as a whole cannot be read (the caller deletes the stored file).
    """
    if kind not in KINDS:
        raise Refusal(_l("Choose what the extract holds."), field="kind")
    counts, problems = Counter(), []
    with store.open(key) as reader, _spooled(reader) as local:
        outcome = match(session, read_records(local, kind, today, counts, problems), extract_id=None, write=False)
    if not counts["rows"]:
        raise Refusal(_l("The file has a header row but no rows under it."))
    extract = HealthExtract(kind=kind, source="file", filename=filename[:255], status="ready", blob_key=key,
                            created_by=actor, counts=_counts(counts, outcome, len(outcome.worker_ids)),
                            problems=problems)
    if counts["errors"]:
        # It can never be matched (all or nothing): the file goes now, the problems stay for the preview.
        extract.status, extract.blob_key = "failed", None
    session.add(extract)
    session.flush()
    return extract


def expire_uploads(session, now, *, older_than=timedelta(days=1)) -> list[str]:
    """Mark extracts checked but never matched within ``older_than`` expired; return their files' keys to delete."""
    stale = session.scalars(select(HealthExtract).where(HealthExtract.status == "ready",
                                                        HealthExtract.blob_key.is_not(None),
                                                        HealthExtract.created_at < now - older_than)).all()
    keys = []
    for extract in stale:
        keys.append(extract.blob_key)
        extract.status, extract.blob_key = "expired", None
    return keys


def commit_extract(session, registry, store, extract: HealthExtract, actor, today) -> str:
    """Match a checked extract for good: keep the matched rows, set every fact's provenance, tell the other features.

    All or nothing: a file with problems is refused whole. Return the stored file's key, which the caller
    deletes once committed.
    """
    if extract.status != "ready" or not extract.blob_key:
        raise Refusal(_l("This extract was already matched or has expired."))
    if extract.counts.get("errors"):
        raise Refusal(_l("%(count)s rows of this extract have problems: correct the file and upload it again.",
                         count=extract.counts["errors"]))
    counts, problems = Counter(), []
    with store.open(extract.blob_key) as reader, _spooled(reader) as local:
        outcome = match(session, read_records(local, extract.kind, today, counts, problems),
                        extract_id=extract.id, write=True)
    if counts["errors"]:  # the stored file is the one checked; this only guards against a changed rule
        raise Refusal(_l("%(count)s rows of this extract have problems: correct the file and upload it again.",
                         count=counts["errors"]))
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
