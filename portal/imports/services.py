"""Import a worker list in two steps: check an upload into a batch kept server-side, then commit that batch.

The file is read once (:mod:`portal.imports.parsing`); every row goes through the workers feature's
:func:`~portal.workers.validation.clean_worker` and is written by its
:func:`~portal.workers.services.upsert_workers`. Large lists are checked and committed by a background job.
Only :func:`commit_now` and the job handlers commit, so a batch and the workers it writes land together.
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import Counter
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from functools import lru_cache

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from portal.audit.services import record
from portal.clock import format_datetime, local_today, utcnow
from portal.imports.models import ImportBatch, ImportStatus, pack
from portal.imports.parsing import HeaderSpec, ImportFileError, Limits, ParsedFile, detect_kind, parse_upload
from portal.jobs.services import enqueue
from portal.workers.columns import COLUMNS, escape_cell, match_header, unescape_cell
from portal.workers.identity import clean_citizen_id
from portal.workers.models import VaccineDose, Worker, mask_citizen_id
from portal.workers.services import (
    TAKEN_MESSAGE,
    WORKER_COLUMNS,
    WorkerError,
    active_elsewhere,
    upsert_workers,
)
from portal.workers.validation import MAX_DOSES, REQUIRED, CleanWorker, clean_worker

#: Settings an operator may override in the app config.
DEFAULTS = {
    "IMPORT_MAX_BYTES": 5 * 1024 * 1024,
    "IMPORT_MAX_ROWS": 10_000,
    # Above this many rows, checking and committing run as background jobs with a progress bar; files above
    # these sizes are read in the job too (a 64 KB workbook holds about 1,000 rows; a 256 KB CSV file 1,500).
    "IMPORT_JOB_THRESHOLD": 2_000,
    "IMPORT_JOB_CSV_BYTES": 256 * 1024,
    "IMPORT_JOB_XLSX_BYTES": 64 * 1024,
    "IMPORT_KEEP_HOURS": 24,
}
LANGUAGES = ("vi", "en")
#: What the preview says will happen to a row.
ACTIONS = ("create", "update", "unchanged", "error", "conflict")
DUPLICATE_MESSAGE = _l("This citizen ID is already on row %(row)s of the file; keep only one row per worker.")


class ImportRefused(Exception):
    """The batch cannot be committed now; ``message`` (lazy) tells the user why and what to do."""

    #: True once the reason is kept on the batch (its page shows it; no need to flash it too).
    kept = False

    def __init__(self, message, **params):
        super().__init__(message)
        self.message, self.params = message, params

    def text(self) -> str:
        return str(self.message) % self.params if self.params else str(self.message)


def setting(key: str):
    return current_app.config.get(key, DEFAULTS[key])


def limits() -> Limits:
    return Limits(max_bytes=setting("IMPORT_MAX_BYTES"), max_rows=setting("IMPORT_MAX_ROWS"))


def both_languages(message, **params) -> dict[str, str]:
    """Render a lazy message in Vietnamese and English, so a stored report follows the language switch."""
    rendered = {}
    for language in LANGUAGES:
        with force_locale(language):
            text = str(message)
            rendered[language] = text % params if params else text
    return rendered


@lru_cache(maxsize=1)
def header_spec() -> HeaderSpec:
    """Return the worker list's columns as the parser matches them (the workers feature's COLUMNS)."""
    spellings = {column.key: (column.header, *column.aliases) for column in COLUMNS if column.key}
    ignored = [name for column in COLUMNS if column.key is None for name in (column.header, *column.aliases)]
    labels = {column.key: column.header for column in COLUMNS if column.key}

    def matcher(text: str) -> str | None:
        column = match_header(text)
        return column.key if column else None

    return HeaderSpec.build(spellings, REQUIRED, labels, ignored, matcher=matcher)


# -- step 1: upload and check ----------------------------------------------------------------------------

def start_import(session, enterprise, user, filename: str, data: bytes, *, registry, today=None) -> ImportBatch:
    """Read ``data`` into a new batch and check it, here or (a large file) in a job; raise ImportFileError."""
    kind = detect_kind(data, limits())
    purge_expired(session)
    now = utcnow()
    batch = ImportBatch(
        enterprise_id=enterprise.id, user_id=user.id, filename=(filename or "upload")[:255],
        sha256=hashlib.sha256(data).hexdigest(), kind=kind, created_at=now, status=ImportStatus.CHECKING.value,
        expires_at=now + timedelta(hours=setting("IMPORT_KEEP_HOURS")), headers={}, notices=[],
    )
    parsed = None if len(data) > setting(f"IMPORT_JOB_{kind.upper()}_BYTES") else \
        parse_upload(data, header_spec(), limits())
    if parsed is None or len(parsed.rows) > setting("IMPORT_JOB_THRESHOLD"):
        batch.file_data = data  # read by the job, then dropped
        session.add(batch)
        session.flush()
        batch.job_id = enqueue(session, "imports.check", {"batch_id": batch.id}, user_id=user.id,
                               enterprise_id=enterprise.id).id
        return batch
    rows = [_source_row(row) for row in parsed.rows]
    cleaned = clean_rows(rows, registry=_Memo(registry), today=today or local_today())
    session.add(batch)
    _describe(session, batch, parsed)
    store_check(batch, classify(session, enterprise, cleaned))
    batch.status = ImportStatus.READY.value
    return batch


def _source_row(row) -> dict:
    # A portal export protects formula-like cells with an apostrophe; take it off so the data comes back as it was.
    values = {key: unescape_cell(value) for key, value in row.values.items()}
    problems = [{"field": problem.field, **both_languages(problem.message)} for problem in row.problems]
    problems += [{"field": key, **both_languages(SCIENTIFIC_MESSAGE)} for key in TEXT_FIELDS
                 if SCIENTIFIC.fullmatch(values.get(key, ""))]
    return {"row": row.number, "values": values, "problems": problems}


#: The columns kept as text in the template (IDs, phones); Excel may have turned them into numbers.
TEXT_FIELDS = tuple(column.key for column in COLUMNS if column.text and column.key)
#: How Excel writes a long number it shows in scientific notation (7.91806E+10): the digits are lost.
SCIENTIFIC = re.compile(r"\d+(?:[.,]\d+)?e\+?\d+", re.IGNORECASE)
SCIENTIFIC_MESSAGE = _l("Excel turned this number into “scientific” form and lost its last digits. Format the "
                        "column as Text in Excel, type the numbers again, and save the file again.")


def _describe(session, batch: ImportBatch, parsed: ParsedFile) -> None:
    """Keep what the file looked like: header row, its headers, row count, and the notices about it."""
    batch.header_row, batch.headers, batch.total_rows = parsed.header_row, parsed.headers, len(parsed.rows)
    notices = []
    if parsed.header_row > 1:
        notices.append(both_languages(_l("The column headers were found on row %(row)s; the rows above them "
                                         "were skipped."), row=parsed.header_row))
    if parsed.ignored_headers:
        notices.append(both_languages(_l("These columns are not part of the worker list and were ignored: "
                                         "%(columns)s."), columns=", ".join(parsed.ignored_headers)))
    if "tested_on" in parsed.headers and "test_kind" not in parsed.headers:
        warning = both_languages(_l("The file gives negative-test dates but has no “%(column)s” column: rows "
                                    "with a test date need it (PCR or Nhanh). Add the column and upload the "
                                    "file again."), column=header_spec().labels["test_kind"])
        notices.append({**warning, "level": "warning"})
    earlier = session.scalar(
        select(ImportBatch.committed_at).where(
            ImportBatch.enterprise_id == batch.enterprise_id, ImportBatch.sha256 == batch.sha256,
            ImportBatch.status == ImportStatus.COMMITTED.value,
        ).order_by(ImportBatch.committed_at.desc()).limit(1)
    )
    if earlier is not None:
        notices.append(both_languages(_l("This same file was already imported on %(when)s. Importing it again "
                                         "changes only what differs from your list."),
                                      when=format_datetime(earlier)))
    batch.notices = notices


class _Memo:
    """The unit registry, remembering shift lookups for one import: a list repeats a handful of shift names."""

    def __init__(self, registry):
        self._registry = registry
        self._shifts: dict = {}

    def shift_for(self, text):
        if text not in self._shifts:
            self._shifts[text] = self._registry.shift_for(text)
        return self._shifts[text]

    def __getattr__(self, name):
        return getattr(self._registry, name)


Cleaned = list[tuple[dict, CleanWorker | None]]


def clean_rows(rows: list[dict], *, registry, today, progress=None) -> Cleaned:
    """Run the workers feature's validation on every row; return (report entry, clean worker or None) pairs."""
    seen: dict[str, int] = {}
    out = []
    with force_locale("vi"):
        for index, row in enumerate(rows):
            out.append(_clean_row(row, registry, today, seen))
            if progress and index % 500 == 499:
                progress(index + 1, len(rows))
    if progress:
        progress(len(rows), len(rows))
    return out


def _clean_row(row: dict, registry, today, seen: dict[str, int]) -> tuple[dict, CleanWorker | None]:
    values = row["values"]
    entry = {"row": row["row"], "name": values.get("full_name", "")[:80], "action": "error",
             "problems": list(row["problems"])}
    clean, errors = clean_worker(values, registry, today=today)
    if errors:
        with force_locale("en"):
            _clean, errors_en = clean_worker(values, registry, today=today)
        spoiled = {problem["field"] for problem in entry["problems"]}
        entry["problems"] += [{"field": vi.field, "vi": vi.message, "en": en.message}
                              for vi, en in zip(errors, errors_en, strict=True) if vi.field not in spoiled]
    citizen_id = clean.citizen_id if clean else clean_citizen_id(values.get("citizen_id"))
    entry["id"] = mask_citizen_id(citizen_id) if citizen_id.isdigit() else ""
    if citizen_id.isdigit():
        if citizen_id in seen:
            entry["problems"].append({"field": "citizen_id",
                                      **both_languages(DUPLICATE_MESSAGE, row=seen[citizen_id])})
        else:
            seen[citizen_id] = row["row"]
    if entry["problems"]:
        return entry, None
    return entry, clean


def classify(session, enterprise, cleaned: Cleaned) -> Check:
    """Decide create, update (with the changed fields), unchanged or conflict for each valid row (two queries)."""
    valid = [clean for _entry, clean in cleaned if clean is not None]
    taken = active_elsewhere(session, (clean.citizen_id for clean in valid), enterprise.id)
    current = current_workers(session, enterprise.id)
    check = Check(report=[], cleaned=cleaned)
    conflict = both_languages(TAKEN_MESSAGE)
    for entry, clean in cleaned:
        if clean is None:
            entry["action"] = "error"
        elif clean.citizen_id in taken:
            entry["action"], entry["problems"], entry["changes"] = "conflict", [{"field": "citizen_id", **conflict}], []
        else:
            changes = changed_fields(current.get(clean.citizen_id), clean)
            entry["action"] = "create" if changes is None else ("update" if changes else "unchanged")
            entry["problems"], entry["changes"] = [], changes or []
            check.writable.append(clean)
        check.counts[entry["action"]] += 1
        check.report.append(entry)
    return check


@dataclass
class Check:
    """What would happen to each row: the report shown in the preview, and the workers a commit may write."""

    report: list[dict]
    cleaned: Cleaned
    writable: list[CleanWorker] = field(default_factory=list)  # in file order, conflicts left out
    counts: Counter = field(default_factory=Counter)

    @property
    def problems(self) -> int:
        return self.counts["error"] + self.counts["conflict"]


def current_workers(session, enterprise_id: int) -> dict[str, tuple[dict, tuple]]:
    """Return the enterprise's active workers by citizen ID: their stored values and doses, in one query."""
    columns = [getattr(Worker, key) for key in WORKER_COLUMNS]
    rows = session.execute(
        select(Worker.id, *columns, VaccineDose.product, VaccineDose.given_on)
        .outerjoin(VaccineDose, VaccineDose.worker_id == Worker.id)
        .where(Worker.enterprise_id == enterprise_id, Worker.active.is_(True))
        .order_by(Worker.id, VaccineDose.number)
    )
    found: dict[str, tuple[dict, list]] = {}
    for row in rows:
        if row.citizen_id not in found:
            found[row.citizen_id] = ({key: getattr(row, key) for key in WORKER_COLUMNS}, [])
        if row.product is not None or row.given_on is not None:
            found[row.citizen_id][1].append((row.product, row.given_on))
    return {key: (values, tuple(doses)) for key, (values, doses) in found.items()}


def changed_fields(stored: tuple[dict, tuple] | None, clean: CleanWorker) -> list[str] | None:
    """Return the worker fields ``clean`` would change (None when the worker is new)."""
    if stored is None:
        return None
    values, doses = stored
    # name_key follows full_name; a change to it alone still makes upsert_workers write, so show it as the name.
    changes = list(dict.fromkeys("full_name" if key == "name_key" else key for key in WORKER_COLUMNS
                                 if values[key] != getattr(clean, key)))
    for number in range(1, MAX_DOSES + 1):
        before = doses[number - 1] if number <= len(doses) else (None, None)
        after = clean.doses[number - 1] if number <= len(clean.doses) else (None, None)
        changes += [f"dose{number}_{part}" for part, old, new in zip(("product", "date"), before, after, strict=True)
                    if old != new]
    return changes


def store_check(batch: ImportBatch, check: Check, *, rows: bool = True) -> None:
    """Keep the report, the validated rows beside it (unless unchanged), and the counts on the batch."""
    batch.report_data = pack(check.report)
    if rows:
        batch.rows_data = pack([_plain(clean) if clean is not None else None for _entry, clean in check.cleaned])
    for action in ACTIONS:
        setattr(batch, f"{action}_count", check.counts.get(action, 0))


def stored_rows(batch: ImportBatch) -> Cleaned:
    """Return the batch's report entries with their validated workers, as :func:`clean_rows` made them."""
    try:
        cleans = [_unplain(values) if values is not None else None for values in batch.rows()]
    except (TypeError, KeyError, ValueError):  # stored by an older release: the file must be checked again
        raise ImportRefused(_l("This import was checked by an older version of the portal. Upload the file "
                               "again.")) from None
    return list(zip(batch.report(), cleans, strict=True))


#: CleanWorker's fields holding a date (or None); its ``doses`` hold (vaccine code, date) pairs.
DATE_FIELDS = ("date_of_birth", "recovered_on", "tested_on")
CLEAN_FIELDS = tuple(f.name for f in fields(CleanWorker))


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


# -- step 2: commit ------------------------------------------------------------------------------------

def commit_now(session, batch: ImportBatch, actor, *, valid_only: bool) -> bool:
    """Commit ``batch`` for a request: True once written, False when a job was queued for a large list.

    Raise ImportRefused when it cannot be committed; when the rows were the reason, the batch stays ready
    with the reason and the refreshed report, so the user may still import the valid rows only.
    """
    _claim(session, batch)
    batch.valid_only = valid_only
    if batch.total_rows > setting("IMPORT_JOB_THRESHOLD"):
        batch.job_id = enqueue(session, "imports.commit", {"batch_id": batch.id}, user_id=actor.id,
                               enterprise_id=batch.enterprise_id).id
        session.commit()
        return False
    try:
        write_batch(session, batch, actor)
    except ImportRefused as error:
        _keep_refusal(session, batch, error)
        raise
    session.commit()
    return True


def _claim(session, batch: ImportBatch) -> None:
    """Take the batch for committing; a second click or a second tab finds it taken."""
    if batch.status == ImportStatus.READY.value and batch.expires_at <= utcnow():
        raise ImportRefused(_l("This import is more than a day old and was deleted. Upload the file again."))
    claimed = session.execute(
        update(ImportBatch)
        .where(ImportBatch.id == batch.id, ImportBatch.status == ImportStatus.READY.value)
        .values(status=ImportStatus.COMMITTING.value, message=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        session.rollback()
        raise ImportRefused(_l("This list is already imported, or being imported. Upload the file again to "
                               "import it once more."))
    batch.status = ImportStatus.COMMITTING.value


def write_batch(session, batch: ImportBatch, actor) -> None:
    """Compare the checked rows with the database again, then write them: all, or the valid ones when asked.

    Someone may have registered one of the IDs since the preview; the report is refreshed either way.
    Raise ImportRefused (nothing written) when a row is wrong and the user wanted all rows or none.
    """
    enterprise = batch.enterprise
    check = classify(session, enterprise, stored_rows(batch))
    store_check(batch, check, rows=False)
    problems = check.problems
    if problems and not batch.valid_only:
        raise ImportRefused(_l("Nothing was imported: %(count)s rows have problems. Fix them in your file and "
                               "upload it again, or tick “Import only the valid rows”."), count=problems)
    if not check.writable:
        raise ImportRefused(_l("Nothing was imported: no row of the list is valid."))
    try:
        result = upsert_workers(session, enterprise, check.writable, actor,
                                reason=f"import #{batch.id}: {batch.filename}")
    except WorkerError as error:
        # Someone registered one of these IDs between the check and the write.
        raise ImportRefused(_l("%(reason)s Nothing was imported; check the list again."), reason=str(error)) \
            from error
    batch.status = ImportStatus.COMMITTED.value
    batch.committed_at = utcnow()
    batch.written_created, batch.written_updated = len(result.created), len(result.updated)
    record(session, actor, "workers.imported", batch, enterprise_id=enterprise.id, unit_id=enterprise.unit_id,
           after={"file": batch.filename, "sha256": batch.sha256, "rows": batch.total_rows,
                  "created": len(result.created), "updated": len(result.updated),
                  "unchanged": len(result.unchanged), "skipped": problems, "valid_only": batch.valid_only})


def _keep_refusal(session, batch: ImportBatch, error: ImportRefused) -> None:
    """Undo the attempt, then put the batch back to ready with the reason and the refreshed report."""
    batch_id, report = batch.id, batch.report_data
    counts = {action: getattr(batch, f"{action}_count") for action in ACTIONS}
    session.rollback()
    batch = session.get(ImportBatch, batch_id)
    batch.status = ImportStatus.READY.value
    batch.message = both_languages(error.message, **error.params)
    batch.report_data = report
    for action, count in counts.items():
        setattr(batch, f"{action}_count", count)
    session.commit()
    error.kept = True


# -- background jobs ---------------------------------------------------------------------------------------

def check_job(ctx, batch_id: int) -> dict:
    """Read and check a large upload with progress, then keep the report on its batch."""
    session = ctx.session
    batch = session.get(ImportBatch, batch_id)
    if batch is None or batch.status != ImportStatus.CHECKING.value or batch.file_data is None:
        return {"skipped": True}
    data = batch.file_data
    session.rollback()  # hold no transaction (on SQLite: no write lock) while the file is read and checked

    def reading(rows: int) -> None:
        ctx.progress(0, 0, _("Reading the file: %(rows)s rows…", rows=rows))

    def checking(done: int, total: int) -> None:
        ctx.progress(done, total, _("Checking the rows…"))

    try:
        ctx.progress(0, 0, _("Reading the file…"))
        parsed = parse_upload(data, header_spec(), limits(), progress=reading)
        rows = [_source_row(row) for row in parsed.rows]
        registry = _Memo(current_app.extensions["portal.plugins"].registry)
        cleaned = clean_rows(rows, registry=registry, today=local_today(), progress=checking)
        batch = session.get(ImportBatch, batch_id)
        _describe(session, batch, parsed)
        check = classify(session, batch.enterprise, cleaned)
        store_check(batch, check)
        batch.status, batch.file_data = ImportStatus.READY.value, None
        session.commit()
    except ImportFileError as error:
        session.rollback()
        _fail(session, batch_id, error.message, **error.params)
        return {"batch_id": batch_id, "refused": True}
    except Exception:
        session.rollback()
        _fail(session, batch_id, GENERIC_FAILURE)
        raise
    return {"batch_id": batch_id, **dict(check.counts)}


def commit_job(ctx, batch_id: int) -> dict:
    """Write a large batch that the request queuing this job claimed."""
    from portal.auth.models import User

    session = ctx.session
    batch = session.get(ImportBatch, batch_id)
    if batch is None or batch.status != ImportStatus.COMMITTING.value:
        return {"skipped": True}
    try:
        ctx.progress(0, batch.total_rows, _("Importing…"))
        write_batch(session, batch, session.get(User, ctx.user_id))
        session.commit()
    except ImportRefused as error:
        _keep_refusal(session, batch, error)
        return {"batch_id": batch_id, "refused": True}
    except Exception:
        session.rollback()
        _fail(session, batch_id, GENERIC_FAILURE)
        raise
    return {"batch_id": batch_id, "created": batch.written_created, "updated": batch.written_updated}


GENERIC_FAILURE = _l("The work on this list stopped because of an error on our side; nothing was written. "
                     "Please upload the file again.")


def reset_after_failed_job(session, params: dict, reason) -> None:
    """Fail a batch whose check or commit job was given up, so it never stays "checking" or "committing"."""
    batch = session.get(ImportBatch, params.get("batch_id"))
    if batch is not None and batch.status in (ImportStatus.CHECKING.value, ImportStatus.COMMITTING.value):
        batch.status, batch.file_data = ImportStatus.FAILED.value, None
        batch.message = both_languages(GENERIC_FAILURE)


def _fail(session, batch_id: int, message, **params) -> None:
    batch = session.get(ImportBatch, batch_id)
    batch.status, batch.file_data = ImportStatus.FAILED.value, None
    batch.message = both_languages(message, **params)
    session.commit()


# -- reading a batch ---------------------------------------------------------------------------------------

def get_batch_for(session, user, batch_id: int) -> ImportBatch | None:
    """Return the batch when ``user`` uploaded it for their own enterprise; None otherwise."""
    batch = session.get(ImportBatch, batch_id)
    if batch is None or not user.is_authenticated or not user.is_hr:
        return None
    if batch.user_id != user.id or batch.enterprise_id != user.enterprise_id:
        return None
    return batch


def problem_rows(report: list[dict]) -> list[dict]:
    return [entry for entry in report if entry["action"] in ("error", "conflict")]


def problems_csv(batch: ImportBatch, language: str) -> bytes:
    """Return every problem of the batch as a CSV Excel opens (row, column as in the file, message)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_("Row"), _("Column"), _("Full name"), _("Problem")])
    for entry in problem_rows(batch.report()):
        for problem in entry["problems"]:
            writer.writerow([entry["row"], escape_cell(column_header(batch, problem["field"])),
                             escape_cell(entry.get("name", "")), escape_cell(problem.get(language) or problem["vi"])])
    return buffer.getvalue().encode("utf-8-sig")


def column_header(batch: ImportBatch, field_name: str) -> str:
    """Return the header of ``field_name`` as the user's file wrote it (else the template's header)."""
    if field_name in batch.headers:
        return batch.headers[field_name]
    return header_spec().labels.get(field_name, field_name)


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
