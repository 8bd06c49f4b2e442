"""The key ring's cost per checkpoint scan: the database ring (cached) beside the file ring it replaces.

    .venv/bin/python bench/keyring.py [--calls 20000] [--database-url postgresql://...]

One ring of three keys (retired, verify, active), the same keys in both stores: the folder layout
of earlier versions (``FileKeyRing``: a ``stat`` of keyring.json and a new dict per call) and the
database ring (``KeyRing``, what every process now uses). Per scan the verify views call
``verifying_keys()`` (through ``decode_token``); ``/.well-known/greencard-keys.json`` calls
``public_document()``. Rows:

* ``verifying_keys()`` alone, and ``decode_token`` of a genuine token (signature answer cached, as
  for a card scanned again), for: the file ring; the database ring re-read every 5 s (the
  default); the database ring re-read at every call (``KEYRING_REFRESH_SECONDS=0``, what the
  interval saves); a plain dict (the floor).
* ``public_document()`` for the file ring and the database ring.

The database is a fresh SQLite file unless ``--database-url`` names another; there the bench
uses the table ``signing_keys`` and deletes the three keys it added. Figures only: microseconds
per call, best of 7 interleaved runs, and the ratio to the file ring measured in the same run.
"""
from __future__ import annotations

import argparse
import base64
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


RUNS = 7


def per_call(function, calls: int) -> float:
    """Return the time of one call of ``function`` in microseconds, averaged over ``calls`` calls."""
    start = time.perf_counter()
    for _ in range(calls):
        function()
    return (time.perf_counter() - start) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--database-url", help="another database than a fresh SQLite file")
    args = parser.parse_args()

    from sqlalchemy import create_engine, delete, inspect
    from sqlalchemy.orm import Session

    from portal.config import normalise_database_url
    from portal.tokens.codec import TokenPayload, decode_token, sign_payload
    from portal.tokens.keys import FileKeyRing, KeyRing, import_key_folder, parse_key_encryption_key
    from portal.tokens.models import SigningKey

    workdir = Path(tempfile.mkdtemp(prefix="bench-keyring-"))
    url = normalise_database_url(args.database_url) if args.database_url else f"sqlite:///{workdir / 'ring.sqlite3'}"
    engine = create_engine(url)
    if not inspect(engine).has_table("signing_keys"):
        SigningKey.__table__.create(engine)

    folder = FileKeyRing(workdir / "keys")
    folder.signing_key()
    folder.rotate()
    folder.rotate()
    folder.retire(folder.entries()[0].kid)
    kek = parse_key_encryption_key(base64.b64encode(os.urandom(32)).decode(), "bench")
    with Session(engine) as session, session.begin():
        imported = import_key_folder(session, kek, folder.directory)
    kids = [item.info.kid for item in imported]
    try:
        cached = KeyRing(engine, lambda: kek, refresh_seconds=5)
        every_call = KeyRing(engine, lambda: kek, refresh_seconds=0)
        plain = dict(folder.verifying_keys())
        assert cached.public_document() == folder.public_document()
        kid, private = cached.signing_key()
        token = sign_payload(TokenPayload(serial="Q7-BENCH000001", version=1, unit="Q7", valid_from=date(2021, 9, 20),
                                          valid_until=date(2022, 3, 19), windows=(), name="NGUYEN V. AN"), kid, private)
        for ring in (folder, cached, every_call, plain):
            decode_token(token, ring)  # warm: the signature answer is cached, as for a card scanned again

        rows = [("file ring (SIGNING_KEY_DIR, before)", folder), ("database ring, re-read every 5 s", cached),
                ("database ring, re-read every call", every_call), ("plain dict (the floor)", plain)]
        calls = args.calls
        best: dict[tuple[str, str], float] = {}
        # Runs interleaved, so that every ring meets the same load from the machine's other work.
        for _run in range(RUNS):
            for name, ring in rows:
                n = max(calls // 20, 200) if ring is every_call else calls
                measures = {"decode_token()": lambda ring=ring: decode_token(token, ring)}
                if ring is not plain:
                    measures["verifying_keys()"] = ring.verifying_keys
                    measures["public_document()"] = ring.public_document
                for what, function in measures.items():
                    cost = per_call(function, n if what != "public_document()" else max(n // 10, 100))
                    best[name, what] = min(best.get((name, what), cost), cost)
        print(f"key ring cost per call, {engine.dialect.name}, 3 keys, best of {RUNS} interleaved runs of {calls} "
              f"calls ({os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f})")
        columns = ("verifying_keys()", "decode_token()", "public_document()")
        print(f"  {'':38}" + "".join(f"{column:>26}" for column in columns))
        baseline = rows[0][0]
        for name, _ring in rows:
            cells = []
            for column in columns:
                if (name, column) not in best:
                    cells.append(f"{'-':>26}")
                    continue
                cost, ratio = best[name, column], best[name, column] / best[baseline, column]
                cells.append(f"{cost:12.2f} µs ({ratio:7.3f}×)")
            print(f"  {name:38}" + "".join(cells))
    finally:
        with Session(engine) as session, session.begin():
            session.execute(delete(SigningKey).where(SigningKey.kid.in_(kids)))
        engine.dispose()


if __name__ == "__main__":
    main()
