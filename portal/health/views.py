"""Health data: the officers' extracts and tokens, the conflicts pages, HR's view, and the registry's API."""
from __future__ import annotations

import posixpath

from flask import Blueprint, abort, current_app, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user

from portal.api.views import error as api_error
from portal.auth.access import role_required
from portal.auth.models import Role
from portal.clock import local_today
from portal.extensions import csrf, db
from portal.health import extracts, listing, resolving, tokens
from portal.health.columns import KINDS, RowProblem, record_from_json
from portal.health.models import HealthExtract, HealthToken
from portal.imports.parsing import human_size
from portal.jobs.models import Job
from portal.jobs.views import status_payload
from portal.messages import Message, Refusal
from portal.plugins import current_registry
from portal.storage import blob_store
from portal.workers.models import Worker
from portal.workers.vaccines import BY_CODE

bp = Blueprint("health", __name__, url_prefix="/health", template_folder="templates")
api_bp = Blueprint("health_api", __name__, url_prefix="/api/v1")
extra_blueprints = (api_bp,)
csrf.exempt(api_bp)

#: Most records one API call may push (a larger extract goes through the file upload).
MAX_API_RECORDS = 10_000


def _store():
    return blob_store(current_app)


# -- the health-data officer's extracts -------------------------------------------------------


@bp.get("/")
@role_required(Role.HEALTH)
def index():
    """List the registry extracts and take a new one."""
    return render_template("health/index.html", extracts=listing.recent_extracts(db.session), kinds=KINDS)


@bp.post("/extracts")
@role_required(Role.HEALTH)
def upload():
    """Store an extract file and check it; the preview says what matching it would do."""
    kind = request.form.get("kind", "")
    upload_file = request.files.get("file")
    if kind not in KINDS or upload_file is None or not upload_file.filename:
        flash(_("Choose what the extract holds and a file."), "error")
        return redirect(url_for("health.index"))
    limit = current_app.config["HEALTH_EXTRACT_MAX_BYTES"]
    if (request.content_length or 0) > limit:
        flash(_("The file is larger than %(size)s. Split the extract, or match it with “portal health match”.",
                size=human_size(limit)), "error")
        return redirect(url_for("health.index"))
    store = _store()
    # The blob store writes on a connection of its own: end this request's (read) transaction first, which
    # would otherwise hold SQLite's lock against it.
    db.session.commit()
    key = extracts.store_upload(store, upload_file.stream)
    try:
        extract = extracts.start_check(db.session, key, kind=kind,
                                       filename=posixpath.basename(upload_file.filename.replace("\\", "/")),
                                       actor=current_user)
        extract_id = extract.id
        db.session.commit()  # the check job starts once this is committed
    except Refusal as refusal:
        db.session.rollback()
        store.delete(key)
        flash(str(refusal), "error")
        return redirect(url_for("health.index"))
    return redirect(url_for("health.preview", extract_id=extract_id))


def _extract_or_404(extract_id: int) -> HealthExtract:
    extract = db.session.get(HealthExtract, extract_id)
    if extract is None:
        abort(404)
    return extract


@bp.get("/extracts/<int:extract_id>")
@role_required(Role.HEALTH)
def preview(extract_id: int):
    """Show what an extract holds and what matching it does (or did); while a job works on it, its progress."""
    extract = _extract_or_404(extract_id)
    job = db.session.get(Job, extract.job_id) if extract.job_id else None
    problems = [(item["row"], Message.from_json(item["message"])) for item in extract.problems or []]
    return render_template("health/preview.html", extract=extract, problems=problems, job=job,
                           payload=status_payload(job) if job is not None else None)


@bp.get("/extracts/<int:extract_id>/job")
@role_required(Role.HEALTH)
def job_status(extract_id: int):
    """Say where the job checking or matching an extract stands (JSON for the preview's script)."""
    extract = _extract_or_404(extract_id)
    job = db.session.get(Job, extract.job_id) if extract.job_id else None
    if job is None:
        abort(404)
    return jsonify(status_payload(job))


@bp.post("/extracts/<int:extract_id>/commit")
@role_required(Role.HEALTH)
def commit(extract_id: int):
    """Queue the match of a checked extract (its page shows the progress); a second submit is refused."""
    extract = _extract_or_404(extract_id)
    try:
        extracts.claim_match(db.session, extract, current_user)
        db.session.commit()  # the match job starts once this is committed
    except Refusal as refusal:
        db.session.rollback()
        flash(str(refusal), "error")
    return redirect(url_for("health.preview", extract_id=extract_id))


# -- tokens of the registry's API ----------------------------------------------------------


@bp.route("/tokens", methods=["GET", "POST"])
@role_required(Role.HEALTH)
def token_list():
    """List the registry's API tokens and make a new one (its secret is shown once)."""
    secret = None
    if request.method == "POST":
        _token, secret = tokens.create_token(db.session, request.form.get("name", ""), current_user)
        db.session.commit()
    return render_template("health/tokens.html", tokens=tokens.tokens(db.session), secret=secret)


@bp.post("/tokens/<int:health_token_id>/revoke")
@role_required(Role.HEALTH)
def token_revoke(health_token_id: int):
    """Stop a token working."""
    token = db.session.get(HealthToken, health_token_id)
    if token is None:
        abort(404)
    tokens.revoke_token(db.session, token, current_user)
    db.session.commit()
    return redirect(url_for("health.token_list"))


# -- conflicts --------------------------------------------------------------------------------


@bp.get("/conflicts")
@role_required(Role.HEALTH, Role.OFFICIAL, Role.ADMIN)
def conflicts():
    """List, per enterprise, the workers whose declarations the registry contradicts."""
    return render_template("health/conflicts.html", rows=listing.conflicts_by_enterprise(db.session, current_user))


@bp.get("/workers")
@role_required(Role.HR)
def workers():
    """Show HR each worker's declared facts beside the registry's, and what to correct."""
    only = request.args.get("all") != "1"
    rows = listing.hr_workers(db.session, current_user.enterprise_id, only_conflicts=only)
    return render_template("health/workers.html", rows=rows, only_conflicts=only, vaccines=BY_CODE)


@bp.post("/workers/<int:worker_id>/accept")
@role_required(Role.HEALTH, Role.HR)
def accept(worker_id: int):
    """Replace a conflicting fact by the registry's, or add a dose only the registry holds (its HR or a
    health-data officer)."""
    worker = db.session.get(Worker, worker_id)
    if worker is None or not worker.active or (current_user.is_hr
                                               and worker.enterprise_id != current_user.enterprise_id):
        abort(404)
    try:
        fact = request.form.get("fact", "")
        after = resolving.accept_registry(db.session, current_registry(), worker, fact, current_user)
        db.session.commit()
        if after.get("added"):
            flash(_("Dose %(number)s from the registry was added to the worker's record.", number=after["dose"]),
                  "success")
        else:
            flash(_("The registry's data replaced what was declared."), "success")
    except Refusal as refusal:
        db.session.rollback()
        flash(str(refusal), "error")
    return redirect(url_for("health.workers") if current_user.is_hr else url_for("health.conflicts"))


# -- the registry's API -----------------------------------------------------------------------

@api_bp.before_request
def _authenticate():
    language = request.accept_languages.best_match(current_app.config["LANGUAGES"], default="vi")
    g.health_api_locale = force_locale(language)
    g.health_api_locale.__enter__()
    kind, _sep, secret = request.headers.get("Authorization", "").partition(" ")
    token = tokens.authenticate(db.session, secret.strip() if kind.lower() == "bearer" else None)
    if token is None:
        response = api_error(401, _("Send a valid health-registry token in the header Authorization: Bearer "
                                     "<token>. Health-data officers create them on the portal."))
        response.headers["WWW-Authenticate"] = 'Bearer realm="health"'
        return response
    g.health_token = token
    return None


@api_bp.teardown_request
def _leave_locale(_error=None):
    locale = g.pop("health_api_locale", None)
    if locale is not None:
        locale.__exit__(None, None, None)


@api_bp.post("/health-records")
def records():
    """Take a JSON list of registry records (vaccination, recovery, test) and match them to the workers."""
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, list) or not body:
        return api_error(400, _("The body must be a non-empty JSON list of records."))
    if len(body) > MAX_API_RECORDS:
        return api_error(400, _("Send at most %(count)s records per request.", count=MAX_API_RECORDS))
    today, parsed, fields = local_today(), [], []
    for index, item in enumerate(body):
        try:
            parsed.append(record_from_json(item, today))
        except RowProblem as problem:
            fields.append({"row": index + 1, "field": problem.field or "", "message": str(Message.of(problem.message))})
    if fields:
        return api_error(422, _("Some records need correcting; nothing was kept."), fields)
    token = g.health_token
    outcome = {}
    for kind in KINDS:
        chosen = [record for record in parsed if record.kind == kind]
        if chosen:
            extract = extracts.take_records(db.session, current_registry(), chosen, source="api", kind=kind,
                                            actor=token.created_by)
            outcome[kind] = {key: extract.counts.get(key, 0) for key in ("rows", "matched", "unmatched")}
    db.session.commit()
    return jsonify(outcome), 200
