"""The built-in case suite: original tasks whose gold steps are recorded from the real tools.

Every case offers all suite tools, so the planner must choose. A quarter of the cases
form the hold-out split: every fourth case of each stratum (kind, large response or not),
taken with the tool domains interleaved so that no domain is held out wholesale.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

from rolecast.suite._builder import NO_TOOL_ANSWER, realise
from rolecast.suite._multi import MULTI
from rolecast.suite._single import NO_TOOL, SINGLE
from rolecast.suite.tools import tool_definitions
from rolecast.types import ToolCase

__all__ = [
    "HOLDOUT_EVERY",
    "KINDS",
    "NO_TOOL_ANSWER",
    "balanced_subset",
    "build_suite",
    "default_subset",
]

KINDS = ("single", "multi-step", "no-tool")
"""Every case carries exactly one of these tags, first."""

HOLDOUT_EVERY = 4
"""Every fourth case of each stratum goes to the hold-out split."""

_T = TypeVar("_T")


def build_suite() -> list[ToolCase]:
    """All suite cases, recomputed from the tools; the same list on every call."""
    tools = tool_definitions()
    cases = [realise(spec, tools) for spec in (*SINGLE, *MULTI, *NO_TOOL)]
    holdout = {
        case.id
        for members in _strata(cases).values()
        for position, case in enumerate(_by_domain(members))
        if position % HOLDOUT_EVERY == HOLDOUT_EVERY // 2
    }
    return [
        case.model_copy(update={"split": "holdout"}) if case.id in holdout else case
        for case in cases
    ]


def _stratum(case: ToolCase) -> tuple[str, bool]:
    """Kind (by the number of gold calls) and whether a response needs cutting.

    Read from the steps, not the tags, so that any case file (whose tags are its own) is
    stratified as the suite is; for suite cases it is the same as their first two tags.
    """
    steps = case.steps
    kind = KINDS[2] if not steps else KINDS[0] if len(steps) == 1 else KINDS[1]
    return kind, any(step.evidence for step in steps)


def _strata(cases: Sequence[ToolCase]) -> dict[tuple[str, bool], list[ToolCase]]:
    strata: dict[tuple[str, bool], list[ToolCase]] = {}
    for case in cases:
        strata.setdefault(_stratum(case), []).append(case)
    return strata


def _domains(case: ToolCase) -> tuple[str, ...]:
    return tuple(tag for tag in case.tags if tag not in (*KINDS, "large-response"))


def _by_domain(cases: Sequence[ToolCase]) -> list[ToolCase]:
    return _interleave(cases, _domains)


def _interleave(items: Sequence[_T], key: Callable[[_T], Hashable]) -> list[_T]:
    """Round-robin over the groups of ``items`` by ``key``, groups in first-seen order."""
    groups: dict[Hashable, list[_T]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    queues = list(groups.values())
    longest = max((len(queue) for queue in queues), default=0)
    return [queue[rank] for rank in range(longest) for queue in queues if rank < len(queue)]


def default_subset(cases: Sequence[ToolCase], n: int) -> list[ToolCase]:
    """``n`` profile-split cases balanced over kinds, large responses and tags.

    Deterministic: round-robin over the strata (single, single with a large response,
    multi-step, multi-step with a large response, no-tool; read from the gold steps) and,
    inside each, over the cases' tags (the suite's tool domains; a case file's own tags).
    The subset keeps the input's order. All profile cases if ``n`` is larger. Used for the
    built-in suite and for native case files (``subset:`` in the project).
    """
    if n < 0:
        raise ValueError(f"subset size must be at least 0, not {n}")
    return balanced_subset([case for case in cases if case.split == "profile"], n)


def balanced_subset(cases: Sequence[ToolCase], n: int) -> list[ToolCase]:
    """``n`` of ``cases`` balanced over the strata and tool domains, in the given order.

    The same round-robin as :func:`default_subset`, for any split (``rolecast verify``
    takes its held-out cases with it). All of them if ``n`` is larger.
    """
    if n < 0:
        raise ValueError(f"subset size must be at least 0, not {n}")
    flat = [case for members in _strata(cases).values() for case in _by_domain(members)]
    chosen = {case.id for case in _interleave(flat, _stratum)[:n]}
    return [case for case in cases if case.id in chosen]
