"""E-mail confirmation at registration: the mail reaches a real SMTP server, its link confirms once."""
from __future__ import annotations

import time

import pytest
import time_machine
from sqlalchemy import select

from portal.auth.models import User
from portal.extensions import db
from portal.mail.testing import body_of, link_in

EMAIL = "nhansu@saigonxanh.vn"


@pytest.fixture
def registration_form():
    return {
        "full_name": "Trần Thị Hạnh", "account_email": EMAIL, "password": "mat-khau-that-dai",
        "confirm": "mat-khau-that-dai", "name": "Công ty TNHH Thực phẩm Sài Gòn Xanh", "tax_code": "0309876547",
        "address": "12 Nguyễn Văn Linh", "ward": "Tân Phong", "district": "Quận 7", "unit": "district7",
        "business_type": "district7:essential_production", "sector": "district7:food_processing", "location": "",
        "headcount": "120", "contact_name": "Lê Thị Hoa", "phone": "0909 123 456", "email": "lienhe@saigonxanh.vn",
    }


def _register(client, form):
    response = client.submit("/enterprises/register", form)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def _user(app, email=EMAIL) -> User:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        db.session.expunge_all()
        return user


def test_the_confirmation_mail_arrives_over_smtp_and_its_link_confirms_once(app, client, with_smtp,
                                                                           registration_form):
    _register(client, registration_form)
    message = with_smtp.wait_for(1)[0]
    assert message["To"] == EMAIL
    assert message["Subject"].strip() == "Xác nhận email trên cổng thẻ xanh TP.HCM"
    body = body_of(message)
    assert "Chào anh/chị Trần Thị Hạnh" in body
    assert not _user(app).email_confirmed

    # Until then, every page sends the new HR user to the confirmation page.
    for page in ("/enterprise", "/workers", "/home", "/account"):
        response = client.get(page)
        assert response.status_code == 302 and response.headers["Location"] == "/account/confirm", page
    assert EMAIL in client.get("/account/confirm").get_data(as_text=True)

    link = link_in(body, "/email/confirm/")
    landed = client.get(link)
    assert landed.status_code == 302 and landed.headers["Location"] == "/email/confirm"  # the token leaves the URL
    page = client.get("/email/confirm").get_data(as_text=True)
    assert "Xác nhận email của tôi" in page and not _user(app).email_confirmed  # a GET confirms nothing
    confirmed = client.submit("/email/confirm")
    assert confirmed.status_code == 302 and confirmed.headers["Location"] == "/home"
    assert _user(app).email_confirmed
    assert client.get("/enterprise").status_code == 200

    # The same link again: refused with a clear message.
    client.get(link)
    again = client.submit("/email/confirm")
    assert again.status_code == 200
    assert "Email này đã được xác nhận" in again.get_data(as_text=True)
    # The mail left over SMTP; its one-time link is not kept in the outbox.
    from portal.mail.models import OutboxMail

    with app.app_context():
        mail = db.session.scalar(select(OutboxMail))
        assert (mail.status, mail.body, mail.attempts) == ("sent", "", 1)


def test_the_link_works_from_another_browser_without_signing_in(app, client, outbox, registration_form):
    _register(client, registration_form)
    link = link_in(outbox(EMAIL)[0].body, "/email/confirm/")
    phone = app.test_client()
    phone.get(link)
    page = phone.get("/email/confirm").get_data(as_text=True)
    import re

    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = phone.post("/email/confirm", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert _user(app).email_confirmed


def test_a_confirmation_link_expires(app, client, outbox, registration_form):
    _register(client, registration_form)
    link = link_in(outbox(EMAIL)[0].body, "/email/confirm/")
    app.config["EMAIL_CONFIRM_MAX_AGE"] = 3600
    with time_machine.travel(time.time() + 3601, tick=False):
        client.get(link)
        response = client.submit("/email/confirm")
    assert "Đường dẫn đã hết hạn" in response.get_data(as_text=True)
    assert not _user(app).email_confirmed


@pytest.mark.parametrize("token", ["not-a-token", "eyJ1IjoxLCJlIjoieEB5LnZuIn0.forged.signature"])
def test_a_forged_link_confirms_nothing(app, client, outbox, registration_form, token):
    _register(client, registration_form)
    client.get(f"/email/confirm/{token}")
    response = client.submit("/email/confirm")
    assert "Đường dẫn không hợp lệ" in response.get_data(as_text=True)
    assert not _user(app).email_confirmed


def test_a_mistyped_address_is_corrected_and_the_old_link_stops_working(app, client, outbox, world,
                                                                       registration_form):
    _register(client, registration_form)
    old_link = link_in(outbox(EMAIL)[0].body, "/email/confirm/")
    wrong = client.submit("/account/confirm/address", {"email": "nhansu@saigonxanh.com.vn", "password": "sai-mat-khau"})
    assert wrong.status_code == 400 and "Mật khẩu không đúng." in wrong.get_data(as_text=True)
    taken = client.submit("/account/confirm/address", {"email": "hr.a@example.vn", "password": "mat-khau-that-dai"})
    assert "Đã có tài khoản dùng email này." in taken.get_data(as_text=True)
    response = client.submit("/account/confirm/address", {"email": "NhanSu@SaiGonXanh.com.vn",
                                                          "password": "mat-khau-that-dai"})
    assert response.status_code == 302 and response.headers["Location"] == "/account/confirm"
    new_address = "nhansu@saigonxanh.com.vn"
    assert "Email của bạn giờ là nhansu@saigonxanh.com.vn" in client.get("/account/confirm").get_data(as_text=True)
    client.get(old_link)
    assert "email của tài khoản đã thay đổi" in client.submit("/email/confirm").get_data(as_text=True)
    client.get(link_in(outbox(new_address)[0].body, "/email/confirm/"))
    assert client.submit("/email/confirm").status_code == 302
    assert _user(app, new_address).email_confirmed


def test_resending_the_link_is_rate_limited(app, client, outbox, registration_form):
    app.config["CONFIRM_RESEND_RATE_LIMIT"] = "2 per hour"
    _register(client, registration_form)
    for _ in range(2):
        assert client.submit("/account/confirm/resend").status_code == 302
    assert client.submit("/account/confirm/resend").status_code == 429
    assert len(outbox(EMAIL)) == 3  # the first mail and two resent


def test_an_unconfirmed_account_signs_in_only_to_confirm(app, client, auth, outbox, registration_form):
    _register(client, registration_form)
    auth.logout()
    response = auth.login(EMAIL, password="mat-khau-that-dai")
    assert response.status_code == 302
    assert client.get("/passes").headers["Location"] == "/account/confirm"
    with client.get("/static/css/portal.css") as stylesheet:
        assert stylesheet.status_code == 200
    assert client.get("/lang/en").status_code == 302
    assert "We sent a confirmation link" in client.get("/account/confirm").get_data(as_text=True)


def test_the_mail_is_written_in_the_language_the_person_registered_in(app, client, outbox, registration_form):
    client.get("/lang/en")
    _register(client, registration_form)
    mail = outbox(EMAIL)[0]
    assert mail.subject == "Confirm your email for the HCMC green card portal"
    assert mail.locale == "en" and _user(app).locale == "en"
