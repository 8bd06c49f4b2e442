"""The checkpoint's lane: ``GET /api/v1/verify/<token>`` answered in front of Flask's per-request machinery.

Checkpoint apps call this endpoint for every card they scan; it is public and stateless. Through
Flask each answer paid for what pages need and this endpoint does not: a request context, a session
cookie opened and saved, the CSRF and job hooks, Flask-Limiter's limit resolution before and after the
view, Babel's locale selection. The lane answers the same JSON with only the app context, the same
:class:`~portal.verify.views.Checkpoint` (limit per client, signature, pass state, scan record
committed before the answer) and the portal's security headers.

Anything else goes to the app unchanged: other paths and methods, a client over its limit (the app
renders the refusal in the client's language) and any error before the scan was recorded (the
app's view answers or fails the usual way).
"""
from __future__ import annotations

import logging
from functools import lru_cache

from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header, parse_cookie

from portal.i18n import LANG_COOKIE
from portal.security import security_headers

log = logging.getLogger(__name__)

PREFIX = "/api/v1/verify/"


class CheckpointLane:
    """WSGI middleware around ``app.wsgi_app`` that answers the verification JSON itself."""

    def __init__(self, app, inner) -> None:
        self.app = app
        self.inner = inner

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if not path.startswith(PREFIX) or environ.get("REQUEST_METHOD") != "GET":
            return self.inner(environ, start_response)
        from portal.verify.views import checkpoint

        app = self.app
        # PATH_INFO is latin-1 text of the raw bytes (PEP 3333); decode as Werkzeug does for the view.
        token = path[len(PREFIX):].encode("latin-1").decode("utf-8", "replace")
        result = None
        try:
            with app.app_context():
                point = checkpoint(app)
                result, _reset_in = point.check(environ.get("REMOTE_ADDR") or "-", token)
                if result is None:
                    return self.inner(environ, start_response)
                body = point.json_body(result, language(environ.get("HTTP_COOKIE"),
                                                        environ.get("HTTP_ACCEPT_LANGUAGE"),
                                                        tuple(app.config["LANGUAGES"]),
                                                        app.config["BABEL_DEFAULT_LOCALE"]))
        except Exception:  # noqa: BLE001
            if result is not None:  # recorded already: asking the app again would count the scan twice
                log.exception("checkpoint lane could not write its answer")
                start_response("500 INTERNAL SERVER ERROR", [("Content-Type", "application/json"),
                                                             *security_headers(app.config)])
                return [b'{"error":{"code":500}}']
            # Nothing was recorded: the app's own view answers, or renders the error the usual way.
            log.exception("checkpoint lane could not answer; handing the request to the app")
            return self.inner(environ, start_response)
        headers = [("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(body))),
                   ("Cache-Control", "no-store"), *security_headers(app.config)]
        start_response("200 OK", headers)
        return [body]


@lru_cache(maxsize=512)
def language(cookie: str | None, accept: str | None, languages: tuple, default: str) -> str:
    """Return the answer's language by the rule of :func:`portal.i18n.select_locale` for ``/api/`` paths.

    The language switch's cookie first, then the Accept-Language header, then the default.
    """
    if cookie:
        wanted = parse_cookie(cookie).get(LANG_COOKIE)
        if wanted in languages:
            return wanted
    if accept:
        return parse_accept_header(accept, LanguageAccept).best_match(languages, default=default)
    return default
