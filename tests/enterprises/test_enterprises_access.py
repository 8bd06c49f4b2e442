"""Who may reach each enterprise page: anonymous, HR of A and of B, each unit's official, the city admin."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.enterprises.models import Enterprise

ROLES = ["anonymous", "hr_a", "hr_b", "official_x", "official_y", "admin"]


def _as(auth, world, role: str) -> None:
    if role != "anonymous":
        auth.login(getattr(world, role))


def _is_login_redirect(response) -> bool:
    return response.status_code == 302 and "/login?next=" in response.headers["Location"]


# role → expected answer; "login" means a redirect to the sign-in page
HR_PAGES = {"anonymous": "login", "hr_a": 200, "hr_b": 200, "official_x": 403, "official_y": 403, "admin": 403}
QUEUE = {"anonymous": "login", "hr_a": 403, "hr_b": 403, "official_x": 200, "official_y": 200, "admin": 200}
DETAIL_OF_A = {"anonymous": "login", "hr_a": 200, "hr_b": 404, "official_x": 200, "official_y": 404, "admin": 200}
DECIDE_ON_A = {"anonymous": "login", "hr_a": 403, "hr_b": 403, "official_x": 302, "official_y": 404, "admin": 302}


def _check(response, expected) -> None:
    if expected == "login":
        assert _is_login_redirect(response), (response.status_code, response.headers.get("Location"))
    else:
        assert response.status_code == expected


@pytest.mark.parametrize("role", ROLES)
def test_my_enterprise_and_its_edit_page(client, auth, world, role):
    _as(auth, world, role)
    _check(client.get("/enterprise"), HR_PAGES[role])
    _check(client.get("/enterprise/edit"), HR_PAGES[role])


@pytest.mark.parametrize("role", ROLES)
def test_edit_post(app, client, auth, world, role):
    _as(auth, world, role)
    response = client.submit("/enterprise/edit", {"contact_name": "Ngô Văn Mới", "phone": "0909 555 666",
                                                  "email": "moi@example.vn", "headcount": "60",
                                                  "address": "12 Nguyễn Văn Linh", "ward": "Tân Phong",
                                                  "district": "Quận 7", "version": "1"})
    expected = {"anonymous": "login", "hr_a": 302, "hr_b": 302, "official_x": 403, "official_y": 403, "admin": 403}
    _check(response, expected[role])
    from portal.extensions import db

    with app.app_context():
        changed = set(db.session.scalars(select(Enterprise.id).where(Enterprise.contact_name == "Ngô Văn Mới")))
    # HR changes only their own enterprise; nobody else changes any.
    assert changed == {"hr_a": {world.enterprise_a}, "hr_b": {world.enterprise_b}}.get(role, set())


@pytest.mark.parametrize("role", ROLES)
def test_queue(client, auth, world, role):
    _as(auth, world, role)
    response = client.get("/officials/enterprises?status=all")
    _check(response, QUEUE[role])
    if response.status_code == 200:
        page = response.get_data(as_text=True)
        sees_a, sees_b = "Công ty TNHH Ánh Dương" in page, "Hợp tác xã Bình Minh" in page
        assert (sees_a, sees_b) == {"official_x": (True, False), "official_y": (False, True),
                                    "admin": (True, True)}[role]


@pytest.mark.parametrize("role", ["official_x", "official_y"])
def test_an_official_cannot_widen_the_queue_with_the_unit_filter(client, auth, world, role):
    _as(auth, world, role)
    page = client.get("/officials/enterprises?status=all&unit=cugi&unit=district7").get_data(as_text=True)
    assert ("Hợp tác xã Bình Minh" in page) == (role == "official_y")
    assert ("Công ty TNHH Ánh Dương" in page) == (role == "official_x")


@pytest.mark.parametrize("role", ROLES)
def test_detail(client, auth, world, role):
    _as(auth, world, role)
    _check(client.get(f"/enterprises/{world.enterprise_a}"), DETAIL_OF_A[role])


def test_detail_of_an_enterprise_that_does_not_exist_is_404(client, auth, world):
    auth.login(world.admin)
    assert client.get("/enterprises/999999").status_code == 404


@pytest.mark.parametrize("role", ROLES)
def test_decision(app, client, auth, world, role):
    _as(auth, world, role)
    response = client.submit(f"/enterprises/{world.enterprise_a}/decision",
                             {"action": "suspend", "reason": "Phát hiện ca F0", "version": "1",
                              "confirm": "y"})
    _check(response, DECIDE_ON_A[role])
    from portal.extensions import db

    with app.app_context():
        status = db.session.get(Enterprise, world.enterprise_a).status
    assert status == ("suspended" if DECIDE_ON_A[role] == 302 else "approved")


def test_decision_form_is_shown_only_to_those_who_may_decide(client, auth, world):
    for role, shown in (("hr_a", False), ("official_x", True), ("admin", True)):
        auth.login(getattr(world, role))
        page = client.get(f"/enterprises/{world.enterprise_a}").get_data(as_text=True)
        assert (f'action="/enterprises/{world.enterprise_a}/decision"' in page) == shown, role
        auth.logout()


def test_decision_without_csrf_token_is_refused(app, client, auth, world):
    auth.login(world.official_x)
    response = client.post(f"/enterprises/{world.enterprise_a}/decision",
                           data={"action": "suspend", "reason": "F0", "version": "1"})
    assert response.status_code == 400
    from portal.extensions import db

    with app.app_context():
        assert db.session.get(Enterprise, world.enterprise_a).status == "approved"


def test_edit_without_csrf_token_is_refused(client, auth, world):
    auth.login(world.hr_a)
    assert client.post("/enterprise/edit", data={"contact_name": "X", "version": "1"}).status_code == 400


def test_decisions_are_post_only(client, auth, world):
    auth.login(world.official_x)
    assert client.get(f"/enterprises/{world.enterprise_a}/decision").status_code == 405


def test_every_enterprise_route_is_guarded(app):
    """A route added later without a role check fails here (the registration page is the public one)."""
    public = {"enterprises.register"}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("enterprises.") and rule.endpoint not in public:
            view = app.view_functions[rule.endpoint]
            assert getattr(view, "allowed_roles", None), rule.endpoint
