"""Verify JSON endpoint under gunicorn, beside the app's own ping and a bare Flask JSON hello, same run.

    .venv/bin/python bench/verify_throughput.py [--database-url sqlite] [--database-url postgresql://…]
                                                [--redis-url redis://127.0.0.1:6379/3]
                                                [--passes 500] [--seconds 8] [--rounds 2] [--connections 16]

For each database named (default: a SQLite file in a temporary folder), prepares an enterprise with
its passes, starts two gunicorn servers (2 sync workers each, loopback): the portal, and a bare
Flask app whose one route answers ``{"ok": true}`` (the floor any Flask endpoint pays: WSGI,
routing, a JSON response). Then ``wrk`` loads, in turn and ``--rounds`` times: the bare hello, the
portal's ``/api/v1/ping`` and ``/api/v1/verify/<token>`` cycling through every pass's token
(signature check, the pass's state, one recorded scan per request). Each figure is the median of
its rounds; the ratios compare figures of the same run. Beside the rates it prints the server CPU
each request cost (gunicorn workers, and on PostgreSQL the backends of the bench's database), which
moves much less than the rates when others load the machine. The verify rate limit is raised for the
run (one address sends everything) but still counted per request. ``--root`` serves another checkout
(a before figure). Needs ``wrk`` (Debian: apt-get install wrk). Figures only; every server is stopped
by its PID.
"""
from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PORTAL_PORT, BARE_PORT = 5104, 5105
SECRET = "bench-" + "x" * 40
#: The target ratios of issue 8.
TARGET_OF_PING, TARGET_OF_BARE = 0.70, 0.50


def bare_app():
    """Return the floor: a Flask app with one JSON route and nothing else (gunicorn calls this)."""
    from flask import Flask, jsonify

    app = Flask("bare")

    @app.get("/ping")
    def ping():
        return jsonify(ok=True)

    return app


def prepare(instance: Path, database_url: str, count: int) -> list[str]:
    """Create the schema, an enterprise with ``count`` workers and passes; return their tokens."""
    from datetime import date

    from portal import create_app
    from portal.extensions import db
    from portal.testing.fixtures import make_enterprise, make_worker
    from portal.tokens.codec import sign_pass_token
    from portal.verify.testing import ALL_DAY, make_pass
    from portal.workers.identity import make_cccd

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": SECRET,
                      "SIGNING_KEY_DIR": str(instance / "keys")})
    with app.app_context():
        db.drop_all()
        db.create_all()
        registry = app.extensions["portal.plugins"].registry
        enterprise = make_enterprise(db.session, registry, "district7", "Công ty TNHH Ánh Dương", "0301234562")
        tokens = []
        for index in range(count):
            born = date(1970 + index % 30, 5, 17)
            worker = make_worker(db.session, enterprise, name=f"Nguyễn Văn An {index}", born=born,
                                 citizen_id=make_cccd(79, born, "M", index + 1))
            tokens.append(sign_pass_token(make_pass(db.session, worker, windows=ALL_DAY)))
        db.session.commit()
        db.engine.dispose()
    return tokens


def lua_script(path: Path, tokens: list[str]) -> None:
    """Write a wrk script that sends each request to the next token's verify URL."""
    items = ",\n".join(f'"/api/v1/verify/{token}"' for token in tokens)
    path.write_text(f"local paths = {{\n{items}\n}}\nlocal i = 0\n"
                    "request = function()\n  i = i % #paths + 1\n  return wrk.format('GET', paths[i])\nend\n")


def wrk(url: str, seconds: int, connections: int, script: Path | None = None) -> tuple[float, float, int, int]:
    """Return requests/s, p99 latency (ms), the number of non-2xx answers and of requests of one wrk run."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if script:
        command[1:1] = ["-s", str(script)]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    value, unit = re.search(r"Latency Distribution.*?\n\s+99%\s+([\d.]+)(\w+)", output, re.S).groups()
    p99 = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    return rate, p99, int(errors.group(1)) if errors else 0, requests


class ServerCpu:
    """CPU seconds used by a gunicorn server's workers and, on PostgreSQL, by its database's backends.

    Throughput on a shared machine moves with everyone else's load; the CPU a request costs the
    server moves much less, so the bench prints it beside the rates.
    """

    def __init__(self, master: subprocess.Popen, database_url: str | None = None) -> None:
        self.master = master
        self.database_url = database_url

    def pids(self) -> set[int]:
        found = subprocess.run(["pgrep", "-P", str(self.master.pid)], capture_output=True, text=True).stdout.split()
        pids = {int(pid) for pid in found}
        if self.database_url and self.database_url.startswith("postgres"):
            import psycopg

            url = self.database_url.replace("postgresql+psycopg://", "postgresql://")
            with psycopg.connect(url, autocommit=True) as connection:
                pids |= {row[0] for row in connection.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")}
        return pids

    @staticmethod
    def seconds(pids) -> dict[int, float]:
        ticks = os.sysconf("SC_CLK_TCK")
        found = {}
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            found[pid] = (int(fields[11]) + int(fields[12])) / ticks
        return found

    def measure(self, run):
        """Call ``run()``; return its result and the CPU seconds the server used meanwhile (workers, database)."""
        workers_before = self.seconds(self._workers())
        before = self.seconds(self.pids())
        result = run()
        after = self.seconds(self.pids() | set(before))
        total = sum(after[pid] - before.get(pid, 0.0) for pid in after)
        workers = sum(after[pid] - workers_before.get(pid, 0.0) for pid in after if pid in workers_before)
        return result, total, workers

    def _workers(self) -> set[int]:
        found = subprocess.run(["pgrep", "-P", str(self.master.pid)], capture_output=True, text=True).stdout.split()
        return {int(pid) for pid in found}


def start_gunicorn(port: int, factory: str, env: dict, cwd: Path) -> subprocess.Popen:
    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning", factory], cwd=cwd, env=env)
    for _ in range(150):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/ping" if port == PORTAL_PORT
                                   else f"http://127.0.0.1:{port}/ping", timeout=1).read()
            return server
        except OSError:
            if server.poll() is not None:
                raise SystemExit(f"gunicorn on port {port} exited with {server.returncode}") from None
            time.sleep(0.2)
    stop(server)
    raise SystemExit(f"gunicorn on port {port} did not start")


def stop(server: subprocess.Popen) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def portal_env(instance: Path, database_url: str, redis_url: str | None) -> dict:
    env = dict(os.environ, PORTAL_INSTANCE_PATH=str(instance), DATABASE_URL=database_url, SECRET_KEY=SECRET,
               SIGNING_KEY_DIR=str(instance / "keys"))
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url  # rate limits and scan records on Redis, as in production
    return env


def with_root(env: dict, root: str | None) -> dict:
    """Make a server started in another checkout import that checkout's unit plugins too."""
    if not root:
        return env
    plugins = [str(path) for path in sorted(Path(root).resolve().glob("plugins/*")) if path.is_dir()]
    return {**env, "PYTHONPATH": os.pathsep.join(plugins)}


def cpu_busy() -> tuple[int, int]:
    """Return (busy, total) jiffies of the whole machine so far (from /proc/stat)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def run_database(database_url: str, args, tokens_count: int) -> dict:
    instance = Path(tempfile.mkdtemp(prefix="bench-verify-"))
    if database_url == "sqlite":
        database_url = f"sqlite:///{instance / 'bench.sqlite3'}"
    kind = database_url.split(":", 1)[0].split("+")[0]
    tokens = prepare(instance, database_url, tokens_count)
    script = instance / "verify.lua"
    lua_script(script, tokens)
    env = portal_env(instance, database_url, args.redis_url)
    factory = "portal:create_app({'VERIFY_RATE_LIMIT': '100000000 per minute'})"
    portal = start_gunicorn(PORTAL_PORT, factory, with_root(env, args.root), Path(args.root).resolve() if args.root
                            else ROOT)
    try:
        bare = start_gunicorn(BARE_PORT, "verify_throughput:bare_app()", dict(os.environ), ROOT / "bench")
    except BaseException:
        stop(portal)
        raise
    figures: dict[str, list[tuple[float, float, int, int]]] = {"bare": [], "ping": [], "verify": []}
    cpu: dict[str, list[float]] = {"bare": [], "ping": [], "verify": []}
    worker_cpu: dict[str, list[float]] = {"bare": [], "ping": [], "verify": []}
    bare_cpu, portal_cpu = ServerCpu(bare), ServerCpu(portal, database_url)
    try:
        check = urllib.request.urlopen(f"http://127.0.0.1:{PORTAL_PORT}/api/v1/verify/{tokens[0]}").read().decode()
        assert '"outcome":"valid"' in check.replace(" ", ""), check
        load_before = os.getloadavg()[0]
        busy_before = cpu_busy()
        runs = {
            "bare": (bare_cpu, lambda: wrk(f"http://127.0.0.1:{BARE_PORT}/ping", args.seconds, args.connections)),
            "ping": (portal_cpu, lambda: wrk(f"http://127.0.0.1:{PORTAL_PORT}/api/v1/ping", args.seconds,
                                             args.connections)),
            "verify": (portal_cpu, lambda: wrk(f"http://127.0.0.1:{PORTAL_PORT}", args.seconds, args.connections,
                                               script)),
        }
        for _ in range(args.rounds):
            for name, (meter, run) in runs.items():
                figure, seconds, worker_seconds = meter.measure(run)
                figures[name].append(figure)
                cpu[name].append(seconds / max(1, figure[3]) * 1e6)
                worker_cpu[name].append(worker_seconds / max(1, figure[3]) * 1e6)
        busy_after = cpu_busy()
        load_after = os.getloadavg()[0]
    finally:
        stop(bare)
        stop(portal)
    result = {name: (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs),
                     sum(r[2] for r in runs), [r[0] for r in runs]) for name, runs in figures.items()}
    busy = (busy_after[0] - busy_before[0]) / max(1, busy_after[1] - busy_before[1])
    print(f"\n== database {kind}; portal code from {args.root or ROOT}; rate limits and scan records on "
          f"{'redis' if args.redis_url else 'this node (memory limits, records in the database)'}; "
          f"wrk -t2 -c{args.connections} -d{args.seconds}s × {args.rounds} rounds; {os.cpu_count()} cpus; "
          f"load average {load_before:.2f} before, {load_after:.2f} after; cpu busy {busy:.0%} during")
    labels = {"bare": "bare Flask JSON hello", "ping": "portal /api/v1/ping", "verify": "portal /api/v1/verify"}
    for name, (rate, p99, errors, rates) in result.items():
        rounds = ", ".join(f"{value:.0f}" for value in rates)
        print(f"  {labels[name]:24} {rate:9.1f} requests/s   p99 {p99:8.2f} ms   non-2xx {errors}   "
              f"(rounds: {rounds})")
    of_ping = result["verify"][0] / result["ping"][0]
    of_bare = result["verify"][0] / result["bare"][0]
    for name, ratio, target in (("verify / ping", of_ping, TARGET_OF_PING), ("verify / bare", of_bare, TARGET_OF_BARE)):
        print(f"  {name}  {ratio:6.0%}   (target ≥ {target:.0%})  {'met' if ratio >= target else 'NOT met'}")
    print(f"  ping / bare    {result['ping'][0] / result['bare'][0]:6.0%}")
    per_request = {name: statistics.median(values) for name, values in cpu.items()}
    print("  server CPU per request (gunicorn workers" + (" and their PostgreSQL backends" if kind == "postgresql"
                                                           else "") + "; less sensitive to others' load):")
    print("    " + ",  ".join(f"{name} {value:.0f} µs" for name, value in per_request.items())
          + ("   (of which the database: " + ", ".join(
              f"{name} {value - statistics.median(worker_cpu[name]):.0f} µs" for name, value in per_request.items())
             + ")" if kind == "postgresql" else ""))
    print(f"    as rates: verify / ping {per_request['ping'] / per_request['verify']:.0%}, "
          f"verify / bare {per_request['bare'] / per_request['verify']:.0%}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", action="append",
                        help="'sqlite' (a temporary file) or postgresql://…; repeat to compare (default: sqlite)")
    parser.add_argument("--redis-url", help="rate limits and scan records on this Redis (production)")
    parser.add_argument("--passes", type=int, default=500)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--root", help="serve the portal from this checkout instead (e.g. main, for a before figure)")
    args = parser.parse_args()
    for database_url in args.database_url or ["sqlite"]:
        run_database(database_url, args, args.passes)


if __name__ == "__main__":
    main()
