"""Confidence intervals for profile scores, so that small differences read as noise.

A profile scores a model on tens of cases, not thousands: 0.62 against 0.58 on 40 cases
is a tie. Binary metrics (pass/fail) get a Wilson score interval; graded metrics
(Arg F1, ROUGE-L, cosine) a percentile bootstrap; two models compared on the same cases
a paired bootstrap of the difference. Every resampling uses a seeded numpy Generator, so
a profile's intervals are reproducible.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

__all__ = [
    "Estimate",
    "bootstrap_mean",
    "estimate",
    "is_tie",
    "paired_difference",
    "wilson_interval",
]

_CHUNK_CELLS = 1 << 20
"""Resampled values drawn at once; bounds the bootstrap's memory on large inputs."""


@dataclass(frozen=True)
class Estimate:
    """A mean with its confidence interval, the number of cases and how it was computed.

    ``method`` is ``"wilson"``, ``"bootstrap"`` or ``"paired-bootstrap"``.
    """

    mean: float
    low: float
    high: float
    n: int
    method: str

    def overlaps(self, other: Estimate) -> bool:
        """Whether the two intervals share at least one point."""
        return self.low <= other.high and other.low <= self.high

    def __str__(self) -> str:
        return f"{self.mean:.2f} [{self.low:.2f}, {self.high:.2f}] n={self.n}"


def _check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1 exclusive, got {confidence}")


def _z(confidence: float) -> float:
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> Estimate:
    """Wilson score interval of a success rate (Wilson 1927).

    Unlike the normal approximation it stays inside [0, 1] and is not zero-width at 0/n
    or n/n, which matters at profile sizes. The mean is the observed rate; with no cases
    the estimate is 0 in [0, 1] (nothing is known).

    Raises:
        ValueError: ``successes`` is outside ``[0, n]`` or ``confidence`` outside (0, 1).
    """
    _check_confidence(confidence)
    if n < 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n, got successes={successes}, n={n}")
    if n == 0:
        return Estimate(0.0, 0.0, 1.0, 0, "wilson")
    z = _z(confidence)
    rate = successes / n
    denominator = 1 + z * z / n
    centre = (rate + z * z / (2 * n)) / denominator
    half_width = z * math.sqrt(rate * (1 - rate) / n + z * z / (4 * n * n)) / denominator
    low = 0.0 if successes == 0 else max(0.0, centre - half_width)
    high = 1.0 if successes == n else min(1.0, centre + half_width)
    return Estimate(rate, low, high, n, "wilson")


def _bootstrap(
    values: Sequence[float], confidence: float, n_resamples: int, seed: int, method: str
) -> Estimate:
    _check_confidence(confidence)
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be at least 1, got {n_resamples}")
    data = np.asarray(values, dtype=float)
    n = len(data)
    if n == 0:
        return Estimate(0.0, 0.0, 0.0, 0, method)
    mean = float(data.mean())
    if np.all(data == data[0]):  # constant (or a single value): no spread to resample
        return Estimate(float(data[0]), float(data[0]), float(data[0]), n, method)
    rng = np.random.default_rng(seed)
    per_chunk = max(1, _CHUNK_CELLS // n)
    means = np.empty(n_resamples)
    for start in range(0, n_resamples, per_chunk):
        stop = min(start + per_chunk, n_resamples)
        means[start:stop] = data[rng.integers(0, n, size=(stop - start, n))].mean(axis=1)
    alpha = 1 - confidence
    low, high = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    return Estimate(mean, float(low), float(high), n, method)


def bootstrap_mean(
    values: Sequence[float], confidence: float = 0.95, n_resamples: int = 2000, seed: int = 0
) -> Estimate:
    """Percentile bootstrap interval of the mean (Efron 1979).

    Deterministic for a given ``seed``. Constant values (a single value included) give a
    zero-width interval at that value; no values give ``0 [0, 0] n=0``, which the ``n``
    marks as empty rather than certain.

    Raises:
        ValueError: ``confidence`` is outside (0, 1) or ``n_resamples`` is below 1.
    """
    return _bootstrap(values, confidence, n_resamples, seed, "bootstrap")


def estimate(values: Sequence[float], binary: bool | None = None) -> Estimate:
    """The interval that suits the metric: Wilson for pass/fail values, bootstrap otherwise.

    With ``binary=None`` the values decide: all of them 0 or 1 (booleans included) means
    binary. No values with ``binary`` unset is treated as binary: ``0 [0, 1] n=0``.

    Raises:
        ValueError: ``binary=True`` but a value is neither 0 nor 1.
    """
    is_binary = all(value in (0, 1) for value in values)
    if binary is None:
        binary = is_binary
    if binary:
        if not is_binary:
            raise ValueError("binary=True needs every value to be 0 or 1")
        return wilson_interval(sum(1 for value in values if value == 1), len(values))
    return bootstrap_mean(values)


def paired_difference(
    a: Sequence[float],
    b: Sequence[float],
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> Estimate:
    """Paired bootstrap interval of ``mean(a - b)`` over the same cases.

    ``a[i]`` and ``b[i]`` must score the same case. Resampling cases, not the two lists
    independently, cancels the case difficulty both share, so the interval is much
    tighter than comparing two separate intervals.

    Raises:
        ValueError: ``a`` and ``b`` have different lengths.
    """
    if len(a) != len(b):
        raise ValueError(
            f"paired_difference needs one score per case on both sides, "
            f"got {len(a)} and {len(b)} scores"
        )
    differences = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    return _bootstrap(differences.tolist(), confidence, n_resamples, seed, "paired-bootstrap")


def is_tie(
    a: Sequence[float],
    b: Sequence[float],
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> bool:
    """Whether ``a`` and ``b`` are tied within noise: the paired interval contains 0.

    Raises:
        ValueError: ``a`` and ``b`` have different lengths.
    """
    difference = paired_difference(a, b, confidence, n_resamples, seed)
    return difference.low <= 0.0 <= difference.high
