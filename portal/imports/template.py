"""The downloadable worker-list template: the Vietnamese headers, one example row and a sheet of instructions."""
from __future__ import annotations

import csv
import io

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.workers.columns import COLUMNS, escape_cell
from portal.workers.vaccines import VACCINES
from portal.workers.validation import REQUIRED

#: One invented worker, written the way HR staff type it.
EXAMPLE = {
    "STT": "1", "full_name": "Nguyễn Văn An", "date_of_birth": "17/05/1990", "sex": "Nam",
    "citizen_id": "079090001234", "phone": "0909123456", "home_address": "45 Lê Văn Lương",
    "home_ward": "Tân Hưng", "home_district": "Quận 7", "job_title": "Công nhân", "shift": "Hành chính",
    "dose1_product": "AstraZeneca", "dose1_date": "01/07/2021", "dose2_product": "AstraZeneca",
    "dose2_date": "20/08/2021", "tested_on": "", "test_kind": "", "recovered_on": "",
}

DATE_HINT = _l("A date written dd/mm/yyyy, e.g. 25/09/2021 (a date cell is fine too).")
HINTS = {
    None: _l("Row number; not imported."),
    "full_name": _l("The worker's full name as on the citizen ID card."),
    "date_of_birth": DATE_HINT,
    "sex": _l("Nam (male) or Nữ (female)."),
    "citizen_id": _l("12 digits (CCCD) or 9 digits (old CMND); keep the leading 0 (the column is text)."),
    "phone": _l("A Vietnamese phone number, e.g. 0909123456; keep the leading 0."),
    "home_address": _l("House number and street of the permanent address."),
    "home_ward": _l("Ward or commune, e.g. Tân Hưng."),
    "home_district": _l("District, e.g. Quận 7 or Huyện Nhà Bè."),
    "job_title": _l("Position or job, e.g. Công nhân."),
    "test_kind": _l("PCR or Nhanh (rapid antigen); required when a test date is given."),
    "recovered_on": _l("Only for workers who recovered from COVID-19 (F0): the date they recovered."),
    "tested_on": _l("Date of the latest negative test."),
}


def _hint(column, shifts: str) -> str:
    if column.key == "shift":
        return str(_l("One of: %(names)s.", names=shifts))
    if column.key and column.key.endswith("_product"):
        return str(_l("Vaccine name: %(names)s. Leave empty if not given.",
                      names=", ".join(vaccine.name for vaccine in VACCINES)))
    if column.key and column.key.endswith("_date"):
        return str(DATE_HINT)
    return str(HINTS.get(column.key, ""))


def example_row() -> list[str]:
    return [EXAMPLE.get(column.key or column.header, "") for column in COLUMNS]


def template_csv() -> bytes:
    """Return the template as Excel's “CSV UTF-8” (with a byte-order mark so Excel reads the diacritics)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([column.header for column in COLUMNS])
    writer.writerow([escape_cell(value) for value in example_row()])
    return buffer.getvalue().encode("utf-8-sig")


def template_xlsx(registry) -> bytes:
    """Return the template workbook: the list sheet (text ID/phone/date columns, drop-downs) and a guide."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    shifts = ", ".join(shift.name_vi for shift in registry.shifts.values())
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Danh sách"
    sheet.append([column.header for column in COLUMNS])
    sheet.append(example_row())
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for index, column in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        header = sheet.cell(row=1, column=index)
        header.font, header.fill = bold, fill
        header.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.column_dimensions[letter].width = max(10, min(32, len(column.header) + 6))
        if column.text or (column.key or "").endswith(("_date", "date_of_birth", "_on")):
            # Text cells keep the leading 0 of IDs and phones, and stop Excel from reading 05/01 as May 1st.
            sheet.column_dimensions[letter].number_format = "@"
            sheet.cell(row=2, column=index).number_format = "@"
    sheet.freeze_panes = "B2"
    _drop_downs(sheet, DataValidation, get_column_letter, registry)
    _guide(workbook.create_sheet("Hướng dẫn"), shifts, bold, fill)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _drop_downs(sheet, DataValidation, get_column_letter, registry) -> None:
    lists = {
        "sex": ["Nam", "Nữ"],
        "shift": [shift.name_vi for shift in registry.shifts.values()],
        "test_kind": ["PCR", "Nhanh"],
    }
    for index, column in enumerate(COLUMNS, start=1):
        names = lists.get(column.key or "")
        if column.key and column.key.endswith("_product"):
            names = [vaccine.name for vaccine in VACCINES]
        if not names:
            continue
        # Excel's list validation takes one quoted, comma-separated formula of at most 255 characters.
        validation = DataValidation(type="list", formula1='"' + ",".join(names) + '"', allow_blank=True,
                                    showErrorMessage=False)
        letter = get_column_letter(index)
        validation.add(f"{letter}2:{letter}1001")
        sheet.add_data_validation(validation)


def _guide(sheet, shifts: str, bold, fill) -> None:
    sheet.append([_("Column"), _("Required"), _("How to fill it in")])
    for cell in sheet[1]:
        cell.font, cell.fill = bold, fill
    for column in COLUMNS:
        sheet.append([column.header, _("Yes") if column.key in REQUIRED else "", _hint(column, shifts)])
    sheet.append([])
    sheet.append(["", "", _("One row per worker; keep the header row as it is. You may delete the example row.")])
    sheet.append(["", "", _("Save the file as Excel Workbook (.xlsx) or CSV UTF-8, then upload it on the portal.")])
    sheet.column_dimensions["A"].width = 26
    sheet.column_dimensions["B"].width = 10
    sheet.column_dimensions["C"].width = 90
