"""Scan records lost when a gunicorn worker is killed with SIGKILL under load, and when the database crashes.

    .venv/bin/python bench/verify_records.py [--database-url sqlite|postgresql://…] [--seconds 8]
                                             [--kills 3] [--clients 8] [--crash-postgres]
                                             [--root PATH]   # serve another checkout (a "before" figure)

Kill: prepares a database with passes (as bench/verify_throughput.py does), starts gunicorn (2 sync
workers) and loads ``/api/v1/verify/<token>`` from ``--clients`` threads with keep-alive
connections, counting every answer received (200 with an outcome). During the load it kills one
worker with SIGKILL ``--kills`` times (gunicorn starts a new one), then stops gunicorn gracefully
and counts the records in the database: lost = answered − recorded (a scan recorded whose answer
was cut by the kill counts as recorded, never as lost).

Crash (``--crash-postgres``): the same load against a PostgreSQL server of the bench's own (initdb
in a temporary folder, run as the ``postgres`` user, stopped with ``pg_ctl stop -m immediate``, which
is a crash: no checkpoint, no WAL flush), restarted after recovery; lost = answers received before
the crash − records found after it.

Figures only; every process is stopped by its PID.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from verify_throughput import (  # noqa: E402
    PORTAL_PORT,
    SECRET,
    portal_env,
    prepare,
    start_gunicorn,
    stop,
    with_root,
)


class Load:
    """Client threads sending scans and counting the answers they receive."""

    def __init__(self, tokens: list[str], clients: int) -> None:
        self.tokens = tokens
        self.clients = clients
        self.answered = 0
        self.failed = 0
        self.paused = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(index,), daemon=True) for index in range(clients)]

    def __enter__(self):
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def _run(self, index: int) -> None:
        connection = None
        position = index
        while not self._stop.is_set():
            if connection is None:
                connection = http.client.HTTPConnection("127.0.0.1", PORTAL_PORT, timeout=5)
            token = self.tokens[position % len(self.tokens)]
            position += self.clients
            try:
                connection.request("GET", f"/api/v1/verify/{token}")
                response = connection.getresponse()
                body = response.read()
                ok = response.status == 200 and "outcome" in json.loads(body)
            except (OSError, http.client.HTTPException, ValueError):
                ok = False
                connection.close()
                connection = None
                time.sleep(0.01)
            with self._lock:
                if ok:
                    self.answered += 1
                else:
                    self.failed += 1
        if connection is not None:
            connection.close()


def workers_of(master: subprocess.Popen) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(master.pid)], capture_output=True, text=True).stdout.split()
    return [int(pid) for pid in found]


def count_records(database_url: str) -> int:
    from sqlalchemy import create_engine, text

    from portal.config import normalise_database_url

    engine = create_engine(normalise_database_url(database_url))
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM verification_records")).scalar())
    finally:
        engine.dispose()


def kill_run(args, database_url: str) -> None:
    instance = Path(tempfile.mkdtemp(prefix="bench-records-"))
    if database_url == "sqlite":
        database_url = f"sqlite:///{instance / 'bench.sqlite3'}"
    tokens = prepare(instance, database_url, 300)
    env = with_root(portal_env(instance, database_url, args.redis_url), args.root)
    root = Path(args.root).resolve() if args.root else ROOT
    server = start_gunicorn(PORTAL_PORT, "portal:create_app({'VERIFY_RATE_LIMIT': '100000000 per minute'})", env,
                            root)
    kills = 0
    try:
        with Load(tokens, args.clients) as load:
            interval = args.seconds / (args.kills + 1)
            for _ in range(args.kills):
                time.sleep(interval)
                victims = workers_of(server)
                if victims:
                    os.kill(victims[0], signal.SIGKILL)
                    kills += 1
            time.sleep(interval)
        answered, failed = load.answered, load.failed
    finally:
        stop(server)  # graceful: whatever a process still holds is written now
    recorded = count_records(database_url)
    lost = max(0, answered - recorded)
    print(f"\n== kill -9 of a gunicorn worker under load: {database_url.split(':', 1)[0]}; code from {root}; "
          f"{args.clients} clients, {args.seconds} s; load average {os.getloadavg()[0]:.2f}")
    print(f"  answered {answered}, refused or cut {failed}, recorded {recorded}, kills {kills}")
    print(f"  records lost: {lost} ({lost / max(1, kills):.1f} per kill -9; target 0)")


# ---------------------------------------------------------------------------
# A PostgreSQL server of the bench's own, crashed on purpose
# ---------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class OwnPostgres:
    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="bench-pg-"))
        self.data = self.directory / "data"
        self.port = free_port()
        self.user = "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
        if os.geteuid() == 0:
            shutil.chown(self.directory, self.user)
        self._as_user("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _as_user(self, *command: str) -> None:
        prefix = ["runuser", "-u", self.user, "--"] if os.geteuid() == 0 else []
        subprocess.run(prefix + list(command), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def start(self) -> None:
        self._as_user("pg_ctl", "-D", str(self.data), "-w", "-l", str(self.directory / "log"), "-o",
                      f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1", "start")

    def crash(self) -> None:
        self._as_user("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop")

    def stop(self) -> None:
        self._as_user("pg_ctl", "-D", str(self.data), "-m", "fast", "stop")


def crash_run(args) -> None:
    pg = OwnPostgres()
    pg.start()
    try:
        instance = Path(tempfile.mkdtemp(prefix="bench-records-"))
        tokens = prepare(instance, pg.url, 300)
        env = with_root(portal_env(instance, pg.url, None), args.root)
        root = Path(args.root).resolve() if args.root else ROOT
        server = start_gunicorn(PORTAL_PORT, "portal:create_app({'VERIFY_RATE_LIMIT': '100000000 per minute'})",
                                env, root)
        try:
            with Load(tokens, args.clients) as load:
                time.sleep(args.seconds)
                pg.crash()
                # Every answer counted so far was given while the server ran (none can come after this).
                answered_before = load.answered
                crashed_at = time.monotonic()
                time.sleep(1)
            pg.start()
            recorded = count_records(pg.url)
        finally:
            stop(server)
        lost = max(0, answered_before - recorded)
        print(f"\n== PostgreSQL crash (pg_ctl stop -m immediate) under load; code from {root}; "
              f"load average {os.getloadavg()[0]:.2f}")
        print(f"  answered before the crash {answered_before}, recorded after recovery {recorded}")
        print(f"  records lost: {lost} (restart after {time.monotonic() - crashed_at:.1f} s)")
    finally:
        pg.stop()
        shutil.rmtree(pg.directory, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", action="append", help="'sqlite' or postgresql://…; repeat (default sqlite)")
    parser.add_argument("--redis-url", help="rate limits on this Redis")
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--crash-postgres", action="store_true", help="also crash a PostgreSQL server of our own")
    parser.add_argument("--root", help="serve the portal from this checkout instead (e.g. main, for a before figure)")
    args = parser.parse_args()
    os.environ.setdefault("SECRET_KEY", SECRET)
    for database_url in args.database_url or ["sqlite"]:
        kill_run(args, database_url)
    if args.crash_postgres:
        crash_run(args)


if __name__ == "__main__":
    main()
