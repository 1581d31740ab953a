"""The error floor of any surrogate on ``verify_sim.py``'s worlds: the Bayes posterior mean.

A surrogate sees one 0/1 outcome per candidate × role × profiled case. Whatever it does
with them, its error against the true accuracy on those cases is at least that of the
posterior mean of that accuracy under the world's *true* generating distribution (the
estimator with the least expected squared error given the same outcomes). That estimator
needs the simulation's true priors, so it lives here, in the benchmark, and never in
rolecast: it is the yardstick, not a surrogate.

The world (``verify_sim.World``): skill[c, r] ~ N(1.2, 1) independently per candidate ×
role, difficulty[i] ~ N(0, 1), case_role[i, r] ~ N(0, 0.5²), P(cell) = sigmoid(skill -
difficulty - case_role). The posterior over those 18 + 4 × cases parameters is sampled by
Metropolis-within-Gibbs (given the case parameters the skills are independent, and given
the skills the cases are), vectorised in numpy; step sizes adapt during burn-in. Two
chains run from different seeds; their disagreement is returned with the estimate.
"""

from __future__ import annotations

import numpy as np

SKILL_MEAN, SKILL_SD, DIFFICULTY_SD, CASE_ROLE_SD = 1.2, 1.0, 1.0, 0.5
"""The world's priors: ``verify_sim.make_world`` and ``World.cells`` draw from these."""


def _loglik(y: np.ndarray, seen: np.ndarray, eta: np.ndarray) -> np.ndarray:
    """log P(y | eta) per cell, 0 where the cell was not observed."""
    return np.where(seen, y * eta - np.logaddexp(0.0, eta), 0.0)


def _chain(
    y: np.ndarray,
    seen: np.ndarray,
    coalitions: np.ndarray,
    rng: np.random.Generator,
    iterations: int,
    burn_in: int,
    thin: int,
) -> np.ndarray:
    """One chain's posterior mean of every coalition's mean over cases of its product."""
    n_c, n_r, n_i = y.shape
    skill = np.full((n_c, n_r), SKILL_MEAN)
    difficulty = np.zeros(n_i)
    case_role = np.zeros((n_i, n_r))
    steps = [np.full((n_c, n_r), 0.5), np.full(n_i, 0.5), np.full((n_i, n_r), 0.5)]
    roles = np.arange(n_r)
    total = np.zeros(len(coalitions))
    kept = 0

    def eta(s: np.ndarray, b: np.ndarray, d: np.ndarray) -> np.ndarray:
        return s[:, :, None] - (b[:, None] + d).T[None]

    for t in range(iterations):
        current = _loglik(y, seen, eta(skill, difficulty, case_role))
        # skills, each cell independent given the case parameters
        proposal = skill + steps[0] * rng.normal(size=skill.shape)
        change = _loglik(y, seen, eta(proposal, difficulty, case_role)).sum(2) - current.sum(2)
        change -= 0.5 * ((proposal - SKILL_MEAN) ** 2 - (skill - SKILL_MEAN) ** 2) / SKILL_SD**2
        accept = np.log(rng.random(skill.shape)) < change
        skill = np.where(accept, proposal, skill)
        accepted = [accept]
        current = _loglik(y, seen, eta(skill, difficulty, case_role))
        # difficulties, each case independent given the skills
        proposal_b = difficulty + steps[1] * rng.normal(size=n_i)
        change_b = _loglik(y, seen, eta(skill, proposal_b, case_role)).sum((0, 1))
        change_b -= current.sum((0, 1)) + 0.5 * (proposal_b**2 - difficulty**2) / DIFFICULTY_SD**2
        accept_b = np.log(rng.random(n_i)) < change_b
        difficulty = np.where(accept_b, proposal_b, difficulty)
        accepted.append(accept_b)
        current = _loglik(y, seen, eta(skill, difficulty, case_role))
        # case × role parts
        proposal_d = case_role + steps[2] * rng.normal(size=case_role.shape)
        change_d = (_loglik(y, seen, eta(skill, difficulty, proposal_d)).sum(0) - current.sum(0)).T
        change_d -= 0.5 * (proposal_d**2 - case_role**2) / CASE_ROLE_SD**2
        accept_d = np.log(rng.random(case_role.shape)) < change_d
        case_role = np.where(accept_d, proposal_d, case_role)
        accepted.append(accept_d)
        if t < burn_in:  # aim at about 40% acceptance per parameter, then freeze the steps
            for step, acc in zip(steps, accepted, strict=True):
                step *= np.exp(np.where(acc, 0.6, -0.4) * 0.05)
        elif (t - burn_in) % thin == 0:
            p = 1.0 / (1.0 + np.exp(-eta(skill, difficulty, case_role)))
            total += np.prod(p[coalitions, roles[None, :]], axis=1).mean(axis=1)
            kept += 1
    return total / kept


def posterior_mean_accuracy(
    outcomes: np.ndarray,
    coalitions: np.ndarray,
    seed: int = 0,
    iterations: int = 3000,
    burn_in: int = 1000,
    thin: int = 4,
) -> tuple[np.ndarray, float]:
    """Posterior mean accuracy of each coalition on the profiled cases, and its MC error.

    Args:
        outcomes: (C, R, I) 0/1, NaN where the cell was not observed.
        coalitions: (K, R) candidate index per role.

    Returns:
        The average of two chains' estimates (K,), and the mean absolute difference
        between the two chains (points of accuracy: the Monte Carlo noise is about half).
    """
    y = np.nan_to_num(np.asarray(outcomes, dtype=float))
    seen = ~np.isnan(outcomes)
    chains = [
        _chain(y, seen, coalitions, np.random.default_rng([seed, k]), iterations, burn_in, thin)
        for k in range(2)
    ]
    return (chains[0] + chains[1]) / 2, float(np.mean(np.abs(chains[0] - chains[1])) * 100)
