from portal.mail.testing import outbox, smtp_server, with_smtp  # noqa: F401  (fixtures)
