"""A live portal on a loopback port for browser tests, served by Werkzeug in a thread."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from werkzeug.serving import make_server


def closing_bodies(app):
    """Wrap ``app`` so that every response body is closed as soon as it is sent.

    Werkzeug's development server closes a body only after draining the socket, and that drain raises when
    the browser has already dropped the connection (it does when a page navigates away mid-download): the
    open static file then surfaces as an unraisable ResourceWarning in whichever test runs next.
    """
    def serve(environ, start_response):
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
    """Serve ``app`` on a free loopback port in a thread; yield its base URL; stop it on exit."""
    server = make_server("127.0.0.1", 0, closing_bodies(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
