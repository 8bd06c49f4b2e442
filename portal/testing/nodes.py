"""Several portal processes on one machine, each as if on a machine of its own (tests and bench/).

A :class:`Node` is gunicorn serving ``portal:create_app()`` with its own instance folder; a
:class:`JobWorker` is ``portal jobs worker``; both get only what production shares (database,
Redis, keys' KEK, SECRET_KEY, PUBLIC_BASE_URL, blob store) through the environment, and are
stopped by their PID. :class:`Browser` signs in and posts forms over HTTP as a person would;
:func:`qr_tokens` reads every QR code of a PDF back with ``pdftoppm`` and ``zbarimg``.
"""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

BIN = Path(sys.executable).parent
_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def shared_environment(base: dict[str, str], **settings: str) -> dict[str, str]:
    """Return ``base`` (usually os.environ) without the test runner's own settings, plus ``settings``."""
    environment = {key: value for key, value in base.items() if not key.startswith("PORTAL_TEST_")}
    for key in ("DATABASE_URL", "REDIS_URL", "PORTAL_INSTANCE_PATH", "STORAGE_BACKEND", "PUBLIC_BASE_URL"):
        environment.pop(key, None)
    environment.update({key: value for key, value in settings.items() if value is not None})
    return environment


class _Process:
    """A child process whose output goes to a log file, stopped by its PID."""

    process: subprocess.Popen | None = None
    log_path: Path

    def _spawn(self, command: list[str], environment: dict, cwd: Path) -> None:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(command, env=environment, cwd=str(cwd), stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


class Node(_Process):
    """gunicorn serving the portal on a loopback port, with an instance folder of its own."""

    def __init__(self, name: str, root: Path, environment: dict[str, str], *, workers: int = 1, threads: int = 1,
                 factory: str = "portal:create_app()"):
        self.name, self.port, self.factory = name, free_port(), factory
        self.instance = root / name
        self.instance.mkdir(parents=True, exist_ok=True)
        self.log_path = root / f"{name}.log"
        self.environment = {**environment, "PORTAL_INSTANCE_PATH": str(self.instance)}
        self.workers, self.threads = workers, threads

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> Node:
        self._spawn([str(BIN / "gunicorn"), "-w", str(self.workers), "--threads", str(self.threads), "-b",
                     f"127.0.0.1:{self.port}", "--timeout", "120", "--log-level", "warning", self.factory],
                    self.environment, self.instance)
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/.well-known/greencard-keys.json", timeout=2) as answer:
                    if answer.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = self.log()
                self.stop()
                raise RuntimeError(f"node {self.name} did not start:\n{log}")
            time.sleep(0.2)

    def cli(self, *args: str, timeout: float = 120) -> str:
        """Run ``portal <args>`` as this node would (its environment and instance folder); return the output."""
        result = subprocess.run([str(BIN / "portal"), *args], env=self.environment, cwd=str(self.instance),
                                capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(f"portal {' '.join(args)} failed on {self.name}:\n{result.stdout}{result.stderr}")
        return result.stdout


class JobWorker(_Process):
    """``portal jobs worker`` with an instance folder of its own."""

    def __init__(self, name: str, root: Path, environment: dict[str, str]):
        self.name = name
        self.instance = root / name
        self.instance.mkdir(parents=True, exist_ok=True)
        self.log_path = root / f"{name}.log"
        self.environment = {**environment, "PORTAL_INSTANCE_PATH": str(self.instance)}

    def start(self, timeout: float = 60) -> JobWorker:
        self._spawn([str(BIN / "portal"), "jobs", "worker"], self.environment, self.instance)
        deadline = time.monotonic() + timeout
        while "Consuming the" not in self.log():
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = self.log()
                self.stop()
                raise RuntimeError(f"job worker {self.name} did not start:\n{log}")
            time.sleep(0.1)
        return self

    def stop(self, sig: int = signal.SIGINT, timeout: float = 30) -> None:  # SIGINT: finish the running job
        super().stop(sig, timeout)


class Browser:
    """Sign in and follow pages over HTTP with one cookie jar, whichever node answers.

    Cookies are kept by hand: production marks them Secure, and the nodes here speak plain HTTP on loopback.
    """

    def __init__(self):
        self.cookies: dict[str, str] = {}
        self._opener = urllib.request.build_opener(_NoRedirect)

    def request(self, method: str, url: str, data: dict | None = None, headers: dict | None = None):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(url, data=body, method=method, headers=dict(headers or {}))
        if self.cookies:
            request.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        try:
            answer = self._opener.open(request, timeout=120)
        except urllib.error.HTTPError as error:
            answer = error
        with answer:
            for header in answer.headers.get_all("Set-Cookie") or []:
                name, _, rest = header.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
            return answer.status, dict(answer.headers), answer.read()

    def get(self, url: str, **headers):
        return self.request("GET", url, headers=headers)

    def json(self, url: str):
        status, _headers, body = self.get(url, Accept="application/json")
        if status != 200:
            raise AssertionError(f"GET {url} answered {status}: {body[:500]!r}")
        return json.loads(body)

    def submit(self, url: str, data: dict | None = None):
        """POST a form with the CSRF token of the page the session is on (read from any page of that node)."""
        base = url.split("/", 3)
        status, _headers, page = self.get("/".join(base[:3]) + "/")
        token = _CSRF_META.search(page.decode()).group(1)
        return self.request("POST", url, {**(data or {}), "csrf_token": token})

    def login(self, base_url: str, email: str, password: str) -> None:
        status, headers, _body = self.submit(f"{base_url}/login", {"email": email, "password": password})
        if status != 302:
            raise AssertionError(f"signing in as {email} answered {status}")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def qr_tokens(pdf: bytes, resolution: int = 150) -> list[str]:
    """Return the pass tokens of every QR code in ``pdf``, page by page (pdftoppm, then zbarimg)."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "document.pdf"
        source.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-r", str(resolution), "-png", str(source), str(Path(folder) / "page")],
                       check=True, capture_output=True)
        tokens = []
        for page in sorted(Path(folder).glob("page*.png")):
            result = subprocess.run(["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(page)],
                                    capture_output=True, text=True)
            if result.returncode not in (0, 4):  # 4: no code on this page (an index page)
                raise RuntimeError(f"zbarimg failed: {result.stderr}")
            tokens += [line.rsplit("/v/", 1)[-1] for line in result.stdout.split() if "/v/" in line]
        return tokens


def stop_all(processes) -> None:
    """Stop every process by its PID, the job workers first (they finish their job), then the nodes."""
    for process in sorted(processes, key=lambda item: not isinstance(item, JobWorker)):
        process.stop()


def environment_for_nodes(database_url: str, redis_url: str | None, *, secret_key: str, kek: str,
                          public_base_url: str, extra: dict | None = None) -> dict[str, str]:
    """Return what every node and worker shares, in production's shape (README, "Production")."""
    return shared_environment(
        os.environ, PORTAL_ENV="production", DATABASE_URL=database_url, REDIS_URL=redis_url, SECRET_KEY=secret_key,
        PORTAL_KEY_ENCRYPTION_KEY=kek, PUBLIC_BASE_URL=public_base_url, KEYRING_REFRESH_SECONDS="1",
        TWO_FACTOR_REQUIRED="0", **(extra or {}))
