"""An import's problems as a CSV file Excel opens, with the columns named as the user's file named them."""
from __future__ import annotations

import csv
import io
from datetime import date

from flask_babel import gettext as _

from portal.clock import format_date
from portal.i18n import current_language
from portal.imports.models import ImportBatch
from portal.imports.settings import header_spec
from portal.messages import Message
from portal.workers.columns import escape_cell
from portal.workers.models import mask_citizen_id
from portal.workers.vaccines import BY_CODE
from portal.workers.validation import FIELDS, SEX_LABELS, TEST_KIND_LABELS


def problem_rows(report: list[dict]) -> list[dict]:
    return [entry for entry in report if entry["action"] in ("error", "conflict")]


def problems_csv(batch: ImportBatch) -> bytes:
    """Return every problem of the batch as a CSV Excel opens (row, column as in the file, message)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_("Row"), _("Column"), _("Full name"), _("Problem")])
    for entry in problem_rows(batch.report()):
        for problem in entry["problems"]:
            writer.writerow([entry["row"], escape_cell(column_header(batch, problem["field"])),
                             escape_cell(entry.get("name", "")),
                             escape_cell(Message.from_json(problem["message"]).render())])
    return buffer.getvalue().encode("utf-8-sig")


def column_header(batch: ImportBatch, field_name: str) -> str:
    """Return the header of ``field_name`` as the user's file wrote it (else the template's header)."""
    if field_name in batch.headers:
        return batch.headers[field_name]
    return header_spec().labels.get(field_name, field_name)


def row_fields(batch: ImportBatch, registry) -> dict[int, list[tuple[str, str, bool]]]:
    """Map each row number of the report to its fields as the import would store them.

    Each field is (the column's header in the file, the value as stored and shown elsewhere, changed):
    dates dd/mm/yyyy, the vaccine's and the shift's names, the citizen ID masked. A row with problems
    has no stored form: its cells are shown as they were read.
    """
    entries = batch.report() if batch.report_data else []
    rows = batch.rows() if batch.rows_data else [None] * len(entries)
    shown = [name for name in FIELDS if name in batch.headers]
    fields: dict[int, list[tuple[str, str, bool]]] = {}
    for entry, stored in zip(entries, rows, strict=False):
        values = stored_values(stored, registry) if stored is not None else entry.get("read")
        if values is None:
            continue
        changes = set(entry.get("changes") or ())
        names = shown + [name for name in FIELDS if values.get(name) and name not in shown]
        fields[entry["row"]] = [(column_header(batch, name), values.get(name) or "—", name in changes)
                                for name in names]
    return fields


def stored_values(stored: dict, registry) -> dict[str, str]:
    """Return a validated row (as kept on the batch) field by field, written as the portal shows it."""
    english = current_language() == "en"
    values = {name: stored.get(name) or "" for name in FIELDS if isinstance(stored.get(name), str)}
    for name in ("date_of_birth", "recovered_on", "tested_on"):
        values[name] = _date(stored.get(name))
    values["citizen_id"] = mask_citizen_id(stored.get("citizen_id"))
    values["sex"] = str(SEX_LABELS.get(stored.get("sex"), stored.get("sex") or ""))
    kind = stored.get("test_kind")
    values["test_kind"] = str(TEST_KIND_LABELS.get(kind, kind or ""))
    shift = registry.shifts.get(stored.get("shift") or "")
    values["shift"] = (shift.name_en if english else shift.name_vi) if shift else (stored.get("shift") or "")
    for number, (product, day) in enumerate(stored.get("doses") or (), start=1):
        vaccine = BY_CODE.get(product)
        values[f"dose{number}_product"] = vaccine.name if vaccine else product
        values[f"dose{number}_date"] = _date(day)
    return values


def _date(value) -> str:
    if not value:
        return ""
    return format_date(date.fromisoformat(value) if isinstance(value, str) else value)
