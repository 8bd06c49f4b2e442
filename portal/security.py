"""What every request and response goes through: security headers, bounded ids, safe redirects, proxies.

* :class:`BoundedIntConverter` replaces Flask's ``int`` URL converter once for the whole map: an id
  beyond what the database holds (≥ 2**31 on PostgreSQL, ≥ 2**63 on SQLite) is a 404 like any id that
  does not exist, never an overflow; :func:`page_number` bounds ``?page=`` and :func:`id_arg` an id
  given in a query string or form.
* :func:`safe_next` is the one check of a redirect target a client gave (``?next=``, a form's
  ``next``): a path on this site without control characters, or the fallback.
* Every response whose view set no ``Cache-Control`` of its own is ``no-store`` (pages show ID numbers,
  phones and names); the checkpoint's public lists and the scanner's files say how they may be cached.
* :class:`SlowDown` slows guesses at one account (sign-in) or one ID number (the worker's lookup) from
  any number of addresses, never keeping the owner out more than 15 minutes.
* Proxies are trusted only as configured: ``PORTAL_TRUSTED_PROXIES`` (a count, default 0) wraps the app
  in Werkzeug's ProxyFix with that many hops; nothing is inferred from the request.
"""
from __future__ import annotations

import builtins
from urllib.parse import urlsplit

from werkzeug.routing import IntegerConverter

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; font-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

#: The largest id an INTEGER primary key holds on PostgreSQL (every table's id; SQLite's hold more).
MAX_ID = 2**31 - 1
#: The last page number a list accepts (a higher one shows the last page, as a too-high page always did).
MAX_PAGE = 10**6
#: The longest redirect target kept (a longer one is not a page of this site).
MAX_NEXT_CHARS = 2000
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _at_most(limit: int) -> str:
    """Return a regular expression matching exactly the decimal numbers 0..``limit`` (leading zeros allowed)."""
    digits = str(limit)
    alternatives = [rf"\d{{1,{len(digits) - 1}}}"] if len(digits) > 1 else []
    for i, digit in enumerate(digits):
        low = 1 if i == 0 else 0
        if int(digit) > low:
            alternatives.append(rf"{digits[:i]}[{low}-{int(digit) - 1}]\d{{{len(digits) - i - 1}}}")
    alternatives.append(digits)
    return "0*(?:" + "|".join(alternatives) + ")"


class BoundedIntConverter(IntegerConverter):
    """``<int:...>`` that matches only 0..:data:`MAX_ID`: a larger number matches no route (404), never overflows.

    The bound is in the pattern itself: a value refused after matching would make Werkzeug answer 405
    for an address whose other methods match the pattern.
    """

    regex = _at_most(MAX_ID)

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):  # noqa: A002 (Werkzeug's names)
        bounded = MAX_ID if max is None else builtins.min(int(max), MAX_ID)
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=bounded, signed=signed)


def digits_only(text: str) -> bool:
    """Say whether ``text`` is ASCII digits 0-9 (``str.isdigit`` also takes '²' and other digits ``int`` refuses)."""
    return text.isascii() and text.isdigit()


def id_arg(args, name: str) -> int | None:
    """Return the id ``args[name]`` (a query string or form) when it is one the database can hold, else None."""
    raw = (args.get(name) or "").strip()
    if not digits_only(raw) or len(raw) > len(str(MAX_ID)) or int(raw) > MAX_ID:
        return None
    return int(raw)


def page_number(args, name: str = "page") -> int:
    """Return the page number asked for in ``args`` (1 when missing or not a number), at most :data:`MAX_PAGE`."""
    raw = (args.get(name) or "").strip()
    if not digits_only(raw) or len(raw) > 9:
        return MAX_PAGE if digits_only(raw) else 1
    return min(max(int(raw), 1), MAX_PAGE)


def safe_next(target: str | None, fallback: str) -> str:
    """Return ``target`` only when it is a path on this site; otherwise ``fallback``.

    Refused: another host or scheme (``//evil``, ``https://evil``, ``/\\evil``), and any control
    character or whitespace a browser would strip or a header cannot carry (CR/LF, tab, NUL).
    """
    if not target or not isinstance(target, str) or len(target) > MAX_NEXT_CHARS:
        return fallback
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F or 0x80 <= ord(ch) < 0xA0 for ch in target) or "\\" in target:
        return fallback
    if not target.startswith("/") or target.startswith("//"):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return fallback
    return target


def security_headers(config) -> list[tuple[str, str]]:
    """Return the headers every response carries (also sent by the checkpoint's lane, which skips Flask)."""
    headers = [
        ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "same-origin"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    ]
    if config.get("PORTAL_ENV") == "production":
        headers.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))
    return headers


def owner_only(instance_path) -> None:
    """Make every file the portal creates owner-only (0600 files, 0700 folders), the instance folder first.

    A process-wide umask: the SQLite database and its WAL, the job queue, keys, caches and whatever a
    library writes for the portal are then never readable by other users of the machine.
    """
    import os
    from pathlib import Path

    os.umask(0o077)
    folder = Path(instance_path)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    restrict(folder, 0o700)


def restrict(path, mode: int) -> None:
    """Set ``path``'s mode to ``mode`` when this process owns it (a file made before the umask, by an older version)."""
    import os

    try:
        if os.stat(path).st_uid == os.getuid() and (os.stat(path).st_mode & 0o777) != mode:
            os.chmod(path, mode)
    except FileNotFoundError:
        pass


def trusted_proxies(config) -> int:
    """Return how many reverse proxies stand in front of the portal (``PORTAL_TRUSTED_PROXIES``, default 0)."""
    return int(config.get("PORTAL_TRUSTED_PROXIES") or 0)


def trust_proxies(app) -> None:
    """Wrap the whole WSGI app (the checkpoint's lane included) in ProxyFix when proxies are configured."""
    count = trusted_proxies(app.config)
    if count > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=0, x_port=0, x_prefix=0)


# ---------------------------------------------------------------------------
# Slowing down guesses at one account (sign-in, the worker's own lookup)
# ---------------------------------------------------------------------------

#: The longest a slow-down ever makes anyone wait: the real owner of an account under attack from
#: many addresses waits at most this long (README, "Rate limits").
MAX_SLOWDOWN_SECONDS = 15 * 60


class SlowDown:
    """Failures counted per key (an account, an ID number); past ``free`` failures each try waits.

    The wait after the n-th failure is ``base * 2**(n - free)`` seconds, never more than ``cap``
    (at most :data:`MAX_SLOWDOWN_SECONDS`), counted from the last failure. A try refused for waiting
    is not a failure and does not lengthen the wait, so guesses from any number of addresses get one
    check per wait while the owner, trying again after at most ``cap``, gets in. A success forgets
    the key; so does an hour (``memory``) without failures. Time comes from :func:`portal.clock.utcnow`.

    Counts live on Redis when ``redis_url`` is given (every node sees them), else in this process.
    Redis away: count in this process and log it (looser, never closed).
    """

    def __init__(self, name: str, *, redis_url: str | None, prefix: str, free: int = 5, base: int = 60,
                 cap: int = MAX_SLOWDOWN_SECONDS, memory: int = 3600) -> None:
        import threading

        self.name, self.prefix = name, prefix
        self.free, self.base = free, base
        self.cap = builtins.min(cap, MAX_SLOWDOWN_SECONDS)
        self.memory = builtins.max(memory, self.cap)
        self._local: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()
        self._redis = None
        self._degraded = False
        self._retry_at = 0.0
        if redis_url:
            import redis

            self._redis = redis.Redis.from_url(redis_url, socket_timeout=0.25, socket_connect_timeout=0.25,
                                               health_check_interval=0)
            self._redis_errors = (redis.RedisError, OSError)

    def delay(self, failures: int) -> int:
        """Return the seconds a key with ``failures`` must wait after its last failure."""
        if failures < self.free:
            return 0
        return int(builtins.min(self.base * 2 ** builtins.min(failures - self.free, 30), self.cap))

    def wait(self, key: str) -> int:
        """Return the seconds ``key`` must still wait before its next try is checked (0: now)."""
        failures, last = self._read(key)
        if not failures:
            return 0
        return builtins.max(0, int(last + self.delay(failures) - _now() + 0.999))

    def failed(self, key: str) -> int:
        """Count a failure of ``key``; return the seconds it must now wait."""
        now = _now()
        failures = self._write(key, now)
        return self.delay(failures)

    def succeeded(self, key: str) -> None:
        """Forget ``key``'s failures."""
        full = self._key(key)
        with self._lock:
            self._local.pop(full, None)
        if self._shared():
            try:
                self._redis.delete(full)
            except self._redis_errors as error:
                self._away(error)

    def _key(self, key: str) -> str:
        return f"{self.prefix}:slowdown:{self.name}:{key}"

    def _read(self, key: str) -> tuple[int, float]:
        full = self._key(key)
        if self._shared():
            try:
                found = self._redis.hmget(full, "n", "t")
                self._back()
                if found[0] is not None:
                    return int(found[0]), float(found[1] or 0)
            except self._redis_errors as error:
                self._away(error)
        with self._lock:
            failures, last = self._local.get(full, (0, 0.0))
        if failures and _now() - last > self.memory:
            return 0, 0.0
        return failures, last

    def _write(self, key: str, now: float) -> int:
        full = self._key(key)
        if self._shared():
            try:
                pipe = self._redis.pipeline(transaction=True)
                pipe.hincrby(full, "n", 1).hset(full, "t", repr(now)).expire(full, self.memory)
                failures = int(pipe.execute()[0])
                self._back()
                return failures
            except self._redis_errors as error:
                self._away(error)
        with self._lock:
            failures, last = self._local.get(full, (0, 0.0))
            if now - last > self.memory:
                failures = 0
            failures += 1
            self._local[full] = (failures, now)
        return failures

    def _shared(self) -> bool:
        """Say whether to ask Redis (not for a few seconds after it failed to answer)."""
        import time

        return self._redis is not None and (not self._degraded or time.monotonic() >= self._retry_at)

    def _away(self, error) -> None:
        import time

        self._retry_at = time.monotonic() + 5.0
        if not self._degraded:
            self._degraded = True
            _log().warning("Redis unreachable for the %s slow-down (%s): counting in this process", self.name, error)

    def _back(self) -> None:
        if self._degraded:
            self._degraded = False
            _log().warning("Redis answers again: the %s slow-down is shared again", self.name)


def _now() -> float:
    from portal import clock

    return clock.utcnow().timestamp()


def _log():
    import logging

    return logging.getLogger(__name__)


def slowdown(name: str, *, free: int | None = None, base: int | None = None) -> SlowDown:
    """Return the app's :class:`SlowDown` called ``name`` (settings ``SLOWDOWN_FREE``, ``SLOWDOWN_BASE_SECONDS``,
    ``SLOWDOWN_MAX_SECONDS``), made on first use."""
    from flask import current_app

    made = current_app.extensions.setdefault("portal.slowdowns", {})
    if name not in made:
        config = current_app.config
        made[name] = SlowDown(
            name, redis_url=config.get("REDIS_URL"), prefix=config.get("RATELIMIT_KEY_PREFIX") or "portal",
            free=int(free if free is not None else config.get("SLOWDOWN_FREE", 5)),
            base=int(base if base is not None else config.get("SLOWDOWN_BASE_SECONDS", 60)),
            cap=int(config.get("SLOWDOWN_MAX_SECONDS", MAX_SLOWDOWN_SECONDS)))
    return made[name]


def keyed_digest(value: str) -> str:
    """Return a keyed hash of ``value`` (an email, an ID number): the rate-limit store never holds the value."""
    import hashlib
    import hmac

    from flask import current_app

    return hmac.new(current_app.config["SECRET_KEY"].encode(), value.encode(), hashlib.sha256).hexdigest()[:32]


def minutes(seconds: float) -> int:
    """Return ``seconds`` as whole minutes, rounded up (a wait of 10 s is "1 minute")."""
    return builtins.max(1, -(-int(seconds) // 60))


def wait_message(seconds: float) -> str:
    """Say, in the reader's language, how long to wait before trying again."""
    from flask_babel import ngettext

    return ngettext("Too many attempts. Please try again in %(num)s minute.",
                    "Too many attempts. Please try again in %(num)s minutes.", minutes(seconds))


def _too_many_requests(error):
    """Answer a rate limit with the real wait: in the page's words and in Retry-After."""
    import time

    from flask import current_app

    from portal.errors import render_error
    from portal.extensions import limiter

    current = limiter.current_limit
    seconds = builtins.max(1, int(current.reset_at - time.time())) if current is not None else 60
    response = current_app.make_response(render_error(429, wait_message(seconds)))
    response.headers["Retry-After"] = str(seconds)
    return response


def init_app(app) -> None:
    from flask import request
    from flask_limiter.errors import RateLimitExceeded

    # Before any blueprint adds a rule: every <int:...> in the map is bounded.
    app.url_map.converters["int"] = BoundedIntConverter
    app.register_error_handler(RateLimitExceeded, _too_many_requests)

    @app.after_request
    def _headers(response):
        for name, value in security_headers(app.config):
            response.headers.setdefault(name, value)
        # Pages carry ID numbers, phones and names: nothing is kept by a browser or proxy unless the view
        # said how to cache it (the checkpoint's public keys and lists, the scanner's files, static files).
        if "Cache-Control" not in response.headers and request.endpoint != "static":
            response.headers.update(NO_STORE)
        return response
