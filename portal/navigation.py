"""The navigation bar: each role's links, shown only for pages the running app has."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, has_request_context, request
from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: str
    roles: frozenset[str]


def _item(endpoint: str, label, *roles: str) -> NavItem:
    return NavItem(endpoint, label, frozenset(roles))


NAV_ITEMS = (
    _item("enterprises.mine", _l("My enterprise"), "hr"),
    _item("workers.index", _l("Workers"), "hr"),
    _item("imports.upload", _l("Import from a file"), "hr"),
    _item("passes.index", _l("Green cards"), "hr"),
    _item("apitokens.index", _l("API"), "hr"),
    _item("enterprises.queue", _l("Enterprises"), "official", "admin"),
    _item("dashboard.index", _l("Pilot dashboard"), "official", "admin"),
    _item("dashboard.report", _l("Evaluation report"), "official", "admin"),
    _item("dashboard.data_quality", _l("Data quality"), "hr", "official", "admin"),
    _item("mail.outbox", _l("Outbox"), "admin"),
)

#: Where each role lands after signing in (the first that the running app has).
ROLE_HOME = {
    "hr": ("enterprises.mine",),
    "official": ("enterprises.queue",),
    "admin": ("dashboard.index", "enterprises.queue"),
}


def nav_items(user) -> list[NavItem]:
    """Return the links ``user`` may follow, in order."""
    if not user.is_authenticated:
        return []
    views = current_app.view_functions
    return [item for item in NAV_ITEMS if user.role in item.roles and item.endpoint in views]


def home_endpoint(user) -> str | None:
    """Return the endpoint of ``user``'s main page, or None when no feature provides one yet."""
    views = current_app.view_functions
    return next((endpoint for endpoint in ROLE_HOME.get(user.role, ()) if endpoint in views), None)


def has_endpoint(endpoint: str) -> bool:
    """Say whether the running app has a view ``endpoint`` (templates link only to what exists)."""
    return endpoint in current_app.view_functions


def external_url(endpoint: str, *, base_url: str | None = None, **values) -> str:
    """Return an absolute link (for a mail): on PUBLIC_BASE_URL when set (never a request's Host header
    when it is), else on ``base_url`` or the current request's address."""
    base = current_app.config.get("PUBLIC_BASE_URL") or base_url
    if not base and has_request_context():
        base = request.host_url
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return (base or "http://localhost/").rstrip("/") + path


def init_app(app) -> None:
    app.jinja_env.globals["nav_items"] = nav_items
    app.jinja_env.globals["has_endpoint"] = has_endpoint
