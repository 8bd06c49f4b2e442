"""Languages: Vietnamese first, English as a switch; dd/mm/yyyy dates and 24-hour times in both."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, has_request_context, redirect, request, url_for
from flask_babel import get_locale

from portal import clock, vocabulary
from portal.security import safe_next

bp = Blueprint("i18n", __name__)

LANG_COOKIE = "lang"


def select_locale() -> str:
    """Return the language chosen with the switch, else Vietnamese (also outside requests: jobs, CLI)."""
    languages = current_app.config["LANGUAGES"]
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    if not has_request_context():
        return default
    wanted = request.cookies.get(LANG_COOKIE)
    if wanted in languages:
        return wanted
    if request.path.startswith("/api/"):
        # Programs say what they want in Accept-Language; people use the switch.
        return request.accept_languages.best_match(languages, default=default)
    return default


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale else "vi"


def localized(obj, attribute: str = "name") -> str:
    """Return ``obj.<attribute>_en`` when English is chosen, else ``obj.<attribute>_vi``."""
    suffix = "en" if current_language() == "en" else "vi"
    return getattr(obj, f"{attribute}_{suffix}")


@bp.get("/lang/<code>")
def switch(code: str):
    """Remember the chosen language and go back where the user was."""
    response = redirect(safe_next(request.args.get("next"), url_for("home.index")))
    if code in current_app.config["LANGUAGES"]:
        response.set_cookie(LANG_COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax",
                            secure=current_app.config["SESSION_COOKIE_SECURE"], httponly=True)
    return response


def translation_directories(app, features, plugin_modules) -> list[str]:
    """Return every catalog folder: the core's, each of ``features``', and each plugin's (when it ships one)."""
    root = Path(app.root_path)
    found = [root / "translations"]
    found += [root / feature / "translations" for feature in features]
    for module in plugin_modules:
        module_file = getattr(module, "__file__", None)
        if module_file:
            candidate = Path(module_file).parent / "translations"
            if candidate.is_dir():
                found.append(candidate)
    return [str(path) for path in found if path.is_dir()]


def render_message(stored) -> str:
    """Render a message the database keeps (``Message.as_json()``) in the current language."""
    from portal.messages import Message

    return Message.from_json(stored).render()


def init_app(app) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals["vocabulary"] = vocabulary
    app.jinja_env.filters["message"] = render_message
    app.jinja_env.filters["date"] = clock.format_date
    app.jinja_env.filters["isodate"] = clock.format_iso_date
    app.jinja_env.filters["datetime"] = clock.format_datetime
    app.jinja_env.filters["time"] = clock.format_time
    app.jinja_env.globals["localized"] = localized
    app.jinja_env.globals["current_language"] = current_language
