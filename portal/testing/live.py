"""A live portal on a loopback port for browser tests, served by Werkzeug in a thread."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from werkzeug.serving import make_server


class _InFlight:
    """Count the requests inside the app, so that the server's end waits for the last one to leave.

    Werkzeug's threaded server runs each request on a daemon thread and does not wait for them when it
    stops: a request the browser sent just before the test ended could still be opening a database
    connection (the checkpoint keeps one per thread) after the test disposed of the app's engine, and
    that connection, never closed, would surface as a ResourceWarning in a later test.
    """

    def __init__(self):
        self.count = 0
        self.idle = threading.Condition()

    def __enter__(self):
        with self.idle:
            self.count += 1

    def __exit__(self, *_exc):
        with self.idle:
            self.count -= 1
            self.idle.notify_all()

    def wait(self, timeout: float) -> bool:
        with self.idle:
            return self.idle.wait_for(lambda: self.count == 0, timeout)


def closing_bodies(app, in_flight: _InFlight | None = None):
    """Wrap ``app`` so that every response body is closed as soon as it is sent.

    Werkzeug's development server closes a body only after draining the socket, and that drain raises when
    the browser has already dropped the connection (it does when a page navigates away mid-download): the
    open static file then surfaces as an unraisable ResourceWarning in whichever test runs next.
    ``in_flight`` counts the requests until their body is closed.
    """
    in_flight = in_flight or _InFlight()

    def serve(environ, start_response):
        with in_flight:
            body = app(environ, start_response)
            try:
                yield from body
            finally:
                close = getattr(body, "close", None)
                if close is not None:
                    close()
    return serve


@contextmanager
def live_server(app) -> Iterator[str]:
    """Serve ``app`` on a free loopback port in a thread; yield its base URL; stop it on exit, once the
    requests in the app have left it (at most 10 s)."""
    in_flight = _InFlight()
    server = make_server("127.0.0.1", 0, closing_bodies(app, in_flight), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        in_flight.wait(timeout=10)
