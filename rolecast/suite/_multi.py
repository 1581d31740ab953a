"""Cases whose later calls take their arguments from an earlier call's result."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rolecast.suite._builder import (
    Call,
    CaseSpec,
    Observations,
    amount,
    ingredient,
    num,
    only,
    reading,
    unit_words,
)

__all__ = ["MULTI"]

_PRICES = ("products.name", "products.price_usd")
_INGREDIENTS = ("ingredients.name", "ingredients.quantity", "ingredients.unit")


def _cheapest(o: Observations) -> dict[str, Any]:
    return only(o[0]["products"], "price_usd")


def _priciest(o: Observations) -> dict[str, Any]:
    return only(o[0]["products"], "price_usd", largest=True)


def _product_then(
    id_: str,
    product_id: str,
    question: str,
    call: Call,
    answer: Callable[[dict[str, Any], dict[str, Any]], str],
) -> CaseSpec:
    """``get_product``, then a call on its fields; ``answer(product, result)``."""
    return CaseSpec(
        id_,
        question,
        (Call("get_product", {"product_id": product_id}), call),
        lambda o: answer(o[0], o[1]),
    )


def _recipe_to_unit(id_: str, recipe: str, servings: int, name: str, to_unit: str) -> CaseSpec:
    """A scaled recipe, then one ingredient's quantity in another unit."""
    return CaseSpec(
        id_,
        f"How much {name} does the {recipe} recipe need for {servings} servings? "
        f"Give it in {unit_words(to_unit)} ({to_unit}).",
        (
            Call("get_recipe", {"recipe": recipe, "servings": servings}, _INGREDIENTS),
            Call(
                "convert_units",
                lambda o: {
                    "value": ingredient(o[0], name)["quantity"],
                    "from_unit": ingredient(o[0], name)["unit"],
                    "to_unit": to_unit,
                },
            ),
        ),
        lambda o: (
            f"The {recipe.replace('_', ' ')} recipe for {servings} servings needs "
            f"{num(o[1]['value'])} {unit_words(o[1]['from_unit'])} of {name}, "
            f"which is {num(o[1]['result'])} {unit_words(to_unit)}."
        ),
    )


def _weather_to_fahrenheit(
    id_: str,
    instruction: str,
    city: str,
    month: str,
    pick: Callable[[dict[str, Any]], dict[str, Any]],
    what: str,
) -> CaseSpec:
    """A month of readings, then one day's maximum temperature in Fahrenheit."""
    return CaseSpec(
        id_,
        instruction,
        (
            Call(
                "weather_archive",
                {"city": city, "month": month},
                ("readings.date", "readings.temp_max_c"),
            ),
            Call(
                "convert_units",
                lambda o: {
                    "value": pick(o[0])["temp_max_c"],
                    "from_unit": "celsius",
                    "to_unit": "fahrenheit",
                },
            ),
        ),
        lambda o: (
            f"{what} in {city} was {num(o[1]['result'])} degrees Fahrenheit "
            f"({num(o[1]['value'])} degrees Celsius) on {pick(o[0])['date']}."
        ),
    )


def _coldest(archive: dict[str, Any]) -> dict[str, Any]:
    return only(archive["readings"], "temp_min_c")


def _hottest(archive: dict[str, Any]) -> dict[str, Any]:
    return only(archive["readings"], "temp_max_c", largest=True)


MULTI: list[CaseSpec] = [
    CaseSpec(
        "multi-001",
        "Find the cheapest product in the kitchen category and convert its USD price to EUR.",
        (
            Call("search_products", {"category": "kitchen"}, _PRICES),
            Call(
                "convert_currency",
                lambda o: {
                    "amount": _cheapest(o)["price_usd"],
                    "from_currency": "USD",
                    "to_currency": "EUR",
                },
            ),
        ),
        lambda o: (
            f"The cheapest kitchen product, the {_cheapest(o)['name']}, costs "
            f"{amount(o[1]['result'], 'EUR')} ({amount(o[1]['amount'], 'USD')})."
        ),
    ),
    CaseSpec(
        "multi-002",
        "Find the most expensive product in the outdoor category, look up its details, and "
        "quote standard shipping of it to the domestic zone.",
        (
            Call("search_products", {"category": "outdoor"}, ("products.id", *_PRICES)),
            Call("get_product", lambda o: {"product_id": _priciest(o)["id"]}),
            Call(
                "shipping_cost",
                lambda o: {
                    "weight_kg": o[1]["weight_kg"],
                    "zone": "domestic",
                    "service": "standard",
                },
            ),
        ),
        lambda o: (
            f"The most expensive outdoor product is the {o[1]['name']} "
            f"({num(o[1]['weight_kg'])} kg); standard domestic shipping costs "
            f"{amount(o[2]['cost_usd'], 'USD')}."
        ),
    ),
    _product_then(
        "multi-003",
        "P-1063",
        "Look up product P-1063 and quote standard shipping of it to the canada_mexico zone.",
        Call(
            "shipping_cost",
            lambda o: {
                "weight_kg": o[0]["weight_kg"],
                "zone": "canada_mexico",
                "service": "standard",
            },
        ),
        lambda p, r: (
            f"Shipping the {p['name']} ({num(p['weight_kg'])} kg) to canada_mexico costs "
            f"{amount(r['cost_usd'], 'USD')}."
        ),
    ),
    _product_then(
        "multi-004",
        "P-1012",
        "Convert the USD price of product P-1012 to JPY.",
        Call(
            "convert_currency",
            lambda o: {"amount": o[0]["price_usd"], "from_currency": "USD", "to_currency": "JPY"},
        ),
        lambda p, r: (
            f"The {p['name']} costs {amount(r['result'], 'JPY')} ({amount(p['price_usd'], 'USD')})."
        ),
    ),
    _product_then(
        "multi-005",
        "P-1090",
        "How much does product P-1090 weigh? Convert its weight from kg to lb.",
        Call(
            "convert_units",
            lambda o: {"value": o[0]["weight_kg"], "from_unit": "kg", "to_unit": "lb"},
        ),
        lambda p, r: (
            f"The {p['name']} weighs {num(r['result'])} pounds ({num(p['weight_kg'])} kg)."
        ),
    ),
    _recipe_to_unit("multi-006", "pancakes", 8, "milk", "cup"),
    _recipe_to_unit("multi-007", "banana_bread", 12, "flour", "oz"),
    _weather_to_fahrenheit(
        "multi-008",
        "What was the maximum temperature in Tokyo on 2023-08-15? Convert it from celsius to "
        "fahrenheit.",
        "Tokyo",
        "2023-08",
        lambda archive: reading(archive, "2023-08-15"),
        "The maximum temperature",
    ),
    CaseSpec(
        "multi-009",
        "How much rain fell in London on 2023-11-03? Convert the amount from mm to in.",
        (
            Call(
                "weather_archive",
                {"city": "London", "month": "2023-11"},
                ("readings.date", "readings.precipitation_mm"),
            ),
            Call(
                "convert_units",
                lambda o: {
                    "value": reading(o[0], "2023-11-03")["precipitation_mm"],
                    "from_unit": "mm",
                    "to_unit": "in",
                },
            ),
        ),
        lambda o: (
            f"{num(o[1]['value'])} mm of rain fell in London on 2023-11-03, which is "
            f"{num(o[1]['result'])} inches."
        ),
    ),
    CaseSpec(
        "multi-010",
        "When it is 20:00 on 2024-12-31 in New York, what weekday is it in Tokyo?",
        (
            Call(
                "convert_time",
                {
                    "date": "2024-12-31",
                    "time": "20:00",
                    "from_city": "New York",
                    "to_city": "Tokyo",
                },
            ),
            Call("weekday_of_date", lambda o: {"date": o[0]["to_date"]}),
        ),
        lambda o: f"In Tokyo it is {o[0]['to_time']} on {o[0]['to_date']}, a {o[1]['weekday']}.",
    ),
    CaseSpec(
        "multi-011",
        "A first project ran from 2024-03-04 to 2024-05-20. A second project of the same "
        "number of days starts on 2024-09-02. On what date does it end?",
        (
            Call("days_between", {"start_date": "2024-03-04", "end_date": "2024-05-20"}),
            Call("add_days", lambda o: {"date": "2024-09-02", "days": o[0]["days"]}),
        ),
        lambda o: (
            f"The first project lasted {o[0]['days']} days, so the second ends on "
            f"{o[1]['result_date']}."
        ),
    ),
    CaseSpec(
        "multi-012",
        "What day of the week is 90 days after 2024-10-01?",
        (
            Call("add_days", {"date": "2024-10-01", "days": 90}),
            Call("weekday_of_date", lambda o: {"date": o[0]["result_date"]}),
        ),
        lambda o: f"90 days after 2024-10-01 is {o[0]['result_date']}, a {o[1]['weekday']}.",
    ),
    CaseSpec(
        "multi-013",
        "Quote standard shipping of a 3.7 kg parcel to the europe zone and convert the USD cost "
        "to GBP.",
        (
            Call("shipping_cost", {"weight_kg": 3.7, "zone": "europe", "service": "standard"}),
            Call(
                "convert_currency",
                lambda o: {
                    "amount": o[0]["cost_usd"],
                    "from_currency": "USD",
                    "to_currency": "GBP",
                },
            ),
        ),
        lambda o: (
            f"Shipping 3.7 kg to europe costs {amount(o[0]['cost_usd'], 'USD')}, which is "
            f"{amount(o[1]['result'], 'GBP')}."
        ),
    ),
    CaseSpec(
        "multi-014",
        "Convert 200 EUR to USD, then count the products in the outdoor category that cost at "
        "most that many USD.",
        (
            Call("convert_currency", {"amount": 200, "from_currency": "EUR", "to_currency": "USD"}),
            Call(
                "search_products",
                lambda o: {"category": "outdoor", "max_price_usd": o[0]["result"]},
                ("count",),
            ),
        ),
        lambda o: (
            f"200 EUR is {amount(o[0]['result'], 'USD')}; {o[1]['count']} outdoor products cost "
            "at most that."
        ),
    ),
    CaseSpec(
        "multi-015",
        "Convert 5 lb to kg, then quote standard shipping of a parcel of that weight to the "
        "domestic zone.",
        (
            Call("convert_units", {"value": 5, "from_unit": "lb", "to_unit": "kg"}),
            Call(
                "shipping_cost",
                lambda o: {"weight_kg": o[0]["result"], "zone": "domestic", "service": "standard"},
            ),
        ),
        lambda o: (
            f"5 pounds is {num(o[0]['result'])} kg; standard domestic shipping costs "
            f"{amount(o[1]['cost_usd'], 'USD')}."
        ),
    ),
    CaseSpec(
        "multi-016",
        "Which day in 2023-02 had the lowest minimum temperature in Reykjavik, and what day of "
        "the week was it?",
        (
            Call(
                "weather_archive",
                {"city": "Reykjavik", "month": "2023-02"},
                ("readings.date", "readings.temp_min_c"),
            ),
            Call("weekday_of_date", lambda o: {"date": _coldest(o[0])["date"]}),
        ),
        lambda o: (
            f"The coldest night in Reykjavik in 2023-02 was {o[1]['date']}, a {o[1]['weekday']}, "
            f"at {num(_coldest(o[0])['temp_min_c'])} degrees Celsius."
        ),
    ),
    CaseSpec(
        "multi-017",
        "Find the cheapest product in the toys category and quote express shipping of it to the "
        "europe zone.",
        (
            Call(
                "search_products",
                {"category": "toys"},
                ("products.name", "products.price_usd", "products.weight_kg"),
            ),
            Call(
                "shipping_cost",
                lambda o: {
                    "weight_kg": _cheapest(o)["weight_kg"],
                    "zone": "europe",
                    "service": "express",
                },
            ),
        ),
        lambda o: (
            f"The cheapest toy, the {_cheapest(o)['name']} ({num(_cheapest(o)['weight_kg'])} kg), "
            f"costs {amount(o[1]['cost_usd'], 'USD')} to ship express to europe."
        ),
    ),
    _recipe_to_unit("multi-018", "lentil_curry", 3, "coconut milk", "cup"),
    _product_then(
        "multi-019",
        "P-1121",
        "How long is product P-1121? Convert its length from cm to in.",
        Call(
            "convert_units",
            lambda o: {
                "value": o[0]["dimensions_cm"]["length"],
                "from_unit": "cm",
                "to_unit": "in",
            },
        ),
        lambda p, r: (
            f"The {p['name']} is {num(r['result'])} inches "
            f"({num(p['dimensions_cm']['length'])} cm) long."
        ),
    ),
    _weather_to_fahrenheit(
        "multi-020",
        "What was the highest maximum temperature in Cairo in 2024-07? Convert it from celsius "
        "to fahrenheit.",
        "Cairo",
        "2024-07",
        _hottest,
        "The highest maximum temperature",
    ),
    _recipe_to_unit("multi-021", "lemonade", 12, "water", "gal"),
    CaseSpec(
        "multi-022",
        "When it is 07:00 on 2024-07-01 in Sydney, what weekday is it in Honolulu?",
        (
            Call(
                "convert_time",
                {
                    "date": "2024-07-01",
                    "time": "07:00",
                    "from_city": "Sydney",
                    "to_city": "Honolulu",
                },
            ),
            Call("weekday_of_date", lambda o: {"date": o[0]["to_date"]}),
        ),
        lambda o: f"In Honolulu it is {o[0]['to_time']} on {o[0]['to_date']}, a {o[1]['weekday']}.",
    ),
]
"""Cases of two or more calls, each depending on an earlier observation."""
