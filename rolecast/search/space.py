"""The search space as arrays: per role, every candidate's per-case scores, cost, latency.

:class:`Space` is what the exact search and the budget diagnosis work on. It is built once
from a :class:`~rolecast.allocator.ProfileMatrix` and holds only numbers, so the search
never touches Python objects per coalition. Sums are formed in role order, exactly as
:class:`~rolecast.allocator.ProfileMatrix` forms them, so the figures the search compares
are the figures it reports.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from rolecast.allocator.coalition import ProfileMatrix
from rolecast.errors import BudgetError

__all__ = ["Space"]


@dataclass(frozen=True)
class Space:
    """Roles, their candidates, and every number a coalition's figures are made of.

    Per role ``r`` (in pipeline order): ``names[r]`` sorted, ``scores[r]`` of shape
    (candidates, cases) with values in [0, 1], ``cost[r]`` (USD per 1000 tasks),
    ``latency[r]`` (s per task), ``credit[r]`` (mean share of steps passed) and
    ``model[r]``, an index into ``models`` / ``memory`` (GB; a model loads once).
    """

    roles: tuple[str, ...]
    names: tuple[tuple[str, ...], ...]
    scores: tuple[np.ndarray, ...]
    cost: tuple[np.ndarray, ...]
    latency: tuple[np.ndarray, ...]
    credit: tuple[np.ndarray, ...]
    model: tuple[np.ndarray, ...]
    models: tuple[str, ...]
    memory: np.ndarray
    n_cases: int

    @classmethod
    def from_matrix(cls, matrix: ProfileMatrix) -> Space:
        """Read every (candidate, role) of ``matrix``.

        Raises:
            BudgetError: a role has no profiled candidate.
        """
        names = []
        for role in matrix.roles:
            options = sorted(matrix.options(role))
            if not options:
                raise BudgetError(
                    f"no candidate is profiled on role {role!r}; run `rolecast profile`"
                )
            names.append(tuple(options))
        models = tuple(sorted({name for options in names for name in options}))
        index = {name: i for i, name in enumerate(models)}
        n = len(matrix.case_ids)
        return cls(
            roles=tuple(matrix.roles),
            names=tuple(names),
            scores=tuple(
                np.array([matrix.case_scores(name, role) for name in options], dtype=float).reshape(
                    len(options), n
                )
                for role, options in zip(matrix.roles, names, strict=True)
            ),
            cost=tuple(
                np.array([matrix.role_cost_per_1k(name, role) for name in options])
                for role, options in zip(matrix.roles, names, strict=True)
            ),
            latency=tuple(
                np.array([matrix.stats[(name, role)].latency_per_case for name in options])
                for role, options in zip(matrix.roles, names, strict=True)
            ),
            credit=tuple(
                np.array([matrix.role_credit(name, role) for name in options])
                for role, options in zip(matrix.roles, names, strict=True)
            ),
            model=tuple(np.array([index[name] for name in options]) for options in names),
            models=models,
            memory=np.array([matrix.memory(name).total_gb for name in models]),
            n_cases=n,
        )

    @classmethod
    def of_budget_figures(
        cls,
        roles: Sequence[str],
        memory: Mapping[str, float],
        cost: Mapping[tuple[str, str], float] | None = None,
        latency: Mapping[tuple[str, str], float] | None = None,
    ) -> Space:
        """Every candidate on every role with only its budget figures: no scores, no cases.

        For diagnosing a budget before the stored steps are read: ``memory`` per candidate
        (as :meth:`from_matrix` reads it), ``cost`` and ``latency`` per (candidate, role)
        (0 where absent). Names, models and memory are laid out as :meth:`from_matrix` lays
        out a matrix profiled on every pair, so a coalition's label is the same.
        """
        options = tuple(sorted(memory))
        index = {name: i for i, name in enumerate(options)}

        def per_role(values: Mapping[tuple[str, str], float] | None, role: str) -> np.ndarray:
            values = values or {}
            return np.array([values.get((name, role), 0.0) for name in options], dtype=float)

        return cls(
            roles=tuple(roles),
            names=tuple(options for _ in roles),
            scores=tuple(np.zeros((len(options), 0)) for _ in roles),
            cost=tuple(per_role(cost, role) for role in roles),
            latency=tuple(per_role(latency, role) for role in roles),
            credit=tuple(np.zeros(len(options)) for _ in roles),
            model=tuple(np.array([index[name] for name in options]) for _ in roles),
            models=options,
            memory=np.array([memory[name] for name in options], dtype=float),
            n_cases=0,
        )

    @property
    def size(self) -> int:
        """Number of assignments (the product of the roles' candidate counts)."""
        total = 1
        for options in self.names:
            total *= len(options)
        return total

    def assignment(self, choice: tuple[int, ...]) -> dict[str, str]:
        """The assignment (role -> candidate name) of per-role candidate indices."""
        return {
            role: self.names[r][i]
            for r, (role, i) in enumerate(zip(self.roles, choice, strict=True))
        }

    def digest(self) -> str:
        """A hash of every number the search result depends on (scores included)."""
        h = hashlib.sha256()
        h.update(repr((self.roles, self.names, self.models, self.n_cases)).encode())
        for arrays in (self.scores, self.cost, self.latency, self.credit, self.model):
            for array in arrays:
                h.update(np.ascontiguousarray(array).tobytes())
        h.update(np.ascontiguousarray(self.memory).tobytes())
        return h.hexdigest()
