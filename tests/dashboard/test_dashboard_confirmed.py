"""The share of workers the health registry confirmed, per unit and sector: now, recorded day by day, and shown."""
from __future__ import annotations

import io
import subprocess
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from openpyxl import load_workbook
from sqlalchemy import select

from portal.extensions import db
from portal.testing.fixtures import make_enterprise, make_worker

HCMC_OFFSET = timedelta(hours=7)  # written out here so the tests do not share the code's conversion

#: What the seed must count now, per (unit, sector): (workers with a dose, every dose confirmed, conflicting).
EXPECTED = {
    ("district7", "food_processing"): (2, 1, 2),
    ("district7", "logistics"): (2, 1, 1),
    ("cugi", "food_supply"): (2, 1, 0),
    ("cugi", "local_tourism"): (3, 2, 0),
}
LABELS = {"district7": "Quận 7", "cugi": "Huyện Củ Chi", "food_processing": "Chế biến lương thực, thực phẩm",
          "logistics": "Vận tải, kho bãi, logistics", "food_supply": "Cung ứng lương thực, thực phẩm",
          "local_tourism": "Du lịch địa phương"}


def local_midnight_utc(day: date) -> datetime:
    """The UTC instant at which ``day`` starts in Ho Chi Minh City (17:00 UTC the day before)."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC) - HCMC_OFFSET


@pytest.fixture
def seeded(app, world):
    """Confirmed, conflicting and declared-only workers in two sectors of District 7 and two of Củ Chi.

    The provenance is written as the registry's matching leaves it (portal.health.provenance); what each
    worker counts as is said beside it.
    """
    from portal.enterprises.models import Enterprise
    from portal.workers.models import Worker

    registry = app.extensions["portal.plugins"].registry
    full = [("pfizer", date(2021, 8, 1)), ("pfizer", date(2021, 8, 29))]
    ids = iter(range(10, 99))

    def worker(enterprise, provenances, **facts):
        row = make_worker(db.session, enterprise, citizen_id=f"0790900100{next(ids):02d}",
                          doses=full[:len(provenances)])
        for dose, provenance in zip(row.doses, provenances, strict=True):
            dose.provenance = provenance
        for name, value in facts.items():
            setattr(row, name, value)
        return row

    with app.app_context():
        a, b = db.session.get(Enterprise, world.enterprise_a), db.session.get(Enterprise, world.enterprise_b)
        assert (a.sector, b.sector) == ("food_processing", "food_supply")
        logistics = make_enterprise(db.session, registry, "district7", "Công ty CP Kho vận Tân Thuận", "0309999981")
        logistics.sector = "logistics"
        tourism = make_enterprise(db.session, registry, "cugi", "Công ty Du lịch Bến Dược", "0309999982")
        tourism.sector = "local_tourism"
        # District 7, food processing: worker A confirmed; one conflicting dose; one conflicting recovery, no dose.
        for dose in db.session.get(Worker, world.worker_a).doses:
            dose.provenance = "confirmed"
        worker(a, ["confirmed", "conflicting"])
        worker(a, [], recovered_on=date(2021, 7, 1), recovery_provenance="conflicting")
        # District 7, logistics: declared only; confirmed with a conflicting test; a worker who left and an
        # erased one (confirmed, never counted).
        worker(logistics, ["declared", "declared"])
        worker(logistics, ["confirmed"], test_kind="pcr", tested_on=date(2021, 9, 1), test_provenance="conflicting")
        worker(logistics, ["confirmed", "confirmed"], active=False)
        worker(logistics, ["confirmed", "confirmed"], erased_at=datetime(2021, 12, 1, tzinfo=UTC))
        # Củ Chi, food supply: worker B (dose 2 not found in the registry); one confirmed.
        doses = db.session.get(Worker, world.worker_b).doses
        doses[0].provenance, doses[1].provenance = "confirmed", "not_found"
        worker(b, ["confirmed", "confirmed"])
        # Củ Chi, local tourism: declared only; two confirmed.
        worker(tourism, ["declared"])
        worker(tourism, ["confirmed", "confirmed"])
        worker(tourism, ["confirmed"])
        db.session.commit()
        return {unit.code: unit.id for unit in (a.unit, b.unit)}


def _as_codes(shares, units):
    codes = {unit_id: code for code, unit_id in units.items()}
    return {(codes[s.unit_id], s.sector): (s.workers_with_dose, s.confirmed, s.conflicting) for s in shares}


def test_shares_now_per_unit_and_sector_match_the_seed(app, seeded):
    from portal.health.share import share_now

    with app.app_context():
        assert _as_codes(share_now(db.session), seeded) == EXPECTED
        only_cugi = _as_codes(share_now(db.session, seeded["cugi"]), seeded)
        assert only_cugi == {key: value for key, value in EXPECTED.items() if key[0] == "cugi"}


def _days(app, first, last, unit_id=None):
    from portal.health.share import share_days

    with app.app_context():
        return {day: (s.workers_with_dose, s.confirmed, s.conflicting)
                for day, s in share_days(db.session, first, last, unit_id).items()}


def test_a_local_midnight_separates_two_recorded_days(app, seeded, runner):
    """23:59 in Ho Chi Minh City and 00:00 the next day are two days, though both are the same UTC day."""
    from portal.health.models import HealthShareDay
    from portal.workers.models import VaccineDose

    today = (datetime.now(UTC) + HCMC_OFFSET).date()
    yesterday = today - timedelta(days=1)
    midnight = local_midnight_utc(today)
    assert (midnight - timedelta(minutes=1)).date() == midnight.date() == yesterday  # both on yesterday, in UTC
    with time_machine.travel(midnight - timedelta(minutes=2), tick=False):
        result = runner.invoke(args=["health", "record-share"])
        assert result.exit_code == 0, result.output
        assert f"Recorded {yesterday:%d/%m/%Y}: 5 of 9 workers with a dose confirmed, 3 with a conflicting" \
            in result.output
    with app.app_context():
        # The registry confirms the declared-only logistics worker's doses before midnight…
        for dose in db.session.scalars(select(VaccineDose).where(VaccineDose.provenance == "declared")):
            if dose.worker.enterprise.sector == "logistics":
                dose.provenance = "confirmed"
        db.session.commit()
    with time_machine.travel(midnight - timedelta(minutes=1), tick=False):
        assert runner.invoke(args=["health", "record-share"]).exit_code == 0  # replaces the day's earlier record
    with app.app_context():
        # …and a tourism worker's dose is found conflicting just after.
        dose = db.session.scalars(select(VaccineDose).where(VaccineDose.provenance == "declared")).one()
        dose.provenance = "conflicting"
        db.session.commit()
    with time_machine.travel(midnight, tick=False):
        assert "Recorded " + f"{today:%d/%m/%Y}" in runner.invoke(args=["health", "record-share"]).output

    assert _days(app, yesterday - timedelta(days=3), today) == {yesterday: (9, 6, 3), today: (9, 6, 4)}
    assert _days(app, yesterday, today, seeded["cugi"]) == {yesterday: (5, 3, 0), today: (5, 3, 1)}
    with app.app_context():
        assert db.session.query(HealthShareDay).filter_by(day=yesterday).count() == 4  # one row per unit and sector
        logistics = db.session.scalars(select(HealthShareDay).filter_by(day=yesterday, sector="logistics")).one()
        assert (logistics.workers_with_dose, logistics.confirmed, logistics.conflicting) == (2, 2, 1)


def test_matching_an_extract_and_accepting_a_conflict_record_today(app, world, client, auth):
    """The registry's extract is matched: today's row is written; the conflict accepted: it is rewritten."""
    from tests.health.conftest import Days, latest_extract, upload, vaccination_extract

    days = Days()
    assert auth.login(world.health).status_code == 302
    upload(client, vaccination_extract(days), "x.csv")
    client.post(f"/health/extracts/{latest_extract(app).id}/commit", data={"csrf_token": client.csrf_token()})
    recorded = _days(app, days.today, days.today)
    # Worker A (District 7) confirmed; worker B (Củ Chi) with dose 2 on another date: conflicting.
    assert recorded == {days.today: (2, 1, 1)}
    auth.logout()
    assert auth.login(world.hr_b).status_code == 302
    response = client.post(f"/health/workers/{world.worker_b}/accept",
                           data={"fact": "dose:2", "csrf_token": client.csrf_token()})
    assert response.status_code == 302
    assert _days(app, days.today, days.today) == {days.today: (2, 2, 0)}


def _login(auth, email):
    assert auth.login(email).status_code == 302


def _record(app, at: datetime):
    from portal.health.share import record_share

    with app.app_context():
        record_share(db.session, at)
        db.session.commit()


def _rows(read, page, table_id):
    return read.parse_page(page).tables[table_id]


def test_the_dashboard_shows_each_sector_and_the_recorded_days(app, seeded, client, auth, world, read):
    today = (datetime.now(UTC) + HCMC_OFFSET).date()
    _record(app, local_midnight_utc(today) - timedelta(hours=30))  # the day before yesterday, 01:00
    _record(app, datetime.now(UTC))
    _login(auth, world.admin)
    page = client.get("/dashboard").get_data(as_text=True)
    rows = _rows(read, page, "table-confirmed_by_unit_sector")
    assert rows[0][:3] == ["Đơn vị", "Ngành nghề", "Người lao động có khai báo mũi tiêm"]
    body = {(row[0], row[1]): row[2:] for row in rows[1:-1]}
    assert body == {(LABELS[unit], LABELS[sector]): [str(n) for n in (with_dose, confirmed)]
                    + [f"{100 * confirmed / with_dose:.1f} %".replace(".", ","), str(conflicting)]
                    for (unit, sector), (with_dose, confirmed, conflicting) in EXPECTED.items()}
    assert rows[-1] == ["Tổng", "", "9", "5", "55,6 %", "3"]
    units = {row[0]: row[1:] for row in _rows(read, page, "table-confirmed_by_unit")[1:]}
    assert units["Quận 7"] == ["4", "2", "50,0 %", "3"] and units["Huyện Củ Chi"] == ["5", "3", "60,0 %", "0"]
    days = {row[0]: row[1:] for row in _rows(read, page, "table-confirmed_by_day")[1:]}
    assert len(days) == 30
    assert days[f"{today - timedelta(days=2):%d/%m/%Y}"] == days[f"{today:%d/%m/%Y}"] == ["9", "5", "55,6 %", "3"]
    assert days[f"{today - timedelta(days=1):%d/%m/%Y}"] == ["—"] * 4  # nothing recorded that day
    assert 'aria-labelledby="chart-confirmed-title chart-confirmed-desc"' in page


def test_an_official_sees_only_their_units_figures(app, seeded, client, auth, world, read):
    _record(app, datetime.now(UTC))
    _login(auth, world.official_y)  # Củ Chi
    page = client.get("/dashboard?unit=district7").get_data(as_text=True)  # asking for another unit changes nothing
    sectors = _rows(read, page, "table-confirmed_by_unit_sector")[1:-1]  # the last: the total
    assert {(row[0], row[1]) for row in sectors} == {("Huyện Củ Chi", LABELS["food_supply"]),
                                                     ("Huyện Củ Chi", LABELS["local_tourism"])}
    assert [row[0] for row in _rows(read, page, "table-confirmed_by_unit")[1:]] == ["Huyện Củ Chi"]
    today = (datetime.now(UTC) + HCMC_OFFSET).date()
    days = {row[0]: row[1:] for row in _rows(read, page, "table-confirmed_by_day")[1:]}
    assert days[f"{today:%d/%m/%Y}"] == ["5", "3", "60,0 %", "0"]
    assert "Quận 7" not in page.split('id="h-confirmed"')[1].split("</section>")[0]
    auth.logout()
    _login(auth, world.official_x)  # District 7
    page = client.get("/dashboard").get_data(as_text=True)
    days = {row[0]: row[1:] for row in _rows(read, page, "table-confirmed_by_day")[1:]}
    assert days[f"{today:%d/%m/%Y}"] == ["4", "2", "50,0 %", "3"]
    section = page.split('id="h-confirmed"')[1].split("</section>")[0]
    assert "Huyện Củ Chi" not in section and LABELS["local_tourism"] not in section


def _pdf_text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def test_the_report_has_the_section_in_its_page_pdf_and_workbook(app, seeded, client, auth, world, read, tmp_path):
    today = (datetime.now(UTC) + HCMC_OFFSET).date()
    _record(app, local_midnight_utc(today - timedelta(days=3)) + timedelta(hours=12))
    _record(app, datetime.now(UTC))
    _login(auth, world.official_x)
    query = f"from={today - timedelta(days=6):%d/%m/%Y}&to={today:%d/%m/%Y}"
    page = client.get(f"/dashboard/report?{query}").get_data(as_text=True)
    assert "Được cơ sở dữ liệu y tế xác nhận</h2>" in page
    days = {row[0]: row[1:] for row in _rows(read, page, "table-confirmed_by_day")[1:]}
    assert len(days) == 7 and days[f"{today - timedelta(days=3):%d/%m/%Y}"] == ["4", "2", "50,0 %", "3"]

    text = _pdf_text(client.get(f"/dashboard/report.pdf?{query}").data, tmp_path)
    assert f"Được cơ sở dữ liệu y tế xác nhận theo đơn vị và ngành nghề, số liệu ghi nhận ngày {today:%d/%m/%Y}" \
        in text
    assert "Được cơ sở dữ liệu y tế xác nhận, theo ngày" in text
    lines = [" ".join(line.split()) for line in text.splitlines()]
    assert f"Quận 7 {LABELS['logistics']} 2 1 50,0 % 1" in lines
    assert f"Quận 7 {LABELS['food_processing']} 2 1 50,0 % 2" in lines
    assert f"{today - timedelta(days=3):%d/%m/%Y} 4 2 50,0 % 3" in lines
    assert f"{today - timedelta(days=2):%d/%m/%Y} — — — —" in lines
    assert "Huyện Củ Chi" not in text

    book = load_workbook(io.BytesIO(client.get(f"/dashboard/report.xlsx?{query}").data))
    rows = list(book["Xác nhận theo ngành nghề"].iter_rows(values_only=True))
    assert rows[2][:3] == ("Đơn vị", "Ngành nghề", "Người lao động có khai báo mũi tiêm")
    assert ("Quận 7", LABELS["logistics"], 2, 1, 0.5, 1) in rows[3:]
    assert book["Xác nhận theo ngành nghề"].cell(4, 5).number_format == "0.0%"
    per_day = {row[0].date(): row[1:] for row in book["Xác nhận theo ngày"].iter_rows(min_row=4, values_only=True)}
    assert per_day[today - timedelta(days=3)] == (4, 2, 0.5, 3)
    assert per_day[today - timedelta(days=2)] == (None, None, None, None)

    # The report shows what was recorded, never a count made now: a dose confirmed since changes the
    # dashboard's live table, not the report of the period (an erase must not change it either).
    recorded = _rows(read, page, "table-confirmed_by_unit_sector")
    _confirm_declared_doses(app)
    assert _rows(read, client.get(f"/dashboard/report?{query}").get_data(as_text=True),
                 "table-confirmed_by_unit_sector") == recorded
    live = _rows(read, client.get("/dashboard").get_data(as_text=True), "table-confirmed_by_unit_sector")
    assert [LABELS["district7"], LABELS["logistics"], "2", "2", "100,0 %", "1"] in live
    # A period with nothing recorded says so, and shows no figure.
    empty = f"from={today - timedelta(days=20):%d/%m/%Y}&to={today - timedelta(days=14):%d/%m/%Y}"
    page = client.get(f"/dashboard/report?{empty}").get_data(as_text=True)
    assert "nothing was recorded in this period" in page or "không có số liệu ghi nhận trong kỳ này" in page


def _confirm_declared_doses(app):
    from portal.workers.models import VaccineDose

    with app.app_context():
        for dose in db.session.scalars(select(VaccineDose).where(VaccineDose.provenance == "declared")):
            dose.provenance = "confirmed"
        db.session.commit()


def test_nothing_is_recorded_on_the_day_of_an_erase(app, seeded):
    """An erase removes the doses a count needs: the day's record stays as it was before it, the next day records."""
    from portal.health.share import record_share, share_days
    from portal.workers.models import Worker

    now = datetime.now(UTC)
    today = (now + HCMC_OFFSET).date()
    _record(app, now)
    before = _days(app, today, today)
    _confirm_declared_doses(app)
    with app.app_context():
        worker = db.session.scalars(select(Worker).where(Worker.erased_at.is_(None))).first()
        worker.erased_at = now
        db.session.commit()
    _record(app, now + timedelta(minutes=5))
    assert _days(app, today, today) == before
    with app.app_context():
        tomorrow = record_share(db.session, now + timedelta(days=1))
        db.session.commit()
        assert tomorrow == today + timedelta(days=1)
        assert share_days(db.session, tomorrow, tomorrow)[tomorrow].confirmed > before[today][1]
