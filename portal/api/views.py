"""The JSON API through which enterprises' HR systems keep their worker list in step, and its token pages.

The API trusts nothing but a bearer token: no session cookie, hence no CSRF token either.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from portal.api import openapi, services
from portal.api.forms import TokenForm
from portal.api.models import ApiToken
from portal.auth.access import role_required
from portal.auth.models import Role
from portal.clock import local_today
from portal.db import write_transaction
from portal.extensions import csrf, db, limiter
from portal.messages import Refusal, notice_link, take_notices
from portal.plugins import current_registry
from portal.security import digits_only
from portal.workers import services as workers
from portal.workers.models import Worker
from portal.workers.validation import clean_worker, duplicate_rows

bp = Blueprint("api", __name__, url_prefix="/api/v1", template_folder="templates")
tokens_bp = Blueprint("apitokens", __name__, template_folder="templates")
extra_blueprints = (tokens_bp,)

DEFAULT_PER_PAGE, MAX_PER_PAGE = 50, 500
MAX_BULK = 5000
DEFAULT_RATE_LIMIT = "600 per minute"
#: Writes (create, change, deactivate, bulk) per token, within the overall budget.
DEFAULT_WRITE_RATE_LIMIT = "120 per minute"
WRITE_METHODS = ["POST", "PUT", "PATCH", "DELETE"]
PUBLIC_ENDPOINTS = {"api.openapi"}


def _rate_limit() -> str:
    return current_app.config.get("API_RATE_LIMIT", DEFAULT_RATE_LIMIT)


def _bearer() -> str | None:
    kind, _sep, secret = request.headers.get("Authorization", "").partition(" ")
    return secret.strip() if kind.lower() == "bearer" and secret.strip() else None


def _rate_key() -> str:
    """Count requests per token (per address for requests without one)."""
    secret = _bearer()
    if secret:
        return "api-token:" + services.hash_secret(secret)[:32]
    return "api-anonymous:" + (request.remote_addr or "")


def _write_rate_limit() -> str:
    return current_app.config.get("API_WRITE_RATE_LIMIT", DEFAULT_WRITE_RATE_LIMIT)


csrf.exempt(bp)
limiter.limit(_rate_limit, key_func=_rate_key)(bp)
limiter.limit(_write_rate_limit, key_func=lambda: "write:" + _rate_key(), methods=WRITE_METHODS)(bp)


def error(status: int, message: str, fields: list[dict] | None = None):
    """Return the API's error response: {"error": {"code", "message", "fields"?}} with ``status``."""
    body = {"code": status, "message": message}
    if fields:
        body["fields"] = fields
    response = jsonify(error=body)
    response.status_code = status
    return response


@bp.before_request
def _authenticate():
    """Answer in the language asked for (Vietnamese by default); let only a working token through."""
    language = request.accept_languages.best_match(current_app.config["LANGUAGES"], default="vi")
    # Held on g so that it lasts the whole request, error handlers included.
    g.api_locale = force_locale(language)
    g.api_locale.__enter__()
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    token = services.authenticate(db.session, _bearer())
    if token is None:
        return _unauthorized()
    if services.touch_due(token):
        # Read again in a transaction that holds the write lock from its BEGIN (SQLite: a GET reads DEFERRED).
        db.session.rollback()
        with write_transaction():
            token = services.authenticate(db.session, _bearer())
            if token is not None and services.touch(token):
                db.session.commit()
        if token is None:  # revoked between the two reads
            return _unauthorized()
    g.api_token = token
    return None


def _unauthorized():
    response = error(401, _("Send a valid API token in the header Authorization: Bearer <token>. "
                            "HR staff create tokens on the portal's API page."))
    response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def _token() -> ApiToken:
    return g.api_token


def _reason() -> str:
    return services.audit_reason(_token())


def _own_worker_or_404(worker_id: int) -> Worker:
    worker = db.session.get(Worker, worker_id)
    if worker is None or worker.enterprise_id != _token().enterprise_id:
        abort(404)
    return worker


def _json_body():
    body = request.get_json(force=True, silent=True)
    if body is None:
        abort(error(400, _("The body must be JSON (Content-Type: application/json).")))
    return body


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not digits_only(raw) or not low <= int(raw) <= high:
        abort(error(400, _("%(name)s must be a whole number from %(low)s to %(high)s.", name=name, low=low,
                           high=high)))
    return int(raw)


# -- endpoints ----------------------------------------------------------------------


@bp.get("/openapi.json", endpoint="openapi")
def openapi_document():
    """Describe this API (OpenAPI 3.1); public, it holds no data."""
    return jsonify(openapi.document())


@bp.get("/workers")
def list_workers():
    """List the enterprise's workers, paginated, optionally matching ``q``."""
    page = _int_arg("page", 1, 1, openapi.MAX_PAGE)
    per_page = _int_arg("per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)
    status = request.args.get("status", "active")
    if status not in ("active", "left"):
        abort(error(400, _("status must be active or left.")))
    query = workers.worker_query(_token().enterprise_id, q=request.args.get("q", "")[:100],
                                 active=status == "active")
    result = db.paginate(query.options(selectinload(Worker.doses)), page=page, per_page=per_page,
                         error_out=False, count=True)
    return jsonify(items=[services.worker_json(worker) for worker in result.items], page=page,
                   per_page=per_page, total=result.total, pages=result.pages)


@bp.get("/workers/<int:worker_id>")
def get_worker(worker_id: int):
    """Return one of the enterprise's workers."""
    return jsonify(services.worker_json(_own_worker_or_404(worker_id)))


@bp.post("/workers")
def create_worker():
    """Register one worker."""
    clean = _clean(_json_body())
    worker = _write(lambda: workers.create_worker(db.session, current_registry(), _token().enterprise, clean,
                                                  _token().created_by, reason=_reason()))
    response = jsonify(_with_notices(services.worker_json(worker)))
    response.headers["Location"] = url_for("api.get_worker", worker_id=worker.id)
    return response, 201


@bp.route("/workers/<int:worker_id>", methods=["PUT", "PATCH"])
def update_worker(worker_id: int):
    """Replace (PUT) or change some fields of (PATCH) a worker; doses, when sent, replace all doses."""
    worker = _own_worker_or_404(worker_id)
    body = _json_body()
    if request.method == "PATCH" and isinstance(body, dict):
        body = {**services.stored_input(worker), **body}
    clean = _clean(body)
    worker = _write(lambda: workers.update_worker(db.session, current_registry(), worker, clean,
                                                  _token().created_by, reason=_reason()))
    return jsonify(_with_notices(services.worker_json(worker)))


@bp.post("/workers/<int:worker_id>/deactivate")
def deactivate_worker(worker_id: int):
    """Record that a worker left the enterprise."""
    worker = _own_worker_or_404(worker_id)
    body = _json_body()
    if not isinstance(body, dict):
        abort(error(400, _("The body must be a JSON object.")))
    problems = []
    try:
        left_on = services.parse_left_on(body.get("left_on"), local_today())
    except ValueError as problem:
        problems.append({"field": "left_on", "message": str(problem)})
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 500:
        problems.append({"field": "reason", "message": _("Give the reason (at most 500 characters), "
                                                         "e.g. resigned or contract ended.")})
    if problems:
        abort(error(422, _("Some data needs correcting."), problems))
    _write(lambda: workers.deactivate_worker(db.session, current_registry(), worker, _token().created_by,
                                             left_on=left_on, reason=reason.strip()))
    return jsonify(_with_notices(services.worker_json(worker)))


@bp.post("/workers/bulk")
def bulk_upsert():
    """Create or update up to 5,000 workers at once: all or nothing, or only the valid rows with ?partial=true."""
    body = _json_body()
    rows = body.get("workers") if isinstance(body, dict) else None
    if not isinstance(rows, list):
        abort(error(400, _("The body must be an object with a list \"workers\".")))
    if len(rows) > MAX_BULK:
        abort(error(422, _("At most %(max)s workers per call; split the list.", max=MAX_BULK)))
    partial = request.args.get("partial", "").lower() in ("1", "true", "yes")
    enterprise = _token().enterprise
    cleans, problems = _check_rows(rows, enterprise.id)
    if problems and not partial:
        abort(error(422, _("%(count)s rows need correcting; nothing was saved.",
                           count=len({p["row"] for p in problems})), problems))
    result = _write(lambda: workers.upsert_workers(db.session, current_registry(), enterprise,
                                                    [c for _row, c in cleans], _token().created_by,
                                                    reason=_reason()))
    outcome = {**dict.fromkeys(result.created, "created"), **dict.fromkeys(result.updated, "updated"),
               **dict.fromkeys(result.unchanged, "unchanged")}
    return jsonify(_with_notices({
        "created": len(result.created), "updated": len(result.updated), "unchanged": len(result.unchanged),
        "rejected": len({p["row"] for p in problems}), "errors": problems,
        "workers": [{"row": row, "id": result.worker_ids[clean.citizen_id], "citizen_id": clean.citizen_id,
                   "result": outcome[clean.citizen_id]} for row, clean in cleans],
    }))


# -- shared ----------------------------------------------------------------------------


def _clean(body):
    """Validate one JSON worker; answer 422 with every problem, keyed by JSON field."""
    raw, shape_errors = services.worker_input(body)
    clean, errors = (None, []) if shape_errors else clean_worker(raw, current_registry(), today=local_today())
    problems = shape_errors or errors
    if problems:
        abort(error(422, _("Some data needs correcting."), services.field_errors(problems)))
    return clean


def _check_rows(rows: list, enterprise_id: int):
    """Return ((row number, clean) for the valid rows, problems) for a bulk call; rows count from 1."""
    registry, today = current_registry(), local_today()
    valid, problems = [], []
    for number, body in enumerate(rows, start=1):
        raw, errors = services.worker_input(body)
        if not errors:
            clean, errors = clean_worker(raw, registry, today=today)
        if errors:
            problems += services.field_errors(errors, row=number)
        else:
            valid.append((number, clean))
    repeats = duplicate_rows([clean for _number, clean in valid])
    taken = workers.active_elsewhere(db.session, (clean.citizen_id for _n, clean in valid), enterprise_id)
    keep = []
    for index, (number, clean) in enumerate(valid):
        if index in repeats:
            problems.append({"row": number, "field": "citizen_id", "message": _(
                "This citizen ID is already on row %(row)s.", row=valid[repeats[index]][0])})
        elif clean.citizen_id in taken:
            problems.append({"row": number, "field": "citizen_id", "message": str(workers.TAKEN_MESSAGE)})
        else:
            keep.append((number, clean))
    problems.sort(key=lambda problem: problem["row"])
    return keep, problems


def _write(change):
    """Run ``change`` and commit; turn the services' refusals into 409 answers with nothing written."""
    try:
        result = change()
    except Refusal as refusal:
        db.session.rollback()
        fields = [{"field": refusal.field, "message": str(refusal)}] if refusal.field else None
        abort(error(409, str(refusal), fields))
    db.session.commit()
    g.api_notices = take_notices(db.session)
    return result


def _with_notices(payload: dict) -> dict:
    """Add to a write's answer what the write caused beyond the worker (a card to print again), if anything."""
    notices = []
    for notice in g.pop("api_notices", []):
        link = notice_link(notice)
        notices.append({"message": notice.message.render(), **({"url": link} if link else {})})
    return {**payload, "notices": notices} if notices else payload


# -- HR's token pages ------------------------------------------------------------------------


@tokens_bp.route("/enterprise/api-tokens", methods=["GET", "POST"])
@role_required(Role.HR)
def index():
    """List the enterprise's API tokens and create one (its secret is shown once, on this response only)."""
    form = TokenForm()
    secret = None
    if form.validate_on_submit():
        _token_row, secret = services.create_token(db.session, current_user.enterprise, form.name.data.strip(),
                                                   current_user)
        db.session.commit()
        form = TokenForm(formdata=None)
    response = current_app.make_response(render_template(
        "api/tokens.html", form=form, secret=secret, tokens=services.tokens_of(db.session, current_user.enterprise_id),
        api_base=url_for("api.list_workers", _external=True), openapi_url=url_for("api.openapi")))
    response.headers["Cache-Control"] = "no-store"
    return response


@tokens_bp.post("/enterprise/api-tokens/<int:token_id>/revoke")
@role_required(Role.HR)
def revoke(token_id: int):
    """Stop a token working at once."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.enterprise_id != current_user.enterprise_id:
        abort(404)
    services.revoke_token(db.session, token, current_user)
    db.session.commit()
    flash(_("The token “%(name)s” was revoked: requests sending it are refused from now on.", name=token.name),
          "success")
    return redirect(url_for("apitokens.index"))
