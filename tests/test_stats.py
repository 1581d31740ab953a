"""Intervals against hand-computed values; the bootstrap is deterministic per seed."""

from __future__ import annotations

import math

import pytest

from rolecast.profiles.stats import (
    Estimate,
    bootstrap_mean,
    estimate,
    is_tie,
    paired_difference,
    wilson_interval,
)

Z95 = 1.959963984540054  # NormalDist().inv_cdf(0.975)


def test_estimate_str_and_overlaps():
    first = Estimate(0.62, 0.51, 0.72, 40, "wilson")
    assert str(first) == "0.62 [0.51, 0.72] n=40"
    assert first.overlaps(Estimate(0.8, 0.72, 0.9, 40, "wilson"))  # touching counts
    assert not first.overlaps(Estimate(0.85, 0.73, 0.95, 40, "wilson"))
    assert Estimate(0.5, 0.4, 0.6, 10, "bootstrap").overlaps(first)


def test_estimate_is_frozen():
    with pytest.raises(AttributeError):
        Estimate(0.5, 0.4, 0.6, 10, "wilson").mean = 1.0  # type: ignore[misc]


def test_wilson_8_of_10():
    # p = 0.8, z^2 = 3.841459, denominator = 1 + z^2/10 = 1.3841459
    # centre = (0.8 + z^2/20) / 1.3841459 = 0.9920729 / 1.3841459 = 0.716740
    # half = z * sqrt(0.8*0.2/10 + z^2/400) / 1.3841459
    #      = 1.959964 * sqrt(0.016 + 0.0096036) / 1.3841459 = 0.226578
    # -> [0.716740 - 0.226578, 0.716740 + 0.226578] = [0.490162, 0.943318]
    result = wilson_interval(8, 10)
    assert result.mean == 0.8
    assert result.low == pytest.approx(0.490162, abs=1e-5)
    assert result.high == pytest.approx(0.943318, abs=1e-5)
    assert (result.n, result.method) == (10, "wilson")


def test_wilson_all_and_none():
    # 10/10: the lower bound simplifies to n / (n + z^2) and the upper bound to 1
    full = wilson_interval(10, 10)
    assert full.mean == 1.0
    assert full.low == pytest.approx(10 / (10 + Z95**2))  # 0.722467
    assert full.high == 1.0
    # 0/10 mirrors it: [0, z^2 / (n + z^2)]
    empty = wilson_interval(0, 10)
    assert empty.low == 0.0
    assert empty.high == pytest.approx(Z95**2 / (10 + Z95**2))  # 0.277533


def test_wilson_no_cases():
    assert wilson_interval(0, 0) == Estimate(0.0, 0.0, 1.0, 0, "wilson")


def test_wilson_confidence_widens():
    assert wilson_interval(8, 10, confidence=0.99).low < wilson_interval(8, 10).low
    assert wilson_interval(80, 100).high - wilson_interval(80, 100).low < 0.2


@pytest.mark.parametrize(
    ("successes", "n", "confidence"), [(11, 10, 0.95), (-1, 10, 0.95), (1, 10, 1.0)]
)
def test_wilson_rejects_bad_input(successes, n, confidence):
    with pytest.raises(ValueError):
        wilson_interval(successes, n, confidence)


VALUES = [0.1, 0.4, 0.35, 0.8, 0.9, 0.55, 0.6, 0.2, 0.75, 0.45]  # mean 0.51


def test_bootstrap_is_deterministic():
    first = bootstrap_mean(VALUES, seed=7)
    assert bootstrap_mean(VALUES, seed=7) == first
    assert bootstrap_mean(VALUES, seed=8) != first
    assert first.mean == pytest.approx(0.51)
    assert min(VALUES) < first.low < first.mean < first.high < max(VALUES)
    assert first.method == "bootstrap"


def test_bootstrap_width_tracks_confidence_and_size():
    narrow = bootstrap_mean(VALUES, confidence=0.5)
    wide = bootstrap_mean(VALUES, confidence=0.99)
    assert wide.low < narrow.low and narrow.high < wide.high
    many = bootstrap_mean(VALUES * 10)
    few = bootstrap_mean(VALUES)
    assert many.high - many.low < few.high - few.low


def test_bootstrap_degenerate():
    assert bootstrap_mean([0.7, 0.7, 0.7]) == Estimate(0.7, 0.7, 0.7, 3, "bootstrap")
    assert bootstrap_mean([0.3]) == Estimate(0.3, 0.3, 0.3, 1, "bootstrap")
    assert bootstrap_mean([]) == Estimate(0.0, 0.0, 0.0, 0, "bootstrap")


def test_bootstrap_large_input_is_chunked():
    values = [i % 7 / 7 for i in range(5000)]
    result = bootstrap_mean(values, n_resamples=300)
    assert result.low < result.mean < result.high
    assert result == bootstrap_mean(values, n_resamples=300)


def test_bootstrap_rejects_bad_input():
    with pytest.raises(ValueError, match="n_resamples"):
        bootstrap_mean(VALUES, n_resamples=0)
    with pytest.raises(ValueError, match="confidence"):
        bootstrap_mean(VALUES, confidence=0.0)


def test_estimate_picks_the_method():
    assert estimate([1, 0, 1, 1]) == wilson_interval(3, 4)
    assert estimate([True, False, 1.0]) == wilson_interval(2, 3)
    assert estimate(VALUES) == bootstrap_mean(VALUES)
    assert estimate([1, 0, 1, 1], binary=False) == bootstrap_mean([1, 0, 1, 1])
    assert estimate([]) == wilson_interval(0, 0)
    with pytest.raises(ValueError, match="0 or 1"):
        estimate([1, 0.5], binary=True)


def test_paired_difference_clearly_different():
    a = [0.8, 0.9, 1.0, 0.85, 0.95, 0.9, 0.8, 1.0]
    b = [0.1, 0.2, 0.0, 0.15, 0.3, 0.1, 0.2, 0.05]
    difference = paired_difference(a, b)
    assert difference.mean == pytest.approx(sum(a) / 8 - sum(b) / 8)
    assert difference.low > 0.5
    assert difference.method == "paired-bootstrap"
    assert not is_tie(a, b)
    assert not is_tie(b, a)


def test_paired_difference_identical_is_a_tie():
    assert paired_difference(VALUES, VALUES) == Estimate(0.0, 0.0, 0.0, 10, "paired-bootstrap")
    assert is_tie(VALUES, VALUES)


def test_pairing_separates_what_separate_intervals_cannot():
    # b is better by 0.05 on every case: the spread between cases swamps the two separate
    # intervals, but every paired difference is -0.05 (up to float rounding)
    a = [i / 10 for i in range(11)]
    b = [value + 0.05 for value in a]
    assert estimate(a).overlaps(estimate(b))
    difference = paired_difference(a, b)
    assert difference.high < 0
    assert math.isclose(difference.mean, -0.05)
    assert not is_tie(a, b)


def test_noisy_small_difference_is_a_tie():
    a = [0.9, 0.1, 0.8, 0.2, 0.7, 0.3]
    b = [0.1, 0.9, 0.2, 0.8, 0.3, 0.75]
    assert is_tie(a, b)


def test_paired_difference_rejects_different_lengths():
    with pytest.raises(ValueError, match="got 2 and 3"):
        paired_difference([1, 2], [1, 2, 3])
    with pytest.raises(ValueError):
        is_tie([1], [])
