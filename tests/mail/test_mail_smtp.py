"""Mail over SMTP from a job, to a real local server: delivered, retried on a passing refusal, failed for good."""
from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.jobs.models import Job
from portal.mail.models import OutboxMail
from portal.mail.testing import body_of


def _ask_reset(client, email):
    return client.submit("/password/forgot", {"email": email})


def _mail(app) -> OutboxMail:
    with app.app_context():
        mail = db.session.scalar(select(OutboxMail).order_by(OutboxMail.id.desc()))
        db.session.expunge_all()
        return mail


def _jobs(app) -> list[Job]:
    with app.app_context():
        jobs = db.session.scalars(select(Job).where(Job.kind == "mail.send")).all()
        db.session.expunge_all()
        return jobs


def test_a_mail_is_sent_by_a_job_and_arrives(app, client, with_smtp, world):
    _ask_reset(client, world.official_x)
    [message] = with_smtp.wait_for(1)
    assert message["To"] == world.official_x
    assert message["From"] == "HCMC green card <no-reply@localhost>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_charset() == "utf-8"
    assert "Chào anh/chị Lê Văn Quận," in body_of(message)
    assert "/password/reset/" in body_of(message)
    mail = _mail(app)
    assert (mail.status, mail.attempts, mail.body) == ("sent", 1, "")  # its one-time link is not kept
    [job] = _jobs(app)
    assert job.status == "done" and job.params.get("mail_id") == mail.id
    assert "/password/reset/" not in str(job.params)  # the job holds no link


def test_a_passing_refusal_is_tried_again(app, client, with_smtp, world):
    with_smtp.refuse_next(2, "451 4.3.0 Mailbox busy, try again later")
    _ask_reset(client, world.hr_a)
    [message] = with_smtp.wait_for(1)
    assert message["To"] == world.hr_a
    mail = _mail(app)
    assert (mail.status, mail.attempts, mail.last_error) == ("sent", 3, None)


def test_a_permanent_refusal_fails_at_once_and_the_admin_sees_it(app, client, auth, runner, with_smtp, world):
    with_smtp.refuse_next(1, "550 5.1.1 No such user here")
    _ask_reset(client, world.hr_a)
    mail = _mail(app)
    assert mail.status == "failed" and mail.attempts == 1 and "550" in mail.last_error
    assert [job.status for job in _jobs(app)] == ["failed"]
    assert with_smtp.messages == []
    auth.login(world.admin)
    page = client.get("/admin/mail").get_data(as_text=True)
    assert "Gửi không được sau 1 lần thử" in page and "No such user here" in page
    # Queued again by the admin: this time the server takes it.
    result = runner.invoke(args=["mail", "retry"])
    assert result.exit_code == 0 and "1 mails queued again." in result.output
    assert with_smtp.wait_for(1)[0]["To"] == world.hr_a
    assert _mail(app).status == "sent"


def test_a_server_that_never_answers_leaves_the_mail_failed_after_every_attempt(app, client, world):
    from portal.extensions import mail as mailman
    from portal.mail.testing import free_port

    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), MAIL_RETRY_SECONDS=0, MAIL_SEND_ATTEMPTS=3,
                      MAIL_TIMEOUT=2)
    mailman.init_app(app)
    response = _ask_reset(client, world.hr_a)
    assert response.status_code == 302  # the request itself never fails for the mail
    mail = _mail(app)
    assert mail.status == "failed" and mail.attempts == 3
    assert "ConnectionRefusedError" in mail.last_error or "OSError" in mail.last_error
    assert mail.body  # not sent: the text is still there for the admin
