from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import func, select

from portal.auth.access import can_decide_enterprise, can_see_enterprise, role_required
from portal.auth.models import Role
from portal.clock import local_today
from portal.errors import render_error
from portal.extensions import db
from portal.forms import confirmed
from portal.jobs.services import enqueue
from portal.messages import Refusal
from portal.navigation import has_endpoint
from portal.panels import Panel
from portal.passes import history as card_history
from portal.passes import issuing, listing, revoking, sheet
from portal.passes.forms import RevokeForm
from portal.passes.models import Pass
from portal.passes.pdf import check_downloadable, pass_pdf, pdf_filename
from portal.passes.sheet import printable_count
from portal.plugins import current_registry
from portal.printing.card import public_base_url
from portal.security import page_number, safe_next
from portal.units.services import UNIT_NOT_ACTIVE, is_active
from portal.workers.access import get_manageable_worker_or_404
from portal.workers.models import Worker

bp = Blueprint("passes", __name__, template_folder="templates")

PER_PAGE = 50
NO_STORE = {"Cache-Control": "no-store, max-age=0", "Pragma": "no-cache"}


def pdf_response(data: bytes, filename: str):
    """Send a PDF as a download that no browser or proxy keeps."""
    response = make_response(data)
    response.mimetype = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers.update(NO_STORE)
    return response


def get_visible_pass_or_404(pass_id: int) -> Pass:
    """Return the pass when the current user may see its enterprise; 404 otherwise (reveals nothing)."""
    pass_ = db.session.get(Pass, pass_id)
    if pass_ is None or not can_see_enterprise(current_user, pass_.enterprise):
        abort(404)
    return pass_


def _back(fallback: str | None = None) -> str:
    return safe_next(request.form.get("next"), fallback or url_for("passes.index"))


@bp.get("/passes")
@role_required(Role.HR)
def index():
    """List the enterprise's workers, who may hold a green card (as last evaluated), and their cards."""
    enterprise = current_user.enterprise
    today = local_today()
    which = request.args.get("show", "all")
    which = which if which in listing.FILTERS else "all"
    query = request.args.get("q", "").strip()[:100]
    page = listing.worker_rows(db.session, enterprise.id, which=which, query=query,
                               page=page_number(request.args), per_page=PER_PAGE)
    return render_template(
        "passes/index.html", enterprise=enterprise, refusal=issuing.issuing_refusal(current_registry(), enterprise),
        page=page, counts=listing.row_counts(db.session, enterprise.id, today), which=which, query=query,
        printable=printable_count(db.session, enterprise.id, today), today=today,
        to_reprint=sheet.reprint_count(db.session, enterprise.id, today),
        status_of=listing.display_status, last_day=listing.last_valid_day, revoke_form=RevokeForm(formdata=None),
    )


@bp.get("/passes/workers/<int:worker_id>/issue")
@role_required(Role.HR)
def confirm_issue(worker_id: int):
    """Ask HR to confirm issuing a new card to a worker whose last card was revoked (why, when, by whom)."""
    worker = get_manageable_worker_or_404(db.session, worker_id)
    revoked = issuing.last_revoked_pass(db.session, worker.id)
    if revoked is None:
        return redirect(url_for("passes.index"))
    return render_template("passes/confirm_issue.html", worker=worker, revoked=revoked,
                           snapshot=listing.snapshot_of(db.session, worker.id),
                           next_url=safe_next(request.args.get("next"), url_for("passes.index")))


@bp.post("/passes/workers/<int:worker_id>/issue")
@role_required(Role.HR)
def issue(worker_id: int):
    """Issue one worker's green card (or bring it up to date); after a revocation, only once HR confirms."""
    worker = get_manageable_worker_or_404(db.session, worker_id)
    current = issuing.active_pass_for(db.session, worker.id)
    before = current.version if current else None
    try:
        pass_ = issuing.issue_pass(db.session, current_registry(), worker, current_user,
                                   confirmed=confirmed(request.form))
        db.session.commit()
    except issuing.ReissueNotConfirmed:
        db.session.rollback()
        return redirect(url_for("passes.confirm_issue", worker_id=worker.id, next=request.form.get("next") or None))
    except Refusal as refusal:
        db.session.rollback()
        flash(str(refusal), "error")
        return redirect(_back())
    if before is None:
        flash(_("Green card %(serial)s issued to %(name)s.", serial=pass_.serial, name=worker.full_name), "success")
    elif pass_.version != before:
        flash(_("Green card %(serial)s of %(name)s updated to version %(version)s.", serial=pass_.serial,
                name=worker.full_name, version=pass_.version), "success")
    else:
        flash(_("The green card of %(name)s is already up to date.", name=worker.full_name), "info")
    return redirect(_back())


@bp.get("/passes/issue-all")
@role_required(Role.HR)
def confirm_issue_all():
    """Show how many cards "issue for all eligible" would issue or check, and whom it skips, before HR confirms."""
    enterprise = current_user.enterprise
    return render_template("passes/confirm_issue_all.html", enterprise=enterprise,
                           refusal=issuing.issuing_refusal(current_registry(), enterprise),
                           preview=issuing.issue_all_preview(db.session, enterprise.id))


@bp.post("/passes/issue-all")
@role_required(Role.HR)
def issue_all():
    """Issue the cards of every eligible worker at once (as a background job for large enterprises), once confirmed."""
    enterprise = current_user.enterprise
    registry = current_registry()
    refusal = issuing.issuing_refusal(registry, enterprise)
    if refusal:
        flash(str(refusal), "error")
        return redirect(_back())
    if not confirmed(request.form):
        return redirect(url_for("passes.confirm_issue_all"))
    workers = db.session.scalar(select(func.count()).select_from(Worker).where(
        Worker.enterprise_id == enterprise.id, Worker.active.is_(True)))
    if workers > current_app.config.get("PASSES_ISSUE_ALL_INLINE_MAX", issuing.ISSUE_ALL_INLINE_MAX):
        job = enqueue(db.session, "issue_all", {"enterprise_id": enterprise.id, "actor_id": current_user.id},
                      user_id=current_user.id, enterprise_id=enterprise.id)
        db.session.commit()
        return redirect(url_for("jobs.status", job_id=job.id))
    try:
        result = issuing.issue_all_eligible(db.session, registry, enterprise, current_user, confirmed=True)
        db.session.commit()
    except Refusal as refusal:
        db.session.rollback()
        flash(str(refusal), "error")
        return redirect(_back())
    flash(with_link(str(result.message()), url_for("passes.index", show="with_pass"), _("Next: print the cards")),
          "success")
    return redirect(_back())


def with_link(text: str, url: str, label: str) -> Markup:
    """Return ``text`` followed by a link (a flash message that says what to do next)."""
    return Markup('{} <a href="{}">{}</a>').format(text, url, label)


@bp.post("/passes/<int:pass_id>/revoke")
@role_required(Role.HR, Role.OFFICIAL, Role.ADMIN)
def revoke(pass_id: int):
    """Revoke a green card: HR of its enterprise, an official of its unit, or the admin."""
    pass_ = get_visible_pass_or_404(pass_id)
    fallback = url_for("passes.index") if current_user.is_hr else (
        url_for("enterprises.detail", enterprise_id=pass_.enterprise_id) if has_endpoint("enterprises.detail")
        else url_for("home.dashboard"))
    form = RevokeForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "error")
        return redirect(_back(fallback))
    name = pass_.worker.full_name
    if revoking.revoke_pass(db.session, current_registry(), pass_, current_user, form.reason.data,
                            revoking.typed_note(form.note.data)):
        db.session.commit()
        flash(_("Green card %(serial)s of %(name)s revoked.", serial=pass_.serial, name=name), "success")
    else:
        flash(_("This green card was already revoked."), "info")
    return redirect(_back(fallback))


@bp.get("/passes/workers/<int:worker_id>/history")
@role_required(Role.HR, Role.OFFICIAL, Role.ADMIN)
def history(worker_id: int):
    """Show every version of every card of a worker as printed: issued, superseded or revoked, when, by whom, why."""
    worker = db.session.get(Worker, worker_id)
    if worker is None or not can_see_enterprise(current_user, worker.enterprise):
        abort(404)
    return render_template("passes/history.html", worker=worker,
                           versions=card_history.worker_history(db.session, worker.id), last_day=listing.last_valid_day)


@bp.get("/passes/<int:pass_id>.pdf")
@role_required(Role.HR, Role.OFFICIAL, Role.ADMIN)
def pdf(pass_id: int):
    """Download one green card as a PDF (rendered once per content, then served from the cache)."""
    pass_ = get_visible_pass_or_404(pass_id)
    registry = current_registry()
    try:
        check_downloadable(registry, pass_)
    except Refusal as refusal:
        return render_error(410 if pass_.is_revoked else 409, str(refusal))
    locale = request.args.get("lang", "vi")
    locale = locale if locale in current_app.config["LANGUAGES"] else "vi"
    data = pass_pdf(pass_, registry, base_url=public_base_url(), locale=locale)
    return pdf_response(data, pdf_filename(pass_))


@bp.post("/passes/print-sheet")
@role_required(Role.HR)
def print_sheet():
    """Start laying out every active card four to an A4 page; follow it on the job's page."""
    enterprise = current_user.enterprise
    if not is_active(current_registry(), enterprise.unit.code):
        flash(str(UNIT_NOT_ACTIVE), "error")
        return redirect(url_for("passes.index"))
    if not printable_count(db.session, enterprise.id):
        flash(_("There is no active green card to print."), "error")
        return redirect(url_for("passes.index"))
    job = enqueue(db.session, "print_sheet", {"enterprise_id": enterprise.id, "base_url": public_base_url(),
                                              "card_locale": "vi"},
                  user_id=current_user.id, enterprise_id=enterprise.id)
    db.session.commit()
    return redirect(url_for("jobs.status", job_id=job.id))


@bp.get("/passes/reprint")
@role_required(Role.HR)
def reprint():
    """List the cards replaced by a new version since they were last printed, to print only those (or chosen ones)."""
    enterprise = current_user.enterprise
    return render_template("passes/reprint.html", enterprise=enterprise,
                           cards=sheet.cards_to_reprint(db.session, enterprise.id), last_day=listing.last_valid_day)


@bp.post("/passes/reprint")
@role_required(Role.HR)
def print_chosen():
    """Start a print sheet of the chosen cards only (ticked in the list, or typed by serial)."""
    enterprise = current_user.enterprise
    if not is_active(current_registry(), enterprise.unit.code):
        flash(str(UNIT_NOT_ACTIVE), "error")
        return redirect(url_for("passes.reprint"))
    ids = {int(value) for value in request.form.getlist("pass_id") if value.isdigit()}
    typed = request.form.get("serials", "").replace(",", " ").split()
    ids |= {pass_.id for pass_ in sheet.passes_by_serial(db.session, enterprise.id, typed)}
    chosen = sheet.printable_passes(db.session, enterprise.id, pass_ids=ids) if ids else []
    if not chosen:
        flash(_("Choose at least one active green card to print."), "error")
        return redirect(url_for("passes.reprint"))
    job = enqueue(db.session, "print_sheet", {"enterprise_id": enterprise.id, "base_url": public_base_url(),
                                              "card_locale": "vi", "pass_ids": [pass_.id for pass_ in chosen]},
                  user_id=current_user.id, enterprise_id=enterprise.id)
    db.session.commit()
    return redirect(url_for("jobs.status", job_id=job.id))


def enterprise_cards_panel(*, enterprise, user, **_context) -> Panel | None:
    """The enterprise page's list of its cards, for the officials who may revoke them (a suspension revokes all)."""
    if not can_decide_enterprise(user, enterprise):
        return None
    query = request.args.get("card", "")
    return Panel("passes/_enterprise_cards.html", {
        "enterprise": enterprise, "query": query, "today": local_today(), "form": RevokeForm(formdata=None),
        "page": listing.enterprise_passes(db.session, enterprise.id, query=query,
                                          page=page_number(request.args)),
        "status_of": listing.display_status, "last_day": listing.last_valid_day,
    })
