"""A unit whose plugin is disabled (or uninstalled) gives no 500 anywhere: its pages say the unit is not active.

The data are made while every unit's plugin is installed; then the portal runs with one of them
disabled (``PORTAL_DISABLED_PLUGINS``), as an operator would after taking a faulty plugin out, and
HR staff, the unit's official and the city admin walk the main pages.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select
from stdnum.vn import mst

from portal.clock import local_today
from portal.eligibility.testing import evaluate_everyone
from portal.extensions import db
from portal.testing.fixtures import TEST_PASSWORD, PortalClient, make_enterprise, make_worker
from portal.workers.models import Worker

UNITS = ("district7", "cugi", "cangio", "industrial_zones", "hitech_park")
#: What every page of a disabled unit says (portal.units.services.UNIT_NOT_ACTIVE, in Vietnamese).
NOT_ACTIVE = "Đơn vị thí điểm này hiện không hoạt động trên cổng"


@dataclass
class Unit:
    """One unit's enterprise (approved, with a worker holding a card), a pending one, its HR and official."""

    code: str
    enterprise_id: int
    pending_id: int
    worker_id: int
    pass_id: int
    hr: str
    official: str


@pytest.fixture
def pilot(app) -> dict[str, Unit]:
    """An enterprise in every unit, made while every plugin is installed, each with a card issued."""
    from portal.auth.models import Role, User
    from portal.auth.services import create_user
    from portal.passes.issuing import issue_pass
    from portal.units.services import unit_row

    registry = app.extensions["portal.plugins"].registry
    today = local_today()
    units = {}
    with app.test_request_context():
        session = db.session
        create_user(session, email="admin@example.vn", password=TEST_PASSWORD, full_name="Quản Trị", role=Role.ADMIN)
        for index, code in enumerate(UNITS):
            enterprise = make_enterprise(session, registry, code, f"Doanh nghiệp {code}", _tax_code(2 * index))
            pending = make_enterprise(session, registry, code, f"Doanh nghiệp chờ {code}", _tax_code(2 * index + 1),
                                      status="pending")
            hr = create_user(session, email=f"hr.{code}@example.vn", password=TEST_PASSWORD, full_name="Nhân Sự",
                             role=Role.HR, enterprise=enterprise)
            create_user(session, email=f"canbo.{code}@example.vn", password=TEST_PASSWORD, full_name="Cán Bộ",
                        role=Role.OFFICIAL, unit=unit_row(session, registry, code))
            worker = make_worker(session, enterprise, citizen_id=f"0790900{index:05d}",
                                 doses=[("pfizer", today - timedelta(days=60)), ("pfizer", today - timedelta(days=30))])
            make_worker(session, enterprise, citizen_id=f"0790910{index:05d}", name="Lê Văn Bảy")
            session.flush()
            units[code] = Unit(code, enterprise.id, pending.id, worker.id, 0, hr.email, f"canbo.{code}@example.vn")
        session.commit()
        for unit in units.values():
            worker = session.get(Worker, unit.worker_id)
            hr = session.scalar(select(User).where(User.email == unit.hr))
            unit.pass_id = issue_pass(session, registry, worker, hr).id
        session.commit()
    evaluate_everyone(app)
    return units


def _tax_code(seed: int) -> str:
    """Return a valid 10-digit tax code (MST) for ``seed`` (distinct seeds, distinct codes)."""
    body = 31_000_000 + seed * 10
    while len(check := mst.calc_check_digit(f"0{body:08d}")) != 1:
        body += 1
    return f"0{body:08d}{check}"


@pytest.fixture
def without(app_config):
    """Return a client of the portal running with one unit's plugin disabled (same database)."""
    from portal import create_app

    def build(code: str) -> PortalClient:
        disabled = create_app({**app_config, "PORTAL_DISABLED_PLUGINS": (code,)})
        assert code not in disabled.extensions["portal.plugins"].registry.units
        disabled.test_client_class = PortalClient
        return disabled.test_client()

    return build


def _login(client: PortalClient, email: str) -> None:
    response = client.submit("/login", {"email": email, "password": TEST_PASSWORD})
    assert response.status_code == 302, email


def _get(client: PortalClient, url: str, *, expected: int = 200) -> str:
    response = client.get(url)
    body = response.get_data(as_text=True)
    response.close()
    assert response.status_code == expected, f"{url}: {response.status_code}"
    return body


@pytest.mark.parametrize("code", UNITS)
def test_hr_of_a_disabled_unit_walks_every_page_and_is_told_the_unit_is_not_active(pilot, without, code):
    unit = pilot[code]
    client = without(code)
    _login(client, unit.hr)
    assert NOT_ACTIVE in _get(client, "/enterprise")
    assert NOT_ACTIVE in _get(client, f"/enterprises/{unit.enterprise_id}")
    _get(client, "/workers")
    edit = _get(client, f"/workers/{unit.worker_id}/edit")
    assert NOT_ACTIVE in edit
    passes = _get(client, "/passes")
    assert NOT_ACTIVE in passes and "Cấp thẻ" not in passes  # no button that could only fail
    _get(client, "/workers/import")
    _get(client, "/workers/new")
    _get(client, "/dashboard/data-quality")
    _get(client, "/enterprise/edit")
    # A change that needs the unit's rules is refused with the reason, and nothing is written.
    page = client.submit(f"/workers/{unit.worker_id}/edit", _form_of(client, unit.worker_id, phone="0912345678"),
                         follow_redirects=True)
    assert page.status_code == 200 and NOT_ACTIVE in page.get_data(as_text=True)
    assert _phone(client, unit.worker_id) != "0912345678"
    for refused in (client.submit(f"/passes/workers/{unit.worker_id}/issue", follow_redirects=True),
                    client.submit("/passes/issue-all", follow_redirects=True),
                    client.submit("/passes/print-sheet", follow_redirects=True)):
        assert refused.status_code == 200 and NOT_ACTIVE in refused.get_data(as_text=True)
    card = client.get(f"/passes/{unit.pass_id}.pdf")
    assert card.status_code == 409 and NOT_ACTIVE in card.get_data(as_text=True)
    # The worker's own download says so too (their card prints what the unit's plugin adds).
    worker = without(code)
    own = worker.submit("/the-xanh", {"citizen_id": f"0790900{UNITS.index(code):05d}", "date_of_birth": "17/05/1990",
                                      "phone_last4": "3456"})
    assert own.status_code == 200 and NOT_ACTIVE in own.get_data(as_text=True)
    # Re-evaluating says what the rules cannot: nobody of the unit is eligible while it is not active.
    assert client.submit("/eligibility/refresh", follow_redirects=True).status_code == 200
    assert "Quy định của đơn vị thí điểm quản lý người lao động này hiện không hoạt động" in _get(client, "/passes")


@pytest.mark.parametrize("code", UNITS)
def test_the_official_and_the_admin_walk_every_page_of_a_disabled_unit(pilot, without, code):
    unit = pilot[code]
    client = without(code)
    _login(client, unit.official)
    _get(client, "/officials/enterprises")
    _get(client, "/officials/enterprises?status=all")
    assert NOT_ACTIVE in _get(client, f"/enterprises/{unit.enterprise_id}")
    for url in ("/dashboard", "/dashboard/report", "/dashboard/data-quality",
                f"/dashboard/data-quality?enterprise={unit.enterprise_id}"):
        _get(client, url)
    # Approving needs the unit's rules: refused with the reason; suspending does not.
    approve = client.submit(f"/enterprises/{unit.pending_id}/decision", {"action": "approve", "version": 1},
                            follow_redirects=True)
    assert approve.status_code == 200 and NOT_ACTIVE in approve.get_data(as_text=True)
    suspend = client.submit(f"/enterprises/{unit.enterprise_id}/decision",
                            {"action": "suspend", "reason": "Tạm ngưng", "version": 1, "confirm": "y"},
                            follow_redirects=True)
    assert suspend.status_code == 200 and "bị tạm dừng" in suspend.get_data(as_text=True)
    client.submit("/logout")

    _login(client, "admin@example.vn")
    for url in ("/dashboard", f"/dashboard?unit={code}", "/dashboard/report", f"/dashboard/report?unit={code}",
                "/dashboard/data-quality", f"/dashboard/data-quality?unit={code}", "/officials/enterprises",
                f"/officials/enterprises?unit={code}&status=all", f"/enterprises/{unit.pending_id}"):
        _get(client, url)
    response = client.get("/dashboard/report.xlsx")
    assert response.status_code == 200
    response.close()


def test_the_other_units_keep_working_while_one_is_disabled(pilot, without):
    client = without("cangio")
    _login(client, pilot["district7"].hr)
    page = _get(client, "/passes")
    assert NOT_ACTIVE not in page and "Đủ điều kiện" in page


def _form_of(client, worker_id: int, **changes) -> dict:
    from portal.workers.forms import worker_form_data

    with client.application.app_context():
        data = worker_form_data(db.session.get(Worker, worker_id))
    return {key: value for key, value in {**data, **changes}.items() if value is not None}


def _phone(client, worker_id: int) -> str:
    with client.application.app_context():
        return db.session.get(Worker, worker_id).phone
