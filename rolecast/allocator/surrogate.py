"""Surrogates: per candidate × role × case, how likely the candidate's role succeeds.

The search's objective is the mean over cases of the product over a coalition's roles of
these values (:meth:`ProfileMatrix.case_scores`). Two surrogates fill them:

- ``observed``: the stored 0/1 outcome of the cell ("every step of this role on this case
  passed"); a cell with no observation (an imported step marked not observed, or seen
  only where an upstream role failed) takes the candidate's observed rate on the role.
- ``irt``: a regularised logistic item-response model fitted on the same cells,

  ``logit P(cell) = mu[role] + a[candidate] + delta[candidate, role] - b[case] - d[case, role]``

  a skill per candidate × role (a role mean, a candidate's general ability shared by its
  roles, and its role-specific part), a difficulty per case shared by the roles and a
  per case × role part, each with an L2 penalty (a Gaussian prior). It predicts every
  cell, including those never observed, and orders coalitions by graded probabilities
  when every observed product is 0 (the embedded default's two small models on 12 cases).

The unit is the cell, not the step: a coalition needs every step of the role on the case,
and steps of one case fail together (a wrong plan breaks its later steps), so modelling
steps independently and multiplying would understate the cell's success. The case × role
difficulty absorbs how many steps a role has on a case.

The fit is a penalised maximum likelihood solved by truncated Newton (conjugate gradient
on Hessian-vector products, line search), in numpy only: memory grows with the number of
observations, not with the square of the number of parameters.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from rolecast.errors import ConfigError
from rolecast.profiles.stats import Estimate, bootstrap_mean, wilson_interval

if TYPE_CHECKING:
    from rolecast.allocator.coalition import ProfileMatrix

__all__ = [
    "SURROGATES",
    "IRTFit",
    "IRTPenalty",
    "SurrogateName",
    "apply_surrogate",
    "cell_outcomes",
    "coalition_estimate",
    "fit_irt",
    "irt_scores",
    "observed_scores",
]

SurrogateName = Literal["observed", "irt"]
SURROGATES: tuple[SurrogateName, ...] = ("observed", "irt")


@dataclass(frozen=True)
class IRTPenalty:
    """L2 penalties (prior precisions) of the item-response parameters.

    Weak on the role means, moderate on skills and case difficulties, stronger on the
    per case × role part, which has the fewest observations behind each value. Chosen on
    the simulated worlds of ``bench/verify_sim.py`` (tuning seeds 100-139, not the reported
    0-9): the skill penalties at 1 rather than 0.5 cut the coalitions' mean error by
    0.2-0.25 points at 12 profiled cases and by at most 0.07 at 40 and 114. Choosing them
    per data set did not help: 5-fold held-out likelihood over cells and an empirical-Bayes
    (Laplace) update of the variances both picked stronger penalties than these and made
    the coalitions' error worse by 0.05-0.6 points (seeds 100-119): a single cell's
    likelihood is not a coalition's accuracy, a mean over cases of a product over roles.
    """

    role: float = 0.01
    ability: float = 1.0
    skill: float = 1.0
    case: float = 0.5
    case_role: float = 2.0


@dataclass(frozen=True)
class IRTFit:
    """A fitted item-response model over ``candidates`` × ``roles`` × ``cases``."""

    candidates: tuple[str, ...]
    roles: tuple[str, ...]
    case_ids: tuple[str, ...]
    role_mean: np.ndarray
    """Per role (R,)."""
    ability: np.ndarray
    """Per candidate (C,): general ability shared by its roles."""
    skill_delta: np.ndarray
    """Per candidate × role (C, R): the role-specific part of the skill."""
    difficulty: np.ndarray
    """Per case (I,)."""
    case_role: np.ndarray
    """Per case × role (I, R)."""
    n_observed: int
    iterations: int
    converged: bool

    @property
    def skill(self) -> np.ndarray:
        """Per candidate × role (C, R): ``mu[role] + a[candidate] + delta[candidate, role]``."""
        return self.role_mean[None, :] + self.ability[:, None] + self.skill_delta

    def logits(self) -> np.ndarray:
        """Predicted log-odds of every cell, shape (C, R, I)."""
        per_case = self.difficulty[:, None] + self.case_role  # (I, R)
        return self.skill[:, :, None] - per_case.T[None, :, :]

    def probabilities(self) -> np.ndarray:
        """Predicted P(success) of every cell, shape (C, R, I)."""
        return _sigmoid(self.logits())

    def probability(self, candidate: str, role: str) -> np.ndarray:
        """Per case (in :attr:`case_ids` order) for one candidate on one role."""
        c, r = self.candidates.index(candidate), self.roles.index(role)
        return _sigmoid(self.skill[c, r] - self.difficulty - self.case_role[:, r])


def fit_irt(
    outcomes: np.ndarray,
    *,
    candidates: Sequence[str] | None = None,
    roles: Sequence[str] | None = None,
    case_ids: Sequence[str] | None = None,
    penalty: IRTPenalty | None = None,
    max_iter: int = 100,
    tol: float = 1e-6,
) -> IRTFit:
    """Fit the item-response model to ``outcomes`` (C, R, I): 1, 0, or NaN where unobserved.

    Raises:
        ConfigError: ``outcomes`` is not three-dimensional or holds values other than
            0, 1 and NaN.
    """
    y_all = np.asarray(outcomes, dtype=float)
    if y_all.ndim != 3:
        raise ConfigError(f"outcomes must be candidates × roles × cases, got shape {y_all.shape}")
    observed = ~np.isnan(y_all)
    if not np.all(np.isin(y_all[observed], (0.0, 1.0))):
        raise ConfigError("outcomes must be 0, 1 or NaN (not observed)")
    n_c, n_r, n_i = y_all.shape
    pen = penalty or IRTPenalty()
    c_idx, r_idx, i_idx = np.nonzero(observed)
    y = y_all[observed]
    design = _Design(n_c, n_r, n_i, c_idx, r_idx, i_idx)
    lam = design.penalties(pen)
    theta = np.zeros(design.size)

    def objective(params: np.ndarray) -> float:
        eta = design.eta(params)
        return float(np.sum(np.logaddexp(0.0, eta) - y * eta) + 0.5 * np.sum(lam * params**2))

    converged = False
    iterations = 0
    value = objective(theta)
    for iterations in range(1, max_iter + 1):  # noqa: B007 (reported below)
        eta = design.eta(theta)
        p = _sigmoid(eta)
        grad = design.transpose(p - y) + lam * theta
        weights = p * (1 - p)
        step = _conjugate_gradient(
            lambda v: design.transpose(weights * design.eta(v)) + lam * v,  # noqa: B023
            -grad,
            preconditioner=design.transpose_squares(weights) + lam,
        )
        slope = float(grad @ step)
        scale = 1.0
        while True:  # Armijo backtracking; a Newton step is accepted at once near the optimum
            candidate = theta + scale * step
            new_value = objective(candidate)
            if new_value <= value + 1e-4 * scale * slope or scale < 1e-8:
                break
            scale /= 2
        theta, value = candidate, new_value
        if np.max(np.abs(scale * step)) < tol:
            converged = True
            break
    parts = design.split(theta)
    return IRTFit(
        candidates=tuple(candidates or (f"c{i}" for i in range(n_c))),
        roles=tuple(roles or (f"r{i}" for i in range(n_r))),
        case_ids=tuple(case_ids or (f"i{i}" for i in range(n_i))),
        role_mean=parts[0],
        ability=parts[1],
        skill_delta=parts[2].reshape(n_c, n_r),
        difficulty=parts[3],
        case_role=parts[4].reshape(n_i, n_r),
        n_observed=int(y.size),
        iterations=iterations,
        converged=converged,
    )


class _Design:
    """The sparse design of the linear predictor: five index columns, signs +,+,+,-,-."""

    def __init__(
        self, n_c: int, n_r: int, n_i: int, c: np.ndarray, r: np.ndarray, i: np.ndarray
    ) -> None:
        self.sizes = (n_r, n_c, n_c * n_r, n_i, n_i * n_r)
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)[:-1]])
        self.size = int(sum(self.sizes))
        local = (r, c, c * n_r + r, i, i * n_r + r)
        self.columns = [off + idx for off, idx in zip(self.offsets, local, strict=True)]
        self.signs = (1.0, 1.0, 1.0, -1.0, -1.0)

    def penalties(self, pen: IRTPenalty) -> np.ndarray:
        values = (pen.role, pen.ability, pen.skill, pen.case, pen.case_role)
        return np.repeat(np.array(values, dtype=float), self.sizes)

    def eta(self, params: np.ndarray) -> np.ndarray:
        return sum(  # type: ignore[return-value]
            sign * params[col] for sign, col in zip(self.signs, self.columns, strict=True)
        )

    def transpose(self, values: np.ndarray) -> np.ndarray:
        out = np.zeros(self.size)
        for sign, col in zip(self.signs, self.columns, strict=True):
            out += sign * np.bincount(col, weights=values, minlength=self.size)
        return out

    def transpose_squares(self, weights: np.ndarray) -> np.ndarray:
        out = np.zeros(self.size)
        for col in self.columns:
            out += np.bincount(col, weights=weights, minlength=self.size)
        return out

    def split(self, params: np.ndarray) -> list[np.ndarray]:
        return [
            params[off : off + size].copy()
            for off, size in zip(self.offsets, self.sizes, strict=True)
        ]


def _conjugate_gradient(
    matvec: Callable[[np.ndarray], np.ndarray],
    rhs: np.ndarray,
    preconditioner: np.ndarray,
    max_iter: int = 200,
) -> np.ndarray:
    """Solve ``H x = rhs`` for a positive definite ``H`` given as a product (Jacobi)."""
    x = np.zeros_like(rhs)
    residual = rhs.copy()
    z = residual / preconditioner
    direction = z.copy()
    rz = float(residual @ z)
    target = 1e-10 * max(float(rhs @ rhs), 1e-300)
    for _ in range(max_iter):
        if float(residual @ residual) <= target:
            break
        h_dir = matvec(direction)
        alpha = rz / float(direction @ h_dir)
        x += alpha * direction
        residual -= alpha * h_dir
        z = residual / preconditioner
        rz_next = float(residual @ z)
        direction = z + (rz_next / rz) * direction
        rz = rz_next
    return x


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -x))


# --- the matrix side -------------------------------------------------------------------------


def cell_outcomes(matrix: ProfileMatrix) -> tuple[list[str], np.ndarray]:
    """The matrix's cells as (candidates, outcomes (C, R, I) with NaN where not observed)."""
    names = sorted({name for name, _ in matrix.stats})
    out = np.full((len(names), len(matrix.roles), len(matrix.case_ids)), np.nan)
    for (name, role), stats in matrix.stats.items():
        if role not in matrix.roles:
            continue
        c, r = names.index(name), matrix.roles.index(role)
        for i, case in enumerate(matrix.case_ids):
            if stats.case_observed.get(case, True):
                out[c, r, i] = float(stats.case_success[case])
    return names, out


def observed_scores(matrix: ProfileMatrix) -> dict[tuple[str, str], np.ndarray]:
    """The ``observed`` surrogate: 0/1 where observed, the candidate's role rate elsewhere.

    An unobserved cell is neither a failure nor a success: it takes the candidate's
    success rate over the cells of that role that were observed (0.5 when none was).
    """
    names, outcomes = cell_outcomes(matrix)
    scores: dict[tuple[str, str], np.ndarray] = {}
    for name, role in matrix.stats:
        row = outcomes[names.index(name), matrix.roles.index(role)]
        seen = ~np.isnan(row)
        rate = float(row[seen].mean()) if seen.any() else 0.5
        scores[(name, role)] = np.where(seen, row, rate)
    return scores


def irt_scores(
    matrix: ProfileMatrix, penalty: IRTPenalty | None = None
) -> dict[tuple[str, str], np.ndarray]:
    """The ``irt`` surrogate: the fitted P(success) of every candidate × role × case cell."""
    names, outcomes = cell_outcomes(matrix)
    fit = fit_irt(
        outcomes, candidates=names, roles=matrix.roles, case_ids=matrix.case_ids, penalty=penalty
    )
    probs = fit.probabilities()
    return {
        (name, role): probs[names.index(name), matrix.roles.index(role)]
        for name, role in matrix.stats
    }


def apply_surrogate(matrix: ProfileMatrix, name: str) -> ProfileMatrix:
    """``matrix`` whose case scores come from the surrogate called ``name``.

    Raises:
        ConfigError: ``name`` is not one of :data:`SURROGATES`.
    """
    if name == "observed":
        return matrix.with_case_scores(observed_scores(matrix), "observed")
    if name == "irt":
        return matrix.with_case_scores(irt_scores(matrix), "irt")
    raise ConfigError(f"unknown surrogate {name!r}; choose one of {', '.join(SURROGATES)}")


def coalition_estimate(
    per_case: Sequence[float] | np.ndarray, n_resamples: int = 2000, seed: int = 0
) -> Estimate:
    """A coalition's accuracy from its per-case success probabilities, with a 95% interval.

    0/1 values (observed outcomes) get a Wilson interval; probabilities a percentile
    bootstrap over cases.
    """
    values = np.asarray(per_case, dtype=float)
    if values.size and np.all((values == 0.0) | (values == 1.0)):
        return wilson_interval(int(values.sum()), int(values.size))
    n = int(values.size)
    if n < 2 or np.all(values == values[0]) or n * n_resamples > _MAX_CACHED_CELLS:
        return bootstrap_mean(values.tolist(), n_resamples=n_resamples, seed=seed)
    # the search evaluates thousands of coalitions on the same cases: one resampling
    # (multinomial counts per resample) serves them all, as a matrix-vector product
    means = _resample_counts(n, n_resamples, seed) @ values / n
    low, high = np.quantile(means, [0.025, 0.975])
    return Estimate(float(values.mean()), float(low), float(high), n, "bootstrap")


_MAX_CACHED_CELLS = 1 << 23


@functools.lru_cache(maxsize=8)
def _resample_counts(n: int, n_resamples: int, seed: int) -> np.ndarray:
    """How often each of ``n`` cases is drawn in each resample (n_resamples × n), read-only."""
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(n, np.full(n, 1.0 / n), size=n_resamples).astype(np.float64)
    counts.setflags(write=False)
    return counts


def product_over_roles(
    scores: Mapping[tuple[str, str], np.ndarray], assignment: Mapping[str, str]
) -> np.ndarray:
    """Per case: the product of the assigned candidates' role scores."""
    arrays = [np.asarray(scores[(name, role)], dtype=float) for role, name in assignment.items()]
    return np.prod(arrays, axis=0) if arrays else np.zeros(0)
