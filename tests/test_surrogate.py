"""The item-response surrogate: it recovers known parameters, imputes unobserved cells,
and ranks coalitions that the 0/1 product cannot tell apart."""

from __future__ import annotations

import numpy as np
import pytest
from _coalitions import candidate, matrix, role_stats

from rolecast.allocator.surrogate import (
    IRTPenalty,
    apply_surrogate,
    coalition_estimate,
    fit_irt,
    observed_scores,
)
from rolecast.errors import ConfigError
from rolecast.profiles.stats import bootstrap_mean
from rolecast.types import Budget


def _ranks(values: np.ndarray) -> np.ndarray:
    return np.argsort(np.argsort(values)).astype(float)


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Rank correlation (no ties in continuous simulated values)."""
    return float(np.corrcoef(_ranks(np.ravel(a)), _ranks(np.ravel(b)))[0, 1])


def simulate(seed: int, n_c: int = 6, n_r: int = 3, n_i: int = 300):
    """Outcomes drawn from known skills (C, R) and case difficulties (I,)."""
    rng = np.random.default_rng(seed)
    skill = rng.normal(0.5, 1.0, (n_c, n_r))
    difficulty = rng.normal(0.0, 1.0, n_i)
    prob = 1 / (1 + np.exp(-(skill[:, :, None] - difficulty[None, None, :])))
    outcomes = (rng.random(prob.shape) < prob).astype(float)
    return skill, difficulty, prob, outcomes, rng


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fit_recovers_known_skills_and_difficulties(seed: int) -> None:
    skill, difficulty, _, outcomes, _ = simulate(seed)
    fit = fit_irt(outcomes)

    assert fit.converged
    assert spearman(fit.skill, skill) > 0.9
    # the model is identified up to a common shift of skills and difficulties
    shift = float(np.mean(fit.skill - skill))
    assert np.max(np.abs(fit.skill - skill - shift)) < 0.5
    case_total = fit.difficulty + fit.case_role.mean(axis=1)
    assert spearman(case_total, difficulty) > 0.7  # 18 noisy 0/1 outcomes per case
    assert np.mean(np.abs(case_total - shift - difficulty)) < 0.6


def test_fit_is_the_penalised_optimum() -> None:
    # gradient of the penalised log-likelihood, from an explicit dense design matrix
    _, _, _, outcomes, rng = simulate(3, n_c=3, n_r=2, n_i=15)
    outcomes[rng.random(outcomes.shape) < 0.2] = np.nan
    penalty = IRTPenalty()
    fit = fit_irt(outcomes, penalty=penalty)
    n_c, n_r, n_i = outcomes.shape
    params = np.concatenate(
        [fit.role_mean, fit.ability, fit.skill_delta.ravel(), fit.difficulty, fit.case_role.ravel()]
    )
    lam = np.concatenate(
        [
            np.full(n_r, penalty.role),
            np.full(n_c, penalty.ability),
            np.full(n_c * n_r, penalty.skill),
            np.full(n_i, penalty.case),
            np.full(n_i * n_r, penalty.case_role),
        ]
    )
    rows, targets = [], []
    for c in range(n_c):
        for r in range(n_r):
            for i in range(n_i):
                if np.isnan(outcomes[c, r, i]):
                    continue
                x = np.zeros(params.size)
                x[r] = 1
                x[n_r + c] = 1
                x[n_r + n_c + c * n_r + r] = 1
                x[n_r + n_c + n_c * n_r + i] = -1
                x[n_r + n_c + n_c * n_r + n_i + i * n_r + r] = -1
                rows.append(x)
                targets.append(outcomes[c, r, i])
    design = np.array(rows)
    p = 1 / (1 + np.exp(-(design @ params)))
    gradient = design.T @ (p - np.array(targets)) + lam * params

    assert np.max(np.abs(gradient)) < 1e-4
    # and the predictions are the same linear predictor
    observed = ~np.isnan(outcomes)
    assert np.allclose(fit.logits()[observed], design @ params)


def test_unobserved_cells_are_imputed_better_than_the_base_rate() -> None:
    _, _, prob, outcomes, rng = simulate(4)
    hidden = rng.random(outcomes.shape) < 0.3
    seen = outcomes.copy()
    seen[hidden] = np.nan
    predicted = fit_irt(seen).probabilities()

    error = np.mean(np.abs(predicted[hidden] - prob[hidden]))
    base_rate = np.mean(np.abs(np.nanmean(seen) - prob[hidden]))
    assert error < 0.13
    assert error < 0.7 * base_rate


def test_a_candidate_never_observed_on_a_role_is_imputed_from_its_other_roles() -> None:
    # candidate 0 is strong everywhere it was seen, candidate 1 weak; role 2 of
    # candidate 0 was never observed: its general ability carries over
    rng = np.random.default_rng(5)
    n_i = 40
    outcomes = np.empty((2, 3, n_i))
    outcomes[0] = (rng.random((3, n_i)) < 0.85).astype(float)
    outcomes[1] = (rng.random((3, n_i)) < 0.25).astype(float)
    outcomes[0, 2] = np.nan
    fit = fit_irt(outcomes)
    probs = fit.probabilities()

    assert probs[0, 2].mean() > probs[1, 2].mean() + 0.2
    assert 0.3 < probs[0, 2].mean() < 0.95  # pulled towards the role, not certain


def test_fit_rejects_bad_outcomes() -> None:
    with pytest.raises(ConfigError, match="candidates × roles × cases"):
        fit_irt(np.zeros((2, 3)))
    with pytest.raises(ConfigError, match="0, 1 or NaN"):
        fit_irt(np.full((1, 1, 2), 0.5))


# --- on a profile matrix ---------------------------------------------------------------------

TINY = {  # every coalition's observed product is 0 on every case (the embedded default)
    ("a", "planner"): "111111110000",
    ("b", "planner"): "110000000000",
    ("a", "caller"): "000000000000",
    ("b", "caller"): "000000001111",
}


def test_irt_ranks_coalitions_whose_observed_products_are_all_zero() -> None:
    m = matrix(TINY, [candidate("a"), candidate("b")])
    coalitions = [{"planner": p, "caller": c} for p in "ab" for c in "ab"]
    observed = [m.evaluate(a, Budget()).accuracy.mean for a in coalitions]
    assert observed == [0.0, 0.0, 0.0, 0.0]

    irt = apply_surrogate(m, "irt")
    predicted = {
        (a["planner"], a["caller"]): irt.evaluate(a, Budget()).accuracy for a in coalitions
    }
    # a plans best (8/12 vs 2/12) and b calls best (4/12 vs 0/12)
    best = max(predicted, key=lambda key: predicted[key].mean)
    worst = min(predicted, key=lambda key: predicted[key].mean)
    assert best == ("a", "b")
    assert worst == ("b", "a")
    assert predicted[("a", "b")].method == "bootstrap"
    assert 0 < predicted[("a", "b")].low <= predicted[("a", "b")].mean <= predicted[("a", "b")].high
    assert irt.surrogate == "irt"


def test_irt_scores_are_probabilities_for_every_cell() -> None:
    m = apply_surrogate(matrix(TINY, [candidate("a"), candidate("b")]), "irt")
    for key in TINY:
        scores = m.case_scores(*key)
        assert scores.shape == (12,)
        assert np.all((scores > 0) & (scores < 1))


def test_unobserved_cells_are_no_failures_for_the_observed_surrogate() -> None:
    stats = role_stats("a", "caller", "0110")
    stats = type(stats)(**{**stats.__dict__, "case_observed": {"case-0": False}})
    m = matrix({("a", "planner"): "1111", ("a", "caller"): stats}, [candidate("a")])

    # case-0 is not observed: it takes the rate over the 3 observed cells (2/3), not 0
    assert observed_scores(m)[("a", "caller")] == pytest.approx([2 / 3, 1, 1, 0])
    assert m.case_scores("a", "caller") == pytest.approx([2 / 3, 1, 1, 0])
    assert m.evaluate({"planner": "a", "caller": "a"}, Budget()).accuracy.mean == pytest.approx(
        (2 / 3 + 2) / 4
    )


def test_unknown_surrogate_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="choose one of observed, irt"):
        apply_surrogate(matrix(TINY, [candidate("a"), candidate("b")]), "magic")


def test_coalition_estimate_is_wilson_for_outcomes_and_bootstrap_for_probabilities() -> None:
    assert coalition_estimate([1.0, 0.0, 1.0]).method == "wilson"
    estimate = coalition_estimate([0.2, 0.4, 0.9, 0.5])
    assert estimate.method == "bootstrap"
    assert estimate.mean == pytest.approx(0.5)
    assert estimate.low < 0.5 < estimate.high


def test_coalition_interval_agrees_with_the_plain_bootstrap() -> None:
    values = np.random.default_rng(7).beta(2, 3, 60)
    shared = coalition_estimate(values)
    plain = bootstrap_mean(values.tolist(), n_resamples=4000, seed=3)
    assert shared.mean == pytest.approx(plain.mean)
    assert shared.low == pytest.approx(plain.low, abs=0.01)
    assert shared.high == pytest.approx(plain.high, abs=0.01)
