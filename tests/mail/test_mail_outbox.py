"""The embedded default: no mail server, mails wait in the outbox that the admin reads (page and CLI)."""
from __future__ import annotations

from portal.mail.models import OutboxMail


def _ask_reset(client, email):
    return client.submit("/password/forgot", {"email": email})


def test_without_a_mail_server_mails_wait_in_the_outbox_for_the_admin(app, client, auth, outbox, world):
    _ask_reset(client, world.hr_a)
    [mail] = outbox()
    assert (mail.status, mail.to_address, mail.kind, mail.attempts) == ("kept", world.hr_a, "auth.reset", 0)
    auth.login(world.admin)
    page = client.get("/admin/mail").get_data(as_text=True)
    assert "Chưa cấu hình máy chủ thư" in page
    assert "Đặt mật khẩu mới trên cổng thẻ xanh TP.HCM" in page and world.hr_a in page
    assert "/password/reset/" in page and "Trong hộp thư đi" in page
    assert 'href="/admin/mail"' in page  # in the admin's navigation
    filtered = client.get("/admin/mail?to=nobody@example.vn").get_data(as_text=True)
    assert "Chưa có thư nào." in filtered


def test_only_the_admin_reads_the_outbox(client, auth, world):
    assert client.get("/admin/mail").headers["Location"].startswith("/login")
    for who in ("hr_a", "official_x"):
        auth.login(getattr(world, who))
        assert client.get("/admin/mail").status_code == 403
        auth.logout()


def test_the_outbox_pages_and_survives_odd_page_numbers(app, client, auth, world):
    from portal.extensions import db

    with app.app_context():
        db.session.add_all(OutboxMail(to_address=f"n{i}@example.vn", subject=f"Thư số {i}", body="…", kind="test",
                                      locale="vi", status="kept", attempts=0) for i in range(30))
        db.session.commit()
    auth.login(world.admin)
    first = client.get("/admin/mail").get_data(as_text=True)
    assert "Thư số 29<" in first and "Thư số 5<" in first and "Thư số 4<" not in first
    second = client.get("/admin/mail?page=2").get_data(as_text=True)
    assert "Thư số 4<" in second and "Thư số 0<" in second and "Thư số 5<" not in second
    for page in ("0", "-3", "abc", str(2**70)):
        assert client.get(f"/admin/mail?page={page}").status_code == 200


def test_portal_mail_outbox_prints_the_mails(app, client, runner, world):
    empty = runner.invoke(args=["mail", "outbox"])
    assert empty.exit_code == 0 and "The outbox is empty." in empty.output
    _ask_reset(client, world.hr_a)
    _ask_reset(client, world.hr_b)
    result = runner.invoke(args=["mail", "outbox", "--to", world.hr_b])
    assert result.exit_code == 0, result.output
    assert f"To: {world.hr_b}" in result.output and world.hr_a not in result.output
    assert "Subject: Đặt mật khẩu mới trên cổng thẻ xanh TP.HCM" in result.output
    assert "/password/reset/" in result.output and "[kept]" in result.output
    both = runner.invoke(args=["mail", "outbox", "--limit", "5"])
    assert both.output.count("Subject:") == 2


def test_portal_mail_retry_needs_a_mail_server(runner):
    result = runner.invoke(args=["mail", "retry"])
    assert result.exit_code != 0 and "MAIL_SERVER is not set" in result.output
