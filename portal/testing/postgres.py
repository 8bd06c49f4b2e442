"""A PostgreSQL cluster of a test's own, which the test may kill (-9) and start again, by PID.

``initdb`` refuses to run as root, so as root the cluster belongs to the ``postgres`` user:
``setpriv`` changes user and then *execs* the server, so the PID the test holds is the postmaster's.
"""
from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def postgres_binaries() -> Path | None:
    """Return the folder of ``initdb`` and ``postgres`` (Debian keeps them out of PATH), or None."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    return Path(candidates[0]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PostgresCluster:
    """``initdb`` in a fresh folder, ``postgres`` on a free loopback port; trust authentication."""

    def __init__(self, binaries: Path):
        self.binaries = binaries
        self.port = _free_port()
        self.root = Path(tempfile.mkdtemp(prefix="portal-pg-"))
        self.data = self.root / "data"
        self.process: subprocess.Popen | None = None
        self._as_postgres: list[str] = []
        if os.geteuid() == 0:
            import pwd

            account = pwd.getpwnam("postgres")
            os.chown(self.root, account.pw_uid, account.pw_gid)
            self._as_postgres = ["setpriv", f"--reuid={account.pw_uid}", f"--regid={account.pw_gid}",
                                 "--init-groups", "--"]

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def init(self) -> None:
        subprocess.run([*self._as_postgres, str(self.binaries / "initdb"), "-D", str(self.data), "-U", "postgres",
                        "--auth=trust", "--no-sync", "-E", "UTF8"], check=True, capture_output=True)

    def start(self) -> None:
        log = open(self.root / "postgres.log", "ab")  # noqa: SIM115  (the server writes to it until stopped)
        try:
            self.process = subprocess.Popen(
                [*self._as_postgres, str(self.binaries / "postgres"), "-D", str(self.data), "-p", str(self.port),
                 "-k", str(self.root), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
                 "-c", "max_connections=40"], stdout=log, stderr=subprocess.STDOUT)
        finally:
            log.close()
        deadline = time.monotonic() + 30
        while not self._accepts():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("postgres did not start: " + (self.root / "postgres.log").read_text()[-2000:])
            time.sleep(0.05)

    def _accepts(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres", connect_timeout=1):
                return True
        except psycopg.OperationalError:
            return False

    def kill(self) -> None:
        """Kill the postmaster with SIGKILL, as a crash would, and wait until its backends are gone too."""
        if self.process is None:
            return
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.process = None
        deadline = time.monotonic() + 30
        # The backends leave by themselves once their postmaster is gone; the port and the shared memory with them.
        while (self.data / "postmaster.pid").exists() and _holds_port(self.port) and time.monotonic() < deadline:
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGINT)  # fast shutdown
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def _holds_port(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0
