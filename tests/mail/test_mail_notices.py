"""Notices: HR hear of their enterprise's approval, rejection or suspension; a requester, of a print sheet."""
from __future__ import annotations

import re

from sqlalchemy import select

from portal.auth.models import User
from portal.extensions import db
from portal.mail.testing import body_of
from portal.testing.fixtures import make_enterprise


def _version(client, enterprise_id: int) -> str:
    page = client.get(f"/enterprises/{enterprise_id}").get_data(as_text=True)
    return re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)


def _decide(client, enterprise_id: int, action: str, reason: str = ""):
    response = client.submit(f"/enterprises/{enterprise_id}/decision",
                             {"action": action, "reason": reason, "version": _version(client, enterprise_id),
                              "confirm": "y"})
    assert response.status_code == 302, response.get_data(as_text=True)


def _pending_enterprise_with_hr(app, *hr: tuple[str, str, bool]) -> int:
    """Add a pending District 7 enterprise and its HR accounts (email, language, confirmed)."""
    from portal.auth.services import create_user

    registry = app.extensions["portal.plugins"].registry
    with app.test_request_context():
        enterprise = make_enterprise(db.session, registry, "district7", "Công ty CP Bình Minh", "0309876547",
                                     status="pending")
        for email, locale, confirmed in hr:
            user = create_user(db.session, email=email, password="mat-khau-that-dai", full_name="Đặng Thu Thảo",
                               role="hr", enterprise=enterprise, locale=locale)
            if not confirmed:
                user.email_confirmed_at = None
        db.session.commit()
        return enterprise.id


def test_hr_accounts_hear_of_approval_rejection_and_suspension_in_their_language(app, client, auth, outbox,
                                                                                 world):
    enterprise_id = _pending_enterprise_with_hr(app, ("vi@binhminh.vn", "vi", True), ("en@binhminh.vn", "en", True),
                                                ("chua.xac.nhan@binhminh.vn", "vi", False))
    auth.login(world.official_x)
    _decide(client, enterprise_id, "reject", "Thiếu giấy phép kinh doanh")
    rejected = {mail.to_address: mail for mail in outbox() if mail.kind == "enterprise.rejected"}
    assert rejected.keys() == {"vi@binhminh.vn", "en@binhminh.vn"}  # not the unconfirmed address
    assert rejected["vi@binhminh.vn"].subject == "Hồ sơ đăng ký của Công ty CP Bình Minh chưa được phê duyệt"
    assert "Lý do: Thiếu giấy phép kinh doanh" in rejected["vi@binhminh.vn"].body
    assert rejected["en@binhminh.vn"].subject == "The registration of Công ty CP Bình Minh was not approved"
    assert "Reason: Thiếu giấy phép kinh doanh" in rejected["en@binhminh.vn"].body
    assert "/enterprise" in rejected["vi@binhminh.vn"].body

    _decide(client, enterprise_id, "approve")
    approved = [mail for mail in outbox("vi@binhminh.vn") if mail.kind == "enterprise.approved"]
    assert approved[0].subject == "Công ty CP Bình Minh đã được phê duyệt tham gia thí điểm thẻ xanh"

    _decide(client, enterprise_id, "suspend", "Vi phạm quy định 5K")
    suspended = [mail for mail in outbox("en@binhminh.vn") if mail.kind == "enterprise.suspended"]
    assert suspended[0].subject == "Công ty CP Bình Minh is suspended from the green card pilot"
    assert "Reason: Vi phạm quy định 5K" in suspended[0].body

    _decide(client, enterprise_id, "reinstate")
    reinstated = [mail for mail in outbox("vi@binhminh.vn") if mail.kind == "enterprise.approved"]
    assert reinstated[0].subject == "Công ty CP Bình Minh được dùng lại thẻ xanh"
    assert len(outbox("chua.xac.nhan@binhminh.vn")) == 0


def test_a_decision_that_fails_sends_nothing(app, client, auth, outbox, world):
    enterprise_id = _pending_enterprise_with_hr(app, ("vi@binhminh.vn", "vi", True))
    auth.login(world.official_x)
    version = _version(client, enterprise_id)
    client.submit(f"/enterprises/{enterprise_id}/decision", {"action": "approve", "reason": "", "version": version})
    stale = client.submit(f"/enterprises/{enterprise_id}/decision",
                          {"action": "suspend", "reason": "Cũ", "version": version, "confirm": "y"})
    assert stale.status_code in (200, 302, 409)
    assert [mail.kind for mail in outbox()] == ["enterprise.approved"]


def test_the_language_chosen_on_the_account_page_is_the_mails(app, client, auth, outbox, world):
    auth.login(world.hr_a)
    page = client.get("/account").get_data(as_text=True)
    assert '<input checked id="locale-0" name="locale" required type="radio" value="vi">' in page
    response = client.submit("/account/language", {"locale": "en"})
    assert response.status_code == 302
    assert client.submit("/account/language", {"locale": "fr"}).status_code == 400
    with app.app_context():
        assert db.session.scalar(select(User.locale).where(User.email == world.hr_a)) == "en"
    auth.logout()
    client.submit("/password/forgot", {"email": world.hr_a})
    assert outbox(world.hr_a)[0].subject == "Set a new password for the HCMC green card portal"


def test_the_print_sheet_requester_gets_the_link_over_smtp(app, client, auth, with_smtp, world):
    from portal.passes.issuing import issue_pass

    registry = app.extensions["portal.plugins"].registry
    with app.test_request_context():
        from portal.workers.models import Worker

        hr_a = db.session.scalar(select(User).where(User.email == world.hr_a))
        issue_pass(db.session, registry, db.session.get(Worker, world.worker_a), hr_a)
        db.session.commit()
    auth.login(world.hr_a)
    response = client.submit("/passes/print-sheet")
    job_path = response.headers["Location"]
    [message] = with_smtp.wait_for(1)
    assert message["To"] == world.hr_a
    assert message["Subject"].strip() == "Bản in thẻ xanh của anh/chị đã sẵn sàng"
    body = body_of(message)
    assert "(1 thẻ)" in body and f"http://localhost{job_path}" in body
    assert client.get(job_path, headers={"Accept": "application/json"}).get_json()["status"] == "done"
    # The link is no good to anyone else.
    auth.logout()
    auth.login(world.hr_b)
    assert client.get(job_path).status_code == 404
