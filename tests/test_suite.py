"""The built-in suite: real tool values, argument validation, and the cases' composition."""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema
import pytest

from rolecast.errors import RolecastError
from rolecast.suite import (
    TOOLS,
    ToolCallError,
    ToolSpec,
    build_suite,
    call_tool,
    default_subset,
    tool_definitions,
)
from rolecast.suite.cases import NO_TOOL_ANSWER
from rolecast.types import Tool, ToolCase

LARGE_TOOLS = {"search_products", "weather_archive", "get_recipe"}


@pytest.fixture(scope="module")
def suite() -> list[ToolCase]:
    return build_suite()


def leaves(value: Any) -> list[Any]:
    """Every scalar inside a JSON value."""
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in leaves(item)]
    return [value]


def path_exists(value: Any, path: str) -> bool:
    """Whether a dotted path (list indices omitted) reaches a value."""
    head, _, rest = path.partition(".")
    if isinstance(value, list):
        return bool(value) and all(path_exists(item, path) for item in value)
    if not isinstance(value, dict) or head not in value:
        return False
    return path_exists(value[head], rest) if rest else True


# --- tools ---------------------------------------------------------------------------


def test_registry_holds_at_least_nine_well_formed_tools() -> None:
    assert len(TOOLS) >= 9
    for name, spec in TOOLS.items():
        assert isinstance(spec, ToolSpec)
        assert spec.name == name
        schema = spec.parameters
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["type"] == "object"
        assert set(schema["required"]) <= set(schema["properties"])
        assert all("type" in prop for prop in schema["properties"].values())
        assert spec.description.endswith(".")
        assert spec.description.count(". ") == 0, "descriptions are one sentence"


def test_tool_definitions_default_to_all_sorted() -> None:
    tools = tool_definitions()
    assert [tool.name for tool in tools] == sorted(TOOLS)
    assert all(isinstance(tool, Tool) for tool in tools)
    assert [tool.name for tool in tool_definitions(["weather_archive", "add_days"])] == [
        "weather_archive",
        "add_days",
    ]


def test_tool_definitions_are_copies() -> None:
    tool_definitions()[0].parameters["properties"].clear()
    assert tool_definitions()[0].parameters["properties"]


def test_tool_definitions_reject_unknown_names() -> None:
    with pytest.raises(ToolCallError, match="did you mean 'add_days'"):
        tool_definitions(["add_day"])


@pytest.mark.parametrize(
    ("arguments", "result"),
    [
        ({"value": 10, "from_unit": "mi", "to_unit": "km"}, 16.09),
        ({"value": 100, "from_unit": "fahrenheit", "to_unit": "celsius"}, 37.78),
        ({"value": -40, "from_unit": "celsius", "to_unit": "fahrenheit"}, -40.0),
        ({"value": 0, "from_unit": "celsius", "to_unit": "kelvin"}, 273.15),
        ({"value": 5, "from_unit": "kg", "to_unit": "lb"}, 11.02),
        ({"value": 1, "from_unit": "lb", "to_unit": "kg"}, 0.454),
        ({"value": 1, "from_unit": "gal", "to_unit": "l"}, 3.79),
        ({"value": 1, "from_unit": "cup", "to_unit": "tbsp"}, 16.0),
        ({"value": 6, "from_unit": "ft", "to_unit": "cm"}, 182.88),
    ],
)
def test_convert_units_uses_exact_factors(arguments: dict[str, Any], result: float) -> None:
    assert call_tool("convert_units", arguments)["result"] == result


def test_convert_currency_uses_the_fixed_rates() -> None:
    assert call_tool(
        "convert_currency", {"amount": 100, "from_currency": "USD", "to_currency": "EUR"}
    )["result"] == pytest.approx(92.0)
    assert call_tool(
        "convert_currency", {"amount": 92, "from_currency": "EUR", "to_currency": "USD"}
    )["result"] == pytest.approx(100.0)
    assert call_tool(
        "convert_currency", {"amount": 10, "from_currency": "GBP", "to_currency": "JPY"}
    )["result"] == pytest.approx(1917.72)


def test_calendar_tools() -> None:
    assert call_tool("weekday_of_date", {"date": "2024-02-29"})["weekday"] == "Thursday"
    assert call_tool("weekday_of_date", {"date": "1969-07-20"})["weekday"] == "Sunday"
    forward = {"start_date": "2024-01-01", "end_date": "2024-12-25"}
    assert call_tool("days_between", forward)["days"] == 359
    backward = {"start_date": "2024-12-25", "end_date": "2024-01-01"}
    assert call_tool("days_between", backward)["days"] == -359
    leap = call_tool("add_days", {"date": "2024-02-28", "days": 1})
    assert leap["result_date"] == "2024-02-29"
    assert call_tool("add_days", {"date": "2023-02-28", "days": 1})["result_date"] == "2023-03-01"
    assert call_tool("add_days", {"date": "2025-01-10", "days": -45})["result_date"] == "2024-11-26"


@pytest.mark.parametrize(
    ("source", "date", "time", "target", "to_date", "to_time"),
    [
        ("Tokyo", "2024-01-15", "08:00", "New York", "2024-01-14", "18:00"),
        ("London", "2024-01-30", "23:30", "Mumbai", "2024-01-31", "05:00"),
        ("Kathmandu", "2024-03-01", "09:15", "Dubai", "2024-03-01", "07:30"),
        ("New York", "2024-12-31", "20:00", "Tokyo", "2025-01-01", "10:00"),
    ],
)
def test_convert_time_crosses_midnight(
    source: str, date: str, time: str, target: str, to_date: str, to_time: str
) -> None:
    arguments = {"date": date, "time": time, "from_city": source, "to_city": target}
    result = call_tool("convert_time", arguments)
    assert (result["to_date"], result["to_time"]) == (to_date, to_time)


def test_shipping_cost_charges_per_started_half_kilo() -> None:
    standard = call_tool("shipping_cost", {"weight_kg": 2.3, "zone": "europe"})
    assert (standard["billable_weight_kg"], standard["cost_usd"]) == (2.5, 31.0)
    assert standard["service"] == "standard"
    express = call_tool(
        "shipping_cost", {"weight_kg": 0.8, "zone": "asia_pacific", "service": "express"}
    )
    assert express["cost_usd"] == pytest.approx(41.65)
    assert express["delivery_days"] == 4
    minimum = call_tool("shipping_cost", {"weight_kg": 0.1, "zone": "domestic"})
    assert (minimum["billable_weight_kg"], minimum["cost_usd"]) == (0.5, 6.2)


def test_recipe_scales_quantities() -> None:
    base = call_tool("get_recipe", {"recipe": "pancakes"})
    doubled = call_tool("get_recipe", {"recipe": "pancakes", "servings": 8})
    quantities = {item["name"]: item["quantity"] for item in doubled["ingredients"]}
    assert base["servings"] == 4
    assert (quantities["flour"], quantities["milk"], quantities["egg"]) == (400, 600, 4)
    assert doubled["nutrition_per_serving"] == base["nutrition_per_serving"]


def test_product_search_is_large_and_filters() -> None:
    result = call_tool("search_products", {"category": "kitchen"})
    assert result["count"] == len(result["products"]) >= 25
    assert len(json.dumps(result)) > 5000
    fields = {"id", "name", "price_usd", "stock", "rating", "weight_kg", "dimensions_cm"}
    assert all(fields <= set(product) for product in result["products"])
    assert all(product["supplier"]["country"] for product in result["products"])
    prices = [product["price_usd"] for product in result["products"]]
    assert len(set(prices)) == len(prices)
    cheap = call_tool("search_products", {"category": "garden", "max_price_usd": 30})
    assert 0 < cheap["count"] < 25
    assert all(product["price_usd"] <= 30 for product in cheap["products"])
    stocked = call_tool("search_products", {"category": "toys", "in_stock_only": True})
    assert all(product["stock"] > 0 for product in stocked["products"])


def test_get_product_matches_the_search() -> None:
    listed = call_tool("search_products", {"category": "office"})["products"][3]
    detail = call_tool("get_product", {"product_id": listed["id"]})
    assert {key: value for key, value in detail.items() if key != "description"} == listed


def test_weather_archive_covers_the_month() -> None:
    leap = call_tool("weather_archive", {"city": "London", "month": "2024-02"})
    assert len(leap["readings"]) == 29
    assert leap["readings"][-1]["date"] == "2024-02-29"
    assert all(day["temp_min_c"] <= day["temp_max_c"] for day in leap["readings"])
    assert all(day["precipitation_mm"] >= 0 for day in leap["readings"])
    assert len(json.dumps(leap)) > 3000


SAMPLES: list[tuple[str, dict[str, Any]]] = [
    ("convert_units", {"value": 3.5, "from_unit": "qt", "to_unit": "ml"}),
    ("convert_currency", {"amount": 12.5, "from_currency": "SEK", "to_currency": "BRL"}),
    ("weekday_of_date", {"date": "2030-12-24"}),
    ("days_between", {"start_date": "2020-02-01", "end_date": "2021-02-01"}),
    ("add_days", {"date": "2024-12-31", "days": 366}),
    ("convert_time", {"date": "2024-05-05", "time": "00:10", "from_city": "Auckland",
                      "to_city": "Honolulu"}),
    ("search_products", {"category": "electronics", "min_rating": 4}),
    ("get_product", {"product_id": "P-1150"}),
    ("shipping_cost", {"weight_kg": 70, "zone": "rest_of_world", "service": "express"}),
    ("get_recipe", {"recipe": "lentil_curry", "servings": 5}),
    ("weather_archive", {"city": "Mumbai", "month": "2019-07"}),
]  # fmt: skip


def test_every_tool_has_a_sample() -> None:
    assert {name for name, _ in SAMPLES} == set(TOOLS)


@pytest.mark.parametrize(("name", "arguments"), SAMPLES)
def test_tools_are_deterministic_and_json(name: str, arguments: dict[str, Any]) -> None:
    first = call_tool(name, dict(arguments))
    assert call_tool(name, dict(arguments)) == first
    assert json.loads(json.dumps(first)) == first


@pytest.mark.parametrize(
    ("name", "arguments", "message"),
    [
        ("convert_unit", {}, "unknown tool 'convert_unit'; did you mean 'convert_units'"),
        ("convert_units", {"value": 1, "from_unit": "mi"}, "'to_unit' is a required property"),
        ("convert_units", {"value": "ten", "from_unit": "mi", "to_unit": "km"}, "not of type"),
        ("convert_units", {"value": True, "from_unit": "mi", "to_unit": "km"}, "not of type"),
        ("convert_units", {"value": 1, "from_unit": "mi", "to_unit": "kg"}, "cannot convert"),
        ("convert_units", {"value": -500, "from_unit": "celsius", "to_unit": "kelvin"},
         "below absolute zero"),
        ("convert_units", {"value": 1, "from_unit": "mi", "to_unit": "km", "x": 1},
         "Additional properties"),
        ("convert_currency", {"amount": 5, "from_currency": "BTC", "to_currency": "USD"},
         "is not one of"),
        ("weekday_of_date", {"date": "29/02/2024"}, "does not match"),
        ("weekday_of_date", {"date": "2023-02-29"}, "not a valid date"),
        ("add_days", {"date": "2024-01-01", "days": 1.5}, "not of type 'integer'"),
        ("convert_time", {"date": "2024-01-01", "time": "24:00", "from_city": "London",
                          "to_city": "Paris"}, "does not match"),
        ("convert_time", {"date": "2024-01-01", "time": "10:00", "from_city": "Atlantis",
                          "to_city": "Paris"}, "is not one of"),
        ("get_product", {"product_id": "P-9999"}, "unknown product_id 'P-9999'"),
        ("shipping_cost", {"weight_kg": 0, "zone": "europe"}, "less than or equal to the min"),
        ("get_recipe", {"recipe": "pancakes", "servings": 0}, "less than the minimum"),
        ("weather_archive", {"city": "London", "month": "1999-01"}, "outside the archive"),
        ("weather_archive", {"city": "Oslo", "month": "2020-01"}, "is not one of"),
        # schema-valid, out of range: the model's arguments, never a crash
        ("convert_time", {"date": "0001-01-01", "time": "00:00", "from_city": "Tokyo",
                          "to_city": "Honolulu"}, "out of range"),
        ("convert_units", {"value": 10**400, "from_unit": "m", "to_unit": "km"}, "out of range"),
    ],
)  # fmt: skip
def test_bad_calls_raise_one_line_errors(
    name: str, arguments: dict[str, Any], message: str
) -> None:
    with pytest.raises(ToolCallError) as caught:
        call_tool(name, arguments)
    text = str(caught.value)
    assert message in text
    assert "\n" not in text
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, RolecastError)
    if name in TOOLS:
        assert text.startswith(f"{name}: ")


def test_arguments_must_be_an_object() -> None:
    with pytest.raises(ToolCallError, match="must be a JSON object"):
        call_tool("add_days", ["2024-01-01", 3])  # type: ignore[arg-type]


# --- cases ---------------------------------------------------------------------------


def test_suite_size_and_ids(suite: list[ToolCase]) -> None:
    assert len(suite) >= 44
    ids = [case.id for case in suite]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"[a-z]+-\d{3}", case_id) for case_id in ids)


def test_every_case_validates_and_offers_all_tools(suite: list[ToolCase]) -> None:
    tools = tool_definitions()
    for case in suite:
        assert ToolCase.model_validate(case.model_dump(mode="json")) == case
        assert case.tools == tools
        assert case.source == "native"
        assert case.answer
        assert case.answer.count(". ") <= 1 and len(case.answer) <= 200


def test_composition(suite: list[ToolCase]) -> None:
    kinds = [case.tags[0] for case in suite]
    assert set(kinds) == {"single", "multi-step", "no-tool"}
    multi = [case for case in suite if case.tags[0] == "multi-step"]
    assert 3 * len(multi) >= len(suite)
    assert all(len(case.steps) >= 2 for case in multi)
    assert all(len(case.steps) == 1 for case in suite if case.tags[0] == "single")
    evidence = [step for case in suite for step in case.steps if step.evidence]
    assert len(evidence) >= 8
    no_tool = [case for case in suite if case.tags[0] == "no-tool"]
    assert len(no_tool) >= 5
    assert all(case.steps == [] and case.answer == NO_TOOL_ANSWER for case in no_tool)
    for case in suite:
        domains = {TOOLS[step.tool].domain for step in case.steps}
        assert domains <= set(case.tags)
        assert ("large-response" in case.tags) == any(step.evidence for step in case.steps)


def _mentioned(value: Any, text: str) -> bool:
    if isinstance(value, bool):
        return True
    if isinstance(value, int | float):
        value = abs(value)  # "45 days before" states days=-45
        shown = str(int(value)) if float(value).is_integer() else str(value)
        return shown in text
    return str(value) in text


def _tokens(text: str) -> set[str]:
    return {token.strip(",.?!()'") for token in text.split()}


def test_later_steps_depend_on_earlier_observations(suite: list[ToolCase]) -> None:
    for case in (case for case in suite if case.tags[0] == "multi-step"):
        for index, step in enumerate(case.steps[1:], start=1):
            earlier = [leaf for prior in case.steps[:index] for leaf in leaves(prior.observation)]
            carried = [
                value
                for value in step.arguments.values()
                if value in earlier and not isinstance(value, bool)
                and str(value) not in _tokens(case.instruction)
            ]  # fmt: skip
            assert carried, f"{case.id} step {index} uses nothing from an earlier result"


def test_instructions_state_every_argument(suite: list[ToolCase]) -> None:
    for case in suite:
        for index, step in enumerate(case.steps):
            earlier = [leaf for prior in case.steps[:index] for leaf in leaves(prior.observation)]
            for name, value in step.arguments.items():
                assert _mentioned(value, case.instruction) or value in earlier, (
                    f"{case.id}: argument {name}={value!r} is neither in the instruction "
                    "nor in an earlier observation"
                )


def test_evidence_only_on_large_responses_and_paths_exist(suite: list[ToolCase]) -> None:
    for case in suite:
        for step in case.steps:
            if step.tool in LARGE_TOOLS:
                assert step.evidence, f"{case.id}: a {step.tool} step needs evidence"
            else:
                assert step.evidence is None, f"{case.id}: {step.tool} is small"
            for path in step.evidence or []:
                assert path_exists(step.observation, path), f"{case.id}: no path {path}"


def test_path_exists_helper() -> None:
    observation = {"products": [{"name": "a", "supplier": {"id": 1}}], "count": 1}
    assert path_exists(observation, "products.supplier.id")
    assert path_exists(observation, "count")
    assert not path_exists(observation, "products.price")
    assert not path_exists(observation, "count.value")


def test_replaying_gold_steps_reproduces_observations(suite: list[ToolCase]) -> None:
    for case in suite:
        for step in case.steps:
            assert call_tool(step.tool, dict(step.arguments)) == step.observation, case.id


def test_suite_is_deterministic(suite: list[ToolCase]) -> None:
    again = build_suite()
    assert [case.content_hash for case in again] == [case.content_hash for case in suite]
    assert [(case.split, case.tags) for case in again] == [(c.split, c.tags) for c in suite]


def test_holdout_is_a_spread_quarter(suite: list[ToolCase]) -> None:
    holdout = [case for case in suite if case.split == "holdout"]
    assert 0.2 <= len(holdout) / len(suite) <= 0.3
    held_tags = {tag for case in holdout for tag in case.tags}
    assert {"single", "multi-step", "no-tool", "large-response"} <= held_tags
    assert all(case.split in ("profile", "holdout") for case in suite)


def test_default_subset_is_balanced(suite: list[ToolCase]) -> None:
    subset = default_subset(suite, 20)
    assert len(subset) == 20
    assert all(case.split == "profile" for case in subset)
    tags = [tag for case in subset for tag in case.tags]
    for tag in ("single", "multi-step", "no-tool", "large-response"):
        assert tags.count(tag) >= 3, tag
    assert [case.id for case in default_subset(build_suite(), 20)] == [c.id for c in subset]
    order = [case.id for case in suite]
    assert [case.id for case in subset] == sorted((c.id for c in subset), key=order.index)


def test_default_subset_edges(suite: list[ToolCase]) -> None:
    profile = [case for case in suite if case.split == "profile"]
    assert default_subset(suite, 1000) == profile
    assert default_subset(suite, 0) == []
    with pytest.raises(ValueError, match="at least 0"):
        default_subset(suite, -1)


def _numbers(text: str) -> set[float]:
    return {float(n) for n in re.findall(r"\d+(?:\.\d+)?", text)}


def test_prompts_show_every_value_a_role_must_use(suite: list[ToolCase]) -> None:
    # Teacher-forced prompts cut tool results; the cut must never hide what the role needs:
    # a caller's argument taken from an earlier result, a number the gold answer states.
    from rolecast.profiles.roles import CallerRole, ResponderRole

    checked = 0
    for case in suite:
        for step in CallerRole().steps(case):
            prompt = step.request.messages[-1].content
            earlier = " ".join(json.dumps(s.observation) for s in case.steps[: step.index])
            for name, value in step.expected.arguments.items():
                shown = json.dumps(value)
                if step.index and not isinstance(value, bool) and shown in earlier:
                    assert shown in prompt, f"{case.id} caller step {step.index}: {name}={shown}"
                    checked += 1
        for step in ResponderRole().steps(case):
            prompt = "\n".join(m.content for m in step.request.messages)
            results = " ".join(json.dumps(s.observation) for s in case.steps)
            hidden = (_numbers(case.answer or "") & _numbers(results)) - _numbers(prompt)
            assert not hidden, f"{case.id} responder: {sorted(hidden)} not in the prompt"
    assert checked >= 20  # the multi-step cases do pass values on
