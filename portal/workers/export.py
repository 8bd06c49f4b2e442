"""Write an enterprise's workers as XLSX or CSV, in the columns of the import template."""
from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import select

from portal.clock import format_date
from portal.workers.columns import COLUMNS, HEADERS, escape_cell
from portal.workers.models import VaccineDose, Worker
from portal.workers.vaccines import BY_CODE
from portal.workers.validation import MAX_DOSES

FORMATS = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
# Vietnamese whatever the interface language: these cells import back as they are.
SEX_CELLS = {"M": "Nam", "F": "Nữ"}
TEST_KIND_CELLS = {"pcr": "PCR", "rapid": "Nhanh"}


#: Worker columns the export reads (plain rows, no ORM objects: thousands of workers at once).
_READ = ("id", "full_name", "date_of_birth", "sex", "citizen_id", "phone", "home_address", "home_ward",
         "home_district", "job_title", "shift", "recovered_on", "test_kind", "tested_on")


def load_rows(session, conditions: list, registry) -> list[list[str]]:
    """Return the data rows of the workers matching ``conditions``, in name order, numbered from 1."""
    workers = session.execute(select(*(getattr(Worker, name) for name in _READ))
                              .where(*conditions).order_by(Worker.name_key, Worker.id)).all()
    doses: dict[int, list] = defaultdict(list)
    for worker_id, product, given_on in session.execute(
            select(VaccineDose.worker_id, VaccineDose.product, VaccineDose.given_on)
            .join(Worker, Worker.id == VaccineDose.worker_id).where(*conditions)
            .order_by(VaccineDose.worker_id, VaccineDose.number)):
        doses[worker_id].append((product, given_on))
    return [worker_row(number, worker, doses[worker.id], registry) for number, worker in enumerate(workers, start=1)]


def worker_row(number: int, worker, doses, registry) -> list[str]:
    """Return one worker as the text of each column (dates dd/mm/yyyy), escaped against formulas.

    ``worker`` has the attributes of a Worker; ``doses`` is its (product code, date) pairs in order.
    """
    shift = registry.shifts.get(worker.shift or "")
    values = {
        "full_name": worker.full_name,
        "date_of_birth": format_date(worker.date_of_birth),
        "sex": SEX_CELLS.get(worker.sex, worker.sex),
        "citizen_id": worker.citizen_id,
        "phone": worker.phone,
        "home_address": worker.home_address,
        "home_ward": worker.home_ward,
        "home_district": worker.home_district,
        "job_title": worker.job_title or "",
        "shift": shift.name_vi if shift else (worker.shift or ""),
        "recovered_on": format_date(worker.recovered_on),
        "test_kind": TEST_KIND_CELLS.get(worker.test_kind or "", worker.test_kind or ""),
        "tested_on": format_date(worker.tested_on),
    }
    for dose_number, (product, given_on) in enumerate(doses[:MAX_DOSES], start=1):
        vaccine = BY_CODE.get(product or "")
        values[f"dose{dose_number}_product"] = vaccine.name if vaccine else (product or "")
        values[f"dose{dose_number}_date"] = format_date(given_on)
    return [str(number)] + [escape_cell(values.get(column.key, "")) for column in COLUMNS[1:]]


def to_csv(data: Iterable[list[str]]) -> bytes:
    """Return UTF-8 CSV with a byte-order mark (so that Excel reads the diacritics) and a header row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADERS)
    writer.writerows(data)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(data: Iterable[list[str]], title: str = "Người lao động") -> bytes:
    """Return an XLSX workbook with a bold, frozen header row; every data cell is text (leading zeros kept).

    Cells carry no style of their own: per-cell styles make openpyxl ten times slower, and text cells
    keep "079…" as typed. escape_cell already made sure no text starts like a formula.
    """
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    widths = [6, 28, 12, 10, 16, 14, 36, 18, 18, 18, 14] + [14, 14] * MAX_DOSES + [16, 14, 16]
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for text in HEADERS:
        cell = WriteOnlyCell(sheet, value=text)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in data:
        sheet.append([int(row[0]), *(value or None for value in row[1:])])  # empty: no cell at all
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
