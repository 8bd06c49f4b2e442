"""The evaluation report: its period, its page, its PDF (text and charts) and its workbook."""
from __future__ import annotations

import io
import re
import subprocess
from datetime import date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from PIL import Image

from portal.dashboard.report import DEFAULT_PERIOD_DAYS, OUTCOMES, parse_period
from portal.eligibility.testing import evaluate_everyone


@pytest.fixture
def pilot(pilot, app):
    """The seeded pilot, evaluated as the nightly command leaves it: the pages read the snapshot."""
    evaluate_everyone(app)
    return pilot

TODAY = date(2021, 10, 15)


@pytest.mark.parametrize("first,last,expected", [
    (None, None, (date(2021, 10, 2), TODAY)),
    ("15/9/2021", "30/09/2021", (date(2021, 9, 15), date(2021, 9, 30))),
    ("2021-09-15", "", (date(2021, 9, 15), TODAY)),
    ("", "30/09/2021", (date(2021, 9, 17), date(2021, 9, 30))),
])
def test_periods_that_parse(app, first, last, expected):
    with app.test_request_context():
        period, errors = parse_period(first, last, TODAY)
    assert errors == {} and (period.first, period.last) == expected
    assert DEFAULT_PERIOD_DAYS == 14


@pytest.mark.parametrize("first,last,field,message", [
    ("31/02/2021", "", "from", "Nhập ngày bắt đầu theo dạng dd/mm/yyyy."),
    ("hôm qua", "", "from", "Nhập ngày bắt đầu theo dạng dd/mm/yyyy."),
    ("", "10/13/2021", "to", "Nhập ngày kết thúc theo dạng dd/mm/yyyy."),
    ("01/10/2021", "16/10/2021", "to", "Ngày kết thúc không được sau hôm nay (15/10/2021)."),
    ("10/10/2021", "01/10/2021", "from", "Ngày bắt đầu sau ngày kết thúc."),
    ("01/01/2020", "14/10/2021", "from", "Một báo cáo bao gồm tối đa 366 ngày."),
])
def test_periods_that_do_not(app, first, last, field, message):
    with app.test_request_context():
        period, errors = parse_period(first, last, TODAY)
    assert errors == {field: message}
    assert (period.first, period.last) == (date(2021, 10, 2), TODAY)  # the default, shown with the error


def test_the_report_page_offers_the_last_14_days_and_downloads(client, auth, world, pilot):
    auth.login(world.official_x)
    page = client.get("/dashboard/report").get_data(as_text=True)
    first = (pilot.today - timedelta(days=13)).strftime("%d/%m/%Y")
    assert f'value="{first}"' in page and f'value="{pilot.today:%d/%m/%Y}"' in page
    query = f"from={first}&amp;to={pilot.today:%d/%m/%Y}"
    assert f'href="/dashboard/report.pdf?{query}"' in page
    assert f'href="/dashboard/report.xlsx?{query}"' in page


def test_bad_dates_get_a_message_on_the_page_and_400_for_downloads(client, auth, world, pilot):
    auth.login(world.official_x)
    page = client.get("/dashboard/report?from=32/13/2021&to=").get_data(as_text=True)
    assert "Nhập ngày bắt đầu theo dạng dd/mm/yyyy." in page and 'value="32/13/2021"' in page
    assert "report.pdf" not in page  # no download link for a period that was not understood
    for url in ("/dashboard/report.pdf?from=32/13/2021", "/dashboard/report.xlsx?to=01/01/2999"):
        response = client.get(url)
        assert response.status_code == 400
        assert "dd/mm/yyyy" in response.get_data(as_text=True) or "sau hôm nay" in response.get_data(as_text=True)
    auth.logout()
    auth.login(world.admin)
    assert client.get("/dashboard/report.pdf?unit=atlantis").status_code == 400


def _period(pilot, days=14):
    return pilot.today - timedelta(days=days - 1), pilot.today


def _query(first, last, unit=None):
    query = f"from={first:%d/%m/%Y}&to={last:%d/%m/%Y}"
    return query + (f"&unit={unit}" if unit else "")


def _pdf_text(pdf: bytes, tmp_path, layout=False) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    args = ["pdftotext", *(["-layout"] if layout else []), str(path), "-"]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def test_pdf_shows_the_vietnamese_text_exactly(client, auth, world, pilot, tmp_path):
    auth.login(world.official_x)
    first, last = _period(pilot)
    response = client.get(f"/dashboard/report.pdf?{_query(first, last)}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert f"bao-cao-the-xanh-district7-{first:%Y%m%d}-{last:%Y%m%d}.pdf" in response.headers["Content-Disposition"]
    text = _pdf_text(response.data, tmp_path)
    for expected in ("Đánh giá thí điểm thẻ xanh Covid", "Thí điểm thẻ xanh Covid Thành phố Hồ Chí Minh".upper(),
                     "Phạm vi", "Quận 7", f"{first:%d/%m/%Y} – {last:%d/%m/%Y}", "Thời điểm lập", "(giờ TP.HCM)",
                     "Người lao động và điều kiện theo đơn vị", "Lượt kiểm tra tại chốt theo ngày",
                     "Chưa đủ 14 ngày sau mũi cuối", "Khỏi bệnh đã quá 180 ngày", "Trang 1/"):
        assert expected in text, expected
    assert "Huyện Cần Giờ" not in text  # another unit's name never appears in District 7's report
    pages = int(re.search(r"Trang 1/(\d+)", text).group(1))
    assert pages >= 2 and f"Trang {pages}/{pages}" in text


def test_pdf_scans_per_day_table_matches_the_seed(client, auth, world, pilot, tmp_path):
    auth.login(world.official_x)
    first, last = _period(pilot)
    text = _pdf_text(client.get(f"/dashboard/report.pdf?{_query(first, last)}").data, tmp_path, layout=True)
    expected = pilot.scans_per_day(unit="district7", first=first, last=last)
    checked = 0
    for line in text.splitlines():
        match = re.match(rf"\s*(\d\d/\d\d/\d{{4}})\s+((?:\d+\s+){{{len(OUTCOMES)}}}\d+)\s*$", line)
        if match:
            day = datetime.strptime(match.group(1), "%d/%m/%Y").date()
            counts = [expected[day, outcome] for outcome in OUTCOMES]
            assert [int(n) for n in match.group(2).split()] == counts + [sum(counts)], day
            checked += 1
    assert checked == 14


def _coloured(image: Image.Image, colour: tuple[int, int, int], tolerance: int = 15) -> list[tuple[int, int]]:
    rgb = image.convert("RGB")
    width, height = rgb.size
    pixels = rgb.load()
    return [(x, y) for y in range(0, height, 2) for x in range(0, width, 2)
            if all(abs(pixels[x, y][i] - colour[i]) <= tolerance for i in range(3))]


def test_pdf_charts_are_drawn(client, auth, world, pilot, tmp_path):
    """Rasterise the chart page: the eligibility bars and the stacked scan columns are there, in colour."""
    auth.login(world.admin)
    first, last = _period(pilot)
    (tmp_path / "report.pdf").write_bytes(client.get(f"/dashboard/report.pdf?{_query(first, last)}").data)
    subprocess.run(["pdftoppm", "-r", "60", "-f", "1", "-l", "2", "-png", str(tmp_path / "report.pdf"),
                    str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == 2
    first_page = Image.open(pages[0])
    green = _coloured(first_page, (0x0b, 0x7a, 0x3e))   # the "eligible" bar and the valid-scan columns
    red = _coloured(first_page, (0xb3, 0x26, 0x1e))     # the "not vaccinated" bar
    assert len(green) > 50 and len(red) > 20
    width, height = first_page.size
    top = min(y for _x, y in green + red)
    assert top > height * 0.2  # below the heading, where the chart is
    # The scans per day, stacked by outcome, come next: valid (green) columns topped by invalid (purple).
    scans_page = Image.open(pages[1])
    assert len(_coloured(scans_page, (0x0b, 0x7a, 0x3e))) > 30
    assert len(_coloured(scans_page, (0x6a, 0x1b, 0x9a))) > 2
    assert "Lượt kiểm tra tại chốt theo ngày" in _pdf_text((tmp_path / "report.pdf").read_bytes(), tmp_path)


def _sheet(book, name):
    sheet = book[name]
    rows = list(sheet.iter_rows(values_only=True))
    return rows[2], {row[0]: list(row[1:]) for row in rows[3:]}


def test_xlsx_has_one_sheet_per_table_with_vietnamese_headers_and_numbers(client, auth, world, pilot):
    auth.login(world.admin)
    first, last = _period(pilot)
    response = client.get(f"/dashboard/report.xlsx?{_query(first, last)}")
    assert response.status_code == 200
    assert "bao-cao-the-xanh-tphcm-" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == [
        "Báo cáo", "Doanh nghiệp theo đơn vị", "Doanh nghiệp theo ngành nghề", "Điều kiện theo đơn vị",
        "Điều kiện theo ngành nghề", "Thẻ xanh theo đơn vị", "Thẻ xanh theo ngành nghề", "Kiểm tra theo ngày",
        "Kiểm tra theo đơn vị", "Kiểm tra theo ngành nghề", "Xác nhận theo ngành nghề", "Xác nhận theo ngày",
    ]
    cover = {row[0]: row[1] for row in book["Báo cáo"].iter_rows(values_only=True)}
    assert cover["Phạm vi"] == "Toàn Thành phố Hồ Chí Minh"
    assert cover["Kỳ báo cáo"] == f"{first:%d/%m/%Y} – {last:%d/%m/%Y}"

    headers, rows = _sheet(book, "Điều kiện theo đơn vị")
    assert headers[:4] == ("Đơn vị", "Người lao động đang làm việc", "Đủ điều kiện hôm nay",
                           "Chưa đủ điều kiện hôm nay")
    for code, name in (("district7", "Quận 7"), ("cugi", "Huyện Củ Chi"), ("cangio", "Huyện Cần Giờ")):
        counts = [pilot.count_bases(code), pilot.count_bases(code, True), pilot.count_bases(code, False)]
        assert rows[name][:3] == counts
        assert all(isinstance(value, int) for value in rows[name])
    assert rows["Tổng"][0] == pilot.count_bases()

    headers, rows = _sheet(book, "Kiểm tra theo ngày")
    assert headers[0] == "Ngày" and headers[-1] == "Tổng"
    expected = pilot.scans_per_day(first=first, last=last)
    sheet = book["Kiểm tra theo ngày"]
    assert sheet.cell(4, 1).number_format == "DD/MM/YYYY"
    for day_value, counts in rows.items():
        if isinstance(day_value, datetime):
            day = day_value.date()
            wanted = [expected[day, outcome] for outcome in OUTCOMES]
            assert counts == wanted + [sum(wanted)], day

    _headers, rows = _sheet(book, "Thẻ xanh theo đơn vị")
    issued = sum(1 for unit, _s, day in pilot.passes if unit == "district7" and first <= day <= last)
    assert rows["Quận 7"][0] == issued
    assert rows["Quận 7"][1] == pilot.count_passes("district7", "revoked")  # revoked yesterday
    assert rows["Quận 7"][2] == pilot.count_passes("district7", "expired")  # expired two days ago
    assert rows["Quận 7"][3] == pilot.count_passes("district7", "valid")

    _headers, rows = _sheet(book, "Điều kiện theo ngành nghề")
    assert rows["Du lịch địa phương"][:3] == [3, 1, 2]  # Cần Giờ's tourism staff: one tested, two not
    assert rows["Tổng"][0] == pilot.count_bases()


def test_xlsx_of_an_official_covers_their_unit_only(client, auth, world, pilot):
    auth.login(pilot.official_cangio)
    first, last = _period(pilot)
    book = load_workbook(io.BytesIO(client.get(f"/dashboard/report.xlsx?{_query(first, last, 'district7')}").data))
    _headers, rows = _sheet(book, "Điều kiện theo đơn vị")
    assert list(rows) == ["Huyện Cần Giờ"]
    _headers, rows = _sheet(book, "Kiểm tra theo đơn vị")
    expected = pilot.scans_per_day(unit="cangio", first=first, last=last)
    assert rows["Huyện Cần Giờ"][-1] == sum(expected.values())


def test_report_scans_cover_exactly_the_chosen_local_days(client, auth, world, pilot, read):
    """From d10 to d4: d10's last second (16:59:59 UTC) and d4's last second count; d3's first does not."""
    auth.login(world.official_x)
    d4, d10 = pilot.today - timedelta(days=4), pilot.today - timedelta(days=10)
    page = client.get(f"/dashboard/report?{_query(d10, d4)}").get_data(as_text=True)
    rows = read.table_rows(page, "table-scans_by_day")
    expected = pilot.scans_per_day(unit="district7", first=d10, last=d4)
    assert rows["Tổng"][-1] == sum(expected.values()) == 4  # d10 expired, d9 revoked, d5 and d4 valid
