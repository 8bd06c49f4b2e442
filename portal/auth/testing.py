"""Two-factor sign-in in tests: enrol a user directly and make the codes their app would show.

The ``totp`` fixture is imported by the conftest of the test folders that use it.
"""
from __future__ import annotations

import time

import pyotp
import pytest
from sqlalchemy import select

from portal.auth.models import User
from portal.extensions import db


class TOTPHelper:
    """Enrol users in two-factor sign-in directly, and make the codes their app would show."""

    def __init__(self, app):
        self.app = app
        self.secrets: dict[str, str] = {}

    def enrol(self, email: str) -> list[str]:
        """Turn on ``email``'s second factor (ending their sessions); return the recovery codes."""
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
