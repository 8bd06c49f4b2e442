"""Import every feature's ``models`` module so that the metadata (and Alembic) sees all tables."""
from __future__ import annotations

import importlib
import pkgutil

import portal


def import_all_models() -> None:
    for module in pkgutil.iter_modules(portal.__path__):
        if module.ispkg:
            spec = importlib.util.find_spec(f"portal.{module.name}.models")
            if spec is not None:
                importlib.import_module(spec.name)


import_all_models()
