import time

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from portal.auth import services, twofactor
from portal.auth.forms import (
    ActionForm,
    ChangeAddressForm,
    ChangePasswordForm,
    ForgotPasswordForm,
    LanguageForm,
    LoginForm,
    PasswordForm,
    ResetPasswordForm,
    TwoFactorForm,
)
from portal.auth.models import User
from portal.extensions import db, limiter, login_manager
from portal.messages import Refusal
from portal.security import keyed_digest, safe_next, slowdown, wait_message

bp = Blueprint("auth", __name__, template_folder="templates")

#: Session keys: a sign-in waiting for its second factor; a link's token, moved out of the URL.
PENDING_KEY = "auth_pending"
CONFIRM_TOKEN_KEY = "auth_confirm_token"
RESET_TOKEN_KEY = "auth_reset_token"
SETUP_SECRET_KEY = "auth_totp_setup"
MAX_TOKEN_CHARS = 400

#: Settings (rate limits, the second factor's waiting time) and their defaults.
DEFAULTS = {
    "PASSWORD_RESET_RATE_LIMIT": "3 per hour",  # reset mails asked for one address
    "PASSWORD_RESET_CLIENT_RATE_LIMIT": "10 per hour",  # reset mails asked from one client
    "CONFIRM_RESEND_RATE_LIMIT": "3 per hour;10 per day",  # confirmation mails of one account
    "TWO_FACTOR_RATE_LIMIT": "5 per minute;20 per hour",  # codes tried for one account, and from one client
    "ACCOUNT_FORM_RATE_LIMIT": "10 per minute;30 per hour",  # forms that check the password again
    "TWO_FACTOR_PENDING_SECONDS": 300,  # time between the password and the code
}

#: Pages any signed-in user may reach, whatever their account still lacks (public pages included).
ALWAYS_OPEN = frozenset({"static", "i18n.switch", "auth.logout", "home.index", "home.travel_permit"})
#: What an account whose email is not yet confirmed may do.
CONFIRMING = frozenset({"auth.confirm_pending", "auth.resend_confirmation", "auth.change_address",
                        "auth.confirm_link", "auth.confirm_email"})
#: What an official or admin who must enrol in two-factor sign-in may do.
ENROLLING = frozenset({"auth.two_factor_setup"})


def _setting(key: str):
    value = current_app.config.get(key)
    return DEFAULTS[key] if value is None else value


def _limit(key: str):
    return lambda: _setting(key)


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _login_address_limit() -> str:
    return current_app.config.get("LOGIN_ADDRESS_RATE_LIMIT") or "30 per minute;200 per hour"


def _login_account() -> str:
    return keyed_digest(services.normalise_email(request.form.get("email", ""))[:254])


def _login_account_key() -> str:
    # Per account *and* address: guesses from many addresses never close the account to its owner's
    # address (the per-account slow-down, below, is what slows them).
    return f"login-account:{_login_account()}:{request.remote_addr or '-'}"


def _reset_account_key() -> str:
    return "reset-account:" + services.normalise_email(request.form.get("email", ""))[:254]


def _pending_account_key() -> str:
    pending = session.get(PENDING_KEY) or {}
    return f"two-factor-account:{pending.get('u')}"


def _current_account_key() -> str:
    return f"account:{current_user.get_id().split(':')[0]}" if current_user.is_authenticated else "account:-"


def _home() -> str:
    return url_for("home.dashboard")


def _no_store(response):
    response = make_response(response)
    response.headers["Cache-Control"] = "no-store"
    return response


@login_manager.user_loader
def _load_user(user_id: str):
    return services.load_user(db.session, user_id)


@bp.before_app_request
def _account_gate():
    """Send a signed-in user whose account is not ready to the one page that makes it ready."""
    endpoint = request.endpoint
    if endpoint is None or endpoint in ALWAYS_OPEN:
        return None
    # Checkpoint pages are public and must never wait for a user to load (on SQLite that read
    # would open the request's transaction before the scan's own write).
    if getattr(current_app.view_functions.get(endpoint), "public", False) or not current_user.is_authenticated:
        return None
    if not current_user.email_confirmed:
        if endpoint not in CONFIRMING:
            return redirect(url_for("auth.confirm_pending"))
        return None
    if twofactor.must_enrol(current_user) and endpoint not in ENROLLING:
        return redirect(url_for("auth.two_factor_setup"))
    return None


def _sign_in(user: User, remember: bool = False) -> None:
    login_user(user, remember=remember)


# ---------------------------------------------------------------------------
# Signing in and out
# ---------------------------------------------------------------------------

@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_address_limit, methods=["POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=_login_account_key)
def login():
    """Sign in any role (a user with two-factor sign-in then gives a code)."""
    if current_user.is_authenticated:
        return redirect(_home())
    form = LoginForm()
    if form.validate_on_submit():
        account, slow = _login_account(), slowdown("login")
        wait = slow.wait(account)
        if wait:
            # Not checked, not counted: the wait stays what the last real failure set.
            flash(wait_message(wait), "error")
            response = make_response(render_template("auth/login.html", form=form), 429)
            response.headers["Retry-After"] = str(wait)
            return response
        user = services.authenticate(db.session, form.email.data, form.password.data)
        if user is None:
            slow.failed(account)
            flash(_("Email or password is incorrect."), "error")
        else:
            slow.succeeded(account)
            db.session.commit()
            wanted = safe_next(request.args.get("next"), "")
            if user.has_two_factor:
                session[PENDING_KEY] = {"u": user.id, "v": user.session_version, "r": bool(form.remember.data),
                                        "n": wanted, "t": int(time.time())}
                return redirect(url_for(".two_factor"))
            _sign_in(user, remember=form.remember.data)
            return redirect(wanted or _home())
    return render_template("auth/login.html", form=form)


def _pending_user() -> User | None:
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None
    if time.time() - pending.get("t", 0) > int(_setting("TWO_FACTOR_PENDING_SECONDS")):
        session.pop(PENDING_KEY, None)
        return None
    user = services.load_user(db.session, f"{pending.get('u')}:{pending.get('v')}")
    return user if user is not None and user.has_two_factor else None


@bp.route("/login/two-factor", methods=["GET", "POST"])
@limiter.limit(_limit("TWO_FACTOR_RATE_LIMIT"), methods=["POST"])
@limiter.limit(_limit("TWO_FACTOR_RATE_LIMIT"), methods=["POST"], key_func=_pending_account_key)
def two_factor():
    """Second step of signing in: a code from the authenticator app, or a recovery code."""
    if current_user.is_authenticated:
        return redirect(_home())
    user = _pending_user()
    if user is None:
        if request.method == "POST":
            flash(_("Signing in took too long. Please sign in again."), "error")
        return redirect(url_for(".login"))
    form = TwoFactorForm()
    if form.validate_on_submit():
        used_recovery = not twofactor.normalise_code(form.code.data).isdigit()
        if twofactor.verify(db.session, user, form.code.data):
            pending = session.pop(PENDING_KEY)
            db.session.commit()
            _sign_in(user, remember=bool(pending.get("r")))
            if used_recovery:
                left = twofactor.unused_recovery_codes(db.session, user)
                flash(_("You signed in with a recovery code; %(count)s are left. Make new ones on your account "
                        "page if you are running out.", count=left), "warning")
            return redirect(safe_next(pending.get("n"), _home()))
        db.session.rollback()
        form.code.errors.append(_("This code is not right, or it was already used. Type the code your app "
                                  "shows now, or one of your recovery codes."))
    return _no_store(render_template("auth/two_factor.html", form=form))


@bp.post("/logout")
@login_required
def logout():
    """Sign out: this session and every other one of the user (and remember-me cookies) end on the server."""
    return _end_every_session(_("You have signed out."))


def _end_every_session(message: str):
    """End every session and remember-me cookie of the current user on the server, say ``message``, go home."""
    services.end_all_sessions(db.session, current_user._get_current_object())
    db.session.commit()
    logout_user()
    flash(message, "info")
    return redirect(url_for("home.index"))


# ---------------------------------------------------------------------------
# Confirming the email of a self-registered account
# ---------------------------------------------------------------------------

@bp.get("/account/confirm")
@login_required
def confirm_pending():
    """Tell an account with an unconfirmed email what to do: follow the link, resend it, fix the address."""
    if current_user.email_confirmed:
        return redirect(_home())
    return _no_store(render_template("auth/confirm_pending.html", resend=ActionForm(),
                                     address=ChangeAddressForm(formdata=None)))


@bp.post("/account/confirm/resend")
@login_required
@limiter.limit(_limit("CONFIRM_RESEND_RATE_LIMIT"), key_func=_current_account_key)
@limiter.limit(_limit("PASSWORD_RESET_CLIENT_RATE_LIMIT"))
def resend_confirmation():
    """Mail the confirmation link again."""
    user = current_user._get_current_object()
    if user.email_confirmed:
        return redirect(_home())
    services.send_confirmation(db.session, user)
    db.session.commit()
    flash(_("We sent a new confirmation link to %(email)s.", email=user.email), "success")
    return redirect(url_for(".confirm_pending"))


@bp.post("/account/confirm/address")
@login_required
@limiter.limit(_limit("ACCOUNT_FORM_RATE_LIMIT"), key_func=_current_account_key)
def change_address():
    """Correct a mistyped email before it is confirmed; the link goes to the new address."""
    user = current_user._get_current_object()
    if user.email_confirmed:
        return redirect(_home())
    form = ChangeAddressForm()
    if form.validate_on_submit():
        try:
            services.change_unconfirmed_email(db.session, user, password=form.password.data,
                                              new_email=form.email.data)
        except Refusal as refusal:
            db.session.rollback()
            getattr(form, refusal.field or "email").errors.append(str(refusal))
        else:
            db.session.commit()
            flash(_("Your email is now %(email)s. We sent the confirmation link there.", email=user.email),
                  "success")
            return redirect(url_for(".confirm_pending"))
    return _no_store(render_template("auth/confirm_pending.html", resend=ActionForm(), address=form)), 400


@bp.get("/email/confirm/<token>")
def confirm_link(token: str):
    """Where the mailed link lands: keep the token out of the address bar and the logs that follow."""
    session[CONFIRM_TOKEN_KEY] = token[:MAX_TOKEN_CHARS]
    return redirect(url_for(".confirm_email"))


@bp.route("/email/confirm", methods=["GET", "POST"])
def confirm_email():
    """Confirm an email with the link's token (a button, so that mail scanners opening links confirm nothing)."""
    token = session.get(CONFIRM_TOKEN_KEY)
    form = ActionForm()
    problem = None
    if not token:
        problem = _("Open the link from the confirmation mail to confirm your email.")
    elif request.method == "GET":
        try:
            services.user_for_confirmation(db.session, token)
        except Refusal as refusal:
            problem = str(refusal)
    elif form.validate_on_submit():
        try:
            user = services.confirm_email(db.session, token)
        except Refusal as refusal:
            db.session.rollback()
            problem = str(refusal)
        else:
            db.session.commit()
            session.pop(CONFIRM_TOKEN_KEY, None)
            flash(_("Your email %(email)s is confirmed.", email=user.email), "success")
            if current_user.is_authenticated and current_user.id == user.id:
                return redirect(_home())
            return redirect(url_for(".login"))
    if problem:
        session.pop(CONFIRM_TOKEN_KEY, None)
    return _no_store(render_template("auth/confirm_email.html", form=form, problem=problem))


# ---------------------------------------------------------------------------
# A forgotten password
# ---------------------------------------------------------------------------

@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_limit("PASSWORD_RESET_CLIENT_RATE_LIMIT"), methods=["POST"])
@limiter.limit(_limit("PASSWORD_RESET_RATE_LIMIT"), methods=["POST"], key_func=_reset_account_key)
def forgot_password():
    """Ask for a reset link; the answer is the same whether or not an account uses the address."""
    if current_user.is_authenticated:
        return redirect(url_for(".change_password"))
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(db.session, form.email.data)
        db.session.commit()
        flash(_("If an account uses %(email)s, we have sent it a link to set a new password. It works for "
                "%(minutes)s minutes. Check your spam folder too.", email=services.normalise_email(form.email.data),
                minutes=int(services.setting("PASSWORD_RESET_MAX_AGE")) // 60), "info")
        return redirect(url_for(".login"))
    return render_template("auth/forgot_password.html", form=form)


@bp.get("/password/reset/<token>")
def reset_link(token: str):
    """Where the mailed link lands: keep the token out of the address bar and the logs that follow."""
    session[RESET_TOKEN_KEY] = token[:MAX_TOKEN_CHARS]
    return redirect(url_for(".reset_password"))


@bp.route("/password/reset", methods=["GET", "POST"])
@limiter.limit(_limit("ACCOUNT_FORM_RATE_LIMIT"), methods=["POST"])
def reset_password():
    """Choose a new password with a reset link; then every session of the account ends."""
    token = session.get(RESET_TOKEN_KEY)
    form = ResetPasswordForm()
    problem = None
    user = None
    if not token:
        problem = _("Open the link from the password mail to choose a new password.")
    else:
        try:
            user = services.user_for_reset(db.session, token)
        except Refusal as refusal:
            problem = str(refusal)
    if user is not None and form.validate_on_submit():
        try:
            services.reset_password(db.session, token, form.password.data)
        except Refusal as refusal:
            db.session.rollback()
            form.password.errors.append(str(refusal))
        else:
            db.session.commit()
            session.pop(RESET_TOKEN_KEY, None)
            if current_user.is_authenticated:
                logout_user()
            flash(_("Your password is changed, and every device that was signed in is signed out. Sign in with "
                    "your new password."), "success")
            return redirect(url_for(".login"))
    if problem:
        session.pop(RESET_TOKEN_KEY, None)
    return _no_store(render_template("auth/reset_password.html", form=form, problem=problem, user=user))


# ---------------------------------------------------------------------------
# The account page: password, devices, language, two-factor sign-in
# ---------------------------------------------------------------------------

def _account_page(**forms):
    user = current_user._get_current_object()
    forms.setdefault("language", LanguageForm(formdata=None, locale=user.locale))
    forms.setdefault("disable", PasswordForm(formdata=None, prefix="disable"))
    forms.setdefault("codes", PasswordForm(formdata=None, prefix="codes"))
    return _no_store(render_template(
        "auth/account.html", user=user, action=ActionForm(),
        recovery_left=twofactor.unused_recovery_codes(db.session, user) if user.has_two_factor else 0,
        can_disable=user.has_two_factor and not (user.two_factor_role and twofactor.enforced()),
        must_have_two_factor=user.two_factor_role and twofactor.enforced(), **forms))


@bp.get("/account")
@login_required
def account():
    """Show the signed-in user their account and what they can change."""
    return _account_page()


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@limiter.limit(_limit("ACCOUNT_FORM_RATE_LIMIT"), methods=["POST"], key_func=_current_account_key)
def change_password():
    """Change the password (the current one is asked); every other device is signed out."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            services.change_password(db.session, user, current=form.current_password.data, new=form.password.data)
        except Refusal as refusal:
            db.session.rollback()
            getattr(form, refusal.field or "password").errors.append(str(refusal))
        else:
            db.session.commit()
            _sign_in(user)  # this device goes on with the new session version
            flash(_("Your password is changed. Every other device that was signed in is signed out."), "success")
            return redirect(url_for(".account"))
    return _no_store(render_template("auth/change_password.html", form=form))


@bp.post("/account/sign-out-everywhere")
@login_required
def sign_out_everywhere():
    """End every session and remember-me cookie of the user, this one included."""
    return _end_every_session(_("You are signed out on every device, this one included."))


@bp.post("/account/language")
@login_required
def set_language():
    """Choose the language of the mails the portal sends you."""
    form = LanguageForm()
    if form.validate_on_submit():
        services.set_locale(db.session, current_user._get_current_object(), form.locale.data)
        db.session.commit()
        flash(_("Saved: your mails will be in the language you chose."), "success")
        return redirect(url_for(".account"))
    return _account_page(language=form), 400


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
@limiter.limit(_limit("TWO_FACTOR_RATE_LIMIT"), methods=["POST"], key_func=_current_account_key)
def two_factor_setup():
    """Turn on two-factor sign-in: scan the QR code, type a code, keep the recovery codes."""
    user = current_user._get_current_object()
    if user.has_two_factor:
        return redirect(url_for(".account"))
    secret = session.get(SETUP_SECRET_KEY)
    if not secret:
        secret = session[SETUP_SECRET_KEY] = twofactor.new_secret()
    form = TwoFactorForm()
    if form.validate_on_submit():
        try:
            codes = twofactor.enable(db.session, user, secret, form.code.data)
        except Refusal as refusal:
            db.session.rollback()
            form.code.errors.append(str(refusal))
        else:
            db.session.commit()
            session.pop(SETUP_SECRET_KEY, None)
            _sign_in(user)  # other devices are signed out; this one goes on
            return _no_store(render_template("auth/recovery_codes.html", codes=codes, first=True))
    uri = twofactor.provisioning_uri(user, secret)
    return _no_store(render_template(
        "auth/two_factor_setup.html", form=form, qr=twofactor.qr_image(uri),
        key=" ".join(secret[i:i + 4] for i in range(0, len(secret), 4)),
        required=twofactor.must_enrol(user)))


@bp.post("/account/two-factor/recovery-codes")
@login_required
@limiter.limit(_limit("ACCOUNT_FORM_RATE_LIMIT"), key_func=_current_account_key)
def recovery_codes():
    """Make new recovery codes (the old ones stop working) and show them once."""
    form = PasswordForm(prefix="codes")
    if form.validate_on_submit():
        try:
            codes = twofactor.regenerate_recovery_codes(db.session, current_user._get_current_object(),
                                                        password=form.password.data)
        except Refusal as refusal:
            db.session.rollback()
            form.password.errors.append(str(refusal))
        else:
            db.session.commit()
            return _no_store(render_template("auth/recovery_codes.html", codes=codes, first=False))
    return _account_page(codes=form), 400


@bp.post("/account/two-factor/disable")
@login_required
@limiter.limit(_limit("ACCOUNT_FORM_RATE_LIMIT"), key_func=_current_account_key)
def two_factor_disable():
    """Turn two-factor sign-in off (only where the role does not require it)."""
    form = PasswordForm(prefix="disable")
    user = current_user._get_current_object()
    if form.validate_on_submit():
        try:
            twofactor.disable(db.session, user, password=form.password.data)
        except Refusal as refusal:
            db.session.rollback()
            if refusal.field is None:  # not the password: the role requires it
                flash(str(refusal), "error")
                return redirect(url_for(".account"))
            form.password.errors.append(str(refusal))
        else:
            db.session.commit()
            _sign_in(user)
            flash(_("Two-factor sign-in is off."), "info")
            return redirect(url_for(".account"))
    return _account_page(disable=form), 400
