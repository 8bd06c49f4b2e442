import time

from flask import Blueprint, abort, current_app, make_response, redirect, render_template, request, session, url_for

from portal.extensions import db, limiter
from portal.messages import Refusal
from portal.passes.pdf import check_downloadable, pass_pdf, pdf_filename
from portal.passes.views import NO_STORE, pdf_response
from portal.plugins import current_registry
from portal.printing.card import build_card, public_base_url
from portal.printing.image import png_filename, render_pass_png
from portal.printing.qr import qr_data_uri
from portal.printing.render import card_text, labels
from portal.security import keyed_digest, slowdown, wait_message
from portal.selfservice import services
from portal.selfservice.forms import LookupForm
from portal.workers.identity import clean_citizen_id

bp = Blueprint("selfservice", __name__, template_folder="templates")

#: Where the session keeps which card it proved, and for how long (seconds) it may fetch it.
PROOF_KEY = "selfservice_card"
PROOF_SECONDS = 15 * 60

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
    # Per ID *and* address: guesses from many addresses never close the lookup to the worker's own address
    # (the per-ID slow-down in lookup() is what slows them).
    return f"selfservice-id:{_citizen_id_digest()}:{request.remote_addr or '-'}"


@bp.route("/the-xanh", methods=["GET", "POST"])
@limiter.limit(_ip_limit, methods=["POST"])
@limiter.limit(_id_limit, methods=["POST"], key_func=_citizen_id_key)
def lookup():
    """Let a worker find their own green card (public; no account), then send them to it.

    A match proves the card to this browser's session only, for :data:`PROOF_SECONDS`: the card's
    page, its PDF and its image are then fetched by the session, so nothing that opens the card ever
    appears in a URL (history, logs, a shared link).
    """
    form = LookupForm()
    not_found, refusal, wait = False, None, 0
    if form.validate_on_submit():
        slow = slowdown("selfservice", free=current_app.config.get("SELFSERVICE_SLOWDOWN_FREE", SLOWDOWN_FREE))
        holder = _citizen_id_digest()
        wait = slow.wait(holder)  # while waiting nothing is checked, and nothing counted
        pass_ = None if wait else services.find_own_pass(db.session, form.citizen_id.data,
                                                         form.date_of_birth.birth_date, form.phone_last4.data)
        registry = current_registry()
        try:
            if pass_ is not None:
                slow.succeeded(holder)
                check_downloadable(registry, pass_)
                session[PROOF_KEY] = {"p": pass_.id, "v": pass_.version, "t": int(time.time())}
                # Post/redirect/get: reloading the card's page neither sends the details again nor counts a guess.
                return redirect(url_for("selfservice.card"), code=303)
            if not wait:
                slow.failed(holder)
                not_found = True
        except Refusal as refused:
            refusal = refused
    response = _no_store(render_template("selfservice/lookup.html", form=form, not_found=not_found, refusal=refusal,
                                         wait=wait_message(wait) if wait else None))
    if wait:
        response.status_code = 429
        response.headers["Retry-After"] = str(wait)
    return response


@bp.get("/the-xanh/the-cua-toi")
def card():
    """Show the proven card with its QR code, beside its image and PDF (only to the session that proved it)."""
    pass_, registry = _proven()
    shown = _card(pass_, registry)
    text = labels(shown.locale)
    return _no_store(render_template("selfservice/card.html", card=shown, text=text, lines=card_text(shown, text),
                                     qr=qr_data_uri(shown.verify_url), proof_minutes=PROOF_SECONDS // 60))


@bp.get("/the-xanh/the-xanh.pdf")
def card_pdf():
    """Send the proven card as a PDF (only to the session that proved it)."""
    pass_, registry = _proven()
    data = pass_pdf(pass_, registry, base_url=public_base_url(), locale="vi")
    return pdf_response(data, pdf_filename(pass_))


@bp.get("/the-xanh/the-xanh.png")
def card_png():
    """Send the proven card as an image to keep in the phone's photos (only to the session that proved it)."""
    pass_, registry = _proven()
    card = _card(pass_, registry)
    response = make_response(render_pass_png(card))
    response.mimetype = "image/png"
    disposition = "attachment" if request.args.get("save") else "inline"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{png_filename(card)}"'
    return _no_store(response)


def _card(pass_, registry):
    return build_card(pass_, registry, base_url=public_base_url(), locale="vi")


def _proven():
    """Return the pass this session proved within PROOF_SECONDS, still active and unchanged; else answer 403."""
    proof = session.get(PROOF_KEY)
    pass_ = None
    if isinstance(proof, dict) and 0 <= time.time() - proof.get("t", 0) <= PROOF_SECONDS:
        pass_ = services.proven_pass(db.session, proof.get("p"), proof.get("v"))
    registry = current_registry()
    if pass_ is not None:
        try:
            check_downloadable(registry, pass_)
        except Refusal:
            pass_ = None
    if pass_ is None:
        session.pop(PROOF_KEY, None)
        page = render_template("selfservice/lookup.html", form=LookupForm(), not_found=False, refusal=None,
                               expired=True)
        abort(_no_store(make_response(page, 403)))
    return pass_, registry


def _no_store(response):
    response = make_response(response)
    response.headers.update(NO_STORE)
    return response
