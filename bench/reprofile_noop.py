"""A no-op `rolecast reprofile` over a store of more than 10 000 steps: how long it takes.

Builds a project of N scripted candidates (the test suite's scripted backend: canned
outputs, no model) on the built-in suite (48 profiled cases, planner/caller/extractor:
185 steps per candidate), fills the store once with `rolecast profile`, then times
`rolecast reprofile` with nothing to generate: every step is reused, the search and the
JSON summary run as a scheduled job would run them. Each command is a fresh child
process, timed from the outside (Python start-up and imports included).
Target (issue 13): < 2 s over ≥ 10 k stored steps.

Usage: PYTHONPATH=$PWD .venv/bin/python bench/reprofile_noop.py [--candidates 60] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# The scripted backend is registered for the tests only; the bench registers it the same
# way around the real command-line entry point.
RUN = """
import sys
from rolecast.backends import registered
from rolecast.cli import main
with registered("scripted", "rolecast.backends.scripted:ScriptedBackend"):
    sys.argv = ["rolecast", *sys.argv[1:]]
    main()
"""
ACTIONS = ["finish", "convert_units", "search_products", "get_weather", "give_up"]


def project_yaml(n: int) -> str:
    lines = ["cases: builtin", "subset: 48", "pipeline: [planner, caller, extractor]"]
    lines += ["budget: {gpu_memory_gb: 6}", "candidates:"]
    for i in range(n):
        # a few canned answers, different per candidate; once used up, the scripted
        # backend's "nothing queued" error is a scored failure (no fault)
        outputs = [json.dumps({"action": ACTIONS[(i + k) % len(ACTIONS)]}) for k in range(8)]
        lines.append(
            f"  - {{name: s{i:03d}, backend: scripted, model: s{i:03d}, "
            f"memory_gb: {1 + i % 5}, options: {{outputs: {json.dumps(outputs)}}}}}"
        )
    return "\n".join(lines) + "\n"


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def rolecast(*args: str) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of the child, stdout) of one command."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    started, cpu = time.perf_counter(), _cpu()
    done = subprocess.run(
        [sys.executable, "-c", RUN, *args], env=env, capture_output=True, text=True, check=False
    )
    seconds, cpu = time.perf_counter() - started, _cpu() - cpu
    if done.returncode != 0:
        sys.exit(f"rolecast {' '.join(args)} failed ({done.returncode}): {done.stderr}")
    return seconds, cpu, done.stdout


def _count(project: Path) -> int:
    return sum(1 for line in project.read_text().splitlines() if "backend: scripted" in line)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--reuse", type=Path, help="a workdir of an earlier run (skip the fill)")
    args = parser.parse_args()
    workdir = args.reuse or Path(tempfile.mkdtemp(prefix="rolecast-reprofile-bench-"))
    project, db = workdir / "project.yaml", workdir / "profiles.db"
    fill_s = None
    if args.reuse is None:
        project.write_text(project_yaml(args.candidates))
        fill_s, _, _ = rolecast("profile", "-c", str(project), "--db", str(db), "--no-progress")
    with sqlite3.connect(db) as conn:
        steps = conn.execute("SELECT count(*) FROM steps").fetchone()[0]
    runs = []
    for _ in range(args.repeat):
        seconds, cpu, out = rolecast("reprofile", "-c", str(project), "--db", str(db))
        summary = json.loads(out.strip().splitlines()[-1])
        if summary["generated"] != 0:
            sys.exit(f"not a no-op: {summary}")
        runs.append((seconds, cpu, summary))
    best_s, best_cpu, summary = min(runs, key=lambda r: r[0])
    print(
        json.dumps(
            {
                "candidates": _count(project),
                "stored_steps": steps,
                "fill_profile_s": None if fill_s is None else round(fill_s, 1),
                "noop_reprofile_wall_s": [round(r[0], 2) for r in runs],
                "noop_reprofile_cpu_s": [round(r[1], 2) for r in runs],
                "in_command_s": [r[2]["seconds"] for r in runs],
                "best_wall_s": round(best_s, 2),
                "best_cpu_s": round(best_cpu, 2),
                "reused": summary["reused"],
                "load_avg_1min": round(os.getloadavg()[0], 1),
                "workdir": str(workdir),
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
