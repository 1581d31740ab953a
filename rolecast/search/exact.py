"""Exact branch and bound over role -> candidate assignments: top-k and Pareto front.

The objective is decomposable: a coalition's accuracy is the mean over cases of the
product over roles of per-case scores in [0, 1] (observed 0/1 outcomes, or a surrogate's
probabilities). Fixing the first roles fixes a per-case prefix product ``P``; for the
roles still open, the per-case maximum over the candidates that can still fit the budget
bounds what any completion can reach, so ``mean(P * S_c * prod(max))`` is an upper bound
for every coalition below a node. Budgets are additive (cost, latency) or additive over
distinct models (memory), so the cheapest completion bounds them from below.

The search walks the first ``R - 2`` roles depth first, children best bound first, and
scores the last two roles of a node at once: one matrix product gives all their
accuracies, broadcasting gives their cost, latency and memory. A subtree is skipped only
when its bounds prove that nothing in it can enter the result, so the result is exact:

* top-k: ordered by accuracy, then partial credit, then cost, then memory (lower first),
  then the candidates' names; a subtree is skipped when its bound is below the k-th;
* Pareto front (accuracy up, cost down, memory down): a subtree is skipped when one
  front point is at least as good as the subtree's bounds on all three and better on one.

Bounds on cost, memory and credit are formed in the same order and with the same float
operations as the coalition's own figures, so they hold exactly. Accuracy bounds are exact
for 0/1 scores (integer counts); for probabilities a slack of 1e-9 keeps rounding from
cutting a subtree whose best coalition equals the bound.

Feasibility beyond totals (``Budget.gpus``: the models must pack onto the GPUs) is checked
exactly on each coalition that would enter the result, through ``fits``.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from rolecast.allocator.placement import MAX_UTILIZATION
from rolecast.search.space import Space
from rolecast.types import Budget

__all__ = ["ExactResult", "Found", "exact_search"]

Choice = tuple[int, ...]
"""Per role, the index of the candidate in :attr:`Space.names`."""

Fits = Callable[[Choice], bool]
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Found:
    """One coalition the search kept, with the figures it compared."""

    choice: Choice
    accuracy: float
    credit: float
    """Sum over roles of the role's mean share of steps passed (partial credit × roles)."""
    cost: float
    memory: float
    latency: float

    @property
    def rank_key(self) -> tuple[float | int, ...]:
        """Smaller is better: accuracy, credit (descending), cost, memory, names."""
        return (-self.accuracy, -_q(self.credit), _q(self.cost), _q(self.memory), *self.choice)


def _q(value: float) -> float:
    """``value`` in units of 1e-9, rounded: sums formed in another order compare equal."""
    return float(round(float(value) * 1e9))


def _qa(values: np.ndarray) -> np.ndarray:
    """:func:`_q` of an array."""
    return np.round(values * 1e9)


@dataclass
class ExactResult:
    """The exact top-k and Pareto front, with how much work proving them took."""

    top: list[Found]
    front: list[Found]
    n_scored: int = 0
    """Coalitions whose accuracy was computed (the rest were bounded away)."""
    n_nodes: int = 0
    notes: list[str] = field(default_factory=list)


def exact_search(
    space: Space,
    budget: Budget,
    *,
    k: int = 10,
    fits: Fits | None = None,
    pareto: bool = True,
    progress: Progress | None = None,
) -> ExactResult:
    """The exact top-``k`` coalitions and Pareto front of ``space`` within ``budget``.

    Args:
        space: The search space.
        budget: Hard limits; ``gpus`` is checked through ``fits``.
        k: How many of the best coalitions to return.
        fits: Extra feasibility of a full choice (GPU packing); None accepts all.
        pareto: Also compute the Pareto front (a second pass, seeded with the top-k).
        progress: ``progress(done, total)`` over the first role's candidates.

    Returns:
        Both lists empty when no coalition fits the budget.
    """
    search = _BranchAndBound(space, budget, fits)
    top = _TopK(k, search.tol, search.fits)
    search.run(top, progress)
    result = ExactResult(top=[search.unpad(f) for f in top.pool], front=[])
    if pareto and top.pool:
        front = _Front(search.tol, search.fits)
        front.seed(top.pool)
        search.run(front, None)
        points = sorted(front.found, key=lambda f: (-f.accuracy, f.cost, f.memory, f.choice))
        result.front = [search.unpad(f) for f in points]
    result.n_scored = search.n_scored
    result.n_nodes = search.n_nodes
    if progress is not None:
        progress(1, 1)
    return result


class _Mode:
    """What the walk keeps (top-k or front): when to skip a subtree, what to do at a leaf.

    Credit, cost and memory reach :meth:`prune` and the blocks' ``q*`` arrays in units of
    1e-9 (:func:`_q`): the order of summation then never decides a tie. ``version``
    changes whenever the kept result does, so bounds computed before stay valid until then.
    """

    version = 0

    def prune(self, acc: float, credit: float, cost: float, memory: float) -> bool:
        raise NotImplementedError

    def prune_many(
        self, acc: np.ndarray, credit: np.ndarray, cost: np.ndarray, memory: np.ndarray
    ) -> np.ndarray:
        """:meth:`prune` of many bounds at once."""
        raise NotImplementedError

    def leaf(self, block: _Block) -> None:
        raise NotImplementedError


@dataclass
class _Block:
    """All coalitions that share a prefix, as (last-but-one role) × (last role) arrays."""

    prefix: Choice
    ia: np.ndarray
    ib: np.ndarray
    accuracy: np.ndarray
    credit: np.ndarray
    cost: np.ndarray
    memory: np.ndarray
    latency: np.ndarray
    feasible: np.ndarray

    def __post_init__(self) -> None:
        self.qcredit = _qa(self.credit)
        self.qcost = _qa(self.cost)
        self.qmemory = _qa(self.memory)

    def found(self, flat: int) -> Found:
        i, j = divmod(flat, len(self.ib))
        return Found(
            choice=(*self.prefix, int(self.ia[i]), int(self.ib[j])),
            accuracy=float(self.accuracy[i, j]),
            credit=float(self.credit[i, j]),
            cost=float(self.cost[i, j]),
            memory=float(self.memory[i, j]),
            latency=float(self.latency[i, j]),
        )


class _BranchAndBound:
    """The depth-first walk shared by the top-k and the Pareto passes."""

    def __init__(self, space: Space, budget: Budget, fits: Fits | None) -> None:
        self.pad = len(space.roles) == 1  # one role: a neutral role in front makes it two
        n = space.n_cases
        if self.pad:
            dummy_model = len(space.models)
            self.scores = (np.ones((1, n)), *space.scores)
            self.cost = (np.zeros(1), *space.cost)
            self.latency = (np.zeros(1), *space.latency)
            self.credit = (np.zeros(1), *space.credit)
            self.model = (np.array([dummy_model]), *space.model)
            self.memory = np.append(space.memory, 0.0)
        else:
            self.scores, self.cost, self.latency = space.scores, space.cost, space.latency
            self.credit, self.model, self.memory = space.credit, space.model, space.memory
        self.n_cases = max(n, 1)
        self.roles = len(self.scores)
        binary = all(bool(np.all((s == 0.0) | (s == 1.0))) for s in space.scores)
        self.tol = 0.0 if binary else 1e-9
        self.fits = None if fits is None else self._unpadded(fits)
        self.limit_cost = budget.cost_per_1k_tasks if budget.cost_per_1k_tasks else math.inf
        self.limit_latency = budget.latency_s if budget.latency_s else math.inf
        self.limit_memory = budget.gpu_memory_gb if budget.gpu_memory_gb else math.inf
        # packing needs the total within 90% of all GPUs: a bound, not the constraint
        self.bound_memory = self.limit_memory
        if budget.gpus:
            self.bound_memory = min(self.bound_memory, MAX_UTILIZATION * sum(budget.gpus) + 1e-9)
        self.min_cost = [float(c.min()) for c in self.cost]
        self.min_latency = [float(c.min()) for c in self.latency]
        self.max_credit = [float(c.max()) for c in self.credit]
        self.n_scored = 0
        self.n_nodes = 0

    def _unpadded(self, fits: Fits) -> Fits:
        return (lambda choice: fits(choice[1:])) if self.pad else fits

    def unpad(self, found: Found) -> Found:
        """``found`` with the neutral role's index removed (one-role spaces)."""
        if not self.pad:
            return found
        return Found(found.choice[1:], found.accuracy, found.credit, found.cost,
                     found.memory, found.latency)  # fmt: skip

    # -- the walk -----------------------------------------------------------------------------

    def run(self, mode: _Mode, progress: Progress | None) -> None:
        """Visit every subtree ``mode`` cannot rule out."""
        self.mode = mode
        used = np.zeros(len(self.memory), dtype=bool)
        self._node(0, np.ones(self.n_cases), 0.0, 0.0, 0.0, 0.0, used, (), progress)

    def _admissible(self, role: int, depth: int, cost: float, latency: float,
                    memory: float, used: np.ndarray) -> np.ndarray:  # fmt: skip
        """Candidates of ``role`` that can still complete a coalition within the budget."""
        other_cost = other_latency = 0.0
        for r in range(depth, self.roles):
            if r != role:
                other_cost += self.min_cost[r]
                other_latency += self.min_latency[r]
        models = self.model[role]
        new_memory = np.where(used[models], 0.0, self.memory[models])
        return (
            (cost + self.cost[role] + other_cost <= self.limit_cost * (1 + 1e-12))
            & (latency + self.latency[role] + other_latency <= self.limit_latency * (1 + 1e-12))
            & (memory + new_memory <= self.bound_memory)
        )

    def _node(self, depth: int, prefix: np.ndarray, cost: float, latency: float, credit: float,
              memory: float, used: np.ndarray, choice: Choice,
              progress: Progress | None = None,
              keep: tuple[np.ndarray, np.ndarray] | None = None) -> None:  # fmt: skip
        self.n_nodes += 1
        admissible = [self._admissible(r, depth, cost, latency, memory, used)
                      for r in range(depth, self.roles)]  # fmt: skip
        if keep is not None:  # the parent already ruled out rows and columns of this leaf
            admissible[0] &= keep[0]
            admissible[1] &= keep[1]
        if not all(a.any() for a in admissible):
            return
        if depth == self.roles - 2:
            self._leaf(prefix, cost, latency, credit, memory, used, choice,
                       admissible[0], admissible[1])  # fmt: skip
            return
        rest = prefix.copy()
        for offset, r in enumerate(range(depth + 1, self.roles), start=1):
            rest *= self.scores[r][admissible[offset]].max(axis=0)
        candidates = np.flatnonzero(admissible[0])
        scores = self.scores[depth]
        bound = scores[candidates] @ rest / self.n_cases
        models = self.model[depth][candidates]
        new_memory = np.where(used[models], 0.0, self.memory[models])
        low_cost = cost + self.cost[depth][candidates]
        high_credit = credit + self.credit[depth][candidates]
        for r in range(depth + 1, self.roles):  # left to right, as the coalition's own sums
            low_cost = low_cost + self.min_cost[r]
            high_credit = high_credit + self.max_credit[r]
        low_memory = memory + new_memory
        order = np.argsort(-bound, kind="stable")
        rows = columns = None
        if depth == self.roles - 3:  # the children are leaves: bound their rows and columns
            rows, columns = self._leaf_bounds(
                depth, prefix, cost, credit, memory, used, candidates, new_memory, admissible
            )
        version = self.mode.version
        ruled_out = self.mode.prune_many(bound, _qa(high_credit), _qa(low_cost), _qa(low_memory))
        for done, j in enumerate(order, start=1):
            if self.mode.version != version:  # the result improved: bound the rest again
                version = self.mode.version
                rest = order[done - 1 :]
                ruled_out[rest] = self.mode.prune_many(
                    bound[rest], _qa(high_credit[rest]), _qa(low_cost[rest]), _qa(low_memory[rest])
                )
            if not ruled_out[j]:
                c = int(candidates[j])
                keep = None if rows is None or columns is None else (rows[j], columns[j])
                now_used = used.copy()
                now_used[self.model[depth][c]] = True
                self._node(
                    depth + 1,
                    prefix * scores[c],
                    cost + float(self.cost[depth][c]),
                    latency + float(self.latency[depth][c]),
                    credit + float(self.credit[depth][c]),
                    memory + float(new_memory[j]),
                    now_used,
                    (*choice, c),
                    keep=keep,
                )
            if progress is not None:
                progress(done, len(order) + 1)

    def _leaf_bounds(self, depth: int, prefix: np.ndarray, cost: float, credit: float,
                     memory: float, used: np.ndarray, candidates: np.ndarray,
                     new_memory: np.ndarray, admissible: list[np.ndarray],
                     ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        """Per child of a node whose children are leaves: the last two roles' candidates left.

        A child is a candidate of role ``depth``; the masks say which candidates of the
        last-but-one (rows) and last role (columns) the mode cannot rule out for it.

        Row ``i`` of child ``c`` is bounded by pairing it with the per-case best of the last
        role, column ``j`` by pairing it with the per-case best of the last-but-one; the
        sums are formed in the coalition's own order, so the bounds hold exactly.
        """
        a, b = depth + 1, depth + 2
        fixed = self.scores[depth][candidates] * prefix
        model_c = self.model[depth][candidates]
        base_cost = cost + self.cost[depth][candidates]
        base_credit = credit + self.credit[depth][candidates]
        base_memory = memory + new_memory
        out = []
        for own, other in ((a, b), (b, a)):
            allowed = admissible[own - depth]
            best_other = self.scores[other][admissible[other - depth]].max(axis=0)
            acc = fixed @ (self.scores[own] * best_other).T / self.n_cases
            cost_other = float(self.cost[other][admissible[other - depth]].min())
            credit_other = float(self.credit[other][admissible[other - depth]].max())
            if own == a:
                low_cost = (base_cost[:, None] + self.cost[own][None, :]) + cost_other
                high_credit = (base_credit[:, None] + self.credit[own][None, :]) + credit_other
            else:
                low_cost = (base_cost + cost_other)[:, None] + self.cost[own][None, :]
                high_credit = (base_credit + credit_other)[:, None] + self.credit[own][None, :]
            models = self.model[own]
            free = used[models][None, :] | (models[None, :] == model_c[:, None])
            low_memory = base_memory[:, None] + np.where(free, 0.0, self.memory[models][None, :])
            ruled_out = self.mode.prune_many(acc, _qa(high_credit), _qa(low_cost), _qa(low_memory))
            out.append(allowed[None, :] & ~ruled_out)
        return out[0], out[1]

    def _leaf(self, prefix: np.ndarray, cost: float, latency: float, credit: float,
              memory: float, used: np.ndarray, choice: Choice,
              admissible_a: np.ndarray, admissible_b: np.ndarray) -> None:  # fmt: skip
        a, b = self.roles - 2, self.roles - 1
        ia, ib = np.flatnonzero(admissible_a), np.flatnonzero(admissible_b)
        # rows (role a) and columns (role b) whose every coalition the mode rules out
        for _ in range(2):
            rows_a = self.scores[a][ia] * prefix
            keep_a = ~self.mode.prune_many(
                rows_a @ self.scores[b][ib].max(axis=0) / self.n_cases,
                _qa(credit + self.credit[a][ia] + float(self.credit[b][ib].max())),
                _qa(cost + self.cost[a][ia] + float(self.cost[b][ib].min())),
                _qa(
                    memory + np.where(used[self.model[a][ia]], 0.0, self.memory[self.model[a][ia]])
                ),
            )
            ia = ia[keep_a]
            if not ia.size:
                return
            rows_b = self.scores[b][ib] * prefix
            keep_b = ~self.mode.prune_many(
                rows_b @ self.scores[a][ia].max(axis=0) / self.n_cases,
                _qa(credit + float(self.credit[a][ia].max()) + self.credit[b][ib]),
                _qa(cost + float(self.cost[a][ia].min()) + self.cost[b][ib]),
                _qa(
                    memory + np.where(used[self.model[b][ib]], 0.0, self.memory[self.model[b][ib]])
                ),
            )
            ib = ib[keep_b]
            if not ib.size:
                return
            if keep_a.all() and keep_b.all():
                break
        accuracy = (self.scores[a][ia] * prefix) @ self.scores[b][ib].T / self.n_cases
        self.n_scored += accuracy.size
        total_cost = (cost + self.cost[a][ia])[:, None] + self.cost[b][ib][None, :]
        total_latency = (latency + self.latency[a][ia])[:, None] + self.latency[b][ib][None, :]
        total_credit = (credit + self.credit[a][ia])[:, None] + self.credit[b][ib][None, :]
        model_a, model_b = self.model[a][ia], self.model[b][ib]
        new_a = np.where(used[model_a], 0.0, self.memory[model_a])
        new_b = np.where(used[model_b], 0.0, self.memory[model_b])
        same = model_a[:, None] == model_b[None, :]
        total_memory = (memory + new_a)[:, None] + np.where(same, 0.0, new_b[None, :])
        feasible = (
            (total_cost <= self.limit_cost)
            & (total_latency <= self.limit_latency)
            & (total_memory <= self.limit_memory)
            & (total_memory <= self.bound_memory)
        )
        if feasible.any():
            self.mode.leaf(
                _Block(
                    choice,
                    ia,
                    ib,
                    accuracy,
                    total_credit,
                    total_cost,
                    total_memory,
                    total_latency,
                    feasible,
                )
            )


class _TopK(_Mode):
    """The k best coalitions by :attr:`Found.rank_key`."""

    def __init__(self, k: int, tol: float, fits: Fits | None) -> None:
        self.k = k
        self.tol = tol
        self.fits = fits
        self.pool: list[Found] = []
        self.keys: list[tuple[float | int, ...]] = []

    @property
    def threshold(self) -> tuple[float | int, ...] | None:
        return self.keys[-1] if len(self.keys) >= self.k else None

    def prune(self, acc: float, credit: float, cost: float, memory: float) -> bool:
        t = self.threshold
        if t is None:
            return False
        low = -acc - self.tol  # no coalition below has a smaller -accuracy than this
        if low != t[0]:
            return low > t[0]
        for bound, limit in zip((-credit, cost, memory), t[1:4], strict=True):
            if bound != limit:
                return bound > limit
        return False

    def prune_many(
        self, acc: np.ndarray, credit: np.ndarray, cost: np.ndarray, memory: np.ndarray
    ) -> np.ndarray:
        t = self.threshold
        out = np.zeros(acc.shape, dtype=bool)
        if t is None:
            return out
        low = -acc - self.tol
        out |= low > t[0]
        undecided = low == t[0]
        for bound, limit in zip((-credit, cost, memory), t[1:4], strict=True):
            out |= undecided & (bound > limit)
            undecided &= bound == limit
        return out

    def leaf(self, block: _Block) -> None:
        prefix = np.array(block.prefix, dtype=float)
        columns = [-block.accuracy, -block.qcredit, block.qcost, block.qmemory]
        shape = block.accuracy.shape
        ranks = [np.full(shape, r) for r in prefix]
        ranks += [
            np.broadcast_to(block.ia[:, None], shape),
            np.broadcast_to(block.ib[None, :], shape),
        ]
        mask = block.feasible
        t = self.threshold
        if t is not None:
            better = np.zeros(shape, dtype=bool)
            equal = np.ones(shape, dtype=bool)
            for column, limit in zip(columns + ranks, t, strict=True):
                better |= equal & (column < limit)
                equal &= column == limit
            mask = mask & better
        flat = np.flatnonzero(mask)
        if not flat.size:
            return
        order = np.lexsort([c.ravel()[flat] for c in reversed(columns + ranks)])
        for index in flat[order]:
            found = block.found(int(index))
            key = found.rank_key
            t = self.threshold
            if t is not None and key >= t:
                break  # sorted: the rest are no better
            if self.fits is not None and not self.fits(found.choice):
                continue
            at = bisect.bisect(self.keys, key)
            self.keys.insert(at, key)
            self.pool.insert(at, found)
            self.version += 1
            del self.keys[self.k :], self.pool[self.k :]


class _Front(_Mode):
    """Every feasible coalition no other beats on accuracy, cost and memory at once."""

    def __init__(self, tol: float, fits: Fits | None) -> None:
        self.tol = tol
        self.fits = fits
        self.found: list[Found] = []
        self._cache: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self.choices: set[Choice] = set()
        self.acc = np.empty(0)
        self.cost = np.empty(0)
        self.memory = np.empty(0)

    def seed(self, found: list[Found]) -> None:
        """Start from coalitions already known to be feasible (the top-k)."""
        for f in sorted(found, key=lambda f: (-f.accuracy, f.cost, f.memory)):
            if f.choice in self.choices:  # met already (seeds can repeat)
                continue
            point = (np.array([f.accuracy]), np.array([_q(f.cost)]), np.array([_q(f.memory)]))
            if not self._dominated(*point)[0]:
                self._add([f])

    def prune(self, acc: float, credit: float, cost: float, memory: float) -> bool:
        if not self.found:
            return False
        return bool(
            self._dominated(np.array([acc + self.tol]), np.array([cost]), np.array([memory]))[0]
        )

    def prune_many(
        self, acc: np.ndarray, credit: np.ndarray, cost: np.ndarray, memory: np.ndarray
    ) -> np.ndarray:
        if not self.found:
            return np.zeros(acc.shape, dtype=bool)
        return self._dominated(acc + self.tol, cost, memory)

    def _table(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The front as a staircase, for dominance queries in O(log F) per point.

        Returns accuracies ascending, costs ascending, and ``table[g, 1 + k]``: the least
        memory among the ``g`` most accurate points whose cost is at most the ``k``-th
        cost (column 0: no cost qualifies).
        """
        if self._cache is None:
            order = np.argsort(-self.acc, kind="stable")
            acc, cost, memory = self.acc[order], self.cost[order], self.memory[order]
            costs = np.unique(cost)
            table = np.full((len(acc) + 1, len(costs) + 1), np.inf)
            reach = np.where(cost[:, None] <= costs[None, :], memory[:, None], np.inf)
            table[1:, 1:] = np.minimum.accumulate(reach, axis=0)
            self._cache = (acc[::-1].copy(), costs, table)
        return self._cache

    def _dominated(self, acc: np.ndarray, cost: np.ndarray, memory: np.ndarray) -> np.ndarray:
        """Which points some front point dominates (no worse on all three, better on one)."""
        if not self.found:
            return np.zeros(acc.shape, dtype=bool)
        ascending, costs, table = self._table()
        n = len(ascending)
        at_least = n - np.searchsorted(ascending, acc, side="left")  # points with acc >= a
        above = n - np.searchsorted(ascending, acc, side="right")  # points with acc > a
        cost_le = np.searchsorted(costs, cost, side="right")  # column of the costs <= c
        cost_lt = np.searchsorted(costs, cost, side="left")  # column of the costs < c
        return (
            (table[above, cost_le] <= memory)
            | (table[at_least, cost_lt] <= memory)
            | (table[at_least, cost_le] < memory)
        )

    def _add(self, new: list[Found]) -> None:
        if not new:
            return
        self.version += 1
        na = np.array([f.accuracy for f in new])
        nc = np.array([_q(f.cost) for f in new])
        nm = np.array([_q(f.memory) for f in new])
        keep = np.ones(len(self.found), dtype=bool)
        for a, c, m in zip(na, nc, nm, strict=True):
            keep &= ~((a >= self.acc) & (c <= self.cost) & (m <= self.memory)
                      & ((a > self.acc) | (c < self.cost) | (m < self.memory)))  # fmt: skip
        self._cache = None
        self.found = [f for f, k in zip(self.found, keep, strict=True) if k] + new
        self.choices = {f.choice for f in self.found}
        self.acc = np.append(self.acc[keep], na)
        self.cost = np.append(self.cost[keep], nc)
        self.memory = np.append(self.memory[keep], nm)

    def leaf(self, block: _Block) -> None:
        flat = np.flatnonzero(block.feasible)
        acc = block.accuracy.ravel()[flat]
        cost = block.qcost.ravel()[flat]
        memory = block.qmemory.ravel()[flat]
        if self.found:
            alive = ~self._dominated(acc, cost, memory)
            flat, acc, cost, memory = flat[alive], acc[alive], cost[alive], memory[alive]
        if not flat.size:
            return
        order = np.lexsort((memory, cost, -acc))
        flat, acc, cost, memory = flat[order], acc[order], cost[order], memory[order]
        alive = np.ones(flat.size, dtype=bool)
        new: list[Found] = []
        while alive.any():
            i = int(np.argmax(alive))  # the best remaining is dominated by none remaining
            alive[i] = False
            found = block.found(int(flat[i]))
            if found.choice in self.choices:  # a seed met again
                continue
            if self.fits is not None and not self.fits(found.choice):
                continue
            new.append(found)
            alive &= ~((acc[i] >= acc) & (cost[i] <= cost) & (memory[i] <= memory)
                       & ((acc[i] > acc) | (cost[i] < cost) | (memory[i] < memory)))  # fmt: skip
        self._add(new)
