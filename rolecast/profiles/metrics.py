"""Per-case metrics of the four roles, each as its source defines it.

Sources:

* α-UMi — Shen et al. 2024, "Small LLMs Are Weak Tool Learners: A Multi-LLM Agent"
  (arXiv:2401.07324); reference code ``GLPFT/inference_utils/toolbench/
  evaluate-multi_agent.py`` in X-PLUG/Multi-LLM-Agent. Plan ACC, Act. EM, Arg. F1, Hallu.
* ROUGE-L — Lin 2004, as Google's ``rouge_score`` package computes ``rougeL`` without a
  stemmer.
* IBM coalition study — Mangal et al. 2024, "Coalitions of Large Language Models Increase
  the Robustness of AI Agents" (IBM Research, arXiv:2408.01380), ToolAlpaca eval_real:
  planner pass, slot-filling pass, procedural accuracy.
* Extractor metrics (JSON paths, evidence recall, size reduction) are rolecast's own: the
  gold evidence of a case is a set of dotted paths (``GoldStep.evidence``).

Every function is pure and scores one case; aggregation and intervals live in
:mod:`rolecast.profiles.stats`.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from rolecast.types import FINISH, canonical_json

__all__ = [
    "GIVE_UP",
    "action_exact_match",
    "arg_f1",
    "args_exact_match",
    "cosine_similarity",
    "evidence_recall",
    "filter_json",
    "ibm_planner_pass",
    "ibm_slot_filling_pass",
    "is_hallucinated",
    "json_equal",
    "json_paths",
    "normalize_value",
    "plan_accuracy",
    "procedural_accuracy",
    "rouge_l_f",
    "size_reduction",
    "values_equal",
]

REL_TOL = 1e-6
"""Relative tolerance of numeric comparison."""
ABS_TOL = 1e-12
"""Absolute tolerance, so that float noise around zero (1e-17 vs 0) still compares equal."""

_NUMERIC_STRING = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_NON_ALPHANUMERIC = re.compile(r"[^a-z0-9]+")


# --------------------------------------------------------------------------- values


def normalize_value(value: Any) -> Any:
    """The canonical form :func:`values_equal` compares.

    Strings are stripped, casefolded and have inner whitespace collapsed to one space;
    tuples become lists; dicts and lists are normalised recursively; numbers, booleans
    and None are returned as they are (numeric tolerance is applied when comparing, so
    the result is a comparison form, not a hash key).
    """
    if isinstance(value, str):
        return " ".join(value.split()).casefold()
    if isinstance(value, Mapping):
        return {key: normalize_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [normalize_value(item) for item in value]
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _as_number(value: Any) -> float | None:
    """``value`` as a float when it is a number or a plain numeric string, else None."""
    try:
        if _is_number(value):
            return float(value)
        if isinstance(value, str) and _NUMERIC_STRING.fullmatch(value.strip()):
            return float(value.strip())
    except OverflowError:  # an integer beyond float range: compared exactly instead
        return None
    return None


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if _is_number(a) or _is_number(b):
        x, y = _as_number(a), _as_number(b)
        if x is None or y is None:
            return _is_number(a) and _is_number(b) and a == b
        return math.isclose(x, y, rel_tol=REL_TOL, abs_tol=ABS_TOL)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[key], b[key]) for key in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def json_equal(a: Any, b: Any) -> bool:
    """Exact equality of parsed JSON values: ``2 == 2.0``, but ``True != 1`` and ``"2" != 2``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if _is_number(a) and _is_number(b):
        return a == b
    return type(a) is type(b) and a == b


def values_equal(a: Any, b: Any) -> bool:
    """Whether two argument values mean the same thing.

    Numbers compare by value within a relative tolerance of 1e-6 (``2 == 2.0``); a
    numeric string equals the number it spells (``"2" == 2``), but two strings compare
    as strings (``"2" != "2.0"``); booleans equal only booleans (``True != 1``); strings
    compare after :func:`normalize_value`; lists element-wise; dicts on the same keys,
    recursively. This is more lenient than α-UMi's reference code, which compares the
    parsed JSON with Python ``==``: a small model writing ``"NYC "`` for ``"nyc"`` is not
    the failure the caller role is profiled for.
    """
    return _equal(normalize_value(a), normalize_value(b))


# --------------------------------------------------------------------------- α-UMi


def arg_f1(predicted: Mapping[str, Any] | None, gold: Mapping[str, Any]) -> float:
    """α-UMi Arg. F1 of one tool call's arguments.

    Each gold key present in the prediction scores 1 when the values are equal as parsed
    JSON (:func:`json_equal`: the reference code's ``==``, so ``2 == 2.0`` but
    ``"NYC " != "nyc"``; unlike Python, ``true`` is not ``1``) and 0.5 when they differ;
    precision divides the sum by the
    number of predicted keys, recall by the number of gold keys, and the score is their
    harmonic mean. An empty gold scores 1 only for an empty prediction; a prediction that
    is not a mapping (unparseable JSON, None) scores 0. Unlike the reference code this
    scores the arguments alone: whether the tool name is right is
    :func:`action_exact_match`'s business, and a sum of zero scores 0 instead of raising.
    The caller's pass (:func:`args_exact_match`) is more lenient about spelling.
    """
    if not isinstance(predicted, Mapping):
        return 0.0
    if not gold:
        return 1.0 if not predicted else 0.0
    matched = sum(
        1.0 if json_equal(predicted[key], value) else 0.5
        for key, value in gold.items()
        if key in predicted
    )
    if matched == 0:
        return 0.0
    precision = matched / len(predicted)
    recall = matched / len(gold)
    return 2 * precision * recall / (precision + recall)


def args_exact_match(predicted: Mapping[str, Any] | None, gold: Mapping[str, Any]) -> bool:
    """Whether the prediction has exactly the gold keys, each with an equal value."""
    if not isinstance(predicted, Mapping):
        return False
    return predicted.keys() == gold.keys() and all(
        values_equal(predicted[key], value) for key, value in gold.items()
    )


GIVE_UP = "give_up"
"""The planner's third kind of decision in α-UMi (rolecast's planner offers only two)."""


def _decision(action: str) -> str:
    name = action.strip()
    return name if name in (FINISH, GIVE_UP) else "call"


def plan_accuracy(predicted_action: str | None, gold_action: str) -> bool:
    """α-UMi Plan ACC: whether the planner made the right kind of decision.

    The reference code compares the decision type only: call a tool, finish (answer), or
    give up; which tool is :func:`action_exact_match`'s business. A missing or blank
    action is wrong.
    """
    if predicted_action is None or not predicted_action.strip():
        return False
    return _decision(predicted_action) == _decision(gold_action)


def action_exact_match(predicted_action: str | None, gold_action: str) -> bool:
    """α-UMi Act. EM: whether the planner named exactly the gold action.

    α-UMi scores it on the steps whose gold action is a tool call (the planner role
    records it only there); on a ``finish`` step the same comparison is rolecast's
    next-action pass. Names are case-sensitive; surrounding whitespace is ignored.
    """
    if predicted_action is None:
        return False
    return predicted_action.strip() == gold_action.strip()


def is_hallucinated(
    action: str | None,
    tool_names: Collection[str],
    allowed_special: Collection[str] = (FINISH, GIVE_UP),
) -> bool:
    """α-UMi Hallu: whether the action names a tool that does not exist.

    A missing or empty action is a failure, not a hallucination (the reference code also
    exempts its ``none`` placeholder). Names are case-sensitive.
    """
    if action is None or not action.strip():
        return False
    name = action.strip()
    return name not in tool_names and name not in allowed_special


# --------------------------------------------------------------------------- ROUGE-L


def _rouge_tokens(text: str) -> list[str]:
    """``rouge_score``'s default tokenizer without stemming."""
    return _NON_ALPHANUMERIC.sub(" ", text.lower()).split()


def _lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b, start=1):
            current.append(previous[j - 1] + 1 if x == y else max(previous[j], current[j - 1]))
        previous = current
    return previous[-1]


def rouge_l_f(prediction: str, reference: str) -> float:
    """ROUGE-L F-measure (Lin 2004) as ``rouge_score`` computes ``rougeL``, unstemmed.

    Tokens are the lowercased text with every run of characters outside ``[a-z0-9]``
    replaced by a space (so non-ASCII letters separate tokens, as in ``rouge_score``);
    precision is LCS / prediction tokens, recall LCS / reference tokens, F with beta 1.
    Either side empty scores 0. α-UMi's R-L uses the ``rouge`` package instead, whose
    tokenisation differs slightly.
    """
    predicted, target = _rouge_tokens(prediction), _rouge_tokens(reference)
    if not predicted or not target:
        return 0.0
    lcs = _lcs_length(target, predicted)
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(predicted), lcs / len(target)
    return 2 * precision * recall / (precision + recall)


# --------------------------------------------------------------------------- IBM coalition


def ibm_planner_pass(predicted_plan: Sequence[str], gold_plan: Sequence[str]) -> bool:
    """IBM coalition study planner pass: the right tools in the right order.

    Passes when the predicted tool sequence equals the gold one, or ends with it (the
    model tried something first, then made the right calls). An empty gold plan passes
    only an empty prediction: calling tools when none are needed is not a pass.
    """
    predicted, gold = [name.strip() for name in predicted_plan], [n.strip() for n in gold_plan]
    if not gold:
        return not predicted
    return len(predicted) >= len(gold) and predicted[len(predicted) - len(gold) :] == gold


def _without_omitted(arguments: Mapping[str, Any], gold: Mapping[str, Any]) -> dict[str, Any]:
    """``arguments`` less the keys the gold leaves blank and the values given as ``""``."""
    return {
        key: value
        for key, value in arguments.items()
        if value != "" and not (key in gold and gold[key] == "")
    }


def ibm_slot_filling_pass(
    predicted_calls: Sequence[tuple[str, Mapping[str, Any] | None]],
    gold_calls: Sequence[tuple[str, Mapping[str, Any]]],
) -> bool:
    """IBM coalition study slot-filling pass: every gold call's arguments exactly right.

    Calls are aligned from the end (the same alignment as :func:`ibm_planner_pass`), and
    each gold call's arguments must equal those of the predicted call in its position
    (:func:`args_exact_match`: no argument missing, none extra). A gold argument whose
    value is ``""`` is an omitted optional and is ignored: the prediction may leave it out
    or give it any value. A predicted ``""`` counts as left out. Tool names are not
    checked here; that is the planner's pass.
    """
    if len(predicted_calls) < len(gold_calls):
        return False
    aligned = predicted_calls[len(predicted_calls) - len(gold_calls) :]
    for (_, predicted), (_, gold) in zip(aligned, gold_calls, strict=True):
        if not isinstance(predicted, Mapping):
            return False
        if not args_exact_match(_without_omitted(predicted, gold), _without_omitted(gold, gold)):
            return False
    return True


def procedural_accuracy(
    predicted_calls: Sequence[tuple[str, Mapping[str, Any] | None]],
    gold_calls: Sequence[tuple[str, Mapping[str, Any]]],
) -> bool:
    """IBM coalition study procedural accuracy: planner pass and slot-filling pass."""
    return ibm_planner_pass(
        [name for name, _ in predicted_calls], [name for name, _ in gold_calls]
    ) and ibm_slot_filling_pass(predicted_calls, gold_calls)


# --------------------------------------------------------------------------- embeddings


def cosine_similarity(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine of the angle between two vectors; 0.0 when either is a zero vector.

    Raises:
        ValueError: The vectors have different lengths.
    """
    if len(a) != len(b):
        raise ValueError(f"cosine_similarity needs equal lengths, got {len(a)} and {len(b)}")
    norm = math.sqrt(math.fsum(x * x for x in a)) * math.sqrt(math.fsum(y * y for y in b))
    if norm == 0:
        return 0.0
    return max(-1.0, min(1.0, math.fsum(x * y for x, y in zip(a, b, strict=True)) / norm))


# --------------------------------------------------------------------------- extractor


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def json_paths(value: Any, prefix: str = "") -> set[str]:
    """Every dotted path in a JSON value, list indices omitted.

    Both leaf paths and the intermediate object paths above them are returned, so that
    keeping a whole subtree (``"products"``) is expressible:
    ``{"products": [{"name": "a", "price": 1}]}`` gives ``{"products", "products.name",
    "products.price"}``. Items of a list share their list's path. The root has no path,
    so a scalar root gives the empty set. Keys containing dots are not escaped.
    """
    paths: set[str] = set()
    if isinstance(value, Mapping):
        for key, item in value.items():
            path = _join(prefix, str(key))
            paths.add(path)
            paths |= json_paths(item, path)
    elif isinstance(value, list | tuple):
        for item in value:
            paths |= json_paths(item, prefix)
    return paths


_DROPPED = object()


def _filter(value: Any, prefix: str, keep: set[str], ancestors: set[str]) -> Any:
    if isinstance(value, Mapping):
        kept: dict[str, Any] = {}
        for key, item in value.items():
            path = _join(prefix, str(key))
            if path in keep:
                kept[key] = item
            elif path in ancestors:
                filtered = _filter(item, path, keep, ancestors)
                if filtered is not _DROPPED:
                    kept[key] = filtered
        return kept or _DROPPED
    if isinstance(value, list | tuple):
        items = [_filter(item, prefix, keep, ancestors) for item in value]
        return [item for item in items if item is not _DROPPED] or _DROPPED
    return _DROPPED


def filter_json(value: Any, keep: Collection[str]) -> Any:
    """``value`` reduced to the paths in ``keep`` (paths as :func:`json_paths` names them).

    Keeping a path keeps everything under it, as it is. Lists keep their items, each
    filtered; a container left empty by filtering is dropped, but one kept explicitly
    stays even if empty. A dict or list root with nothing kept comes back as an empty
    dict or list; a scalar root has no paths and is returned unchanged.
    """
    keep_set = set(keep)
    ancestors = {path[:i] for path in keep_set for i, char in enumerate(path) if char == "."}
    if isinstance(value, Mapping | list | tuple):
        filtered = _filter(value, "", keep_set, ancestors)
        if filtered is _DROPPED:
            return {} if isinstance(value, Mapping) else []
        return filtered
    return value


def _covered(path: str, kept: set[str]) -> bool:
    parts = path.split(".")
    return any(".".join(parts[:i]) in kept for i in range(1, len(parts) + 1))


def evidence_recall(kept: Collection[str], gold: Collection[str]) -> float:
    """Fraction of the gold evidence paths the extractor kept.

    A gold path is covered when it or any ancestor path is kept (keeping ``"products"``
    covers ``"products.price"``). An empty gold set scores 1: nothing had to be kept.
    """
    gold_set = set(gold)
    if not gold_set:
        return 1.0
    kept_set = set(kept)
    return sum(_covered(path, kept_set) for path in gold_set) / len(gold_set)


def size_reduction(original: Any, filtered: Any) -> float:
    """Share of the original's canonical JSON that filtering removed, in [0, 1].

    ``1 - len(canonical(filtered)) / len(canonical(original))`` with sorted keys and no
    whitespace (:func:`rolecast.types.canonical_json`), clamped: an output longer than its
    input scores 0, not a negative reduction.
    """
    ratio = len(canonical_json(filtered)) / len(canonical_json(original))
    return max(0.0, min(1.0, 1.0 - ratio))
