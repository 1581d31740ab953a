"""Why nothing fits: the binding budget, the cheapest coalition, the closest coalition.

Each budget alone is checked in O(candidates × roles): cost and latency add up over roles,
so the cheapest coalition takes each role's cheapest candidate; memory counts each distinct
model once, so the smallest coalition is a minimum-weight cover of the roles by models,
solved exactly by a dynamic programme over subsets of roles (2^roles states, a handful).
When every budget can be met alone but not all together, a branch and bound finds the
coalition whose worst overrun, relative to its budget, is smallest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from rolecast.allocator.placement import MAX_UTILIZATION
from rolecast.search.space import Space
from rolecast.types import Budget

__all__ = ["binding_budgets", "certain_misfit", "closest", "nothing_fits"]

_UNITS = {"gpu_memory_gb": "GB", "cost_per_1k_tasks": "USD", "latency_s": "s", "gpus": "GB"}


@dataclass(frozen=True)
class Cheapest:
    """The coalition that needs least of one measure, and how much it needs."""

    key: str
    limit: float
    choice: tuple[int, ...]
    need: float


def _cheapest_additive(
    space: Space, values: tuple[np.ndarray, ...]
) -> tuple[tuple[int, ...], float]:
    choice = tuple(int(np.argmin(v)) for v in values)
    need = 0.0
    for r, c in enumerate(choice):
        need += float(values[r][c])
    return choice, need


def smallest_memory(space: Space) -> tuple[tuple[int, ...], float]:
    """The coalition of least total memory (each distinct model counted once), exactly."""
    n_roles = len(space.roles)
    full = (1 << n_roles) - 1
    covers = np.zeros(len(space.models), dtype=np.int64)
    for r, models in enumerate(space.model):
        for m in models:
            covers[m] |= 1 << r
    best = [math.inf] * (full + 1)
    via: list[tuple[int, int] | None] = [None] * (full + 1)
    best[0] = 0.0
    for mask in range(full + 1):  # masks only grow, so increasing order is topological
        if best[mask] == math.inf:
            continue
        for m, cover in enumerate(covers):
            new = mask | int(cover)
            if new != mask and best[mask] + space.memory[m] < best[new]:
                best[new] = best[mask] + float(space.memory[m])
                via[new] = (mask, m)
    owner: dict[int, int] = {}
    mask = full
    while mask:
        step = via[mask]
        assert step is not None  # every role has a candidate (Space guarantees it)
        previous, m = step
        for r in range(n_roles):
            if mask & ~previous & (1 << r):
                owner[r] = m
        mask = previous
    choice = tuple(int(np.flatnonzero(space.model[r] == owner[r])[0]) for r in range(n_roles))
    return choice, coalition_memory(space, choice)


def coalition_memory(space: Space, choice: tuple[int, ...]) -> float:
    """Total memory of a choice, each distinct model once, summed in role order."""
    total, seen = 0.0, set()
    for r, c in enumerate(choice):
        m = int(space.model[r][c])
        if m not in seen:
            seen.add(m)
            total += float(space.memory[m])
    return total


def binding_budgets(space: Space, budget: Budget) -> list[Cheapest]:
    """The budgets that even the cheapest coalition by their own measure exceeds."""
    out = []
    for key, values in (("cost_per_1k_tasks", space.cost), ("latency_s", space.latency)):
        limit = budget.limits.get(key)
        if limit is not None:
            choice, need = _cheapest_additive(space, values)
            if need > limit:
                out.append(Cheapest(key, limit, choice, need))
    memory_limit = budget.gpu_memory_gb
    if memory_limit is not None or budget.gpus:
        choice, need = smallest_memory(space)
        if memory_limit is not None and need > memory_limit:
            out.append(Cheapest("gpu_memory_gb", memory_limit, choice, need))
        elif budget.gpus and need > MAX_UTILIZATION * sum(budget.gpus):
            out.append(Cheapest("gpus", MAX_UTILIZATION * sum(budget.gpus), choice, need))
    return out


def _limits(space: Space, budget: Budget) -> list[tuple[str, float, tuple[np.ndarray, ...] | None]]:
    limits: list[tuple[str, float, tuple[np.ndarray, ...] | None]] = []
    if budget.cost_per_1k_tasks is not None:
        limits.append(("cost_per_1k_tasks", budget.cost_per_1k_tasks, space.cost))
    if budget.latency_s is not None:
        limits.append(("latency_s", budget.latency_s, space.latency))
    memory = budget.gpu_memory_gb
    if budget.gpus:
        capacity = MAX_UTILIZATION * sum(budget.gpus)
        memory = capacity if memory is None else min(memory, capacity)
    if memory is not None:
        limits.append(("gpu_memory_gb", memory, None))  # None: memory, distinct models once
    return limits


def closest(space: Space, budget: Budget) -> tuple[tuple[int, ...], float]:
    """The choice whose largest relative overrun of a budget is smallest, and that overrun.

    Branch and bound over roles: a node's bound is the largest overrun its prefix plus the
    cheapest completion already has (memory: the prefix's, as the rest may reuse models);
    the last two roles of a node are scored together as arrays.
    """
    limits = _limits(space, budget)
    n_roles = len(space.roles)
    if n_roles == 1:  # one role: every choice is a leaf
        worst = np.full(len(space.names[0]), -math.inf)
        for _, limit, values in limits:
            measure = space.memory[space.model[0]] if values is None else values[0]
            worst = np.maximum(worst, measure / limit - 1)
        c = int(np.argmin(worst))
        return (c,), float(worst[c])
    minimum = {key: [float(v.min()) for v in values] for key, _, values in limits if values}
    best: list[object] = [math.inf, None]

    def visit(
        depth: int, sums: dict[str, float], used: frozenset[int], choice: tuple[int, ...]
    ) -> None:
        if depth == n_roles - 2:
            leaf(sums, used, choice)
            return
        options = np.arange(len(space.names[depth]))
        models = space.model[depth]
        new_memory = np.array([0.0 if m in used else space.memory[m] for m in models])
        bound = np.full(len(options), -math.inf)
        for key, limit, values in limits:
            if values is None:
                low = sums[key] + new_memory
            else:
                low = sums[key] + values[depth]
                for r in range(depth + 1, n_roles):
                    low = low + minimum[key][r]
            bound = np.maximum(bound, low / limit - 1)
        for c in np.argsort(bound, kind="stable"):
            if bound[c] >= best[0]:  # type: ignore[operator]
                break
            step = {
                key: sums[key] + (new_memory[c] if values is None else float(values[depth][c]))
                for key, _, values in limits
            }
            visit(depth + 1, step, used | {int(models[c])}, (*choice, int(c)))

    def leaf(sums: dict[str, float], used: frozenset[int], choice: tuple[int, ...]) -> None:
        a, b = n_roles - 2, n_roles - 1
        model_a, model_b = space.model[a], space.model[b]
        new_a = np.array([0.0 if m in used else space.memory[m] for m in model_a])
        new_b = np.array([0.0 if m in used else space.memory[m] for m in model_b])
        same = model_a[:, None] == model_b[None, :]
        worst = np.full((len(model_a), len(model_b)), -math.inf)
        for key, limit, values in limits:
            if values is None:
                total = (sums[key] + new_a)[:, None] + np.where(same, 0.0, new_b[None, :])
            else:
                total = (sums[key] + values[a])[:, None] + values[b][None, :]
            worst = np.maximum(worst, total / limit - 1)
        flat = int(np.argmin(worst))
        if worst.flat[flat] < best[0]:  # type: ignore[operator]
            i, j = divmod(flat, worst.shape[1])
            best[0], best[1] = float(worst.flat[flat]), (*choice, i, j)

    visit(0, {key: 0.0 for key, _, _ in limits}, frozenset(), ())
    return best[1], best[0]  # type: ignore[return-value]


def _label(space: Space, choice: tuple[int, ...]) -> str:
    return " ".join(
        f"{role}={space.names[r][c]}"
        for r, (role, c) in enumerate(zip(space.roles, choice, strict=True))
    )


def nothing_fits(space: Space, budget: Budget, binding: list[Cheapest] | None = None) -> str:
    """One line: which budget binds and the cheapest coalition, or the closest coalition."""
    binding = binding_budgets(space, budget) if binding is None else binding
    if binding:
        parts = []
        for b in binding:
            unit = _UNITS[b.key]
            if b.key == "gpus":
                parts.append(
                    f"gpus={budget.gpus} binds: the smallest coalition ({_label(space, b.choice)}) "
                    f"needs {b.need:.3g} GB, more than 90% of the GPUs' memory ({b.limit:.3g} GB)"
                )
            else:
                parts.append(
                    f"{b.key}={b.limit:g} binds: the cheapest coalition "
                    f"({_label(space, b.choice)}) needs {b.need:.3g} {unit}"
                )
        return "no coalition fits the budget: " + "; ".join(parts)
    choice, overrun = closest(space, budget)
    if overrun <= 0:  # the totals fit; only the GPU packing fails
        return (
            f"no coalition fits the budget: the totals fit, but no coalition's models can be "
            f"placed on the GPUs {budget.gpus} (at most 90% of each; a model larger than one "
            f"GPU needs several equal ones); add or enlarge GPUs"
        )
    over = []
    for key, limit, values in _limits(space, budget):
        need = (
            coalition_memory(space, choice)
            if values is None
            else sum(float(values[r][c]) for r, c in enumerate(choice))
        )
        if need > limit:
            over.append(
                f"{key} by {need - limit:.3g} {_UNITS[key]} ({100 * (need / limit - 1):.0f}%)"
            )
    return (
        "no coalition fits the budget: each budget alone can be met, but no coalition meets "
        f"all at once; the closest ({_label(space, choice)}) exceeds {', '.join(over)}; "
        "relax one of them"
    )


BOUND_MARGIN = 1e-6
"""Relative slack on upper bounds of cost and latency: sums of the same non-negative
figures in another order differ by far less, so a bound this far below a budget is below
it however the exact figure is summed."""


def certain_misfit(bound: Space, budget: Budget) -> str | None:
    """:func:`nothing_fits`' message when memory alone rules out every coalition, else None.

    ``bound`` (:meth:`Space.of_budget_figures`) holds every candidate's exact memory and,
    per role, upper bounds of its cost and latency. When the memory or GPU budget binds
    and no cost or latency budget binds even at its bounds, the message is exactly the
    one a search on the stored steps would give: its memory figures are the same and the
    other budgets provably do not bind. None when only the stored steps can tell (memory
    fits, or a cost or latency budget might bind too).
    """
    slack = 1 + BOUND_MARGIN
    padded = replace(
        bound,
        cost=tuple(values * slack for values in bound.cost),
        latency=tuple(values * slack for values in bound.latency),
    )
    binding = binding_budgets(padded, budget)
    if not binding or any(b.key in ("cost_per_1k_tasks", "latency_s") for b in binding):
        return None
    return nothing_fits(bound, budget, binding)
