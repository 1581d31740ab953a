"""Calibration metrics against hand-computed values (and scipy's Spearman where installed)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from _coalitions import candidate, matrix

from rolecast.storage import AgentRunRecord
from rolecast.verify.calibration import (
    CoalitionPoint,
    calibrate,
    collect_points,
    render_markdown,
    spearman,
)


def point(label: str, predicted: dict[str, float], outcomes: str) -> CoalitionPoint:
    """``outcomes``: one 0/1 per held-out case c0, c1, ..."""
    return CoalitionPoint(
        label=label,
        assignment={"planner": label},
        predicted=predicted,
        outcomes={f"c{i}": flag == "1" for i, flag in enumerate(outcomes)},
    )


POINTS = [
    point("A", {"observed": 0.5, "irt": 0.6}, "10"),  # measured 1/2
    point("B", {"observed": 0.0, "irt": 0.2}, "00"),  # measured 0
    point("C", {"observed": 1.0, "irt": 0.9}, "110"),  # measured 2/3
    point("D", {"observed": 0.8, "irt": 0.1}, "01"),  # measured 1/2
]


def test_mae_and_bias_match_hand_computed_values() -> None:
    report = calibrate(POINTS, n_resamples=200)
    observed, irt = report.surrogates["observed"], report.surrogates["irt"]
    # observed: |0.5-0.5| + |0-0| + |1-2/3| + |0.8-0.5| = 1/3 + 0.3, over 4
    assert observed.mae.mean == pytest.approx((1 / 3 + 0.3) / 4)
    assert observed.bias.mean == pytest.approx((1 / 3 + 0.3) / 4)
    # irt: 0.1 + 0.2 + (0.9-2/3) + (0.1-0.5) signed; absolute 0.1+0.2+0.2333+0.4
    assert irt.mae.mean == pytest.approx((0.1 + 0.2 + (0.9 - 2 / 3) + 0.4) / 4)
    assert irt.bias.mean == pytest.approx((0.1 + 0.2 + (0.9 - 2 / 3) - 0.4) / 4)
    for e in (observed.mae, observed.bias, irt.mae, irt.bias):
        assert e.low <= e.mean <= e.high and e.n == 4 and e.method == "bootstrap"
    assert report.n_runs == 9


def test_spearman_with_ties_by_hand() -> None:
    # ranks x: 1, 2.5, 2.5, 4; y: 1, 3, 2, 4; sum dx*dy = 4.5, sum dx^2 = 4.5, sum dy^2 = 5
    assert spearman([1, 2, 2, 3], [1, 3, 2, 4]) == pytest.approx(4.5 / math.sqrt(4.5 * 5))
    assert spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert math.isnan(spearman([1, 1, 1], [1, 2, 3]))  # no ranking to correlate
    report = calibrate(POINTS, n_resamples=200)
    # observed predictions 0.5, 0, 1, 0.8 vs measured 0.5, 0, 2/3, 0.5 (a tie in measured)
    expected = spearman([0.5, 0.0, 1.0, 0.8], [0.5, 0.0, 2 / 3, 0.5])
    assert report.surrogates["observed"].spearman.mean == pytest.approx(expected)


def test_spearman_agrees_with_scipy() -> None:
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(3)
    for _ in range(20):
        x = rng.integers(0, 5, size=12).astype(float)  # many ties
        y = rng.random(12).round(1)
        assert spearman(x, y) == pytest.approx(stats.spearmanr(x, y).statistic)


def test_reliability_bins_by_predicted_probability() -> None:
    bins = calibrate(POINTS, n_bins=5, n_resamples=50).surrogates["observed"].bins
    as_tuples = [(b.low, b.high, b.n, b.mean_predicted, b.measured.mean) for b in bins]
    assert as_tuples == [
        (0.0, 0.2, 2, 0.0, 0.0),  # B
        (0.4, 0.6, 2, 0.5, 0.5),  # A
        (0.8, 1.0, 5, pytest.approx((0.8 * 2 + 1.0 * 3) / 5), 3 / 5),  # D and C (1.0 included)
    ]
    assert all(b.measured.method == "wilson" for b in bins)


def test_constant_predictions_have_no_spearman_and_say_so() -> None:
    flat = [
        point(p.label, {"observed": 0.0}, "".join("1" if v else "0" for v in p.outcomes.values()))
        for p in POINTS
    ]
    report = calibrate(flat, n_resamples=50)
    assert report.surrogates["observed"].spearman is None
    text = render_markdown(report)
    assert "| observed |" in text and "—" in text


def _run(name: str, case: str, ok: bool, fingerprint: str = "fp-a") -> AgentRunRecord:
    return AgentRunRecord(
        coalition_key=f"k-{name}-{fingerprint}",
        case_hash=f"h-{case}",
        case_id=case,
        assignment={"planner": name, "caller": name},
        fingerprints={"planner": fingerprint, "caller": fingerprint},
        prompt_versions={"planner": "p1", "caller": "c1"},
        success=ok,
    )


def test_points_come_from_runs_of_the_current_profiles_only() -> None:
    m = matrix(
        {
            ("a", "planner"): "1100",
            ("a", "caller"): "1110",
            ("b", "planner"): "0000",
            ("b", "caller"): "1111",
        },
        [candidate("a"), candidate("b")],
    )
    runs = [
        _run("a", "x", True),
        _run("a", "y", False),
        _run("a", "z", True, fingerprint="fp-old"),  # another model file: skipped
    ]
    points, skipped = collect_points(
        runs, {"observed": m}, {"a": "fp-a", "b": "fp-b"}, {"planner": "p1", "caller": "c1"}
    )
    assert skipped == 1 and len(points) == 1
    (p,) = points
    # observed surrogate: planner 1100 AND caller 1110 -> 2 of 4 profiled cases
    assert p.predicted == {"observed": 0.5} and p.outcomes == {"x": True, "y": False}


def test_the_png_is_written(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from rolecast.verify.plot import write_calibration_png

    path = write_calibration_png(calibrate(POINTS, n_resamples=50), tmp_path / "cal.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000
