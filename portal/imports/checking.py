"""Step 1 of an import: read the upload once, check every row once, keep the report on a batch.

The file is read by :mod:`portal.imports.parsing`; every row goes through the workers feature's
:func:`~portal.workers.validation.clean_worker`, whose refusals are stored as messages (ids and
parameters) and shown later in the reader's language. A large list is checked by a background job.
"""
from __future__ import annotations

import calendar
import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.clock import local_today, utcnow
from portal.imports.batches import Cleaned, purge_expired, store_check
from portal.imports.models import ImportBatch, ImportStatus
from portal.imports.parsing import ImportFileError, ParsedFile, detect_kind, parse_upload
from portal.imports.settings import SCIENTIFIC, SCIENTIFIC_MESSAGE, TEXT_FIELDS, header_spec, limits, setting
from portal.jobs.services import Outcome, enqueue
from portal.messages import Message
from portal.workers.columns import unescape_cell
from portal.workers.identity import clean_citizen_id
from portal.workers.models import mask_citizen_id
from portal.workers.services import (
    TAKEN_MESSAGE,
    WORKER_COLUMNS,
    StoredWorker,
    active_elsewhere,
    active_workers_by_citizen_id,
)
from portal.workers.validation import FIELD_LABELS, FIELDS, MAX_DOSES, CleanWorker, clean_worker

DUPLICATE_MESSAGE = _l("This citizen ID is already on row %(row)s of the file; keep only one row per worker.")
NO_SUCH_DAY = _l("%(label)s: %(date)s does not exist, month %(month)s of %(year)s has %(days)s days. Check the day "
                 "and the month.")
NO_SUCH_MONTH = _l("%(label)s: %(date)s does not exist, there is no month %(month)s. Dates are written day/month/"
                   "year (dd/mm/yyyy).")
#: The worker fields holding a date, written dd/mm/yyyy (or yyyy-mm-dd) in a file.
DATE_FIELDS = tuple(name for name in FIELDS if name == "date_of_birth" or name.endswith(("_date", "_on")))
_DAY_MONTH_YEAR = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4})")
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
GENERIC_FAILURE = _l("The work on this list stopped because of an error on our side; nothing was written. "
                     "Please upload the file again.")


def problem(field_name: str, message, **params) -> dict:
    """Return a report entry's problem: the field and the message as the database keeps it."""
    return {"field": field_name, "message": Message.of(message, **params).as_json()}


def start_import(session, enterprise, user, filename: str, data: bytes, *, registry, today=None) -> ImportBatch:
    """Read ``data`` into a new batch and check it, here or (a large file) in a job; raise ImportFileError.

    Nothing is committed: the caller commits the batch (and the job, which starts after the commit).
    """
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
    check = classify(session, enterprise, cleaned)
    store_check(batch, check.report, check.cleaned, check.counts)
    batch.status = ImportStatus.READY.value
    return batch


def _source_row(row) -> dict:
    # A portal export protects formula-like cells with an apostrophe; take it off so the data comes back as it was.
    values = {key: unescape_cell(value) for key, value in row.values.items()}
    problems = [problem(item.field, item.message) for item in row.problems]
    problems += [problem(key, SCIENTIFIC_MESSAGE) for key in TEXT_FIELDS if SCIENTIFIC.fullmatch(values.get(key, ""))]
    spoiled = {item["field"] for item in problems}
    for key in DATE_FIELDS:
        found = None if key in spoiled else impossible_date(key, values.get(key))
        if found:
            problems.append(found)
    return {"row": row.number, "values": values, "problems": problems}


def impossible_date(field_name: str, text: str | None) -> dict | None:
    """Return the problem of a date written in the right form that no calendar has (31/02/1990), else None.

    The workers' validation would call it a format error; the user needs to hear that the day is wrong.
    """
    text = (text or "").strip()
    if match := _DAY_MONTH_YEAR.fullmatch(text):
        day, month, year = int(match.group(1)), int(match.group(3)), int(match.group(4))
    elif match := _ISO_DATE.fullmatch(text):
        year, month, day = (int(part) for part in match.groups())
    else:
        return None
    if year < 1:
        return None  # not a date at all: the validation's format message says how to write one
    try:
        date(year, month, day)
    except ValueError:
        pass
    else:
        return None
    label = FIELD_LABELS[field_name]
    if not 1 <= month <= 12:
        return problem(field_name, NO_SUCH_MONTH, label=label, date=text, month=month)
    return problem(field_name, NO_SUCH_DAY, label=label, date=text, month=month, year=year,
                   days=calendar.monthrange(year, month)[1])


def _describe(session, batch: ImportBatch, parsed: ParsedFile) -> None:
    """Keep what the file looked like: header row, its headers, row count, and the notices about it."""
    batch.header_row, batch.headers, batch.total_rows = parsed.header_row, parsed.headers, len(parsed.rows)
    notices = []
    if parsed.header_row > 1:
        notices.append(_notice(_l("The column headers were found on row %(row)s; the rows above them were "
                                  "skipped."), row=parsed.header_row))
    if parsed.ignored_headers:
        notices.append(_notice(_l("These columns are not part of the worker list and were ignored: %(columns)s."),
                               columns=", ".join(parsed.ignored_headers)))
    untyped = sum(1 for row in parsed.rows if row.values.get("tested_on") and not row.values.get("test_kind"))
    if untyped:
        # A test date without its type is kept (offices' lists rarely say); say so only when it happens.
        notices.append(_notice(_l("%(count)s rows give a negative-test date without its type (PCR or Nhanh): their "
                                  "test type stays unknown. If you know it, fill in the “%(column)s” column and upload "
                                  "the file again."), level="warning", count=untyped,
                               column=header_spec().labels["test_kind"]))
    earlier = session.scalar(
        select(ImportBatch.committed_at).where(
            ImportBatch.enterprise_id == batch.enterprise_id, ImportBatch.sha256 == batch.sha256,
            ImportBatch.status == ImportStatus.COMMITTED.value,
        ).order_by(ImportBatch.committed_at.desc()).limit(1)
    )
    if earlier is not None:
        notices.append(_notice(_l("This same file was already imported on %(when)s. Importing it again changes "
                                  "only what differs from your list."), when=earlier))
    batch.notices = notices


def _notice(message, *, level: str = "info", **params) -> dict:
    return {"message": Message.of(message, **params).as_json(), "level": level}


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


def clean_rows(rows: list[dict], *, registry, today, progress=None) -> Cleaned:
    """Run the workers feature's validation once on every row; return (report entry, clean worker or None) pairs."""
    seen: dict[str, int] = {}
    out = []
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
    clean, refusals = clean_worker(values, registry, today=today)
    if refusals:
        spoiled = {item["field"] for item in entry["problems"]}
        entry["problems"] += [problem(refusal.field, refusal.message) for refusal in refusals
                              if refusal.field not in spoiled]
    citizen_id = clean.citizen_id if clean else clean_citizen_id(values.get("citizen_id"))
    entry["id"] = mask_citizen_id(citizen_id) if citizen_id.isdigit() else ""
    if citizen_id.isdigit():
        if citizen_id in seen:
            entry["problems"].append(problem("citizen_id", DUPLICATE_MESSAGE, row=seen[citizen_id]))
        else:
            seen[citizen_id] = row["row"]
    if entry["problems"]:
        entry["read"] = read_values(values)  # no clean worker to show: the preview shows what was read
        return entry, None
    return entry, clean


def _shortened(text: str, length: int = 100) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


def read_values(values: dict) -> dict:
    """Return a row's cells as read, for the preview of a row with problems (the citizen ID masked)."""
    read = {key: _shortened(str(value)) for key, value in values.items() if value not in (None, "")}
    if "citizen_id" in read:
        citizen_id = clean_citizen_id(read["citizen_id"])
        read["citizen_id"] = mask_citizen_id(citizen_id) if citizen_id.isdigit() else "••••"
    return read


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


def classify(session, enterprise, cleaned: Cleaned) -> Check:
    """Decide create, update (with the changed fields), unchanged or conflict for each valid row (two queries)."""
    valid = [clean for _entry, clean in cleaned if clean is not None]
    taken = active_elsewhere(session, (clean.citizen_id for clean in valid), enterprise.id)
    current = active_workers_by_citizen_id(session, enterprise.id)
    check = Check(report=[], cleaned=cleaned)
    for entry, clean in cleaned:
        if clean is None:
            entry["action"] = "error"
        elif clean.citizen_id in taken:
            entry["action"], entry["changes"] = "conflict", []
            entry["problems"] = [problem("citizen_id", TAKEN_MESSAGE)]
        else:
            changes = changed_fields(current.get(clean.citizen_id), clean)
            entry["action"] = "create" if changes is None else ("update" if changes else "unchanged")
            entry["problems"], entry["changes"] = [], changes or []
            check.writable.append(clean)
        check.counts[entry["action"]] += 1
        check.report.append(entry)
    return check


def changed_fields(stored: StoredWorker | None, clean: CleanWorker) -> list[str] | None:
    """Return the worker fields ``clean`` would change (None when the worker is new)."""
    if stored is None:
        return None
    values, doses = stored.values, stored.doses
    # name_key follows full_name; a change to it alone still makes upsert_workers write, so show it as the name.
    changes = list(dict.fromkeys("full_name" if key == "name_key" else key for key in WORKER_COLUMNS
                                 if values[key] != getattr(clean, key)))
    for number in range(1, MAX_DOSES + 1):
        before = doses[number - 1] if number <= len(doses) else (None, None)
        after = clean.doses[number - 1] if number <= len(clean.doses) else (None, None)
        changes += [f"dose{number}_{part}" for part, old, new in zip(("product", "date"), before, after, strict=True)
                    if old != new]
    return changes


# -- the background job --------------------------------------------------------------------------------

def check_job(ctx, batch_id: int) -> dict:
    """Read and check a large upload with progress, then keep the report on its batch."""
    session = ctx.session
    batch = session.get(ImportBatch, batch_id)
    if batch is None or batch.status != ImportStatus.CHECKING.value or batch.file_data is None:
        return {"skipped": True}
    data = batch.file_data
    session.rollback()  # hold no transaction (on SQLite: no write lock) while the file is read and checked

    def reading(rows: int) -> None:
        ctx.progress(0, 0, _l("Reading the file: %(rows)s rows…", rows=rows))

    def checking(done: int, total: int) -> None:
        ctx.progress(done, total, _l("Checking the rows…"))

    try:
        ctx.progress(0, 0, _l("Reading the file…"))
        parsed = parse_upload(data, header_spec(), limits(), progress=reading)
        rows = [_source_row(row) for row in parsed.rows]
        registry = _Memo(current_app.extensions["portal.plugins"].registry)
        cleaned = clean_rows(rows, registry=registry, today=local_today(), progress=checking)
        batch = session.get(ImportBatch, batch_id)
        _describe(session, batch, parsed)
        check = classify(session, batch.enterprise, cleaned)
        store_check(batch, check.report, check.cleaned, check.counts)
        batch.status, batch.file_data = ImportStatus.READY.value, None
        session.commit()
    except ImportFileError as refusal:
        session.rollback()
        fail(session, batch_id, refusal.message)
        session.commit()
        return Outcome({"batch_id": batch_id, "refused": True}, summary=refusal.message, **next_step_to_batch(batch_id))
    except Exception:
        session.rollback()
        fail(session, batch_id, Message.of(GENERIC_FAILURE))
        session.commit()
        raise
    summary = _l("%(rows)s rows checked: %(problems)s with problems.", rows=len(check.report), problems=check.problems)
    return Outcome({"batch_id": batch_id, **dict(check.counts)}, summary=summary, **next_step_to_batch(batch_id))


def next_step_to_batch(batch_id: int) -> dict:
    """The next step of an import's job: its page, where the check's report (or the result) is."""
    return {"next_endpoint": "imports.preview", "next_params": {"batch_id": batch_id},
            "next_label": _l("See the worker list")}


def fail(session, batch_id: int, message: Message) -> None:
    """Mark the batch failed with ``message`` (the job handler commits)."""
    batch = session.get(ImportBatch, batch_id)
    batch.status, batch.file_data = ImportStatus.FAILED.value, None
    batch.message = message.as_json()


def reset_after_failed_job(session, params: dict, reason) -> None:
    """Fail a batch whose check or commit job was given up, so it never stays "checking" or "committing".

    Called by the jobs framework (wired in portal.wiring), which commits.
    """
    batch = session.get(ImportBatch, params.get("batch_id"))
    if batch is not None and batch.status in (ImportStatus.CHECKING.value, ImportStatus.COMMITTING.value):
        batch.status, batch.file_data = ImportStatus.FAILED.value, None
        batch.message = Message.of(GENERIC_FAILURE).as_json()
