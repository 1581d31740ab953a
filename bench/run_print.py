"""`rolecast run` with one long unbroken token: time to print the trajectory.

rich's default highlighter scans text with regular expressions whose cost grows with the
square of an unbroken token's length (issue 13: 100 KB took 48 s). The trajectory is
now printed as plain Text, clipped. This runs the real command line (a subprocess) on a
scripted coalition, so only rolecast's own work is timed, no model.

    PYTHONPATH=$PWD .venv/bin/python bench/run_print.py [--kb 1 25 50 100]

(an argument is at most 128 KB on Linux, hence no larger token).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from test_run_cmd import write_scripted_coalition  # noqa: E402 - the tests' own fixture

RUN = (  # the command line with the tests' scripted backend registered, as in conftest.py
    "from rolecast.backends import registered\n"
    "from rolecast.cli import main\n"
    "with registered('scripted', 'rolecast.backends.scripted:ScriptedBackend'):\n"
    "    main()\n"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kb", type=int, nargs="+", default=[1, 25, 50, 100])
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with tempfile.TemporaryDirectory() as tmp:
        env["ROLECAST_DB"] = str(Path(tmp) / "unused.db")
        from rolecast.backends import registered

        with registered("scripted", "rolecast.backends.scripted:ScriptedBackend"):
            coalition = write_scripted_coalition(
                Path(tmp) / "c.yaml", ['{"action": "finish"}', "ok"]
            )
        print("| instruction | format | seconds | stdout bytes |")
        print("|---:|---|---:|---:|")
        for kb in args.kb:
            token = "x" * (kb * 1000)
            for fmt in ("text", "json"):
                started = time.perf_counter()
                proc = subprocess.run(
                    [sys.executable, "-c", RUN, "run", str(coalition), token,
                     "--no-progress", "--format", fmt],
                    capture_output=True, text=True, env=env, check=True,
                )  # fmt: skip
                seconds = time.perf_counter() - started
                print(f"| {kb} KB | {fmt} | {seconds:.2f} | {len(proc.stdout.encode())} |")


if __name__ == "__main__":
    main()
