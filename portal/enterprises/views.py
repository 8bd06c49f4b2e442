"""Enterprise registration (public), HR's own page, and the officials' queue, detail and decisions."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user

from portal.audit.services import trail
from portal.auth.access import can_decide_enterprise, role_required
from portal.auth.models import Role
from portal.enterprises import classification, decisions, editing, registration
from portal.enterprises import queue as queues
from portal.enterprises.access import get_visible_enterprise_or_404
from portal.enterprises.forms import NOT_IN_PILOT, DecisionForm, EnterpriseEditForm, RegistrationForm
from portal.extensions import db, limiter
from portal.forms import confirmed, place_refusal
from portal.i18n import localized
from portal.messages import Conflict, Refusal
from portal.panels import panels
from portal.plugins import current_registry
from portal.security import page_number
from portal.units.services import UNIT_NOT_ACTIVE, is_active
from portal.vocabulary import ENTERPRISE_STATUS_LABELS

bp = Blueprint("enterprises", __name__, template_folder="templates")
# Puts portal/audit/templates (the audit-trail partial) on the template path; it has no routes.
audit_templates = Blueprint("audit_templates", "portal.audit", template_folder="templates")
extra_blueprints = (audit_templates,)


@bp.app_template_filter("tax_code")
def _tax_code(value: str | None) -> str:
    return classification.format_tax_code(value)


def _registration_limit() -> str:
    return current_app.config.get("REGISTRATION_RATE_LIMIT", "10 per hour")


def _registration_attempt_limit() -> str:
    return current_app.config.get("REGISTRATION_ATTEMPT_LIMIT", "30 per hour")


def _registered(_response) -> bool:
    return bool(g.get("enterprise_registered"))


@bp.route("/enterprises/register", methods=["GET", "POST"])
# Public. Registrations per address are few; attempts (typos included) may be a few more.
@limiter.limit(_registration_limit, methods=["POST"], deduct_when=_registered)
@limiter.limit(_registration_attempt_limit, methods=["POST"])
def register():
    """Register an enterprise and its HR account, then sign the HR user in."""
    if current_user.is_authenticated:
        return redirect(url_for("home.dashboard"))
    registry = current_registry()
    form = RegistrationForm()
    form.fill_choices(registry, allow_not_in_pilot=True)
    if form.is_submitted() and form.unit.data == NOT_IN_PILOT:
        flash(_("An enterprise outside the pilot units gets no green card: its workers keep using the travel "
                "permit (giấy đi đường)."), "warning")
        return redirect(url_for("home.travel_permit"))
    if form.validate_on_submit():
        try:
            user = registration.register(db.session, registry, form.registration())
            db.session.commit()
        except Refusal as refusal:
            db.session.rollback()
            form.form_errors.extend(str(problem) for problem in place_refusal(form, refusal))
        else:
            g.enterprise_registered = True
            login_user(user)
            flash(_("Your enterprise is registered. Its pilot unit will review it; meanwhile you may enter "
                    "your workers."), "success")
            return redirect(url_for(".mine"))
    return render_template("enterprises/register.html", form=form)


@bp.get("/enterprise")
@role_required(Role.HR)
def mine():
    """Show HR staff their enterprise: its status, what it means, its details."""
    enterprise = current_user.enterprise
    active = queues.active_worker_counts(db.session, [enterprise.id]).get(enterprise.id, 0)
    return render_template("enterprises/mine.html", enterprise=enterprise, active_workers=active,
                           described=_described(enterprise), unit_not_active=_unit_not_active(enterprise))


@bp.route("/enterprise/edit", methods=["GET", "POST"])
@role_required(Role.HR)
def edit():
    """Let HR change their contact details, and the classification until the unit decides."""
    registry = current_registry()
    enterprise = current_user.enterprise
    form = _edit_form(registry, enterprise)
    if form.validate_on_submit():
        try:
            changed = editing.update_enterprise(
                db.session, registry, enterprise.id, current_user, contact=form.contact(),
                classification=form.classification() if form.unit is not None else None,
                expected_version=form.version.data)
            db.session.commit()
        except Conflict as conflict:
            db.session.rollback()
            flash(str(conflict), "error")
            return redirect(url_for(".edit"))
        except Refusal as refusal:
            db.session.rollback()
            form.form_errors.extend(str(problem) for problem in place_refusal(form, refusal))
        else:
            flash(_("Your changes are saved.") if changed else _("Nothing was changed."),
                  "success" if changed else "info")
            return redirect(url_for(".mine"))
    return render_template("enterprises/edit.html", form=form, enterprise=enterprise,
                           described=_described(enterprise))


def _edit_form(registry, enterprise) -> EnterpriseEditForm:
    form = EnterpriseEditForm() if request.method == "POST" else EnterpriseEditForm(obj=enterprise)
    form.fill_choices(registry)
    if not editing.can_reclassify(enterprise):
        form.drop_classification()
    elif request.method != "POST":
        form.show(classification.classification_of(enterprise))
    return form


@bp.get("/officials/enterprises")
@role_required(Role.OFFICIAL, Role.ADMIN)
def queue():
    """List the enterprises an official oversees (every unit's for the admin), pending first."""
    registry = current_registry()
    filters, unit_code = _queue_filters(registry)
    result = queues.queue(db.session, current_user, filters)
    kept = {"q": filters.search, "sector": filters.sector, "unit": filters.unit}
    official_unit_inactive = current_user.is_official and not is_active(registry, current_user.unit.code)
    return render_template("enterprises/queue.html", result=result, filters=filters, unit_code=unit_code,
                           registry=registry, kept={name: value for name, value in kept.items() if value},
                           unit_not_active=UNIT_NOT_ACTIVE if official_unit_inactive else None)


def _queue_filters(registry) -> tuple[queues.QueueFilters, str]:
    """Read the queue's filters, keeping only values that mean something to this user."""
    args = request.args
    status = args.get("status", decisions.PENDING)
    if status != "all" and status not in ENTERPRISE_STATUS_LABELS:
        status = decisions.PENDING
    unit = args.get("unit", "") if current_user.is_admin and args.get("unit") in registry.units else ""
    unit_code = current_user.unit.code if current_user.is_official else unit
    sector = args.get("sector", "")
    if not unit_code or sector not in registry.sectors.get(unit_code, {}):
        sector = ""
    filters = queues.QueueFilters(status=status, sector=sector, search=args.get("q", "")[:100], unit=unit,
                                    page=page_number(args))
    return filters, unit_code


@bp.get("/enterprises/<int:enterprise_id>")
@role_required(Role.HR, Role.OFFICIAL, Role.ADMIN)
def detail(enterprise_id: int):
    """Show an enterprise, what other features add (eligibility, cards), its history, and the decisions."""
    enterprise = get_visible_enterprise_or_404(db.session, enterprise_id)
    return _render_detail(enterprise, DecisionForm(formdata=None, version=enterprise.version))


@bp.post("/enterprises/<int:enterprise_id>/decision")
@role_required(Role.OFFICIAL, Role.ADMIN)
def decide(enterprise_id: int):
    """Approve, reject, suspend or reinstate an enterprise of the official's unit."""
    enterprise = get_visible_enterprise_or_404(db.session, enterprise_id)
    if not can_decide_enterprise(current_user, enterprise):
        abort(403)
    form = DecisionForm()
    if form.validate():
        registry = current_registry()
        if decisions.needs_confirmation(form.action.data, form.reason.data, confirmed(request.form)):
            return render_template("enterprises/confirm_decision.html", enterprise=enterprise, form=form,
                                   action=form.action.data, cards=decisions.cards_at_stake(db.session, enterprise))
        try:
            decision = decisions.decide(db.session, registry, enterprise_id, form.action.data, current_user,
                                        form.reason.data, form.version.data)
            db.session.commit()
        except Refusal as refusal:
            db.session.rollback()
            if refusal.field != "reason":
                flash(str(refusal), "error")
                return redirect(url_for(".detail", enterprise_id=enterprise_id))
            place_refusal(form, refusal)
        else:
            decisions.tell_unit_approved(registry, decision)
            flash(_decided_message(decision.action, enterprise.name), "success")
            return redirect(url_for(".detail", enterprise_id=enterprise_id))
    if not form.reason.errors:
        # Only a hand-made request lacks the action or the version: say so rather than show nothing.
        flash(_("The decision could not be read. Reload the page and try again."), "error")
    return _render_detail(enterprise, form, 400)


def _decided_message(action: str, name: str) -> str:
    return {
        "approve": _("%(name)s is approved: its HR staff may now issue green cards.", name=name),
        "reject": _("%(name)s is rejected. Its HR staff will see your reason.", name=name),
        "suspend": _("%(name)s is suspended.", name=name),
        "reinstate": _("%(name)s is approved again.", name=name),
    }[action]


def _render_detail(enterprise, form: DecisionForm, status: int = 200):
    registry = current_registry()
    return render_template(
        "enterprises/detail.html", enterprise=enterprise, form=form, described=_described(enterprise),
        unit_not_active=_unit_not_active(enterprise),
        panels=panels("enterprise", enterprise=enterprise, user=current_user, registry=registry),
        events=trail(db.session, enterprise), value_labels=_value_labels(registry, enterprise.unit.code),
        can_decide=can_decide_enterprise(current_user, enterprise), actions=decisions.allowed_actions(enterprise),
    ), status


def _unit_not_active(enterprise):
    """Return what to say when the enterprise's unit is not active (its plugin disabled or uninstalled), else None."""
    return None if is_active(current_registry(), enterprise.unit.code) else UNIT_NOT_ACTIVE


def _described(enterprise) -> dict:
    """Return the declarations behind the enterprise's codes (None where the unit no longer declares one)."""
    registry = current_registry()
    unit = enterprise.unit.code
    return {
        "unit": registry.units.get(unit),
        "business_type": classification.declared_label(registry, "business_types", unit, enterprise.business_type),
        "sector": classification.declared_label(registry, "sectors", unit, enterprise.sector),
        "location": classification.declared_label(registry, "locations", unit, enterprise.location),
    }


def _value_labels(registry, unit_code: str) -> dict:
    """Return, per audited field, the words to show for its stored codes (the enterprise's unit's first)."""
    labels = {"status": {code: str(label) for code, label in ENTERPRISE_STATUS_LABELS.items()},
              "unit": {code: localized(unit) for code, unit in registry.units.items()}}
    units = [unit_code, *(code for code in registry.units if code != unit_code)]
    for name, declarations in (("business_type", registry.business_types), ("sector", registry.sectors),
                               ("location", registry.locations)):
        labels[name] = {}
        for code in units:
            for item_code, item in declarations.get(code, {}).items():
                labels[name].setdefault(item_code, localized(item))
    return labels
