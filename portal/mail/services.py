"""Write mails into the outbox, send them over SMTP from a background job, read the outbox.

Every mail is rendered when it is written, in its recipient's language, from two templates:
``<name>.subject.txt`` and ``<name>.txt`` (plain text). Without ``MAIL_SERVER`` it stays in the
outbox (the embedded default: the city's admin reads it on a page, ``portal mail outbox`` prints
it). With ``MAIL_SERVER`` a ``mail.send`` job sends it once the writing transaction commits, so a
slow SMTP server never holds a request; the job tries ``MAIL_SEND_ATTEMPTS`` times before the
mail is marked failed (``portal mail retry`` queues failed mails again).
"""
from __future__ import annotations

import logging
import smtplib
import time
from email.utils import make_msgid

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.clock import utcnow
from portal.jobs.services import Outcome
from portal.mail.models import MailStatus, OutboxMail
from portal.messages import Refusal
from portal.navigation import external_url  # noqa: F401  (the name mail code uses)

log = logging.getLogger(__name__)

SEND_JOB = "mail.send"

#: Defaults of the settings an operator may override in the app config (MAIL_SERVER, MAIL_PORT,
#: MAIL_USERNAME, MAIL_PASSWORD, MAIL_USE_TLS, MAIL_USE_SSL, MAIL_TIMEOUT are Flask-Mailman's).
DEFAULTS = {
    "MAIL_DEFAULT_SENDER": "HCMC green card <no-reply@localhost>",
    "MAIL_SEND_ATTEMPTS": 4,
    "MAIL_RETRY_SECONDS": 30.0,  # pause before the 2nd attempt; then twice, three times as long
}


def setting(key: str, app=None):
    value = (app or current_app).config.get(key)
    return DEFAULTS[key] if value is None else value


def sends_over_smtp(app=None) -> bool:
    """Say whether mails leave over SMTP (MAIL_SERVER set) or stay in the outbox."""
    return bool((app or current_app).config.get("MAIL_SERVER"))


def queue_mail(session: Session, *, to: str, template: str, context: dict, kind: str, locale: str = "vi",
               user_id: int | None = None, secret: bool = False) -> OutboxMail:
    """Render a mail in ``locale`` and add it to the outbox in ``session`` (not committed).

    With a mail server it is sent by a job after the commit; nothing is sent if the caller rolls back.
    """
    with force_locale(locale):
        subject = " ".join(render_template(f"{template}.subject.txt", **context).split())[:255]
        body = render_template(f"{template}.txt", **context).strip() + "\n"
    smtp = sends_over_smtp()
    mail = OutboxMail(to_address=to, subject=subject, body=body, secret=secret, kind=kind, locale=locale,
                      user_id=user_id, status=(MailStatus.QUEUED if smtp else MailStatus.KEPT).value,
                      attempts=0, created_at=utcnow())
    session.add(mail)
    session.flush()
    if smtp:
        from portal.jobs.services import enqueue

        enqueue(session, SEND_JOB, {"mail_id": mail.id})
    log.info("mail %s (%s) to user %s %s", mail.id, kind, user_id, "queued for SMTP" if smtp else "kept in the outbox")
    return mail


def on_account_mail_due(user, *, session: Session, template: str, kind: str, context: dict,
                        secret: bool = False, **_ignored) -> None:
    """Queue the mail an account needs (a confirmation or a reset link): a receiver wired in portal.wiring."""
    queue_mail(session, to=user.email, template=template, locale=user.locale, user_id=user.id, kind=kind,
               secret=secret, context={"user": user, **context})


# ---------------------------------------------------------------------------
# Sending (the job)
# ---------------------------------------------------------------------------

def _permanent(error: Exception) -> bool:
    """Say whether the server refused for good (5xx), so trying again cannot help."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _message in error.recipients.values())
    return isinstance(error, smtplib.SMTPResponseException) and error.smtp_code >= 500


def deliver(app, mail: OutboxMail) -> None:
    """Send one outbox mail over SMTP now (raises what smtplib raises)."""
    from flask_mailman import EmailMessage

    sender = setting("MAIL_DEFAULT_SENDER", app)
    domain = sender.rpartition("@")[2].strip(" >") or "localhost"
    connection = app.extensions["mailman"].get_connection(fail_silently=False)
    message = EmailMessage(subject=mail.subject, body=mail.body, from_email=sender, to=[mail.to_address],
                           headers={"Message-ID": make_msgid(domain=domain), "Auto-Submitted": "auto-generated"},
                           connection=connection)
    connection.open()
    smtp = connection.connection
    try:
        message.send()
    finally:
        # Flask-Mailman leaves the connection open when the server refuses a message: close it here.
        try:
            connection.close()
        except (smtplib.SMTPException, OSError):
            if smtp is not None:
                smtp.close()


def send_mail_job(ctx, *, mail_id: int):
    """Send outbox mail ``mail_id`` over SMTP, trying again on a passing failure; commit each attempt."""
    app = current_app._get_current_object()
    session = ctx.session
    attempts = max(1, int(setting("MAIL_SEND_ATTEMPTS", app)))
    pause = float(setting("MAIL_RETRY_SECONDS", app))
    for attempt in range(1, attempts + 1):
        mail = session.get(OutboxMail, mail_id)
        if mail is None or mail.status == MailStatus.SENT.value:
            session.rollback()
            return Outcome({"sent": False}, summary=_l("Nothing to send: this mail was already sent or deleted."))
        try:
            deliver(app, mail)
        except (smtplib.SMTPException, OSError) as error:
            final = attempt == attempts or _permanent(error)
            mail.attempts += 1
            mail.last_error = f"{type(error).__name__}: {error}"[:500]
            mail.status = (MailStatus.FAILED if final else MailStatus.QUEUED).value
            session.commit()
            log.warning("mail %s: attempt %s of %s failed (%s)", mail_id, attempt, attempts, type(error).__name__)
            if final:
                raise Refusal(_l("The mail could not be sent: %(error)s", error=mail.last_error)) from None
            time.sleep(pause * attempt)
            continue
        mail.attempts += 1
        mail.status, mail.sent_at, mail.last_error = MailStatus.SENT.value, utcnow(), None
        if mail.secret:
            mail.body = ""
        session.commit()
        return Outcome({"sent": True}, summary=_l("1 mail sent (attempt %(attempt)s of %(attempts)s).",
                                                  attempt=attempt, attempts=attempts))
    return {"sent": False}  # not reached: the loop returns or raises


def retry_failed(session: Session) -> int:
    """Queue every failed mail again (not committed); return how many."""
    from portal.jobs.services import enqueue

    if not sends_over_smtp():
        return 0
    mails = session.scalars(select(OutboxMail).where(OutboxMail.status == MailStatus.FAILED.value)).all()
    for mail in mails:
        mail.status = MailStatus.QUEUED.value
        enqueue(session, SEND_JOB, {"mail_id": mail.id})
    return len(mails)


# ---------------------------------------------------------------------------
# Reading the outbox
# ---------------------------------------------------------------------------

def latest_mails(session: Session, *, limit: int, offset: int = 0, to: str | None = None) -> list[OutboxMail]:
    query = select(OutboxMail).order_by(OutboxMail.id.desc()).limit(limit).offset(offset)
    if to:
        query = query.where(OutboxMail.to_address == to.strip().lower())
    return list(session.scalars(query))


def count_mails(session: Session, *, to: str | None = None) -> int:
    query = select(func.count()).select_from(OutboxMail)
    if to:
        query = query.where(OutboxMail.to_address == to.strip().lower())
    return session.scalar(query) or 0
