"""Fixtures of the account tests: mails in the outbox, a real SMTP server, an enrolled second factor."""
from __future__ import annotations

import time
from urllib.parse import urlsplit

import pyotp
import pytest
from sqlalchemy import select

from portal.auth.models import User
from portal.extensions import db
from portal.mail.testing import SMTPTestServer, links_in


@pytest.fixture
def outbox(app):
    """Return a function listing the outbox's mails (newest first), optionally those to one address."""
    from portal.mail.models import OutboxMail

    def mails(to: str | None = None) -> list:
        with app.app_context():
            query = select(OutboxMail).order_by(OutboxMail.id.desc())
            if to:
                query = query.where(OutboxMail.to_address == to)
            rows = db.session.scalars(query).all()
            db.session.expunge_all()
            return rows

    return mails


def path_of(link: str) -> str:
    """Return the path (and query) of an absolute link, for the test client."""
    parts = urlsplit(link)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def link_in(body: str, fragment: str) -> str:
    """Return the path of the one link in ``body`` containing ``fragment``."""
    found = [link for link in links_in(body) if fragment in link]
    assert len(found) == 1, body
    return path_of(found[0])


@pytest.fixture
def smtp_server():
    with SMTPTestServer() as server:
        yield server


@pytest.fixture
def with_smtp(app, smtp_server):
    """Send the app's mails to the local SMTP server (configured after the app is made)."""
    from portal.extensions import mail

    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port, MAIL_RETRY_SECONDS=0,
                      MAIL_TIMEOUT=5)
    mail.init_app(app)
    return smtp_server


class TOTPHelper:
    """Enrol users in two-factor sign-in directly, and make the codes their app would show."""

    def __init__(self, app):
        self.app = app
        self.secrets: dict[str, str] = {}

    def enrol(self, email: str) -> list[str]:
        from portal.auth import twofactor

        secret = pyotp.random_base32()
        with self.app.test_request_context():
            user = db.session.scalar(select(User).where(User.email == email))
            codes = twofactor.enable(db.session, user, secret, pyotp.TOTP(secret).now())
            user.totp_last_step = None  # the enrolment code is not the one the tests sign in with
            db.session.commit()
        self.secrets[email] = secret
        return codes

    def code(self, email: str) -> str:
        """Return a code not used yet: this time step's, or the next one's when this one was used."""
        with self.app.app_context():
            last = db.session.scalar(select(User.totp_last_step).where(User.email == email))
        totp = pyotp.TOTP(self.secrets[email])
        step = int(time.time()) // totp.interval
        if last is not None and last >= step:
            step = last + 1
        return totp.generate_otp(step)


@pytest.fixture
def totp(app):
    return TOTPHelper(app)
