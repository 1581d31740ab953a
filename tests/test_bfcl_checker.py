"""The BFCL AST-style checker: each rule on a small schema, then the real ground truth."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rolecast.profiles.bfcl_checker import (
    check_call,
    check_calls,
    check_irrelevance,
    standardize_string,
)
from rolecast.profiles.loaders.bfcl import load_bfcl
from rolecast.types import GoldStep, Tool

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "bfcl"

AREA = Tool(
    name="geometry.area",
    parameters={
        "type": "object",
        "properties": {
            "radius": {"type": "number"},
            "unit": {"type": "string"},
            "sides": {"type": "integer"},
            "points": {"type": "array", "items": {"type": "number"}},
            "box": {"type": "object"},
            "exact": {"type": "boolean"},
            "anything": {},
        },
        "required": ["radius"],
    },
)


def _gold(**accepted: list[Any]) -> GoldStep:
    return GoldStep(tool="geometry.area", accepted=accepted)


def _check(args: dict[str, Any], gold: GoldStep) -> tuple[bool, str]:
    result = check_call("geometry.area", args, gold, AREA)
    return result.ok, result.reason


def test_int_accepted_for_float() -> None:
    gold = _gold(radius=[5.0], points=[[1.0, 2.5]])
    assert _check({"radius": 5, "points": [1, 2.5]}, gold) == (True, "")
    assert not _check({"radius": 5.5, "points": [1, 2.5]}, gold)[0]


def test_omitted_optional() -> None:
    gold = _gold(radius=[2], unit=["", "cm"], exact=[True])
    assert _check({"radius": 2, "exact": True}, gold)[0]
    assert _check({"radius": 2, "unit": "cm", "exact": True}, gold)[0]
    ok, reason = _check({"radius": 2, "unit": "cm"}, gold)
    assert not ok and "missing argument 'exact'" in reason
    # Without `accepted`, an optional argument the gold call leaves out may be left out.
    plain = GoldStep(tool="geometry.area", arguments={"radius": 2})
    assert _check({"radius": 2.0}, plain)[0]


def test_string_normalisation() -> None:
    assert standardize_string("San Diego, CA") == "sandiegoca"
    gold = _gold(radius=[1], unit=["square-meters", "m^2"])
    assert _check({"radius": 1, "unit": "Square Meters"}, gold)[0]
    assert _check({"radius": 1, "unit": "M2"}, gold)[0]
    assert not _check({"radius": 1, "unit": "square feet"}, gold)[0]


def test_lists_and_dicts_compare_element_by_element() -> None:
    gold = _gold(radius=[1], points=[[1.5, 2.0], [2.0, 1.5]], box=[{"w": [3], "h": ["", 4]}])
    assert _check({"radius": 1, "points": [2, 1.5], "box": {"w": 3}}, gold)[0]
    assert _check({"radius": 1, "points": [1.5, 2], "box": {"w": 3, "h": 4}}, gold)[0]
    assert not _check({"radius": 1, "points": [1.5], "box": {"w": 3}}, gold)[0]
    assert not _check({"radius": 1, "points": [1.5, 2], "box": {"w": 3, "d": 1}}, gold)[0]
    assert not _check({"radius": 1, "points": [1.5, 2], "box": {"h": 4}}, gold)[0]
    nested = GoldStep(tool="geometry.area", arguments={"radius": 1, "box": {"tags": ["a", "b"]}})
    assert _check({"radius": 1, "box": {"tags": ["A", "b"]}}, nested)[0]
    assert not _check({"radius": 1, "box": {"tags": "a"}}, nested)[0]


def test_unexpected_argument() -> None:
    gold = _gold(radius=[1])
    ok, reason = _check({"radius": 1, "colour": "red"}, gold)
    assert not ok and reason == "unexpected argument 'colour': not in the schema"
    ok, reason = _check({"radius": 1, "unit": "cm"}, gold)  # in the schema, not in the gold
    assert not ok and reason == "unexpected argument 'unit': the gold call omits it"


def test_wrong_type() -> None:
    gold = _gold(radius=[1], sides=[3], exact=[False])
    ok, reason = _check({"radius": 1, "sides": 3.0}, gold)
    assert not ok and reason.startswith("argument 'sides': expected type integer, got number")
    assert not _check({"radius": "1", "sides": 3}, gold)[0]
    assert not _check({"radius": 1, "exact": 0}, gold)[0]  # 0 is not False
    assert not _check({"radius": True}, _gold(radius=[1]))[0]  # True is not 1
    # `any` (no type) takes anything; BFCL's variable rule accepts an answer's own type.
    assert _check({"radius": 1, "anything": [1]}, _gold(radius=[1], anything=[[1]]))[0]
    assert _check({"radius": "r"}, _gold(radius=["r"]))[0]


def test_missing_required_and_wrong_name() -> None:
    ok, reason = _check({"unit": "cm"}, _gold(radius=[1], unit=["cm"]))
    assert not ok and reason == "missing required argument 'radius'"
    result = check_call("geometry.volume", {"radius": 1}, _gold(radius=[1]), AREA)
    assert not result.ok and "expected 'geometry.area'" in result.reason


def test_parallel_calls_are_order_free() -> None:
    golds = [_gold(radius=[1, 2]), _gold(radius=[1])]
    # Greedy matching would give (radius 1) to the first gold call and fail the second.
    assert check_calls([("geometry.area", {"radius": 1}), ("geometry.area", {"radius": 2})],
                       golds, [AREA]).ok  # fmt: skip
    assert check_calls([("geometry.area", {"radius": 2}), ("geometry.area", {"radius": 1})],
                       golds, {"geometry.area": AREA}).ok  # fmt: skip
    twice = check_calls([("geometry.area", {"radius": 2})] * 2, golds, [AREA])
    assert not twice.ok and twice.reason.startswith("gold call 1 (geometry.area) is not matched")
    short = check_calls([("geometry.area", {"radius": 1})], golds, [AREA])
    assert not short.ok and short.reason == "wrong number of calls: 1 predicted, 2 gold"


def test_irrelevance() -> None:
    assert check_irrelevance([]).ok
    result = check_irrelevance([("geometry.area", {"radius": 1})])
    assert not result.ok and result.reason == "expected no call, got 1"


@pytest.mark.skipif(not DATA.is_dir(), reason=f"BFCL data not at {DATA}")
@pytest.mark.parametrize("category", ["simple_python", "multiple", "parallel", "parallel_multiple"])
def test_every_ground_truth_passes_when_fed_back(category: str) -> None:
    result = load_bfcl(DATA / f"BFCL_v4_{category}.json")
    assert result.cases and result.skipped == []
    for case in result.cases:
        predicted = [(step.tool, step.arguments) for step in reversed(case.steps)]
        check = check_calls(predicted, case.steps, case.tools)
        assert check.ok, f"{case.id}: {check.reason}"
