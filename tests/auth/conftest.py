"""Fixtures of the account tests: mails in the outbox, a real SMTP server, an enrolled second factor."""
from portal.auth.testing import totp  # noqa: F401  (fixtures)
from portal.mail.testing import outbox, smtp_server, with_smtp  # noqa: F401
