"""Revoking a card: HR of its enterprise, an official of its unit or the admin; nobody else learns it exists."""
from __future__ import annotations

from datetime import datetime, time

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.clock import HCMC, local_today
from portal.extensions import db


def _revoke(client, pass_id: int, **data):
    return client.submit(f"/passes/{pass_id}/revoke", {"reason": "f0", "note": "", **data})


@pytest.mark.parametrize("who", ["hr_a", "official_x", "admin"])
def test_hr_the_units_official_and_the_admin_may_revoke(client, auth, app, world, helpers, who):
    pass_id = helpers.issue(world.worker_a, world.hr_a)
    auth.login(getattr(world, who))
    response = _revoke(client, pass_id, note="  Xét nghiệm   dương tính 12/10 ")
    assert response.status_code == 302
    revoked = helpers.pass_of(world.worker_a, active_only=False)
    assert revoked.status == "revoked" and revoked.revoked_at is not None
    # Kept as a code and the words typed; shown in the reader's language.
    assert revoked.revocation_code == "f0"
    assert revoked.revocation_note == {"id": "Xét nghiệm dương tính 12/10", "params": {}, "literal": True}
    assert helpers.revocation_of(world.worker_a) == ("Người lao động dương tính với COVID-19 (F0) — "
                                                     "Xét nghiệm dương tính 12/10")
    with app.test_request_context(headers={"Cookie": "lang=en"}):
        assert str(revoked.revocation) == "The worker tested positive for COVID-19 (F0) — Xét nghiệm dương tính 12/10"
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "pass.revoked"))
        assert event.actor_label == getattr(world, who) and event.object_id == pass_id
        assert event.reason == "f0" and event.after["note"] == revoked.revocation_note
    # The checkpoint sees it at once.
    from portal.passes.models import Pass
    from portal.printing.card import build_card
    from portal.verify.services import verify

    with app.app_context():
        registry = app.extensions["portal.plugins"].registry
        token = build_card(db.session.get(Pass, pass_id), registry, base_url="https://x.test").token
        now = datetime.combine(local_today(), time(7), tzinfo=HCMC)
        assert verify(db.session, token, now=now).outcome.value == "revoked"


def test_hr_goes_back_to_the_cards_page_and_officials_to_the_enterprise(client, auth, world, helpers):
    pass_id = helpers.issue(world.worker_a, world.hr_a)
    auth.login(world.official_x)
    response = _revoke(client, pass_id)
    assert response.headers["Location"] == f"/enterprises/{world.enterprise_a}"
    auth.logout()
    other = helpers.add_worker(world.enterprise_a, "079092006666", "Mai Văn Tú")
    other_pass = helpers.issue(other, world.hr_a)
    auth.login(world.hr_a)
    response = _revoke(client, other_pass, next="/passes?show=with_pass")
    assert response.headers["Location"] == "/passes?show=with_pass"
    response = _revoke(client, other_pass, next="https://evil.example/")
    assert response.headers["Location"] == "/passes"


@pytest.mark.parametrize("who", ["hr_b", "official_y"])
def test_others_get_404_and_the_card_stays_active(client, auth, world, helpers, who):
    pass_id = helpers.issue(world.worker_a, world.hr_a)
    auth.login(getattr(world, who))
    assert _revoke(client, pass_id).status_code == 404
    assert _revoke(client, 999999).status_code == 404
    assert helpers.pass_of(world.worker_a).status == "active"


def test_anonymous_cannot_revoke(client, world, helpers):
    pass_id = helpers.issue(world.worker_a, world.hr_a)
    response = _revoke(client, pass_id)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert helpers.pass_of(world.worker_a).status == "active"


def test_revoking_needs_csrf_and_a_reason(client, auth, world, helpers):
    pass_id = helpers.issue(world.worker_a, world.hr_a)
    auth.login(world.hr_a)
    assert client.post(f"/passes/{pass_id}/revoke", data={"reason": "f0"}).status_code == 400
    page = client.submit(f"/passes/{pass_id}/revoke", {"reason": "other", "note": "  "},
                         follow_redirects=True).get_data(as_text=True)
    assert "Vui lòng ghi rõ lý do thu hồi thẻ." in page
    page = client.submit(f"/passes/{pass_id}/revoke", {"reason": "bogus"}, follow_redirects=True).get_data(as_text=True)
    assert "flash-error" in page
    page = client.submit(f"/passes/{pass_id}/revoke", {"reason": "other", "note": "x" * 501},
                         follow_redirects=True).get_data(as_text=True)
    assert "flash-error" in page
    assert helpers.pass_of(world.worker_a).status == "active"
    client.submit(f"/passes/{pass_id}/revoke", {"reason": "other", "note": "Nghỉ thai sản"})
    assert helpers.revocation_of(world.worker_a) == "Nghỉ thai sản"


def test_revoking_twice_says_so(client, auth, world, helpers):
    pass_id = helpers.issue(world.worker_a, world.hr_a)
    auth.login(world.hr_a)
    _revoke(client, pass_id)
    page = client.submit(f"/passes/{pass_id}/revoke", {"reason": "left"}, follow_redirects=True).get_data(as_text=True)
    assert "Thẻ xanh này đã bị thu hồi trước đó." in page
    assert "dương tính" in helpers.revocation_of(world.worker_a)


def test_the_revoke_form_is_on_the_cards_page(client, auth, world, helpers):
    pass_id = helpers.issue(world.worker_a, world.hr_a)
    auth.login(world.hr_a)
    page = client.get("/passes").get_data(as_text=True)
    assert f'action="/passes/{pass_id}/revoke"' in page
    assert 'value="f0"' in page and "Người lao động dương tính với COVID-19 (F0)" in page
