"""Enterprise registration (public), HR's own page, and the officials' queue, detail and decisions."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user

from portal.audit.services import trail
from portal.auth.access import can_decide_enterprise, get_visible_enterprise_or_404, role_required
from portal.auth.models import Role
from portal.clock import local_today
from portal.enterprises import services
from portal.enterprises.forms import (
    NOT_IN_PILOT,
    DecisionForm,
    EnterpriseEditForm,
    RegistrationForm,
    add_errors,
)
from portal.extensions import db, limiter
from portal.i18n import localized
from portal.passes.forms import RevokeForm
from portal.passes.services import display_status, enterprise_passes, last_valid_day
from portal.plugins import current_registry

bp = Blueprint("enterprises", __name__, template_folder="templates")
# Puts portal/audit/templates (the audit-trail partial) on the template path; it has no routes.
audit_templates = Blueprint("audit_templates", "portal.audit", template_folder="templates")
extra_blueprints = (audit_templates,)


@bp.app_template_filter("tax_code")
def _tax_code(value: str | None) -> str:
    return services.format_tax_code(value)


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
            user = services.register(db.session, registry, form.registration())
        except services.RegistrationError as error:
            add_errors(form, error.errors)
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
    active = services.active_worker_counts(db.session, [enterprise.id]).get(enterprise.id, 0)
    return render_template("enterprises/mine.html", enterprise=enterprise, active_workers=active,
                           described=_described(enterprise))


@bp.route("/enterprise/edit", methods=["GET", "POST"])
@role_required(Role.HR)
def edit():
    """Let HR change their contact details, and the classification until the unit decides."""
    registry = current_registry()
    enterprise = current_user.enterprise
    form = _edit_form(registry, enterprise)
    if form.validate_on_submit():
        try:
            changed = services.update_enterprise(
                db.session, registry, enterprise.id, current_user, contact=form.contact(),
                classification=form.classification() if form.unit is not None else None,
                expected_version=form.version.data)
        except services.ConflictError as error:
            flash(str(error.message), "error")
            return redirect(url_for(".edit"))
        except services.EditError as error:
            add_errors(form, error.errors)
        else:
            flash(_("Your changes are saved.") if changed else _("Nothing was changed."),
                  "success" if changed else "info")
            return redirect(url_for(".mine"))
    return render_template("enterprises/edit.html", form=form, enterprise=enterprise,
                           described=_described(enterprise))


def _edit_form(registry, enterprise) -> EnterpriseEditForm:
    form = EnterpriseEditForm() if request.method == "POST" else EnterpriseEditForm(obj=enterprise)
    form.fill_choices(registry)
    if not services.can_reclassify(enterprise):
        form.drop_classification()
    elif request.method != "POST":
        form.show(services.classification_of(enterprise))
    return form


@bp.get("/officials/enterprises")
@role_required(Role.OFFICIAL, Role.ADMIN)
def queue():
    """List the enterprises an official oversees (every unit's for the admin), pending first."""
    registry = current_registry()
    filters, unit_code = _queue_filters(registry)
    result = services.queue(db.session, current_user, filters)
    kept = {"q": filters.search, "sector": filters.sector, "unit": filters.unit}
    return render_template("enterprises/queue.html", result=result, filters=filters, unit_code=unit_code,
                           registry=registry, status_labels=services.STATUS_LABELS,
                           kept={name: value for name, value in kept.items() if value})


def _queue_filters(registry) -> tuple[services.QueueFilters, str]:
    """Read the queue's filters, keeping only values that mean something to this user."""
    args = request.args
    status = args.get("status", services.PENDING)
    if status != "all" and status not in services.STATUS_LABELS:
        status = services.PENDING
    unit = args.get("unit", "") if current_user.is_admin and args.get("unit") in registry.units else ""
    unit_code = current_user.unit.code if current_user.is_official else unit
    sector = args.get("sector", "")
    if not unit_code or sector not in registry.sectors.get(unit_code, {}):
        sector = ""
    filters = services.QueueFilters(status=status, sector=sector, search=args.get("q", "")[:100], unit=unit,
                                    page=args.get("page", 1, type=int) or 1)
    return filters, unit_code


@bp.get("/enterprises/<int:enterprise_id>")
@role_required(Role.HR, Role.OFFICIAL, Role.ADMIN)
def detail(enterprise_id: int):
    """Show an enterprise, its workers' eligibility, its history, and the decisions an official may take."""
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
        try:
            decision = services.decide(db.session, current_registry(), enterprise_id, form.action.data,
                                       current_user, form.reason.data, form.version.data)
        except services.DecisionError as error:
            if "reason" not in error.errors:
                flash(str(error.message), "error")
                return redirect(url_for(".detail", enterprise_id=enterprise_id))
            add_errors(form, error.errors)
        else:
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
    passes = None
    if can_decide_enterprise(current_user, enterprise):
        # Officials revoke single cards here (a suspension revokes them all).
        query = request.args.get("card", "")
        passes = {"page": enterprise_passes(db.session, enterprise.id, query=query,
                                            page=request.args.get("page", 1, type=int)),
                  "query": query, "form": RevokeForm(formdata=None)}
    return render_template(
        "enterprises/detail.html", passes=passes, pass_status=display_status, last_valid_day=last_valid_day,
        today=local_today(), enterprise=enterprise, form=form,
        described=_described(enterprise),
        summary=services.worker_summary(db.session, registry, enterprise, local_today()),
        basis_labels=services.BASIS_LABELS, events=trail(db.session, enterprise),
        value_labels=_value_labels(registry, enterprise.unit.code),
        can_decide=can_decide_enterprise(current_user, enterprise), actions=services.allowed_actions(enterprise),
    ), status


def _described(enterprise) -> dict:
    """Return the declarations behind the enterprise's codes (None where the unit no longer declares one)."""
    registry = current_registry()
    unit = enterprise.unit.code
    return {
        "unit": registry.units.get(unit),
        "business_type": services.declared_label(registry, "business_types", unit, enterprise.business_type),
        "sector": services.declared_label(registry, "sectors", unit, enterprise.sector),
        "location": services.declared_label(registry, "locations", unit, enterprise.location),
    }


def _value_labels(registry, unit_code: str) -> dict:
    """Return, per audited field, the words to show for its stored codes (the enterprise's unit's first)."""
    labels = {"status": {code: str(label) for code, label in services.STATUS_LABELS.items()},
              "unit": {code: localized(unit) for code, unit in registry.units.items()}}
    units = [unit_code, *(code for code in registry.units if code != unit_code)]
    for name, declarations in (("business_type", registry.business_types), ("sector", registry.sectors),
                               ("location", registry.locations)):
        labels[name] = {}
        for code in units:
            for item_code, item in declarations.get(code, {}).items():
                labels[name].setdefault(item_code, localized(item))
    return labels
