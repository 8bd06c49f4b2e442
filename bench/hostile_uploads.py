"""Peak memory of checking each hostile upload, beside a normal 1,000-row list measured in the same run.

    .venv/bin/python bench/hostile_uploads.py [--only wide_row,deep_nesting]

Each file (built by tests/imports/hostile.py) is checked in a fresh process, through the service the upload
page calls (``checking.start_import``: read, validate, compare with the database, keep the report), on a
scratch SQLite database. The process's resident memory is read just before the check and its peak (VmHWM,
reset first through /proc/self/clear_refs) just after; the difference is what the upload cost. Issue 10's
bound is +150 MB for any upload within the size limit. For context, the last line runs the reader this
portal used before (openpyxl ``read_only``) on a wide row of only 300,000 cells. Nothing is asserted.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "imports"))


def _status(key: str) -> float:
    """Return a /proc/self/status figure in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(key)


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def child(path: str, mode: str) -> None:
    """Check one file in this process and print what it cost as JSON."""
    data = Path(path).read_bytes()
    if mode == "openpyxl":
        import io
        import warnings

        import openpyxl

        before, reset = _status("VmRSS"), _reset_peak()
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
            rows = sum(1 for _row in workbook.worksheets[0].iter_rows(max_col=61, values_only=True))
        outcome = f"read {rows} row(s)"
    else:
        from bench.import_workers import build_app, make_hr, reset_schema

        instance = Path(tempfile.mkdtemp(prefix="hostile-bench-"))
        app = build_app(f"sqlite:///{instance / 'bench.sqlite3'}", instance)
        app.config.update(IMPORT_MAX_BYTES=5 * 1024 * 1024, IMPORT_JOB_XLSX_BYTES=10 * 1024 * 1024,
                          IMPORT_JOB_CSV_BYTES=10 * 1024 * 1024, IMPORT_JOB_THRESHOLD=100_000)
        reset_schema(app)
        enterprise_id, user_id = make_hr(app, "0312345678", "hr@bench.vn")
        import hostile
        from flask_babel import force_locale

        from portal.auth.models import User
        from portal.enterprises.models import Enterprise
        from portal.extensions import db
        from portal.imports.checking import start_import
        from portal.imports.parsing import ImportFileError

        with app.test_request_context(), app.app_context(), force_locale("en"):
            registry = app.extensions["portal.plugins"].registry
            enterprise, user = db.session.get(Enterprise, enterprise_id), db.session.get(User, user_id)
            # A three-row list first, so that every module and catalog is loaded before measuring.
            start_import(db.session, enterprise, user, "warm-up.xlsx", hostile.normal(rows=3), registry=registry)
            db.session.rollback()
            before, reset = _status("VmRSS"), _reset_peak()
            started = time.perf_counter()
            try:
                batch = start_import(db.session, enterprise, user, Path(path).name, data, registry=registry)
                db.session.commit()
                outcome = f"checked: {batch.total_rows} rows, {batch.problem_count} with problems"
            except ImportFileError as refusal:
                db.session.rollback()
                outcome = "refused: " + str(refusal)[:70]
    seconds = time.perf_counter() - started
    peak = _status("VmHWM")
    print(json.dumps({"before": before, "peak": peak, "reset": reset, "seconds": seconds, "outcome": outcome}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated hostile file names")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    import hostile

    names = [name for name in hostile.HOSTILE if not args.only or name in args.only.split(",")]
    folder = Path(tempfile.mkdtemp(prefix="hostile-files-"))
    files = [("normal", "a normal worker list of 1,000 rows (baseline)", hostile.normal(), "portal"),
             ("normal_10000", "a normal worker list of 10,000 rows (the row limit)", hostile.normal(10_000), "portal")]
    files += [(name, hostile.HOSTILE[name][1], hostile.HOSTILE[name][0](), "portal") for name in names]
    files.append(("openpyxl_wide_row", "before: openpyxl read_only, one row of 300,000 cells",
                  hostile.wide_row(cells=300_000), "openpyxl"))
    print(f"{'file':<22}{'size':>9}{'unpacked':>10}{'peak RSS':>10}{'+ MB':>8}{'s':>7}  outcome")
    import io
    import zipfile

    baseline = None
    for name, what, data, mode in files:
        path = folder / f"{name}.xlsx"
        path.write_bytes(data)
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                unpacked = sum(info.file_size for info in archive.infolist())
        except zipfile.BadZipFile:  # a CSV file
            unpacked = len(data)
        run = subprocess.run([sys.executable, __file__, "--child", str(path), mode], capture_output=True, text=True,
                             cwd=str(ROOT), timeout=900)
        if run.returncode:
            print(f"{name:<22} failed: {run.stderr.strip().splitlines()[-1:]}")
            continue
        figures = json.loads(run.stdout.strip().splitlines()[-1])
        added = figures["peak"] - figures["before"]
        if name == "normal":
            baseline = added
        versus = f" ({added - baseline:+.0f} vs baseline)" if baseline is not None and name != "normal" else ""
        print(f"{name:<22}{len(data) / 1e6:>7.2f}MB{unpacked / 1e6:>8.0f}MB{figures['peak']:>8.0f}MB"
              f"{added:>+8.1f}{figures['seconds']:>7.2f}  {figures['outcome']}{versus}")
        print(f"{'':<22}{what}" + ("" if figures["reset"] else " (peak not reset: VmHWM since start)"))


if __name__ == "__main__":
    main()
