"""Per-client limit on checkpoint scans: shared on Redis when configured, local to the process while it is away.

Flask-Limiter's generic machinery (limit resolution, exemption scopes, meta limits, headers, and
a timer thread per window in its memory storage) costs a checkpoint scan more than the check itself;
this is the same fixed window per client address, counted with one Redis round trip (a script: INCR,
and EXPIRE on the window's first hit) or a dictionary. When Redis does not answer, the scan is never
refused for that: the process counts locally (each process then allows the full limit: looser, never
closed), logs a warning once, and asks Redis again a few seconds later; the first answer ends the
fallback, with a log line.
"""
from __future__ import annotations

import logging
import threading
import time
from functools import lru_cache

from limits import RateLimitItem, parse

log = logging.getLogger(__name__)

#: Seconds between attempts to reach Redis again while it is away.
RETRY_AFTER_FAILURE = 5.0
#: Seconds Redis has to answer a limit check before the scan goes on with the local count.
REDIS_TIMEOUT = 0.25
#: Count a hit and set the window's expiry with its first hit: one command, one round trip, atomic.
COUNT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""


@lru_cache(maxsize=32)
def parse_limit(text: str) -> RateLimitItem:
    """Return the rate limit item of a Flask-Limiter style string ("120 per minute")."""
    return parse(text)


class ScanLimiter:
    """Fixed-window counters of scans per client, on Redis (``redis_url``) or in this process."""

    def __init__(self, redis_url: str | None, prefix: str) -> None:
        self.prefix = prefix
        self._redis = None
        if redis_url:
            import redis

            self._redis = redis.Redis.from_url(redis_url, socket_timeout=REDIS_TIMEOUT,
                                               socket_connect_timeout=REDIS_TIMEOUT, health_check_interval=0)
            self._redis_errors = (redis.RedisError, OSError)
            self._count = self._redis.register_script(COUNT_SCRIPT)
        self._local: dict[str, int] = {}
        self._local_window = -1
        self._lock = threading.Lock()
        self._retry_at = 0.0
        self.degraded = False

    def hit(self, client: str, limit: RateLimitItem) -> tuple[bool, int]:
        """Count one scan of ``client``; return whether it is within ``limit`` and the seconds until the window ends."""
        period = limit.get_expiry()
        now = time.time()
        window = int(now // period)
        key = f"{self.prefix}:verify:{limit.amount}/{period}:{client}:{window}"
        reset_in = int((window + 1) * period - now) + 1
        count = self._hit_redis(key, period) if self._redis is not None else None
        if count is None:
            count = self._hit_local(key, window)
        return count <= limit.amount, reset_in

    def _hit_redis(self, key: str, period: int) -> int | None:
        if self.degraded and time.monotonic() < self._retry_at:
            return None
        try:
            count = self._count(keys=[key], args=[period + 1])
        except self._redis_errors as error:
            self._retry_at = time.monotonic() + RETRY_AFTER_FAILURE
            if not self.degraded:
                self.degraded = True
                log.warning("Redis unreachable for checkpoint rate limits (%s): counting in this process until "
                            "it returns", error)
            return None
        if self.degraded:
            self.degraded = False
            log.warning("Redis answers again: checkpoint rate limits are shared again")
        return int(count)

    def _hit_local(self, key: str, window: int) -> int:
        with self._lock:
            if window != self._local_window:  # a new window: every earlier count has expired
                self._local.clear()
                self._local_window = window
            count = self._local[key] = self._local.get(key, 0) + 1
        return count

    def close(self) -> None:
        if self._redis is not None:
            self._redis.close()
