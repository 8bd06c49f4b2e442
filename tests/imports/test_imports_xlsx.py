"""The streaming workbook reader on what other programs write: prefixes, rich text, phonetic runs, 1904 dates."""
from __future__ import annotations

import pytest

from portal.imports.parsing import ImportFileError, Limits, parse_upload
from portal.imports.settings import header_spec

from . import hostile

HEADER = "".join(f'<c t="inlineStr"><is><t>{text}</t></is></c>' for text in hostile.HEADERS)
STYLES = (f'<styleSheet xmlns="{hostile.MAIN}"><numFmts count="1"><numFmt numFmtId="164" formatCode="dd/mm/yyyy"/>'
          '</numFmts><cellStyleXfs count="1"><xf numFmtId="0"/></cellStyleXfs><cellXfs count="3"><xf numFmtId="0"/>'
          '<xf numFmtId="164"/><xf numFmtId="14"/></cellXfs></styleSheet>').encode()


def _sheet(rows: str, prefix: str = "") -> bytes:
    body = (f'<worksheet xmlns{":" + prefix if prefix else ""}="{hostile.MAIN}"><sheetData>'
            f'<row r="1">{HEADER}</row>{rows}</sheetData></worksheet>')
    if prefix:
        for tag in ("worksheet", "sheetData", "row", "c", "is", "t", "v", "f"):
            body = body.replace(f"<{tag}>", f"<{prefix}:{tag}>").replace(f"<{tag} ", f"<{prefix}:{tag} ")
            body = body.replace(f"</{tag}>", f"</{prefix}:{tag}>")
    return ('<?xml version="1.0" encoding="UTF-8"?>' + body).encode()


def _values(data: bytes) -> list[dict]:
    return [row.values for row in parse_upload(data, header_spec(), Limits()).rows]


def test_rich_text_and_phonetic_runs_in_shared_strings():
    shared = (f'<sst xmlns="{hostile.MAIN}"><si><r><rPr><b/></rPr><t>Nguyễn </t></r><r><t xml:space="preserve">Văn'
              ' An</t></r><rPh sb="0" eb="1"><t>ngu-yen</t></rPh></si><si><t>Nam</t></si></sst>').encode()
    data = hostile.workbook([_sheet('<row r="2"><c r="B2" t="s"><v>0</v></c><c r="D2" t="s"><v>1</v></c></row>')],
                            shared)
    assert _values(data) == [{"full_name": "Nguyễn Văn An", "sex": "Nam"}]


def test_phonetic_runs_in_an_inline_string_and_the_cells_after_it():
    rows = ('<row r="2"><c r="B2" t="inlineStr"><is><t>Trần Thị Bích</t><rPh sb="0" eb="1"><t>tran</t></rPh></is></c>'
            '<c r="D2" t="inlineStr"><is><t>Nữ</t></is></c><c r="ZZ2" t="inlineStr"><is><rPh><t>x</t></rPh></is></c>'
            '</row><row r="3"><c r="B3" t="inlineStr"><is><t>Ngọc</t></is></c></row>')
    assert _values(hostile.workbook([_sheet(rows)])) == [{"full_name": "Trần Thị Bích", "sex": "Nữ"},
                                                         {"full_name": "Ngọc"}]


def test_a_namespace_prefix_and_cells_without_references():
    rows = '<row><c t="inlineStr"><is><t>1</t></is></c><c t="inlineStr"><is><t>Lê Hoàng Phúc</t></is></c></row>'
    assert _values(hostile.workbook([_sheet(rows, prefix="x")])) == [{"full_name": "Lê Hoàng Phúc"}]


@pytest.mark.parametrize(("workbook_pr", "serial"), [("", 32874), ('<workbookPr date1904="1"/>', 31412)])
def test_date_styles_and_the_1904_calendar(workbook_pr, serial):
    rows = (f'<row r="2"><c r="C2" s="1"><v>{serial}</v></c><c r="E2"><v>79090001234</v></c>'
            f'<c r="F2" s="2"><v>{serial}</v></c></row>')
    data = hostile.workbook([_sheet(rows)], workbook_pr=workbook_pr, extra={"xl/styles.xml": STYLES})
    # 32874 is 01/01/1990 in Excel's usual calendar; 31412 is the same day counted from 1904.
    assert _values(data) == [{"date_of_birth": "01/01/1990", "citizen_id": "79090001234", "phone": "01/01/1990"}]


def test_a_formula_under_a_prefix_is_still_a_formula():
    rows = ('<row r="2"><c r="B2" t="str"><f>CONCAT("A","n")</f><v>An</v></c>'
            '<c r="D2" t="inlineStr"><is><t>Nam</t></is></c></row>')
    parsed = parse_upload(hostile.workbook([_sheet(rows, prefix="x")]), header_spec(), Limits())
    assert parsed.rows[0].values == {"sex": "Nam"}
    assert str(parsed.rows[0].problems[0].message).startswith('Cell B2 holds a formula (=CONCAT("A","n"))')


@pytest.mark.parametrize("part", [
    '<!DOCTYPE worksheet [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
    '<!DOCTYPE worksheet>',
])
def test_any_doctype_is_refused(part):
    sheet = _sheet('<row r="2"><c r="B2" t="inlineStr"><is><t>An</t></is></c></row>').replace(
        b"?>", b"?>" + part.encode(), 1)
    with pytest.raises(ImportFileError) as caught:
        parse_upload(hostile.workbook([sheet]), header_spec(), Limits())
    assert str(caught.value).startswith("This Excel file could not be read")
