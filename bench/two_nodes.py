"""Verify throughput on two web nodes against one, in the same run (gunicorn + wrk).

    .venv/bin/python bench/two_nodes.py [--passes 500] [--seconds 10] [--connections 16]
        [--database-url postgresql://postgres@127.0.0.1:5432/test_nodes] [--redis-url redis://127.0.0.1:6379/9]

Prepares the database with bench/verify_throughput.py's ``prepare`` (an enterprise, its passes, their
tokens), then loads ``/api/v1/verify/<token>`` with ``wrk`` (bench/verify_throughput.py's Lua script,
cycling through every token) on:

1. one node, 2 gunicorn workers (the baseline: what bench/verify_throughput.py measures);
2. two nodes, 1 worker each (the same number of processes, split across two instance folders);
3. two nodes, 2 workers each (twice the processes).

For two nodes, two ``wrk`` run at once, one per node, half the connections each; their rates add up.
Every node is a gunicorn of its own with its own instance folder on the shared database (and Redis
for the rate limits when given), as production runs them. All run on this one machine: the nodes
share its cores, so the ratios show what being two nodes costs or gains here, not what a second
machine adds. The load average is printed before and after. Servers are stopped by their PID.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from verify_throughput import lua_script, prepare  # noqa: E402  (the verify bench's data and Lua script)

from portal.testing.nodes import Node, shared_environment  # noqa: E402

FACTORY = "portal:create_app({'VERIFY_RATE_LIMIT': '100000000 per minute', 'API_RATE_LIMIT': '100000000 per minute'})"


def wrk_many(urls: list[str], script: Path, seconds: int, connections: int) -> tuple[float, list[float], int]:
    """Run one wrk per URL at once (connections split between them); return (total rate, rates, non-2xx)."""
    share = max(1, connections // len(urls))
    runs = [subprocess.Popen(["wrk", "-t1" if len(urls) > 1 else "-t2", f"-c{share}", f"-d{seconds}s", "-s",
                              str(script), url], stdout=subprocess.PIPE, text=True) for url in urls]
    rates, errors = [], 0
    for run in runs:
        output, _ = run.communicate()
        rates.append(float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)))
        found = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
        errors += int(found.group(1)) if found else 0
    return sum(rates), rates, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=500)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--database-url", help="default: a SQLite file in a temporary folder (production: PostgreSQL)")
    parser.add_argument("--redis-url", help="rate limits on this Redis, as in production; default: in memory")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="bench-two-nodes-"))
    database_url = args.database_url or f"sqlite:///{root / 'bench.sqlite3'}"
    os.environ["PORTAL_INSTANCE_PATH"] = str(root / "prepare")  # prepare's app writes nothing into the checkout
    tokens = prepare(root / "prepare", database_url, args.passes)
    del os.environ["PORTAL_INSTANCE_PATH"]
    script = root / "verify.lua"
    lua_script(script, tokens)
    environment = shared_environment(os.environ, DATABASE_URL=database_url, REDIS_URL=args.redis_url,
                                     SECRET_KEY="bench-" + "x" * 40)
    print(f"{os.cpu_count()} cpus; database {database_url.split(':', 1)[0]}; rate limits "
          f"{'redis' if args.redis_url else 'memory'}; {len(tokens)} passes; wrk {args.seconds}s, "
          f"{args.connections} connections in all; load average before {os.getloadavg()}")
    layouts = [("1 node x 2 workers", [2]), ("2 nodes x 1 worker", [1, 1]), ("2 nodes x 2 workers", [2, 2])]
    results = []
    for label, workers in layouts:
        nodes = [Node(f"node-{index}", root, environment, workers=count, factory=FACTORY)
                 for index, count in enumerate(workers)]
        try:
            for node in nodes:
                node.start()
                answer = urllib.request.urlopen(f"{node.url}/api/v1/verify/{tokens[0]}").read().decode()
                assert '"outcome":"valid"' in answer.replace(" ", ""), answer
            wrk_many([nodes[0].url], script, 2, args.connections)  # warm every worker
            total, rates, errors = wrk_many([node.url for node in nodes], script, args.seconds, args.connections)
        finally:
            for node in nodes:
                node.stop()
        results.append((label, total, rates, errors))
        shown = " + ".join(f"{rate:.0f}" for rate in rates)
        print(f"  {label:22} {total:9.1f} verifications/s  ({shown})  non-2xx {errors}")
    baseline = results[0][1]
    for label, total, _rates, _errors in results[1:]:
        print(f"{label} / 1 node x 2 workers: {total / baseline:.2f}")
    print(f"load average after {os.getloadavg()}")


if __name__ == "__main__":
    main()
