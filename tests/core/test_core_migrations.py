"""The migrations build exactly the schema the models describe, on SQLite and on PostgreSQL."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from portal import create_app
from portal.extensions import db
from portal.testing.fixtures import scratch_database_url


@pytest.fixture
def empty_database_url(tmp_path):
    with scratch_database_url(tmp_path, "migrations") as url:
        yield url


def test_migrations_match_the_models_and_downgrade_cleanly(empty_database_url, tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "k" * 48, "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
        assert differences == [], differences
        downgrade(revision="base")
        with db.engine.connect() as connection:
            tables = set(db.inspect(connection).get_table_names()) - {"alembic_version"}
        assert tables == set()
        db.engine.dispose()
