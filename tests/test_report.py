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


def test_valid_shows_for_every_candidate_once_one_falls_short():
    from dataclasses import replace

    from rolecast.profiles.stats import wilson_interval

    def with_valid(name: str, passed: int) -> object:
        stats = matrix({(name, "responder"): "1100"}, [candidate(name)], ["responder"])
        base = stats.stats[(name, "responder")]
        return replace(base, metric_estimates={"valid": wilson_interval(passed, 4)})

    table = {("a", "responder"): with_valid("a", 3), ("b", "responder"): with_valid("b", 4)}
    m = matrix(table, [candidate("a"), candidate("b")], ["responder"])
    rows = {(r.metric, r.candidate): r.estimate.mean for r in build_report(m)}
    # b's 1.00 is a measurement: left out, the markdown would print "—" (no measurement)
    assert rows[("valid", "a")] == 0.75 and rows[("valid", "b")] == 1.0

    table = {("a", "responder"): with_valid("a", 4), ("b", "responder"): with_valid("b", 4)}
    m = matrix(table, [candidate("a"), candidate("b")], ["responder"])
    assert not [r for r in build_report(m) if r.metric == "valid"]  # all valid: no row
