"""HR pages for the enterprise's own workers: list, search, add, change, leave, export."""
from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy.orm import selectinload

from portal.audit.services import record
from portal.auth.access import role_required
from portal.auth.models import Role
from portal.clock import local_today
from portal.extensions import db
from portal.forms import place_refusal
from portal.i18n import localized
from portal.messages import Refusal, notice_markup, take_notices
from portal.plugins import current_registry
from portal.security import page_number
from portal.units.services import UNIT_NOT_ACTIVE, is_active
from portal.workers import export, services, shifts
from portal.workers.access import get_manageable_worker_or_404
from portal.workers.forms import DATE_PLACEHOLDER, DeactivateForm, WorkerForm, worker_form_data
from portal.workers.models import Worker
from portal.workers.validation import MAX_DOSES, clean_worker

bp = Blueprint("workers", __name__, template_folder="templates")

PER_PAGE = 50


def _list_args() -> tuple[str, bool]:
    """Return the search text and whether the active workers (not those who left) are wanted."""
    return request.args.get("q", "").strip()[:100], request.args.get("status") != "left"


@bp.get("/workers")
@role_required(Role.HR)
def index():
    """List the enterprise's workers, 50 a page, searchable by name (with or without diacritics) or ID digits."""
    q, active = _list_args()
    query = services.worker_query(current_user.enterprise_id, q=q, active=active)
    page = db.paginate(query.options(selectinload(Worker.doses)), page=page_number(request.args),
                       per_page=PER_PAGE, error_out=False, count=True)
    # Translated once per page, not once per row.
    shift_names = {code: localized(shift) for code, shift in current_registry().shifts.items()}
    dose_counts = {n: ngettext("%(num)s dose", "%(num)s doses", n) for n in range(1, MAX_DOSES + 1)}
    return render_template("workers/index.html", page=page, q=q, status="active" if active else "left",
                           shift_names=shift_names, dose_counts=dose_counts,
                           first_number=(page.page - 1) * PER_PAGE + 1, journey_labels=shifts.JOURNEY_LABELS,
                           shift_notice=shifts.shift_notice(db.session, current_registry(), current_user.enterprise))


@bp.route("/workers/new", methods=["GET", "POST"])
@role_required(Role.HR)
def new():
    """Register one worker through the form."""
    form = WorkerForm(registry=current_registry())
    if form.validate_on_submit():
        worker = _save(form, lambda clean: services.create_worker(
            db.session, current_registry(), current_user.enterprise, clean, current_user))
        if worker is not None:
            flash(_("%(name)s was added.", name=worker.full_name), "success")
            if request.form.get("then") == "new":
                return redirect(url_for("workers.new"))
            return redirect(url_for("workers.edit", worker_id=worker.id))  # never an ID number in a URL
    return _render_form(form)


@bp.route("/workers/<int:worker_id>/edit", methods=["GET", "POST"])
@role_required(Role.HR)
def edit(worker_id: int):
    """Change a worker's data; the page also lets HR record that the worker left."""
    worker = get_manageable_worker_or_404(db.session, worker_id)
    form = WorkerForm(data=worker_form_data(worker), registry=current_registry())
    if worker.active and form.validate_on_submit():
        saved = _save(form, lambda clean: services.update_worker(db.session, current_registry(), worker, clean,
                                                                 current_user))
        if saved is not None:
            flash(_("The data of %(name)s was saved.", name=saved.full_name), "success")
            for notice in take_notices(db.session):  # e.g. the card replaced: print it again
                flash(notice_markup(notice), "warning")
            return redirect(url_for("workers.edit", worker_id=saved.id))
    return _render_form(form, worker, DeactivateForm(today=local_today(), formdata=None))


@bp.post("/workers/<int:worker_id>/deactivate")
@role_required(Role.HR)
def deactivate(worker_id: int):
    """Record that a worker left the enterprise (their green card stops with it)."""
    worker = get_manageable_worker_or_404(db.session, worker_id)
    leave_form = DeactivateForm(today=local_today())
    if not worker.active:
        flash(_("This worker has already left the enterprise."), "error")
        return redirect(url_for("workers.edit", worker_id=worker.id))
    if not leave_form.validate_on_submit():
        form = WorkerForm(data=worker_form_data(worker), registry=current_registry(), formdata=None)
        return _render_form(form, worker, leave_form)
    services.deactivate_worker(db.session, current_registry(), worker, current_user,
                               left_on=leave_form.left_on.parsed, reason=leave_form.reason.data.strip())
    db.session.commit()
    flash(_("%(name)s is recorded as having left the enterprise.", name=worker.full_name), "success")
    return redirect(url_for("workers.index"))


@bp.post("/workers/export.<fmt>", endpoint="export")
@role_required(Role.HR)
def export_file(fmt: str):
    """Download the enterprise's workers (as listed) as XLSX or CSV, in the import template's columns.

    A POST: the export of personal data is recorded in the audit trail (and a GET never writes).
    """
    if fmt not in export.FORMATS:
        abort(404)
    q, active = _list_args()
    enterprise = current_user.enterprise
    data = export.load_rows(db.session, services.worker_conditions(enterprise.id, q=q, active=active),
                            current_registry())
    body = export.to_xlsx(data) if fmt == "xlsx" else export.to_csv(data)
    record(db.session, current_user, "workers.exported", enterprise, after={"format": fmt, "count": len(data)},
           enterprise_id=enterprise.id, unit_id=enterprise.unit_id)
    db.session.commit()
    response = make_response(body)
    response.headers["Content-Type"] = export.FORMATS[fmt]
    filename = f"nguoi-lao-dong-{enterprise.tax_code}-{local_today():%Y%m%d}.{fmt}"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _save(form: WorkerForm, write):
    """Clean the form's values and ``write`` them; on any refusal show the messages and return None."""
    clean, errors = clean_worker(form.raw_values(), current_registry(), today=local_today())
    if errors:
        form.add_errors(errors)
        return None
    try:
        worker = write(clean)
    except Refusal as refusal:
        db.session.rollback()
        for problem in place_refusal(form, refusal):
            flash(str(problem), "error")
        return None
    db.session.commit()
    return worker


def _render_form(form: WorkerForm, worker: Worker | None = None, leave_form: DeactivateForm | None = None):
    unit_active = is_active(current_registry(), current_user.enterprise.unit.code)
    return render_template("workers/form.html", form=form, worker=worker, leave_form=leave_form,
                           leave_placeholder=DATE_PLACEHOLDER, unit_not_active=None if unit_active else UNIT_NOT_ACTIVE,
                           shift_notice=shifts.shift_notice(db.session, current_registry(), current_user.enterprise))
