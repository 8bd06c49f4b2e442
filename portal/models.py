"""Import every feature's ``models`` module so that the metadata (and Alembic) sees all tables."""
from __future__ import annotations

from portal import feature_modules


def import_all_models() -> None:
    feature_modules("models")


import_all_models()
