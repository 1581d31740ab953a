"""A demo report from synthetic imported results: look at the plots and the HTML page.

Writes, into OUT (default /tmp/rolecast-report-demo): a project of 6 imported
candidates of different sizes and prices on the built-in suite, a results CSV drawn
from a simple skill model (SYNTHETIC numbers, for looking at the report only), the
profile database, then ``rolecast report --format html -o OUT/report.html --plots OUT``.

Usage: PYTHONPATH=$PWD .venv/bin/python bench/report_demo.py [OUT]
"""

from __future__ import annotations

import csv
import json
import os
import random
import subprocess
import sys
from pathlib import Path

CANDIDATES = {  # name: (skill, memory GB, USD per 1M output tokens)
    "qwen2.5-0.5b": (0.35, 1.2, 0.05),
    "smollm2-1.7b": (0.45, 3.6, 0.08),
    "llama3.2-3b": (0.60, 6.8, 0.12),
    "qwen2.5-7b": (0.72, 15.5, 0.30),
    "mistral-small-24b": (0.82, 48.0, 0.90),
    "qwen2.5-14b": (0.78, 30.0, 0.45),
}
ROLES = {"planner": 0.0, "caller": 0.1, "extractor": -0.05, "responder": 0.15}


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/rolecast-report-demo")
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    rolecast = [sys.executable, "-m", "rolecast"]
    project = out / "project.yaml"
    lines = ["cases: builtin", "subset: 48", "budget: {gpu_memory_gb: 24, cost_per_1k_tasks: 2.0}"]
    lines.append("candidates:")
    for name, (_, memory, price) in CANDIDATES.items():
        lines.append(
            f"  - {{name: {name}, backend: imported, model: {name}, memory_gb: {memory}, "
            f"prices: {{input_per_mtok: {price / 4}, output_per_mtok: {price}}}}}"
        )
    project.write_text("\n".join(lines) + "\n")
    listed = subprocess.run(
        [*rolecast, "cases", "-c", str(project), "--format", "json"],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    case_ids = json.loads(listed.stdout)["case_ids"]["profiled"]
    rng = random.Random(7)
    difficulty = {case: rng.uniform(-0.25, 0.25) for case in case_ids}
    results = out / "results.csv"
    with results.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["candidate", "role", "case_id", "score", "tokens_in", "tokens_out"])
        for name, (skill, _, _) in CANDIDATES.items():
            for role, easier in ROLES.items():
                for case in case_ids:
                    p = min(max(skill + easier - difficulty[case], 0.02), 0.98)
                    writer.writerow([name, role, case, int(rng.random() < p), 900, 60])
    db = out / "profiles.db"
    db.unlink(missing_ok=True)
    subprocess.run([*rolecast, "import", str(results), "--db", str(db)], env=env, check=True)
    report = [*rolecast, "report", "-c", str(project), "--db", str(db), "--plots", str(out)]
    page = out / "report.html"
    subprocess.run([*report, "--format", "html", "-o", str(page)], env=env, check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
