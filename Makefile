# The two commands a newcomer needs (see README.md): `make run` and `make test`.
.PHONY: run test test-postgres bench lint i18n

HOST ?= 127.0.0.1
PORT ?= 5000

run:
	scripts/bootstrap.sh run
	.venv/bin/portal demo
	.venv/bin/portal run --host $(HOST) --port $(PORT)

test:
	scripts/bootstrap.sh test
	.venv/bin/pytest $(PYTEST_ARGS)

# The same suite against the PostgreSQL and Redis servers (what CI runs second).
test-postgres:
	PORTAL_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test \
	PORTAL_TEST_REDIS_URL=redis://127.0.0.1:6379/0 $(MAKE) test

lint:
	.venv/bin/ruff check portal plugins tests

i18n:
	.venv/bin/python scripts/i18n.py check
