"""Hostile workbooks, written part by part the way an attacker would (no spreadsheet library involved).

Each stays within the upload's size limit (5 MB) and the zip checks (120 MB unpacked, a ratio of 150 per
member): the cells carry a little randomness so that they do not compress beyond the ratio. Used by
tests/imports/test_imports_hostile.py and bench/hostile_uploads.py.
"""
from __future__ import annotations

import io
import os
import zipfile
from functools import cache

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
HEADERS = ["STT", "Họ và tên", "Ngày sinh", "Giới tính", "Số CCCD/CMND", "Số điện thoại", "Địa chỉ thường trú",
           "Phường/Xã", "Quận/Huyện"]


def _content_types(sheets: int, shared: bool) -> bytes:
    overrides = "".join(f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="application/'
                        f'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                        for n in range(1, sheets + 1))
    if shared:
        overrides += ('<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
                      'officedocument.spreadsheetml.sharedStrings+xml"/>')
    return ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override '
            'PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
            f'sheet.main+xml"/>{overrides}</Types>').encode()


def workbook(sheets: list, shared=None, *, sheet_entries: int | None = None, workbook_pr: str = "",
             extra: dict | None = None) -> bytes:
    """Return an .xlsx whose worksheets are ``sheets`` (bytes, or callables writing to a stream).

    ``shared`` is the sharedStrings part (bytes or callable); ``sheet_entries`` lists that many sheets
    in workbook.xml (all pointing at the parts given, in turn); ``extra`` adds parts (xl/styles.xml).
    """
    entries = sheet_entries or len(sheets)
    listed = "".join(f'<sheet name="Sheet{n}" sheetId="{n}" r:id="rId{(n - 1) % len(sheets) + 1}"/>'
                     for n in range(1, entries + 1))
    rels = "".join(f'<Relationship Id="rId{n}" Type="{REL}/worksheet" Target="worksheets/sheet{n}.xml"/>'
                   for n in range(1, len(sheets) + 1))
    parts = {
        "[Content_Types].xml": _content_types(len(sheets), shared is not None),
        "_rels/.rels": (f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
                        f'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{REL}/'
                        'officeDocument" Target="xl/workbook.xml"/></Relationships>').encode(),
        "xl/workbook.xml": (f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{REL}">'
                            f'{workbook_pr}<sheets>{listed}</sheets></workbook>').encode(),
        "xl/_rels/workbook.xml.rels": ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://'
                                       f'schemas.openxmlformats.org/package/2006/relationships">{rels}'
                                       '</Relationships>').encode(),
    }
    for number, sheet in enumerate(sheets, start=1):
        parts[f"xl/worksheets/sheet{number}.xml"] = sheet
    if shared is not None:
        parts["xl/sharedStrings.xml"] = shared
    parts.update(extra or {})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for name, body in parts.items():
            if callable(body):
                with archive.open(name, "w", force_zip64=True) as stream:
                    body(stream)
            else:
                archive.writestr(name, body)
    return buffer.getvalue()


def _sheet_head(stream) -> None:
    stream.write(f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}"><sheetData>'.encode())


def _header_row(stream) -> None:
    cells = "".join(f'<c t="inlineStr"><is><t>{text}</t></is></c>' for text in HEADERS)
    stream.write(f'<row r="1">{cells}</row>'.encode())


@cache
def _table(pattern: tuple[bytes, bytes]) -> list[bytes]:
    return [b"".join(pattern[(byte >> bit) & 1] for bit in range(8)) for byte in range(256)]


def _random_cells(stream, count: int, pattern=(b"<c><v>1</v></c>", b"<c><v>2</v></c>")) -> None:
    """Write ``count`` cells, each one of two values at random (one bit each: it defeats the ratio check)."""
    table = _table(pattern)
    left = count
    while left > 0:
        batch = min(left, 8 * 65_536)
        stream.write(b"".join(table[byte] for byte in os.urandom(batch // 8)))
        stream.write(pattern[0] * (batch % 8))
        left -= batch


@cache
def wide_row(cells: int = 7_000_000) -> bytes:
    """One row of ``cells`` cells (~105 MB unpacked for seven million): what took the server to 3.5 GB."""

    def sheet(stream):
        _sheet_head(stream)
        stream.write(b'<row r="1">')
        _random_cells(stream, cells)
        stream.write(b"</row></sheetData></worksheet>")

    return workbook([sheet])


@cache
def many_cells(rows: int = 200_000, per_row: int = 10) -> bytes:
    """A real header, then rows whose cells all sit right of column BZ (each row looks empty to the import)."""

    def sheet(stream):
        _sheet_head(stream)
        _header_row(stream)
        for number in range(2, rows + 2):
            stream.write(b'<row r="%d"><c r="BZ%d"><v>1</v></c>' % (number, number))
            _random_cells(stream, per_row - 1)
            stream.write(b"</row>")
        stream.write(b"</sheetData></worksheet>")

    return workbook([sheet])


@cache
def long_shared_strings(count: int = 3_000, length: int = 32_000) -> bytes:
    """A header and ``count`` rows whose name cell is a shared string of ``length`` characters (~96 MB)."""

    def strings(stream):
        stream.write(f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}">'.encode())
        for _ in range(count):
            stream.write(b"<si><t>")
            _random_cells(stream, length // 16, _SEGMENTS)
            stream.write(b"</t></si>")
        stream.write(b"</sst>")

    def sheet(stream):
        _sheet_head(stream)
        _header_row(stream)
        for index in range(count):
            stream.write(b'<row r="%d"><c r="B%d" t="s"><v>%d</v></c><c r="C%d" t="inlineStr"><is><t>01/01/1990'
                         b'</t></is></c></row>' % (index + 2, index + 2, index, index + 2))
        stream.write(b"</sheetData></worksheet>")

    return workbook([sheet], strings)


@cache
def many_shared_strings(count: int = 5_000_000) -> bytes:
    """Five million tiny shared strings (~95 MB unpacked), none of them used."""

    def strings(stream):
        stream.write(f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}">'.encode())
        _random_cells(stream, count, (b"<si><t>a</t></si>", b"<si><t>b</t></si>"))
        stream.write(b"</sst>")

    def sheet(stream):
        _sheet_head(stream)
        _header_row(stream)
        stream.write(b"</sheetData></worksheet>")

    return workbook([sheet], strings)


@cache
def one_huge_string(megabytes: int = 100) -> bytes:
    """One shared string of ``megabytes`` MB: no tag closes for that long, so a parser must hold it whole."""

    def strings(stream):
        stream.write(f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}"><si><t>'.encode())
        _random_cells(stream, megabytes * 65_536, _SEGMENTS)
        stream.write(b"</t></si></sst>")

    def sheet(stream):
        _sheet_head(stream)
        _header_row(stream)
        stream.write(b"</sheetData></worksheet>")

    return workbook([sheet], strings)


#: Text carrying one random bit per 16 characters: it compresses only as far as the ratio check allows.
_SEGMENTS = (b"a" * 16, b"b" * 16)


@cache
def amplified_text(rows: int = 10_000, columns: int = 16, length: int = 1_000) -> bytes:
    """The most text a list within the limits can make the server hold: ``rows`` rows whose every cell points at
    one of a few Vietnamese shared strings of ``length`` characters (a small file, every cell a long string)."""
    words = ["Nguyễn Thị Thập ", "Phường Tân Hưng ", "Quận Bảy Sài Gòn ", "Công nhân đóng gói "]

    def strings(stream):
        stream.write(f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}">'.encode())
        for index in range(columns):
            text = (words[index % len(words)] * length)[: length - 2] + f"{index:02d}"
            stream.write(f"<si><t>{text}</t></si>".encode())
        stream.write(b"</sst>")

    def sheet(stream):
        _sheet_head(stream)
        _header_row(stream)
        for number in range(2, rows + 2):
            cells = b"".join(b'<c t="s"><v>%d</v></c>' % (index % columns) for index in range(columns))
            stream.write(b'<row r="%d">%s</row>' % (number, cells))
        stream.write(b"</sheetData></worksheet>")

    return workbook([sheet], strings)


@cache
def many_sheets(parts: int = 200, entries: int = 50_000) -> bytes:
    """200 worksheet parts of 2,000 rows each without a header, listed 50,000 times in workbook.xml."""

    def sheet(stream):
        _sheet_head(stream)
        for number in range(1, 2001):
            stream.write(b'<row r="%d"><c t="inlineStr"><is><t>ghi ch\xc3\xba %d</t></is></c></row>'
                         % (number, number))
        stream.write(b"</sheetData></worksheet>")

    return workbook([sheet] * parts, sheet_entries=entries)


@cache
def deep_nesting(depth: int = 5_000_000) -> bytes:
    """A cell nested ``depth`` elements deep (~30 MB unpacked)."""

    def sheet(stream):
        _sheet_head(stream)
        _header_row(stream)
        stream.write(b'<row r="2"><c r="B2" t="inlineStr"><is>')
        _random_cells(stream, depth, (b"<a>", b"<b>"))
        stream.write(b"</is></c></row></sheetData></worksheet>")

    return workbook([sheet])


@cache
def normal(rows: int = 1_000) -> bytes:
    """The baseline: a real worker list of ``rows`` rows in the same hand-written form."""
    from datetime import date

    def sheet(stream):
        _sheet_head(stream)
        _header_row(stream)
        for index in range(rows):
            number = index + 2
            born = date(1970 + index % 30, 1 + index % 12, 1 + index % 28)
            values = [str(index + 1), f"Nguyễn Văn An {'ABCDEFGHIK'[index % 10]}", born.strftime("%d/%m/%Y"),
                      "Nam", f"0790{born:%y}{100000 + index:06d}", f"090{1000000 + index:07d}",
                      f"{index + 1}/4 Nguyễn Thị Thập", "Tân Hưng", "Quận 7"]
            cells = "".join(f'<c t="inlineStr"><is><t>{value}</t></is></c>' for value in values)
            stream.write(f'<row r="{number}">{cells}</row>'.encode())
        stream.write(b"</sheetData></worksheet>")

    return workbook([sheet])


def csv_long_line() -> bytes:
    """A CSV file of one 4.9 MB line."""
    return b"a;" * 2_450_000


def csv_wide_rows() -> bytes:
    """A header, then rows of 400,000 cells each (every line under 1 MB)."""
    return ("Họ và tên,Ngày sinh,Giới tính,Số CCCD/CMND\r\n" + ("xy," * 300_000 + "\r\n") * 5).encode()


#: name → (builder, what it attacks)
HOSTILE = {
    "wide_row": (wide_row, "one row of 7,000,000 cells"),
    "many_cells": (many_cells, "2,000,000 cells right of the list, every row looking empty"),
    "long_shared_strings": (long_shared_strings, "3,000 shared strings of 32,000 characters"),
    "many_shared_strings": (many_shared_strings, "5,000,000 shared strings"),
    "one_huge_string": (one_huge_string, "one shared string of 100 MB"),
    "amplified_text": (amplified_text, "10,000 rows of 16 cells, each a shared string of 1,000 characters"),
    "text_at_the_bound": (lambda: amplified_text(length=49), "10,000 rows of 16 cells of 49 characters: 3.9 "
                          "million characters kept, just under the bound"),
    "csv_long_line": (csv_long_line, "a CSV file of one 4.9 MB line"),
    "csv_wide_rows": (csv_wide_rows, "a CSV file of rows of 300,000 cells"),
    "many_sheets": (many_sheets, "200 sheets listed 50,000 times"),
    "deep_nesting": (deep_nesting, "a cell nested 5,000,000 elements deep"),
}
