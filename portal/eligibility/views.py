"""Re-evaluating eligibility on request, and the enterprise page's panel of its workers' eligibility.

Pages only read the snapshot (a GET never writes); when it is not current they offer this POST, which
re-evaluates a few thousand workers at once or starts a job for more.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_babel import ngettext
from flask_login import current_user

from portal import clock
from portal.auth.access import role_required
from portal.auth.models import Role
from portal.eligibility import summaries, upkeep
from portal.enterprises.access import get_visible_enterprise_or_404
from portal.extensions import db
from portal.jobs.services import enqueue
from portal.panels import Panel
from portal.plugins import current_registry
from portal.security import id_arg, safe_next
from portal.units.models import PilotUnit

bp = Blueprint("eligibility", __name__, template_folder="templates")

#: Workers a request re-evaluates itself; beyond this a background job does.
INLINE_REFRESH_LIMIT = 5000


def _inline_limit() -> int:
    return current_app.config.get("ELIGIBILITY_INLINE_REFRESH_LIMIT", INLINE_REFRESH_LIMIT)


def _target() -> tuple[int | None, int | None]:
    """Return (unit id, enterprise id) the user asked to refresh and may: HR their enterprise, officials their unit."""
    if current_user.is_hr:
        return None, current_user.enterprise_id
    if request.form.get("enterprise"):
        enterprise_id = id_arg(request.form, "enterprise")
        if enterprise_id is None:
            abort(404)
        return None, get_visible_enterprise_or_404(db.session, enterprise_id).id
    if current_user.is_official:
        return current_user.unit_id, None
    code = request.form.get("unit", "")
    if not code:
        return None, None  # the admin: every unit
    unit = db.session.scalar(db.select(PilotUnit).where(PilotUnit.code == code))
    if unit is None:
        abort(404)
    return unit.id, None


@bp.post("/eligibility/refresh")
@role_required(Role.HR, Role.OFFICIAL, Role.ADMIN)
def refresh():
    """Re-evaluate the eligibility of an enterprise's or a unit's workers (a background job when there are many)."""
    unit_id, enterprise_id = _target()
    back = safe_next(request.form.get("next"), url_for("home.dashboard"))
    done = upkeep.refresh_now(db.session, current_registry(), now=clock.utcnow(), unit_id=unit_id,
                              enterprise_id=enterprise_id, limit=_inline_limit())
    if done is None:
        db.session.rollback()
        job = enqueue(db.session, "eligibility.refresh", {"unit_id": unit_id, "enterprise_id": enterprise_id},
                      user_id=current_user.id, enterprise_id=enterprise_id)
        db.session.commit()
        return redirect(url_for("jobs.status", job_id=job.id))
    db.session.commit()
    flash(ngettext("%(num)s worker re-evaluated.", "%(num)s workers re-evaluated.", done), "success")
    return redirect(back)


def enterprise_panel(*, enterprise, registry, **_context) -> Panel:
    """The enterprise page's figures of its workers' eligibility, from the snapshot."""
    today = clock.local_today()
    return Panel("eligibility/_enterprise_panel.html", {
        "enterprise": enterprise, "today": today,
        "summary": summaries.enterprise_eligibility(db.session, registry, enterprise, today),
    })
