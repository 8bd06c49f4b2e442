"""Configuration: defaults, environment variables, and the checks production insists on."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

# Known placeholder values that must never sign a production session.
INSECURE_SECRET_KEYS = frozenset({"", "dev", "change-me", "changeme", "secret", "development"})


class ConfigError(RuntimeError):
    """Raised when the portal refuses to start with the given configuration."""


def default_config(instance_path: str) -> dict:
    """Return the embedded defaults: SQLite in the instance folder, a SQLite job queue, memory rate limits."""
    instance = Path(instance_path)
    return {
        "PORTAL_ENV": "development",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'portal.sqlite3'}",
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        "SQLITE_BUSY_TIMEOUT_MS": 10_000,
        "BABEL_DEFAULT_LOCALE": "vi",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Ho_Chi_Minh",
        "LANGUAGES": ("vi", "en"),
        "PORTAL_TIMEZONE": "Asia/Ho_Chi_Minh",
        "PORTAL_DISABLED_PLUGINS": (),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": False,
        "PERMANENT_SESSION_LIFETIME": 8 * 3600,
        "WTF_CSRF_TIME_LIMIT": 8 * 3600,
        "MAX_CONTENT_LENGTH": 12 * 1024 * 1024,
        "RATELIMIT_STORAGE_URI": "memory://",
        # Redis away: count in this process (logged by Flask-Limiter) instead of failing logins with a 500,
        # and give up on an unanswering Redis within a quarter second.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_STORAGE_OPTIONS": {"socket_timeout": 0.25, "socket_connect_timeout": 0.25},
        "RATELIMIT_HEADERS_ENABLED": True,
        "RATELIMIT_KEY_PREFIX": "portal",
        # Sign-in: per account and address, and per address; each account slows down after SLOWDOWN_FREE
        # failures (waits doubling from SLOWDOWN_BASE_SECONDS, never above 15 minutes: portal.security).
        "LOGIN_RATE_LIMIT": "10 per minute;50 per hour",
        "LOGIN_ADDRESS_RATE_LIMIT": "30 per minute;200 per hour",
        "SLOWDOWN_FREE": 5,
        "SLOWDOWN_BASE_SECONDS": 60,
        "SLOWDOWN_MAX_SECONDS": 15 * 60,
        # Reverse proxies in front of the portal whose X-Forwarded-For is believed (never inferred).
        "PORTAL_TRUSTED_PROXIES": 0,
        "PASSWORD_HASH_METHOD": "scrypt",
        "API_RATE_LIMIT": "600 per minute",
        "REDIS_URL": None,
        "SIGNING_KEY_DIR": str(instance / "keys"),
        "PUBLIC_BASE_URL": None,
        # Files every node reads (print sheets, cached card PDFs): "database" or "s3" (portal.storage).
        "STORAGE_BACKEND": "database",
        # Mail (Flask-Mailman): without MAIL_SERVER mails stay in the outbox table for the admin.
        "MAIL_BACKEND": "smtp",
        "MAIL_SERVER": None,
        "MAIL_PORT": 25,
        "MAIL_USE_TLS": False,
        "MAIL_USE_SSL": False,
        "MAIL_USERNAME": None,
        "MAIL_PASSWORD": None,
        "MAIL_TIMEOUT": 30,
        "MAIL_DEFAULT_SENDER": "HCMC green card <no-reply@localhost>",
        # Accounts: how long mailed links work (seconds); two-factor sign-in (None: in production).
        "PASSWORD_RESET_MAX_AGE": 3600,
        "EMAIL_CONFIRM_MAX_AGE": 3 * 24 * 3600,
        "TWO_FACTOR_REQUIRED": None,
    }


def config_from_environment(environ: os._Environ | dict) -> dict:
    """Read the settings an operator may give through the environment."""
    config: dict = {}
    if environ.get("DATABASE_URL"):
        config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(environ["DATABASE_URL"])
    if environ.get("SECRET_KEY") is not None:
        config["SECRET_KEY"] = environ["SECRET_KEY"]
    if environ.get("PORTAL_ENV"):
        config["PORTAL_ENV"] = environ["PORTAL_ENV"]
    if environ.get("REDIS_URL"):
        config["REDIS_URL"] = environ["REDIS_URL"]
        config["RATELIMIT_STORAGE_URI"] = environ["REDIS_URL"]
    if environ.get("PORTAL_DISABLED_PLUGINS"):
        config["PORTAL_DISABLED_PLUGINS"] = tuple(
            name.strip() for name in environ["PORTAL_DISABLED_PLUGINS"].split(",") if name.strip()
        )
    if environ.get("PORTAL_TRUSTED_PROXIES"):
        try:
            config["PORTAL_TRUSTED_PROXIES"] = int(environ["PORTAL_TRUSTED_PROXIES"])
        except ValueError:
            raise ConfigError("PORTAL_TRUSTED_PROXIES must be the number of reverse proxies in front of the "
                              f"portal (0, 1, 2…), not {environ['PORTAL_TRUSTED_PROXIES']!r}") from None
    for key in ("SIGNING_KEY_DIR", "PUBLIC_BASE_URL"):
        if environ.get(key):
            config[key] = environ[key]
    # The blob store (portal.storage) and, with STORAGE_BACKEND=s3, the object store's settings.
    for key in ("STORAGE_BACKEND", "S3_BUCKET", "S3_ENDPOINT_URL", "S3_REGION", "S3_ACCESS_KEY_ID",
                "S3_SECRET_ACCESS_KEY", "S3_PREFIX"):
        if environ.get(key):
            config[key] = environ[key]
    # The signing keys' key-encryption key (see portal.tokens.keys) and how often the ring is re-read.
    for key in ("PORTAL_KEY_ENCRYPTION_KEY", "PORTAL_KEY_ENCRYPTION_KEY_FILE", "KEYRING_REFRESH_SECONDS"):
        if environ.get(key):
            config[key] = environ[key]
    config.update(_mail_and_account_settings(environ))
    return config


_TRUE = ("1", "true", "yes", "on")


def _mail_and_account_settings(environ) -> dict:
    """Read MAIL_* (Flask-Mailman's names), the links' lifetimes and TWO_FACTOR_REQUIRED."""
    config: dict = {}
    for key in ("MAIL_SERVER", "MAIL_USERNAME", "MAIL_PASSWORD", "MAIL_DEFAULT_SENDER"):
        if environ.get(key):
            config[key] = environ[key]
    for key in ("MAIL_PORT", "PASSWORD_RESET_MAX_AGE", "EMAIL_CONFIRM_MAX_AGE"):
        if environ.get(key):
            try:
                config[key] = int(environ[key])
            except ValueError:
                raise ConfigError(f"{key} must be a whole number, not {environ[key]!r}") from None
    if environ.get("MAIL_TIMEOUT"):
        config["MAIL_TIMEOUT"] = float(environ["MAIL_TIMEOUT"])
    for key in ("MAIL_USE_TLS", "MAIL_USE_SSL", "TWO_FACTOR_REQUIRED"):
        if environ.get(key):
            config[key] = environ[key].strip().lower() in _TRUE
    return config


def normalise_database_url(url: str) -> str:
    """Make PostgreSQL URLs use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def finalise(config: dict, instance_path: str) -> None:
    """Apply the rules that depend on the environment; refuse an unsafe production setup."""
    production = config.get("PORTAL_ENV") == "production"
    secret = config.get("SECRET_KEY")
    if production:
        if not strong_secret(secret):
            raise ConfigError(
                "Refusing to start in production without a strong SECRET_KEY "
                f"(set SECRET_KEY to at least {MIN_SECRET_CHARS} random characters, "
                f"{MIN_SECRET_DISTINCT} or more of them different: python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))')."
            )
        for key in ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE"):
            config[key] = True
    elif not secret:
        config["SECRET_KEY"] = _instance_secret(Path(instance_path))
    problems = check_production(config) if production else []
    problems += check_shared(config, production=production)
    if problems:
        raise ConfigError("Refusing to start: " + "; ".join(problems) + ".")
    if config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options.setdefault("pool_pre_ping", True)
        config["SQLALCHEMY_ENGINE_OPTIONS"] = options


#: What every node and job worker must share, and why (README, "Production"). SECRET_KEY is checked
#: above and the key-encryption key by the factory (``portal._check_signing_keys``); :func:`check_shared`
#: checks the rest.
SHARED_SETTINGS = (
    ("DATABASE_URL", "a database server every node reaches (PostgreSQL): the data, the signing keys and, by "
                     "default, the files"),
    ("REDIS_URL", "rate limits counted once for all nodes, and the job queue every `portal jobs worker` reads"),
    ("PUBLIC_BASE_URL", "the address printed into every QR code, the same whichever node or Host header a "
                        "request came through"),
    ("STORAGE_BACKEND", "files every node reads (print sheets, cached card PDFs): database or s3"),
    ("SECRET_KEY", "sessions and CSRF tokens any node accepts"),
    ("PORTAL_KEY_ENCRYPTION_KEY", "opens the signing keys in the database"),
)


MIN_SECRET_CHARS, MIN_SECRET_DISTINCT = 32, 16


def strong_secret(secret: str | None) -> bool:
    """Say whether ``secret`` may sign production sessions: long, not a placeholder, not a repeated few characters."""
    return (bool(secret) and secret not in INSECURE_SECRET_KEYS and len(secret) >= MIN_SECRET_CHARS
            and len(set(secret)) >= MIN_SECRET_DISTINCT)


def check_production(config: dict) -> list[str]:
    """Return what production refuses whatever the database: debug mode, per-process rate limits, no public URL."""
    problems = []
    if config.get("DEBUG") or str(os.environ.get("FLASK_DEBUG", "")).strip().lower() in _TRUE:
        problems.append("production never runs in debug mode (unset FLASK_DEBUG, drop --debug): the Werkzeug "
                        "debugger runs code for whoever reaches it")
    storage = str(config.get("RATELIMIT_STORAGE_URI") or "memory://")
    if storage.startswith("memory"):
        problems.append("production needs rate limits every process shares: set REDIS_URL (or "
                        "RATELIMIT_STORAGE_URI to another shared store); counted per process, a login limit "
                        "multiplies by the number of workers")
    public = config.get("PUBLIC_BASE_URL") or ""
    if not public.startswith("https://"):
        problems.append("production needs PUBLIC_BASE_URL (https://…): QR codes must never carry the address "
                        "a request's Host header claims")
    proxies = config.get("PORTAL_TRUSTED_PROXIES") or 0
    if not isinstance(proxies, int) or proxies < 0:
        problems.append(f"PORTAL_TRUSTED_PROXIES must be a whole number of proxies, not {proxies!r}")
    return problems


def check_shared(config: dict, *, production: bool) -> list[str]:
    """Return what stops the nodes from sharing what they must (empty when nothing does).

    In any environment: a known blob-store backend with its settings. In production on a database
    server (several nodes and workers may run): Redis, a public base URL. Production on SQLite is
    one machine by nature (the file is on its disk) and is left alone.
    """
    problems = []
    backend = config.get("STORAGE_BACKEND") or "database"
    if backend not in ("database", "s3"):
        problems.append(f"STORAGE_BACKEND is {backend!r}; it must be 'database' or 's3'")
    elif backend == "s3" and not config.get("S3_BUCKET"):
        problems.append("STORAGE_BACKEND=s3 needs S3_BUCKET (and S3_ENDPOINT_URL for a store other than AWS)")
    if not production or config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return problems
    if not config.get("REDIS_URL"):
        problems.append("production on a database server needs REDIS_URL: without it every node counts rate limits "
                        "on its own and queues jobs in its own instance folder, where no worker sees them")
    return problems


def _instance_secret(instance: Path) -> str:
    """Return this installation's own secret key, created on first run, kept outside the repository."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first: use theirs
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
