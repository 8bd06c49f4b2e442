"""Officials revoke a single green card from the enterprise's page; the checkpoint sees it at once."""
from sqlalchemy import select

from portal.auth.models import User
from portal.extensions import db
from portal.passes.issuing import issue_pass
from portal.passes.models import Pass
from portal.verify.services import verify
from portal.workers.models import Worker


def _issue(app, world) -> int:
    with app.test_request_context():
        hr_a = db.session.scalar(select(User).where(User.email == world.hr_a))
        pass_ = issue_pass(db.session, app.extensions["portal.plugins"].registry,
                           db.session.get(Worker, world.worker_a), hr_a)
        db.session.commit()
        return pass_.id


def test_the_unit_official_sees_and_revokes_a_card_from_the_enterprise_page(app, client, auth, world):
    pass_id = _issue(app, world)
    with app.app_context():
        serial = db.session.get(Pass, pass_id).serial
    auth.login(world.official_x)
    page = client.get(f"/enterprises/{world.enterprise_a}?card=nguyen").get_data(as_text=True)
    assert serial in page and "Nguyễn Văn An" in page and "Thu hồi" in page
    assert "Không có thẻ xanh phù hợp." in client.get(f"/enterprises/{world.enterprise_a}?card=zzz").get_data(
        as_text=True)
    response = client.submit(f"/passes/{pass_id}/revoke",
                             {"reason": "f0", "note": "", "next": f"/enterprises/{world.enterprise_a}"})
    assert response.status_code == 302 and response.headers["Location"] == f"/enterprises/{world.enterprise_a}"
    with app.test_request_context():
        card = db.session.get(Pass, pass_id)
        assert card.status == "revoked" and card.revoked_by.email == world.official_x
        from portal.printing.card import build_card

        token = build_card(card, app.extensions["portal.plugins"].registry, base_url="http://x").token
        outcome = verify(db.session, token).outcome
    assert outcome.value == "revoked"
    assert "Thu hồi" not in client.get(f"/enterprises/{world.enterprise_a}").get_data(as_text=True)


def test_hr_and_other_units_see_no_card_list_on_the_page(app, client, auth, world):
    _issue(app, world)
    auth.login(world.hr_a)
    assert 'id="cards"' not in client.get(f"/enterprises/{world.enterprise_a}").get_data(as_text=True)
    auth.logout()
    auth.login(world.official_y)
    assert client.get(f"/enterprises/{world.enterprise_a}").status_code == 404
