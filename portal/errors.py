"""Error pages in the user's language; JSON errors for the API and checkpoint apps."""
from __future__ import annotations

from flask import jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException


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
        500: _("Something went wrong on our side. Your data was not changed. Please try again later."),
    }


def render_error(code: int, message: str | None = None):
    message = message or _messages().get(code) or _messages()[500]
    if wants_json():
        return jsonify(error={"code": code, "message": message}), code
    return render_template("error.html", code=code, message=message), code


def init_app(app) -> None:
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
        return render_error(code)

    from portal.tokens.keys import SigningKeyUnavailable

    @app.errorhandler(SigningKeyUnavailable)
    def _cannot_sign(error: SigningKeyUnavailable):
        # A setup problem, not a bug: the page says so; the log says what the operator must do.
        app.logger.error("Cannot sign a green card on %s %s: %s", request.method, request.path, error.detail)
        from portal.extensions import db

        db.session.rollback()
        return render_error(503, str(error))

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        from portal.extensions import db

        db.session.rollback()
        if app.config.get("PROPAGATE_EXCEPTIONS"):
            raise error
        return render_error(500)
