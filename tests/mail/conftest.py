from tests.auth.conftest import outbox, smtp_server, with_smtp  # noqa: F401  (the same fixtures)
