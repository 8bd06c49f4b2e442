"""Where the card's hours do not follow the shift (District 7, Củ Chi, Cần Giờ), HR and the card say which
shifts start or end outside them and that those journeys need the travel permit (giấy đi đường)."""
from __future__ import annotations

import re

import pytest

from portal.extensions import db
from portal.printing.card import build_card
from portal.printing.render import render_pass_pdf
from portal.printing.testing import pdf_text
from portal.testing.fixtures import make_enterprise, make_worker
from portal.verify.testing import make_pass
from portal.workers.models import Worker

CA3_NOTE = "Ca 3 (22:00–06:00): đi làm và về nhà ngoài khung giờ, cần giấy đi đường."


def _add(app, enterprise_id, shifts):
    from portal.enterprises.models import Enterprise

    with app.app_context():
        enterprise = db.session.get(Enterprise, enterprise_id)
        ids = [make_worker(db.session, enterprise, citizen_id=f"07909000{5000 + n}", name=f"Lê Văn Ca {n}",
                           shift=shift).id for n, shift in enumerate(shifts)]
        db.session.commit()
    return ids


def _rows(page: str) -> dict[str, str]:
    """Each worker's name and the text of their row."""
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", page, re.S)[1:]:
        text = " ".join(re.sub(r"<[^>]+>", " ", row).split())
        name = re.search(r'<a href="/workers/\d+/edit">([^<]+)</a>', row).group(1)
        rows[name] = text
    return rows


def test_the_workers_page_says_which_shifts_need_the_travel_permit(client, auth, app, world):
    _add(app, world.enterprise_a, ["shift2", "shift3", "shift3", "office"])
    auth.login(world.hr_a)
    page = client.get("/workers").get_data(as_text=True)
    section = re.search(r'<section class="flash flash-warning shift-notice".*?</section>', page, re.S).group(0)
    notice = " ".join(re.sub(r"<[^>]+>", " ", section).split())
    assert "khung giờ đi lại trên thẻ xanh là 06:30–08:00, 16:30–18:00, không phụ thuộc ca làm việc" in notice
    assert "Ca 2: đi làm và về nhà · 1 người lao động" in notice
    assert "Ca 3: đi làm và về nhà · 2 người lao động" in notice
    assert "Ca 1" not in notice and "Hành chính" not in notice  # nobody on Ca 1; office hours fit the windows
    rows = _rows(page)
    assert "cần giấy đi đường: đi làm và về nhà" in rows["Lê Văn Ca 0"]
    assert "cần giấy đi đường" in rows["Lê Văn Ca 1"] and "cần giấy đi đường" in rows["Lê Văn Ca 2"]
    assert "cần giấy đi đường" not in rows["Lê Văn Ca 3"] and "cần giấy đi đường" not in rows["Nguyễn Văn An"]


def test_no_notice_when_every_shift_fits_the_windows(client, auth, world):
    auth.login(world.hr_a)  # only worker A, on office hours (07:30–16:30)
    page = client.get("/workers").get_data(as_text=True)
    assert "shift-notice" not in page and "cần giấy đi đường" not in page


def _shift_hint(client, url: str) -> str:
    page = client.get(url).get_data(as_text=True)
    field = re.search(r'<select[^>]*name="shift".*?</div>', page, re.S).group(0)
    return " ".join(re.sub(r"<[^>]+>", " ", re.search(r'<small class="hint">(.*?)</small>', field, re.S)
                           .group(1)).split())


def test_the_form_does_not_pretend_the_shift_sets_the_hours(client, auth, app, world):
    auth.login(world.hr_a)
    hint = _shift_hint(client, "/workers/new")
    assert hint.startswith("Chỉ để nhân sự theo dõi: tại đơn vị này, khung giờ đi lại trên thẻ xanh là "
                           "06:30–08:00, 16:30–18:00, không phụ thuộc ca làm việc.")
    assert "giấy đi đường" in hint
    client.get("/lang/en")
    assert "Recorded for HR only" in _shift_hint(client, f"/workers/{world.worker_a}/edit")


def test_where_the_hours_follow_the_shift_the_form_says_so(client, auth, app, world):
    from portal.auth.models import Role
    from portal.auth.services import create_user
    from portal.testing.fixtures import TEST_PASSWORD

    with app.app_context():
        registry = app.extensions["portal.plugins"].registry
        if "industrial_zones" not in registry.units:
            pytest.skip("the industrial zones plugin is not installed")
        enterprise = make_enterprise(db.session, registry, "industrial_zones", "Công ty Tân Thuận", "0309999992")
        create_user(db.session, email="hr.kcx@example.vn", password=TEST_PASSWORD, full_name="Mai Văn Kha",
                    role=Role.HR, enterprise=enterprise)
        make_worker(db.session, enterprise, citizen_id="079090006666", shift="shift3")
        db.session.commit()
    auth.login("hr.kcx@example.vn")
    assert _shift_hint(client, "/workers/new") == "Tại đơn vị này, khung giờ đi lại trên thẻ xanh theo ca làm việc."
    assert "cần giấy đi đường" not in client.get("/workers").get_data(as_text=True)


@pytest.mark.parametrize(("unit", "shift", "note"), [
    ("district7", "shift3", CA3_NOTE),
    ("district7", "shift2", "Ca 2 (14:00–22:00): đi làm và về nhà ngoài khung giờ, cần giấy đi đường."),
    ("cangio", "shift3", CA3_NOTE),  # after the unit's own line: both must fit the card
    ("district7", "office", None),
    ("industrial_zones", "shift3", None),  # its windows follow the shift
])
def test_the_card_says_which_journeys_need_the_permit(app, world, unit, shift, note):
    with app.app_context():
        registry = app.extensions["portal.plugins"].registry
        if unit not in registry.units:
            pytest.skip(f"the {unit} plugin is not installed")
        enterprise = make_enterprise(db.session, registry, unit, "Công ty Ca Đêm", "0309999993")
        worker = make_worker(db.session, enterprise, citizen_id="079090007777", shift=shift)
        pass_ = make_pass(db.session, worker)
        db.session.commit()
        card = build_card(pass_, registry, base_url="https://thexanh.example.vn")
        text = " ".join(pdf_text(render_pass_pdf(card)).split())
        english = build_card(pass_, registry, base_url="https://thexanh.example.vn", locale="en")
    if note is None:
        assert not [line for line in card.extra_lines if "giấy đi đường" in line]
        assert "giấy đi đường" not in text
    else:
        assert card.extra_lines[-1] == note
        assert note in text  # printed whole, not cut by the slot
        for line in card.extra_lines:
            assert " ".join(line.split()) in text
        assert english.extra_lines[-1].endswith("outside these hours and need the travel permit (giấy đi đường).")


def test_a_workers_shift_changes_the_cards_note(app, world):
    with app.app_context():
        registry = app.extensions["portal.plugins"].registry
        worker = db.session.get(Worker, world.worker_a)
        pass_ = make_pass(db.session, worker)
        assert not build_card(pass_, registry, base_url="http://x").extra_lines
        worker.shift = "shift3"
        assert build_card(pass_, registry, base_url="http://x").extra_lines == (CA3_NOTE,)
        db.session.rollback()
