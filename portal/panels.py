"""Sections that one feature adds to a page another feature owns.

The enterprise page (feature ``enterprises``) shows its workers' eligibility (``eligibility``) and,
to officials, its green cards (``passes``). Both of those features depend on ``enterprises``, so the
page cannot import them: they add a panel to it instead, registered by :mod:`portal.wiring`::

    add_panel(app, "enterprise", eligibility_views.enterprise_panel, order=10)

A panel function takes the page's context as keywords and returns a :class:`Panel` (or None to
show nothing); the page renders each with ``{% for panel in panels %}{% include panel.template %}``,
the template reading its data from ``panel.data``.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from flask import Flask, current_app

PANELS_KEY = "portal.panels"


@dataclass(frozen=True)
class Panel:
    """A template to include in another feature's page, with what it shows."""

    template: str
    data: Mapping = field(default_factory=dict)


def add_panel(app: Flask, page: str, func: Callable[..., Panel | None], *, order: int = 0) -> None:
    """Show ``func``'s panel on ``page`` (called from portal.wiring); lower ``order`` comes first."""
    found = app.extensions.setdefault(PANELS_KEY, {}).setdefault(page, [])
    if any(existing is func for _order, existing in found):
        return
    found.append((order, func))
    found.sort(key=lambda item: item[0])


def panels(page: str, **context) -> list[Panel]:
    """Return the panels the running app's features add to ``page``, in order."""
    funcs = current_app.extensions.get(PANELS_KEY, {}).get(page, ())
    return [panel for panel in (func(**context) for _order, func in funcs) if panel is not None]
