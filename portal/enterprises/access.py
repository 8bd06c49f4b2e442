"""The enterprise a request names, when the current user may see it."""
from __future__ import annotations

from flask import abort
from flask_login import current_user

from portal.auth.access import can_see_enterprise
from portal.enterprises.models import Enterprise


def get_visible_enterprise_or_404(session, enterprise_id: int) -> Enterprise:
    """Return the enterprise when the current user may see it; 404 otherwise (reveals nothing)."""
    enterprise = session.get(Enterprise, enterprise_id)
    if not can_see_enterprise(current_user, enterprise):
        abort(404)
    return enterprise
