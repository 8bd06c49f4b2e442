"""Verify JSON endpoint under gunicorn: requests/s and p99 beside a trivial JSON endpoint of the same app.

    .venv/bin/python bench/verify_throughput.py [--passes 500] [--seconds 10] [--connections 16]
                                                [--database-url postgresql://postgres@127.0.0.1:5432/test_verify]

Prepares a database (SQLite file by default) with an enterprise and its passes, starts gunicorn
(2 sync workers, loopback port 5104) on the portal, and loads it with ``wrk``: first
``/api/v1/ping`` (the ceiling: routing, extensions and JSON, nothing else), then
``/api/v1/verify/<token>`` cycling through every pass's token (signature check, one query,
one recorded verification per request), then the ceiling again. The verify rate limit is raised
for the run (one address sends everything). Figures only; the server is stopped by its PID.
"""
from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PORT = 5104


def prepare(instance: Path, database_url: str, count: int) -> list[str]:
    """Create the schema, an enterprise with ``count`` workers and passes; return their tokens."""
    from portal import create_app
    from portal.extensions import db
    from portal.testing.fixtures import make_enterprise, make_worker
    from portal.tokens.codec import sign_pass_token
    from portal.verify.testing import ALL_DAY, make_pass
    from portal.workers.identity import make_cccd

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench-" + "x" * 40,
                      "SIGNING_KEY_DIR": str(instance / "keys")})
    with app.app_context():
        db.drop_all()
        db.create_all()
        registry = app.extensions["portal.plugins"].registry
        enterprise = make_enterprise(db.session, registry, "district7", "Công ty TNHH Ánh Dương", "0301234562")
        tokens = []
        for index in range(count):
            from datetime import date

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


def wrk(url: str, seconds: int, connections: int, script: Path | None = None) -> tuple[float, str, str]:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if script:
        command[1:1] = ["-s", str(script)]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p99 = re.search(r"Latency Distribution.*?\n\s+99%\s+(\S+)", output, re.S).group(1)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return rate, p99, errors.group(1) if errors else "0"


def start_server(instance: Path, database_url: str, redis_url: str | None) -> subprocess.Popen:
    env = dict(os.environ, PORTAL_INSTANCE_PATH=str(instance), DATABASE_URL=database_url,
               SECRET_KEY="bench-" + "x" * 40, SIGNING_KEY_DIR=str(instance / "keys"))
    if redis_url:
        env["REDIS_URL"] = redis_url  # rate limits on Redis, as in production
    factory = "portal:create_app({'VERIFY_RATE_LIMIT': '100000000 per minute'})"
    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{PORT}",
         "--log-level", "warning", factory], cwd=ROOT, env=env)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/api/v1/ping", timeout=1).read()
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("gunicorn did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=500)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--database-url", help="default: a SQLite file in a temporary folder")
    parser.add_argument("--redis-url", help="rate limits on this Redis (production); default: in memory")
    args = parser.parse_args()

    instance = Path(tempfile.mkdtemp(prefix="bench-verify-"))
    database_url = args.database_url or f"sqlite:///{instance / 'bench.sqlite3'}"
    tokens = prepare(instance, database_url, args.passes)
    script = instance / "verify.lua"
    lua_script(script, tokens)
    server = start_server(instance, database_url, args.redis_url)
    try:
        base = f"http://127.0.0.1:{PORT}"
        check = urllib.request.urlopen(f"{base}/api/v1/verify/{tokens[0]}").read().decode()
        assert '"outcome":"valid"' in check.replace(" ", ""), check
        print(f"gunicorn: 2 sync workers on {base}; {os.cpu_count()} cpus; database "
              f"{database_url.split(':', 1)[0]}; rate limits {'redis' if args.redis_url else 'memory'}; "
              f"wrk -t2 -c{args.connections} -d{args.seconds}s; "
              f"load average now {os.getloadavg()[0]:.2f}")
        rows = [("ping (ceiling)", *wrk(f"{base}/api/v1/ping", args.seconds, args.connections)),
                ("verify", *wrk(base, args.seconds, args.connections, script)),
                ("ping again", *wrk(f"{base}/api/v1/ping", args.seconds, args.connections))]
        for name, rate, p99, errors in rows:
            print(f"  {name:16} {rate:9.1f} requests/s   p99 {p99:>9}   non-2xx {errors}")
        ceiling = (rows[0][1] + rows[2][1]) / 2
        print(f"verify reaches {rows[1][1] / ceiling:.0%} of the ping ceiling (target ≥ 50%)")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
