"""End of the pilot: remove the workers' personal data everywhere, keep every figure of the evaluation report.

:func:`survey` counts what an erase would remove (the dry run); :func:`erase` removes it, in batches,
calling ``after_batch`` so that the command commits and reports progress; then :func:`erase_files`
deletes the files (print sheets, cached card PDFs) from the blob store, whichever backend.

What goes, for every worker registered before the day given:

* the worker's name, ID number, date of birth, phone, home address, job title and health data
  (doses, recovery, tests); the row stays, marked ``erased_at``, so that every count stays: an
  erased worker's eligibility, as last evaluated, is final and no refresh asks the rules again;
* their green cards' home address (``route_from``), revocation notes (what HR typed beside the reason
  code) and content digest (a digest of the personal data); serial, unit, validity, status, reason
  codes and versions stay;
* their eligibility snapshot's dates and the rule's reason (it quotes dose, recovery and test dates);
  eligibility and basis stay;
* the audit trail's copies of those fields and its reasons, about those workers, cards and import files;
* every import file and its stored rows (the batch's counts stay);
* every job's output file and results (print sheets carry names); jobs started before the day go;
* every cached card PDF (made again on demand, from the erased data).

Enterprises, user accounts and checkpoint scans (which never record who was scanned) are kept.
Nothing here commits: the caller commits (``after_batch`` and at the end).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import String, and_, cast, delete, func, literal, or_, select, update

from portal import clock
from portal.audit.models import AuditEvent
from portal.eligibility.models import EligibilitySnapshot
from portal.eligibility.upkeep import RefreshScope, refresh_eligibility
from portal.health.models import HealthRecord
from portal.imports.models import ImportBatch, ImportStatus
from portal.jobs.models import Job, JobStatus
from portal.messages import Refusal
from portal.passes.models import Pass, PassVersion
from portal.storage import blob_store
from portal.storage.cache import ROOT as CACHE_ROOT
from portal.workers.models import VaccineDose, Worker

BATCH_SIZE = 1000
#: What an erased worker's required fields hold instead of their data.
ERASED_NAME = "—"
ERASED_BIRTH_DATE = date(1900, 1, 1)
ERASED_DIGEST = "erased"
#: Keys of audit entries' before/after that carry a worker's data (portal.workers.services.snapshot,
#: portal.passes.issuing.snapshot, the import record).
PERSONAL_AUDIT_KEYS = frozenset({
    "full_name", "name_key", "citizen_id", "date_of_birth", "phone", "home_address", "home_ward", "home_district",
    "job_title", "doses", "recovered_on", "tested_on", "test_kind", "route_from", "file", "content_digest",
    "note",  # a revocation's note (portal.passes.revoking)
    "given_on", "product", "registry_result",  # a fact accepted from the health registry (portal.health.resolving)
})
#: Where job output files live in the blob store (portal.jobs.execution).
JOBS_ROOT = "jobs/"


#: Why an erase waits (a job could write a print sheet of erased workers after it).
JOBS_IN_FLIGHT = _l("%(count)s background jobs are queued or running: let them finish (portal jobs worker) "
                    "or fail, then erase")


class ErasureRefused(Refusal):
    """The erase cannot run now (jobs are still running); the message says why."""


@dataclass
class Survey:
    """What an erase removes: counts, and the files' keys and sizes."""

    before: date
    cutoff: datetime
    workers: int = 0
    passes: int = 0
    doses: int = 0
    audit_events: int = 0
    import_batches: int = 0
    import_files: int = 0
    jobs_removed: int = 0
    jobs_cleared: int = 0
    job_files: list[tuple[str, int]] = field(default_factory=list)
    cached_files: list[tuple[str, int]] = field(default_factory=list)

    @property
    def files(self) -> int:
        return len(self.job_files) + len(self.cached_files)

    @property
    def file_bytes(self) -> int:
        return sum(size for _key, size in self.job_files) + sum(size for _key, size in self.cached_files)


def cutoff_of(before: date) -> datetime:
    """Return the instant (UTC) the local day ``before`` starts: what was registered earlier is erased."""
    return clock.start_of_local_day(before)


def _workers_to_erase(cutoff: datetime):
    return and_(Worker.created_at < cutoff, Worker.erased_at.is_(None))


def _jobs_in_flight(session) -> int:
    return session.scalar(select(func.count()).select_from(Job)
                          .where(Job.status.in_((JobStatus.QUEUED.value, JobStatus.RUNNING.value))))


def survey(session, app, before: date) -> Survey:
    """Count what an erase before ``before`` would remove (writes nothing)."""
    found = Survey(before, cutoff_of(before))
    cutoff = found.cutoff
    erasing = select(Worker.id).where(_workers_to_erase(cutoff))
    found.workers = session.scalar(select(func.count()).select_from(Worker).where(_workers_to_erase(cutoff)))
    found.passes = session.scalar(select(func.count()).select_from(Pass).where(Pass.worker_id.in_(erasing)))
    found.doses = session.scalar(select(func.count()).select_from(VaccineDose)
                                 .where(VaccineDose.worker_id.in_(erasing)))
    passes = select(Pass.id).where(Pass.worker_id.in_(erasing))
    found.audit_events = session.scalar(select(func.count()).select_from(AuditEvent).where(
        _about(erasing, passes, _batches_to_clear(cutoff))))
    found.import_batches = session.scalar(select(func.count()).select_from(ImportBatch)
                                          .where(ImportBatch.id.in_(_batches_to_clear(cutoff))))
    found.import_files = session.scalar(select(func.count()).select_from(ImportBatch).where(
        ImportBatch.id.in_(_batches_to_clear(cutoff)), _holds_rows()))
    found.jobs_removed = session.scalar(select(func.count()).select_from(Job).where(_jobs_to_remove(cutoff)))
    found.jobs_cleared = session.scalar(select(func.count()).select_from(Job).where(_jobs_to_clear(cutoff)))
    store = blob_store(app)
    found.job_files = [(info.key, info.size) for info in store.list(JOBS_ROOT)]
    found.cached_files = [(info.key, info.size) for info in store.list(CACHE_ROOT)]
    return found


def _batches_to_clear(cutoff: datetime):
    """Import batches created before the cutoff, and any still holding a file of a worker being erased."""
    return select(ImportBatch.id).where(ImportBatch.created_at < cutoff, or_(
        _holds_rows(), ImportBatch.filename.not_like("import-%"), ImportBatch.message.is_not(None)))


def _holds_rows():
    return or_(ImportBatch.file_data.is_not(None), ImportBatch.rows_data.is_not(None),
               ImportBatch.report_data.is_not(None))


def _finished():
    return Job.status.in_((JobStatus.DONE.value, JobStatus.FAILED.value))


def _jobs_to_remove(cutoff: datetime):
    return and_(_finished(), Job.created_at < cutoff)


def _jobs_to_clear(cutoff: datetime):
    """Finished later jobs that still hold a file or results (a print sheet made after the day has old names)."""
    return and_(_finished(), Job.created_at >= cutoff, or_(
        Job.output_key.is_not(None), Job.result.is_not(None), Job.error.is_not(None), Job.summary.is_not(None),
        Job.progress_message.is_not(None), Job.next_step.is_not(None)))


def _about(workers, passes, batches):
    return or_(
        and_(AuditEvent.object_type == Worker.__tablename__, AuditEvent.object_id.in_(workers)),
        and_(AuditEvent.object_type == Pass.__tablename__, AuditEvent.object_id.in_(passes)),
        and_(AuditEvent.object_type == ImportBatch.__tablename__, AuditEvent.object_id.in_(batches)),
    )


# ---------------------------------------------------------------------------
# The erase
# ---------------------------------------------------------------------------

def erase(session, registry, before: date, *, now: datetime | None = None, batch_size: int = BATCH_SIZE,
          after_batch: Callable[[str, int, int], None] | None = None) -> Survey:
    """Erase the personal data of workers registered before ``before``, and the files and rows that copy it.

    Refused while a job is queued or running (it could write a print sheet of erased workers after
    the erase). ``after_batch(what, done, total)`` is called after each batch of workers and at each
    later step; it may commit (the command does). Files are deleted by :func:`erase_files`, after
    the last commit.
    """
    in_flight = _jobs_in_flight(session)
    if in_flight:
        raise ErasureRefused(JOBS_IN_FLIGHT, count=in_flight)
    now = now or clock.utcnow()
    cutoff = cutoff_of(before)
    done = Survey(before, cutoff)
    report = after_batch or (lambda _what, _done, _total: None)
    total = session.scalar(select(func.count()).select_from(Worker).where(_workers_to_erase(cutoff)))
    while True:
        ids = list(session.scalars(select(Worker.id).where(_workers_to_erase(cutoff)).order_by(Worker.id)
                                   .limit(batch_size)))
        if not ids:
            break
        _erase_workers(session, registry, ids, now, done)
        done.workers += len(ids)
        report("workers", done.workers, total)
    batches = list(session.scalars(_batches_to_clear(cutoff)))
    _clear_import_batches(session, batches, done)
    report("import batches", len(batches), len(batches))
    done.jobs_cleared = _clear_jobs(session, cutoff)
    done.jobs_removed = session.execute(delete(Job).where(_jobs_to_remove(cutoff)),
                                        execution_options={"synchronize_session": False}).rowcount
    report("jobs", done.jobs_removed + done.jobs_cleared, done.jobs_removed + done.jobs_cleared)
    return done


def _erase_workers(session, registry, ids: list[int], now: datetime, done: Survey) -> None:
    today = clock.local_today(now)
    # Their eligibility becomes final: bring rows evaluated before today (or missing) up to today first,
    # as the nightly refresh would, so that the figures are those of the data being erased.
    stale = list(session.scalars(
        select(Worker.id).outerjoin(EligibilitySnapshot, EligibilitySnapshot.worker_id == Worker.id)
        .where(Worker.id.in_(ids), Worker.active.is_(True),
               or_(EligibilitySnapshot.worker_id.is_(None), EligibilitySnapshot.evaluated_on < today))))
    if stale:
        refresh_eligibility(session, registry, RefreshScope(worker_ids=tuple(stale)), on_date=today, now=now)
    pass_ids = list(session.scalars(select(Pass.id).where(Pass.worker_id.in_(ids))))
    done.doses += session.execute(delete(VaccineDose).where(VaccineDose.worker_id.in_(ids)),
                                  execution_options={"synchronize_session": False}).rowcount
    # What the health registry held about them (matched rows, with names and places).
    session.execute(delete(HealthRecord).where(HealthRecord.worker_id.in_(ids)),
                    execution_options={"synchronize_session": False})
    workers = Worker.__table__
    session.execute(
        update(workers).where(workers.c.id.in_(ids)).values(
            # The ID column is unique among active workers: each keeps a placeholder of its own, "E" and
            # its row id ("E" never starts a real CCCD or CMND).
            full_name=ERASED_NAME, name_key="", citizen_id=literal("E", String) + cast(workers.c.id, String),
            date_of_birth=ERASED_BIRTH_DATE, phone="", home_address="", home_ward="", home_district="",
            job_title="", recovered_on=None, test_kind=None, tested_on=None, tested_positive_on=None,
            recovery_registry=None, test_registry=None, erased_at=now),
        execution_options={"synchronize_session": False})
    # The rule's reason carries the dates of doses, recovery and tests: it goes, the basis stays.
    session.execute(update(EligibilitySnapshot).where(EligibilitySnapshot.worker_id.in_(ids))
                    .values(since=None, until=None, reason=None), execution_options={"synchronize_session": False})
    _erase_passes(session, pass_ids)
    done.passes += len(pass_ids)
    done.audit_events += _scrub_audit(session, Worker.__tablename__, ids)
    done.audit_events += _scrub_audit(session, Pass.__tablename__, pass_ids)
    session.expire_all()


def _erase_passes(session, pass_ids: list[int]) -> None:
    table = Pass.__table__
    for start in range(0, len(pass_ids), BATCH_SIZE):
        # A revocation's note may be typed by HR (names, phones): it goes; its reason code and the status stay.
        session.execute(update(table).where(table.c.id.in_(pass_ids[start:start + BATCH_SIZE]))
                        .values(route_from="", content_digest=ERASED_DIGEST, revocation_note=None),
                        execution_options={"synchronize_session": False})
        # Each version as printed keeps the name and home address it carried: they go too.
        versions = PassVersion.__table__
        session.execute(update(versions).where(versions.c.pass_id.in_(pass_ids[start:start + BATCH_SIZE]))
                        .values(holder_name=ERASED_NAME, route_from="", content_digest=ERASED_DIGEST,
                                end_note=None),
                        execution_options={"synchronize_session": False})


def _scrub_audit(session, object_type: str, object_ids: Iterable[int]) -> int:
    """Blank the personal fields of the audit entries about these rows; return how many entries changed."""
    ids = list(object_ids)
    changed = 0
    for start in range(0, len(ids), BATCH_SIZE):
        entries = session.execute(
            select(AuditEvent.id, AuditEvent.reason, AuditEvent.before, AuditEvent.after)
            .where(AuditEvent.object_type == object_type, AuditEvent.object_id.in_(ids[start:start + BATCH_SIZE]))
        ).all()
        for entry in entries:
            session.execute(update(AuditEvent.__table__).where(AuditEvent.__table__.c.id == entry.id).values(
                reason=None, before=_scrubbed(entry.before), after=_scrubbed(entry.after)))
            changed += 1
    return changed


def _scrubbed(values):
    if isinstance(values, dict):
        return {key: None if key in PERSONAL_AUDIT_KEYS else _scrubbed(value) for key, value in values.items()}
    if isinstance(values, list):
        return [_scrubbed(value) for value in values]
    return values


def _clear_import_batches(session, batch_ids: list[int], done: Survey) -> None:
    table = ImportBatch.__table__
    for start in range(0, len(batch_ids), BATCH_SIZE):
        chunk = batch_ids[start:start + BATCH_SIZE]
        done.import_files += session.scalar(select(func.count()).select_from(ImportBatch)
                                            .where(ImportBatch.id.in_(chunk), _holds_rows()))
        session.execute(update(table).where(table.c.id.in_(chunk)).values(
            file_data=None, rows_data=None, report_data=None, message=None, notices=[],
            filename=literal("import-", String) + cast(table.c.id, String) + "." + table.c.kind),
            execution_options={"synchronize_session": False})
        # A batch waiting for its commit can no longer be committed: its rows are gone.
        session.execute(update(table).where(table.c.id.in_(chunk), table.c.status.in_(
            (ImportStatus.READY.value, ImportStatus.CHECKING.value))).values(status=ImportStatus.EXPIRED.value),
            execution_options={"synchronize_session": False})
        done.audit_events += _scrub_audit(session, ImportBatch.__tablename__, chunk)
    done.import_batches += len(batch_ids)


def _clear_jobs(session, cutoff: datetime) -> int:
    return session.execute(update(Job).where(_jobs_to_clear(cutoff)).values(
        output_key=None, output_name=None, result=None, error=None, summary=None, progress_message=None,
        next_step=None), execution_options={"synchronize_session": False}).rowcount


def erase_files(app) -> tuple[int, int]:
    """Delete every job output and every cached file from the blob store; return (files, bytes).

    Run after the erase is committed: a job output names its worker, a cached card PDF prints them.
    Every finished job's file goes (its row no longer names it); a job's file can be made again.
    """
    store = blob_store(app)
    sizes = sum(info.size for root in (JOBS_ROOT, CACHE_ROOT) for info in store.list(root))
    deleted = store.delete_prefix(JOBS_ROOT) + store.delete_prefix(CACHE_ROOT)
    return deleted, sizes
