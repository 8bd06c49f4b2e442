"""A real SMTP server for tests (aiosmtpd, on loopback), and reading what it received.

    with SMTPTestServer() as server:
        ...  # the portal sends to 127.0.0.1:server.port
        message = server.wait_for(1)[0]
        server.refuse_next(2, "451 4.3.0 try again later")  # the next two mails are refused for now

Needs the test extras (aiosmtpd). The fixtures at the end (``outbox``, ``smtp_server``, ``with_smtp``)
are imported by the conftest of the test folders that use them.
"""
from __future__ import annotations

import email
import email.policy
import re
import socket
import threading
import time
from email.message import EmailMessage
from urllib.parse import urlsplit

import pytest

LINK = re.compile(r"https?://\S+")


class _Handler:
    def __init__(self):
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refusals: list[str] = []
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802  (aiosmtpd's hook name)
        with self.lock:
            if self.refusals:
                return self.refusals.pop(0)
            message = email.message_from_bytes(envelope.original_content or envelope.content,
                                               policy=email.policy.default)
            self.messages.append(message)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.arrived.notify_all()
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SMTPTestServer:
    """An aiosmtpd server on 127.0.0.1 that keeps every message it accepts."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.handler = _Handler()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SMTPTestServer:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    @property
    def messages(self) -> list[EmailMessage]:
        with self.handler.lock:
            return list(self.handler.messages)

    @property
    def envelopes(self) -> list[tuple[str, list[str]]]:
        with self.handler.lock:
            return list(self.handler.envelopes)

    def refuse_next(self, count: int, reply: str = "451 4.3.0 Try again later") -> None:
        """Answer the next ``count`` messages with ``reply`` instead of accepting them."""
        with self.handler.lock:
            self.handler.refusals.extend([reply] * count)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        """Return the messages once at least ``count`` arrived; AssertionError after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self.handler.arrived:
            while len(self.handler.messages) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"{len(self.handler.messages)} of {count} mails arrived in {timeout} s"
                self.handler.arrived.wait(left)
            return list(self.handler.messages)


def body_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def links_in(text: str) -> list[str]:
    return LINK.findall(text)


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
def outbox(app):
    """Return a function listing the outbox's mails (newest first), optionally those to one address."""
    from sqlalchemy import select

    from portal.extensions import db
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
