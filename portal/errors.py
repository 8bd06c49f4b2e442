"""Error pages in the user's language; JSON errors for the API and checkpoint apps.

An error page needs nothing but the request: when the database is away, a signed-in user's page
answers 503 with the portal's own layout (no user is loaded, no navigation drawn from the database),
and if even that fails, a plain page in the same words; never the server's bare "Internal Server
Error". A page says "your change was not saved" only when the portal knows it: a request that
committed nothing and did not lose the database in the middle.
"""
from __future__ import annotations

from flask import current_app, g, has_request_context, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

#: Errors that mean the database cannot be reached or cannot answer now (down, restarting, locked, pool
#: exhausted), as opposed to a bug: the page says to come back, with 503 and Retry-After.
DATABASE_AWAY = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError, sa_exc.TimeoutError)
RETRY_AFTER_SECONDS = 30


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _messages() -> dict[int, str]:
    return {
        400: _("The request could not be understood. Please check what you entered and try again."),
        403: _("You do not have permission to do this."),
        404: _("This page does not exist, or you may not see it."),
        405: _("This action is not allowed here."),
        409: _("Someone else changed this at the same time. Reload the page and try again."),
        413: _("The file is too large."),
        429: _("Too many attempts. Please wait a minute and try again."),
        500: _("Something went wrong on our side. Please try again later."),
        503: _("The portal cannot reach its database at the moment. Please try again in a few minutes."),
    }


def _writes() -> bool:
    return request.method not in ("GET", "HEAD", "OPTIONS")


def _unexpected_message() -> str:
    """Say what a failed request did to the user's data, only as far as the portal knows it."""
    if not _writes():
        return _messages()[500]
    if g.get("portal_committed"):
        return _("Something went wrong on our side after part of your change was saved. "
                 "Reload the page and check before trying again.")
    return _("Something went wrong on our side. Your change was not saved. Please try again later.")


def _database_away_message() -> str:
    if not _writes():
        return _messages()[503]
    # The connection may have dropped during the commit, or a job may already be running: nobody knows.
    return _("The portal cannot reach its database at the moment, so it cannot tell whether your change "
             "was saved. In a few minutes, reload the page and check before trying again.")


def render_error(code: int, message: str | None = None):
    message = message or _messages().get(code) or _messages()[500]
    if wants_json():
        return jsonify(error={"code": code, "message": message}), code
    try:
        return render_template("error.html", code=code, message=message), code
    except Exception:  # the layout itself failed: answer in the same words, in a page that needs nothing
        current_app.logger.exception("could not render the error page")
        return _plain_page(code, message), code


def _plain_page(code: int, message: str) -> str:
    return (f'<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>{code}</title></head>'
            f"<body><main><h1>{escape(_('Sorry'))}</h1><p>{escape(message)}</p>"
            f'<p><a href="/">{escape(_("Back to the start page"))}</a></p></main></body></html>')


def _forget_the_user() -> None:
    """Draw the page as nobody's: loading the signed-in user (or reloading it after the rollback) needs the database."""
    from flask_login import AnonymousUserMixin

    g.database_away = True
    g._login_user = AnonymousUserMixin()


def roll_back() -> None:
    """Roll the session back, quietly when the connection is gone (nothing of the request is left to undo)."""
    from portal.extensions import db

    try:
        db.session.rollback()
    except Exception:  # the connection is gone: nothing of this request is left to undo
        current_app.logger.warning("could not roll back after an error", exc_info=True)


def _note_commit(_session) -> None:
    if has_request_context():
        g.portal_committed = True


def init_app(app) -> None:
    from flask_sqlalchemy.session import Session

    # What a request has committed decides what its error page may say about the user's data.
    if not event.contains(Session, "after_commit", _note_commit):
        event.listen(Session, "after_commit", _note_commit)

    @app.errorhandler(CSRFError)
    def _csrf(error):
        return render_error(
            400, _("Your form expired or was sent from another site. Please reload the page and try again.")
        )

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        code = error.code or 500
        if code not in _messages():
            return error
        response = current_app.make_response(render_error(code))
        # A 405 names the methods the address does answer (RFC 9110), as Werkzeug's own page does.
        for name, value in error.get_headers():
            if name == "Allow":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        away = isinstance(error, DATABASE_AWAY)
        if away:
            app.logger.error("Database unavailable on %s %s: %s", request.method, request.path,
                             str(error).splitlines()[0] if str(error) else type(error).__name__)
        else:
            app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        roll_back()
        if app.config.get("PROPAGATE_EXCEPTIONS"):
            raise error
        if away:
            _forget_the_user()
            response = render_error(503, _database_away_message())
            response = app.make_response(response)
            response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return response
        return render_error(500, _unexpected_message())
