"""`rolecast import` of a large generated results CSV: wall time and peak resident memory.

Generates a CSV of N rows (every column of docs/import-format.md filled, 10 candidates
× 4 roles × N/40 cases), then runs `rolecast import FILE --db NEW.db` in a child process
and reports its wall time, CPU time and peak RSS (the child's ``getrusage``), the file
size and the stored step count. The machine's load average is printed too: on a shared
machine the wall time is only meaningful beside it, the CPU time less so.
Targets (issue 13): 1 M rows in < 30 s and < 500 MB peak RSS.

Usage: PYTHONPATH=$PWD .venv/bin/python bench/import_large.py [--rows 1000000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROLES = ("planner", "caller", "extractor", "responder")
HEADER = ["candidate", "role", "case_id", "score", "success", "step_index", "tokens_in",
          "tokens_out", "latency_s"]  # fmt: skip


def write_csv(path: Path, rows: int) -> None:
    """``rows`` valid, distinct rows; deterministic."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for i in range(rows):
            candidate, rest = i % 10, i // 10
            role, case = ROLES[rest % 4], rest // 4
            score = ((i * 7919) % 1000) / 1000
            writer.writerow([
                f"model-{candidate:02d}", role, f"bench/suite/case-{case:07d}", score,
                "true" if score >= 0.4 else "false", 0, 300 + i % 500, 20 + i % 50,
                round(0.05 + (i % 97) / 100, 3),
            ])  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="keep the CSV and database in this folder")
    args = parser.parse_args()
    workdir = Path(args.keep or tempfile.mkdtemp(prefix="rolecast-import-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    results, db = workdir / "results.csv", workdir / "import.db"
    for stale in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        stale.unlink(missing_ok=True)
    started = time.perf_counter()
    write_csv(results, args.rows)
    generated_s = time.perf_counter() - started

    rolecast = [sys.executable, "-m", "rolecast", "import", str(results), "--db", str(db)]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    started = time.perf_counter()
    done = subprocess.run(rolecast, env=env, capture_output=True, text=True, check=False)
    wall_s = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # the import child only
    peak_kib = usage.ru_maxrss  # KiB on Linux
    if done.returncode != 0:
        print(done.stdout, done.stderr, file=sys.stderr)
        return done.returncode
    with sqlite3.connect(db) as conn:
        stored = conn.execute("SELECT count(*) FROM steps").fetchone()[0]
    report = {
        "rows": args.rows,
        "csv_mb": round(results.stat().st_size / 1e6, 1),
        "wall_s": round(wall_s, 1),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
        "peak_rss_mb": round(peak_kib * 1024 / 1e6, 1),
        "load_avg_1min_after": round(os.getloadavg()[0], 1),
        "stored_steps": stored,
        "generate_csv_s": round(generated_s, 1),
        "output": " ".join(done.stdout.split())[-160:],
    }
    print(json.dumps(report, indent=2))
    if not args.keep:
        shutil.rmtree(workdir)
    return 0 if stored == args.rows else 1


if __name__ == "__main__":
    sys.exit(main())
