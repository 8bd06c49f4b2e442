"""Ho Chi Minh City's green-card (thẻ xanh Covid) enterprise portal."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None) -> Flask:
    """Build the portal: configuration, extensions, plugins, blueprints, command line."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    _configure(app, test_config)
    _init_extensions(app)
    _init_plugins(app)
    _init_translations(app)
    _register_blueprints(app)
    _wire(app)
    _register_cli(app)
    _trust_proxies(app)
    return app


def _trust_proxies(app: Flask) -> None:
    """Last, so that ProxyFix wraps every middleware (the checkpoint's lane sees the client's address)."""
    from portal.security import trust_proxies

    trust_proxies(app)


def _configure(app: Flask, test_config: dict | None) -> None:
    from portal import config, security

    instance_path = os.environ.get("PORTAL_INSTANCE_PATH") or app.instance_path
    app.instance_path = instance_path
    app.config.from_mapping(config.default_config(instance_path))
    app.config.from_mapping(config.config_from_environment(os.environ))
    if test_config:
        app.config.from_mapping(test_config)
    security.owner_only(instance_path)
    config.finalise(app.config, instance_path)
    _check_signing_keys(app.config)


def _check_signing_keys(settings) -> None:
    """Refuse to start in production without a usable key-encryption key for the signing keys."""
    from portal.config import ConfigError
    from portal.tokens.keys import KeyConfigError, check_config

    try:
        check_config(settings, production=settings.get("PORTAL_ENV") == "production")
    except KeyConfigError as error:
        raise ConfigError(f"Refusing to start: {error}") from None


def _init_extensions(app: Flask) -> None:
    import portal.models  # noqa: F401  (every table in the metadata, for migrations and tests)
    from portal import db as dbmod
    from portal import errors, i18n, navigation, security
    from portal.extensions import csrf, db, limiter, login_manager, mail, migrate

    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            dbmod.configure_sqlite(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])
            dbmod.mark_read_only_requests(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    # Flask-Limiter keeps the first app's key prefix on its (module-wide) instance; each app,
    # e.g. each test's, must count under its own RATELIMIT_KEY_PREFIX.
    limiter._key_prefix = None
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"
    mail.init_app(app)
    i18n.init_app(app)
    navigation.init_app(app)
    errors.init_app(app)
    _init_error_pages(app)
    security.init_app(app)


def _init_error_pages(app: Flask) -> None:
    """The error pages of features the core cannot import (it knows no feature): a signing key missing."""
    from portal.tokens.keys import SigningKeyUnavailable

    @app.errorhandler(SigningKeyUnavailable)
    def _cannot_sign(error: SigningKeyUnavailable):
        from flask import request

        from portal.errors import render_error, roll_back

        # A setup problem, not a bug: the page says so; the log says what the operator must do.
        app.logger.error("Cannot sign a green card on %s %s: %s", request.method, request.path, error.detail)
        roll_back()
        return render_error(503, str(error))


def _init_plugins(app: Flask) -> None:
    from portal.extensions import db
    from portal.plugins.manager import build_plugin_manager
    from portal.plugins.printed_codes import check_database

    pm = build_plugin_manager(
        disabled=app.config["PORTAL_DISABLED_PLUGINS"], extra=app.config.get("PORTAL_EXTRA_PLUGINS", ())
    )
    app.extensions["portal.plugins"] = pm
    # A unit's short code is printed on its cards: refuse to start if a plugin changed it.
    with app.app_context():
        check_database(db.engine, pm.registry, disabled=app.config["PORTAL_DISABLED_PLUGINS"])


def _init_translations(app: Flask) -> None:
    from portal import i18n
    from portal.extensions import babel

    # The core, each feature, and each plugin that ships a catalog next to its module.
    plugins = [plugin for _name, plugin in app.extensions["portal.plugins"].list_name_plugin()]
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(i18n.translation_directories(app, FEATURES, plugins))
    babel.init_app(app, locale_selector=i18n.select_locale)


#: Every feature package, lowest layer first (docs/architecture.md, "Layers"). This list is the one
#: place a feature is named: the factory imports its ``models``, serves its ``views.bp``, adds its
#: ``cli.commands`` and loads its ``translations/``, for whichever of these the feature has.
FEATURES = (
    "audit", "units", "tokens", "storage", "home", "printing", "auth", "jobs", "workers", "mail", "enterprises",
    "eligibility", "imports", "api", "passes", "selfservice", "verify", "dashboard", "scanner", "privacy",
)


def feature_modules(kind: str) -> list:
    """Import and return the ``kind`` module (``models``, ``views``, ``cli``) of every feature that has one."""
    import importlib
    import importlib.util

    return [importlib.import_module(f"portal.{feature}.{kind}") for feature in FEATURES
            if importlib.util.find_spec(f"portal.{feature}.{kind}") is not None]


def _register_blueprints(app: Flask) -> None:
    for views in feature_modules("views"):
        app.register_blueprint(views.bp)
        for extra in getattr(views, "extra_blueprints", ()):
            app.register_blueprint(extra)


def _wire(app: Flask) -> None:
    from portal.wiring import wire

    wire(app)


def _register_cli(app: Flask) -> None:
    from portal.cli import register

    register(app)
