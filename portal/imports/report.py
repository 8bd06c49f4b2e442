"""An import's problems as a CSV file Excel opens, with the columns named as the user's file named them."""
from __future__ import annotations

import csv
import io

from flask_babel import gettext as _

from portal.imports.models import ImportBatch
from portal.imports.settings import header_spec
from portal.messages import Message
from portal.workers.columns import escape_cell


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
