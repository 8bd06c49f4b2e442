"""What a cell holds, as HR reads it in the preview: formulas refused by cell, dates that do not exist, the test-type
notice only when it applies (issue 9)."""
from __future__ import annotations

import re

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from portal.extensions import db
from portal.imports.models import ImportBatch
from portal.messages import Message
from portal.workers.models import Worker

from .test_imports_flow import problem_rows

TEST_COLUMNS = ["Loại xét nghiệm", "Ngày xét nghiệm âm tính"]


@pytest.fixture
def english(client):
    client.set_cookie("lang", "en")


def _batch(app, batch_id: int) -> ImportBatch:
    with app.app_context():
        batch = db.session.get(ImportBatch, batch_id)
        db.session.expunge(batch)
        return batch


def _notices(app, batch_id: int, language: str = "en") -> list[str]:
    batch = _batch(app, batch_id)
    with app.test_request_context(), force_locale(language):
        return [Message.from_json(notice["message"]).render() for notice in batch.notices]


def test_a_formula_cell_is_refused_naming_the_cell_and_never_stored(app, hr_a, importer, files, english):
    rows = files.rows(3)
    data = files.xlsx(rows, cells={(2, 7): '=HYPERLINK("http://phish.example","Bấm vào đây")', (3, 10): "=A1",
                                   (2, 1): "=ROW()-1", (3, 1): "=ROW()-1", (4, 1): "=ROW()-1"})
    batch_id = importer.batch_id(importer.upload(data, "ds.xlsx"))
    page = importer.preview(batch_id).get_data(as_text=True)
    problems = problem_rows(page.replace("&#34;", '"'))
    assert [(row[0], row[3], row[4][:60]) for row in problems] == [
        ("2", "Địa chỉ thường trú", 'Cell G2 holds a formula (=HYPERLINK("http://phish.example","'),
        ("3", "Chức vụ", "Cell J3 holds a formula (=A1), not a value. Type the value i"),
    ]
    batch = _batch(app, batch_id)
    assert (batch.create_count, batch.error_count) == (1, 2)  # the STT numbering formulas are no problem
    with app.test_request_context(), force_locale("vi"):
        said = Message.from_json(batch.report()[0]["problems"][0]["message"]).render()
    assert said.startswith("Ô G2 chứa công thức (=HYPERLINK(")
    importer.commit(batch_id, valid_only=True)
    with app.app_context():
        stored = db.session.scalars(select(Worker.home_address).union_all(select(Worker.job_title))).all()
        assert not any((text or "").startswith("=") for text in stored)
        assert db.session.scalar(select(func.count()).select_from(Worker)) == 2 + 1


@pytest.mark.parametrize(("text", "said"), [
    ("31/02/1990", "Date of birth: 31/02/1990 does not exist, month 2 of 1990 has 28 days."),
    ("29/02/1991", "Date of birth: 29/02/1991 does not exist, month 2 of 1991 has 28 days."),
    ("31-04-1985", "Date of birth: 31-04-1985 does not exist, month 4 of 1985 has 30 days."),
    ("12/25/1990", "Date of birth: 12/25/1990 does not exist, there is no month 25. Dates are written day/month/year"),
    ("1990-02-30", "Date of birth: 1990-02-30 does not exist, month 2 of 1990 has 28 days."),
])
def test_a_date_that_does_not_exist_says_so(app, hr_a, importer, files, english, text, said):
    rows = files.rows(2)
    rows[0]["Ngày sinh"] = text
    rows[1]["Ngày tiêm mũi 1"] = "30/02/2021"
    batch_id = importer.batch_id(importer.upload(files.csv(rows)))
    problems = problem_rows(importer.preview(batch_id).get_data(as_text=True))
    assert [row[3] for row in problems] == ["Ngày sinh", "Ngày tiêm mũi 1"]
    assert problems[0][4].startswith(said)
    assert problems[1][4] == ("Dose 1 date: 30/02/2021 does not exist, month 2 of 2021 has 28 days. Check the day and "
                              "the month.")


def test_a_date_in_the_wrong_form_is_still_a_format_error(app, hr_a, importer, files, english):
    rows = files.rows(3)
    rows[0]["Ngày sinh"] = "1970/02/03"
    rows[2]["Ngày sinh"] = "29/02/1972"  # a leap year: the date exists
    batch_id = importer.batch_id(importer.upload(files.csv(rows)))
    problems = problem_rows(importer.preview(batch_id).get_data(as_text=True))
    assert [(row[0], row[4]) for row in problems] == [
        ("2", "Date of birth must be a date written dd/mm/yyyy, e.g. 25/09/2021.")]


def test_no_test_type_notice_when_the_file_has_no_test_dates(app, hr_a, importer, files):
    # The column for test dates is there, empty; no type column: nothing to warn about.
    columns = [*files.headers, "Ngày xét nghiệm âm tính"]
    batch_id = importer.batch_id(importer.upload(files.csv(files.rows(3), columns=columns)))
    assert _notices(app, batch_id) == []
    page = importer.preview(batch_id).get_data(as_text=True)
    assert "Loại xét nghiệm" not in page and 'class="flash flash-warning"' not in page


def test_no_test_type_notice_when_every_test_date_has_its_type(app, hr_a, importer, files):
    rows = files.rows(3)
    rows[1].update({"Loại xét nghiệm": "PCR", "Ngày xét nghiệm âm tính": rows[1]["Ngày tiêm mũi 2"]})
    batch_id = importer.batch_id(importer.upload(files.csv(rows, columns=[*files.headers, *TEST_COLUMNS])))
    assert _notices(app, batch_id) == []


@pytest.mark.parametrize("with_type_column", [False, True])
def test_the_test_type_notice_counts_the_dates_without_a_type(app, hr_a, importer, files, with_type_column):
    rows = files.rows(4)
    for row in rows[:2]:
        row["Ngày xét nghiệm âm tính"] = row["Ngày tiêm mũi 2"]
    rows[3].update({"Loại xét nghiệm": "Nhanh", "Ngày xét nghiệm âm tính": rows[3]["Ngày tiêm mũi 2"]})
    columns = [*files.headers, *(TEST_COLUMNS if with_type_column else TEST_COLUMNS[1:])]
    batch_id = importer.batch_id(importer.upload(files.csv(rows, columns=columns)))
    untyped = 2 if with_type_column else 3  # without the column, row 5's type is not in the file either
    assert _notices(app, batch_id) == [
        f"{untyped} rows give a negative-test date without its type (PCR or Nhanh): their test type stays unknown. "
        "If you know it, fill in the “Loại xét nghiệm” column and upload the file again."]
    assert _notices(app, batch_id, "vi")[0].startswith(f"{untyped} dòng có ngày xét nghiệm âm tính nhưng không ghi")
    assert _batch(app, batch_id).create_count == 4  # kept, with the type unknown


def _details(page: str) -> dict[str, list[tuple[str, str]]]:
    """Return each row's "all fields" panel: row number → [(header, value as shown)]."""
    panels = {}
    for row, body in re.findall(r'<summary>Show the \d+ fields of row (\d+)</summary>(.*?)</details>', page, re.S):
        pairs = re.findall(r"<dt>(.*?)</dt><dd[^>]*>(.*?)</dd>", body, re.S)
        panels[row] = [(header, re.sub(r"<[^>]+>", "", value).strip()) for header, value in pairs]
    return panels


def test_the_preview_shows_every_field_of_each_row_as_it_will_be_stored(app, hr_a, importer, files, english):
    rows = files.rows(3)
    rows[0].update({"Ngày sinh": "1/1/1970", "Số điện thoại": "+84 90 100 0000", "Vắc xin mũi 1": "astra",
                    "Ca làm việc": "ca 1", "Loại xét nghiệm": "pcr",
                    "Ngày xét nghiệm âm tính": rows[0]["Ngày tiêm mũi 2"].replace("/", "-")})
    rows[1]["Giới tính"] = "?"
    columns = [*files.headers, *TEST_COLUMNS]
    data = files.xlsx(rows, columns=columns, cells={(2, 5): int(rows[0]["Số CCCD/CMND"])})  # a number: no 0
    batch_id = importer.batch_id(importer.upload(data, "ds.xlsx"))
    page = importer.preview(batch_id, show="create").get_data(as_text=True)
    panels = _details(page)
    assert set(panels) == {"2", "4"}
    first = dict(panels["2"])
    assert list(first)[:4] == ["Họ và tên", "Ngày sinh", "Giới tính", "Số CCCD/CMND"]
    assert first["Ngày sinh"] == "01/01/1970"  # typed 1/1/1970: stored as a date, shown dd/mm/yyyy
    assert first["Giới tính"] == "Male"
    assert first["Số CCCD/CMND"] == "••••••••" + rows[0]["Số CCCD/CMND"][-4:]  # a number cell: its 0 is back
    assert rows[0]["Số CCCD/CMND"] not in page
    assert first["Số điện thoại"] == "0901000000"
    assert first["Ca làm việc"].startswith("Shift 1")
    assert (first["Vắc xin mũi 1"], first["Ngày tiêm mũi 1"]) == ("AstraZeneca", rows[0]["Ngày tiêm mũi 1"])
    assert (first["Vắc xin mũi 2"], first["Ngày tiêm mũi 2"]) == ("AstraZeneca", rows[0]["Ngày tiêm mũi 2"])
    assert (first["Loại xét nghiệm"], first["Ngày xét nghiệm âm tính"]) == ("PCR", rows[0]["Ngày tiêm mũi 2"])
    assert len(first) == len(columns) - 1  # every column of the file but STT

    problems = _details(importer.preview(batch_id, show="problems").get_data(as_text=True))
    wrong = dict(problems["3"])
    assert wrong["Giới tính"] == "?" and wrong["Họ và tên"] == rows[1]["Họ và tên"]  # as read
    assert wrong["Số CCCD/CMND"].endswith(rows[1]["Số CCCD/CMND"][-4:]) and wrong["Số CCCD/CMND"].startswith("•")
    assert "As read from the file" in importer.preview(batch_id, show="problems").get_data(as_text=True)


def test_the_preview_of_an_update_marks_the_changed_fields(app, hr_a, importer, files, english):
    rows = files.rows(2)
    importer.commit(importer.batch_id(importer.upload(files.csv(rows))))
    rows[1]["Chức vụ"] = "Tổ trưởng"
    batch_id = importer.batch_id(importer.upload(files.csv(rows)))
    page = importer.preview(batch_id, show="update").get_data(as_text=True)
    assert '<dd class="changed"><mark>Tổ trưởng</mark>' in page
    assert dict(_details(page)["3"])["Chức vụ"] == "Tổ trưởng (changed)"
    assert page.count("(changed)") == 1
