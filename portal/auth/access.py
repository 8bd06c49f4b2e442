"""Who may see or change what: role checks and the scope of each role."""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user
from sqlalchemy import false, true

from portal.auth.models import Role
from portal.extensions import login_manager


def role_required(*roles: Role):
    """Let only logged-in users with one of ``roles`` through (anonymous → login, others → 403)."""
    allowed = {Role(role).value for role in roles}

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = frozenset(allowed)
        return wrapped

    return decorator


def enterprise_filter(user, enterprise_model):
    """Return a WHERE clause limiting enterprises to what ``user`` may see."""
    if user.is_admin:
        return true()
    if user.is_official:
        return enterprise_model.unit_id == user.unit_id
    if user.is_hr:
        return enterprise_model.id == user.enterprise_id
    return false()


def can_see_enterprise(user, enterprise) -> bool:
    """Say whether ``user`` may see ``enterprise`` and its workers."""
    if not user.is_authenticated or enterprise is None:
        return False
    if user.is_admin:
        return True
    if user.is_official:
        return enterprise.unit_id == user.unit_id
    return user.is_hr and enterprise.id == user.enterprise_id


def can_manage_workers(user, enterprise) -> bool:
    """Say whether ``user`` may add, change or remove ``enterprise``'s workers (its own HR only)."""
    return user.is_authenticated and user.is_hr and enterprise is not None and enterprise.id == user.enterprise_id


def can_decide_enterprise(user, enterprise) -> bool:
    """Say whether ``user`` may approve, reject, suspend or reinstate ``enterprise``."""
    if not user.is_authenticated or enterprise is None:
        return False
    return user.is_admin or (user.is_official and enterprise.unit_id == user.unit_id)
