from flask import Blueprint, current_app, make_response, render_template, request

from portal.extensions import db, limiter
from portal.messages import Refusal
from portal.passes.pdf import check_downloadable, pass_pdf, pdf_filename
from portal.passes.views import NO_STORE, pdf_response
from portal.plugins import current_registry
from portal.printing.card import public_base_url
from portal.security import keyed_digest, slowdown, wait_message
from portal.selfservice import services
from portal.selfservice.forms import LookupForm
from portal.workers.identity import clean_citizen_id

bp = Blueprint("selfservice", __name__, template_folder="templates")

DEFAULT_IP_LIMIT = "5 per minute;30 per hour"
#: Per ID number and address: one address guessing one ID gets 20 tries a day.
DEFAULT_ID_LIMIT = "5 per hour;20 per day"
#: Per ID number from any address: after a few misses each try waits, up to 15 minutes (never longer:
#: the worker themself must get in), so guesses from many addresses get about 4 checks an hour.
SLOWDOWN_FREE = 5


def _ip_limit() -> str:
    return current_app.config.get("SELFSERVICE_RATE_LIMIT", DEFAULT_IP_LIMIT)


def _id_limit() -> str:
    return current_app.config.get("SELFSERVICE_ID_RATE_LIMIT", DEFAULT_ID_LIMIT)


def _citizen_id_digest() -> str:
    # Keyed hash: the rate-limit store (perhaps Redis) never holds an ID number.
    return keyed_digest(clean_citizen_id(request.form.get("citizen_id", ""))[:20])


def _citizen_id_key() -> str:
    return f"selfservice-id:{_citizen_id_digest()}:{request.remote_addr or '-'}"


@bp.route("/the-xanh", methods=["GET", "POST"])
@limiter.limit(_ip_limit, methods=["POST"])
@limiter.limit(_id_limit, methods=["POST"], key_func=_citizen_id_key)
def lookup():
    """Let a worker download their own green card (public; no account).

    A match answers the POST with the PDF itself: nothing that opens the card ever appears in a
    URL (history, logs, a shared link), and nothing is left to fetch later.
    """
    form = LookupForm()
    not_found, refusal, wait = False, None, 0
    if form.validate_on_submit():
        slow, holder = slowdown("selfservice", free=current_app.config.get("SELFSERVICE_SLOWDOWN_FREE",
                                                                           SLOWDOWN_FREE)), _citizen_id_digest()
        wait = slow.wait(holder)
        pass_ = None if wait else services.find_own_pass(db.session, form.citizen_id.data,
                                                         form.date_of_birth.birth_date, form.phone_last4.data)
        registry = current_registry()
        try:
            if pass_ is not None:
                slow.succeeded(holder)
                check_downloadable(registry, pass_)
                data = pass_pdf(pass_, registry, base_url=public_base_url(), locale="vi")
                return pdf_response(data, pdf_filename(pass_))
            if not wait:
                slow.failed(holder)
                not_found = True
        except Refusal as refused:
            refusal = refused
    response = make_response(render_template("selfservice/lookup.html", form=form, not_found=not_found,
                                             refusal=refusal, wait=wait_message(wait) if wait else None),
                             429 if wait else 200)
    if wait:
        response.headers["Retry-After"] = str(wait)
    response.headers.update(NO_STORE)
    return response
