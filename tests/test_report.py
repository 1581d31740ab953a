"""The candidate × role × metric report: intervals, n, best and ties, the all-roles row."""

from __future__ import annotations

import json

from _coalitions import candidate, matrix

from rolecast.report import ALL_ROLES, build_report, render_markdown, to_json


def test_report_marks_clear_winners_and_ties():
    m = matrix(
        {
            ("a", "planner"): "1" * 40,
            ("b", "planner"): "1" * 10 + "0" * 30,  # clearly worse: 40/40 vs 10/40
            ("a", "caller"): "1" * 20 + "0" * 20,
            ("b", "caller"): "1" * 22 + "0" * 18,  # within noise of a
        },
        [candidate("a"), candidate("b")],
    )
    rows = {(r.role, r.metric, r.candidate): r for r in build_report(m)}
    assert rows[("planner", "case_pass", "a")].rank == "best"
    assert rows[("planner", "case_pass", "b")].rank == ""
    assert rows[("caller", "case_pass", "b")].rank == "tie"
    assert rows[("caller", "case_pass", "a")].rank == "tie"
    # each model alone on every role: a = 20/40 cases, b = 10/40 (the AND over roles per case)
    assert rows[(ALL_ROLES, "case_pass", "a")].estimate.mean == 0.5
    assert rows[(ALL_ROLES, "case_pass", "b")].estimate.mean == 0.25
    assert all(r.estimate.n == 40 for r in rows.values())


def test_markdown_and_json_carry_interval_and_n():
    m = matrix(
        {("a", "planner"): "1100", ("b", "planner"): "1000"}, [candidate("a"), candidate("b")]
    )
    rows = build_report(m)
    text = render_markdown(rows, ["a", "b"])
    assert "| planner | case_pass | 0.500 [" in text and "n=4" in text
    data = json.loads(to_json(rows))
    assert {"mean", "low", "high", "n", "method", "rank"} <= set(data[0])
    assert all(0 <= d["low"] <= d["mean"] <= d["high"] <= 1 for d in data)
