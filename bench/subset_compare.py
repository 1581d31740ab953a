"""Old vs new code on the same records: pass rates from two profile databases.

Usage (from the repository root)::

    .venv/bin/python bench/subset_compare.py ROLE OLD.db NEW.db

Reads the stored steps of ``ROLE`` in both databases (each written by ``rolecast profile``
under one version of the code), keeps the (candidate, case, step) keys present in both, and
prints per candidate the step pass rate and the mean of each recorded metric on exactly
those steps, with Wilson 95 % intervals for the rates. A run stopped part-way is compared
on what both runs completed, never on different records.
"""

from __future__ import annotations

import sqlite3
import sys
from collections import defaultdict

from rolecast.profiles.stats import wilson_interval


def _rows(db: str, role: str) -> dict[tuple[str, str, int], tuple[bool, dict[str, float]]]:
    import json

    with sqlite3.connect(db) as conn:
        found = conn.execute(
            "select candidate, case_id, step_index, success, metrics from steps where role = ?",
            (role,),
        ).fetchall()
    return {(c, case, i): (bool(ok), json.loads(m or "{}")) for c, case, i, ok, m in found}


def main() -> None:
    """Print the comparison table."""
    role, old_db, new_db = sys.argv[1:4]
    old, new = _rows(old_db, role), _rows(new_db, role)
    shared = sorted(set(old) & set(new))
    by_candidate: dict[str, list[tuple[str, str, int]]] = defaultdict(list)
    for key in shared:
        by_candidate[key[0]].append(key)
    print("| candidate | steps (cases) | old pass | new pass | metric means old -> new |")
    print("|---|---|---|---|---|")
    for candidate, keys in sorted(by_candidate.items()):
        cells = []
        for rows in (old, new):
            ok = sum(rows[k][0] for k in keys)
            e = wilson_interval(ok, len(keys))
            cells.append(f"{ok}/{len(keys)} = {e.mean:.3f} [{e.low:.3f}, {e.high:.3f}]")
        names = sorted(set().union(*(old[k][1] for k in keys), *(new[k][1] for k in keys)))
        means = []
        for name in names:
            pair = []
            for rows in (old, new):
                values = [rows[k][1][name] for k in keys if name in rows[k][1]]
                pair.append(f"{sum(values) / len(values):.3f}" if values else "—")
            means.append(f"{name} {pair[0]} -> {pair[1]}")
        cases = len({k[1] for k in keys})
        print(
            f"| {candidate} | {len(keys)} ({cases}) | {cells[0]} | {cells[1]} | "
            + "; ".join(means)
            + " |"
        )


if __name__ == "__main__":
    main()
