"""Cases answered by one tool call, and cases that no tool fits."""

from __future__ import annotations

from rolecast.suite._builder import (
    Call,
    CaseSpec,
    amount,
    ingredient,
    num,
    only,
    reading,
    unit_words,
)

__all__ = ["NO_TOOL", "SINGLE"]

_PRODUCT_PRICES = ("products.name", "products.price_usd")
_INGREDIENTS = ("ingredients.name", "ingredients.quantity", "ingredients.unit")


def _units(id_: str, instruction: str, value: float, from_unit: str, to_unit: str) -> CaseSpec:
    return CaseSpec(
        id_,
        instruction,
        (Call("convert_units", {"value": value, "from_unit": from_unit, "to_unit": to_unit}),),
        lambda o: (
            f"{num(value)} {unit_words(from_unit)} is {num(o[0]['result'])} {unit_words(to_unit)}."
        ),
    )


def _currency(id_: str, instruction: str, value: float, source: str, target: str) -> CaseSpec:
    return CaseSpec(
        id_,
        instruction,
        (
            Call(
                "convert_currency",
                {"amount": value, "from_currency": source, "to_currency": target},
            ),
        ),
        lambda o: f"{amount(value, source)} is {amount(o[0]['result'], target)}.",
    )


def _time(id_: str, date: str, time: str, source: str, target: str) -> CaseSpec:
    return CaseSpec(
        id_,
        f"When it is {time} on {date} in {source}, what is the local date and time in {target}?",
        (
            Call(
                "convert_time", {"date": date, "time": time, "from_city": source, "to_city": target}
            ),
        ),
        lambda o: f"It is {o[0]['to_time']} on {o[0]['to_date']} in {target}.",
    )


def _text(value: object) -> str:
    return num(value) if isinstance(value, int | float) else str(value)


def _weather(id_: str, instruction: str, city: str, date: str, field: str, text: str) -> CaseSpec:
    return CaseSpec(
        id_,
        instruction,
        (
            Call(
                "weather_archive",
                {"city": city, "month": date[:7]},
                ("readings.date", f"readings.{field}"),
            ),
        ),
        lambda o: text.format(value=_text(reading(o[0], date)[field])),
    )


SINGLE: list[CaseSpec] = [
    _units("conv-001", "How many km is 10 mi?", 10, "mi", "km"),
    _units("conv-002", "What is 100 degrees fahrenheit in celsius?", 100, "fahrenheit", "celsius"),
    _units("conv-003", "How many lb is 5 kg?", 5, "kg", "lb"),
    _units("conv-004", "Convert 1.5 l to cup.", 1.5, "l", "cup"),
    _units("conv-005", "Convert 6 ft to cm.", 6, "ft", "cm"),
    _units("conv-006", "What is 300 kelvin in celsius?", 300, "kelvin", "celsius"),
    _currency("fx-001", "Convert 100 USD to EUR.", 100, "USD", "EUR"),
    _currency("fx-002", "How much is 250 GBP in JPY?", 250, "GBP", "JPY"),
    _currency("fx-003", "Convert 1200 INR to USD.", 1200, "INR", "USD"),
    _currency("fx-004", "How much is 75.5 CHF in CAD?", 75.5, "CHF", "CAD"),
    CaseSpec(
        "cal-001",
        "What day of the week is 2024-02-29?",
        (Call("weekday_of_date", {"date": "2024-02-29"}),),
        lambda o: f"2024-02-29 is a {o[0]['weekday']}.",
    ),
    CaseSpec(
        "cal-002",
        "How many days are there from 2024-01-01 to 2024-12-25?",
        (Call("days_between", {"start_date": "2024-01-01", "end_date": "2024-12-25"}),),
        lambda o: f"There are {o[0]['days']} days from 2024-01-01 to 2024-12-25.",
    ),
    CaseSpec(
        "cal-003",
        "What date is 100 days after 2024-03-15?",
        (Call("add_days", {"date": "2024-03-15", "days": 100}),),
        lambda o: f"100 days after 2024-03-15 is {o[0]['result_date']}.",
    ),
    CaseSpec(
        "cal-004",
        "What date was 45 days before 2025-01-10?",
        (Call("add_days", {"date": "2025-01-10", "days": -45}),),
        lambda o: f"45 days before 2025-01-10 was {o[0]['result_date']}.",
    ),
    _time("tz-001", "2024-01-15", "08:00", "Tokyo", "New York"),
    _time("tz-002", "2024-01-30", "23:30", "London", "Mumbai"),
    _time("tz-003", "2024-07-10", "14:00", "Sydney", "Honolulu"),
    _time("tz-004", "2024-03-01", "09:15", "Kathmandu", "Dubai"),
    CaseSpec(
        "shop-001",
        "Which product in the kitchen category is the cheapest, and what does it cost?",
        (Call("search_products", {"category": "kitchen"}, _PRODUCT_PRICES),),
        lambda o: (
            f"The cheapest kitchen product is the {only(o[0]['products'], 'price_usd')['name']}"
            f" at {amount(only(o[0]['products'], 'price_usd')['price_usd'], 'USD')}."
        ),
    ),
    CaseSpec(
        "shop-002",
        "Which product in the electronics category is the most expensive?",
        (Call("search_products", {"category": "electronics"}, _PRODUCT_PRICES),),
        lambda o: (
            "The most expensive electronics product is the "
            f"{only(o[0]['products'], 'price_usd', largest=True)['name']} at "
            f"{amount(only(o[0]['products'], 'price_usd', largest=True)['price_usd'], 'USD')}."
        ),
    ),
    CaseSpec(
        "shop-003",
        "How many products in the garden category cost at most 30 USD?",
        (Call("search_products", {"category": "garden", "max_price_usd": 30}, ("count",)),),
        lambda o: f"{o[0]['count']} garden products cost at most 30 USD.",
    ),
    CaseSpec(
        "shop-004",
        "Which product in the outdoor category has the most units in stock?",
        (Call("search_products", {"category": "outdoor"}, ("products.name", "products.stock")),),
        lambda o: (
            f"The {only(o[0]['products'], 'stock', largest=True)['name']} has the most stock, "
            f"{only(o[0]['products'], 'stock', largest=True)['stock']} units."
        ),
    ),
    CaseSpec(
        "shop-005",
        "How much does product P-1042 weigh?",
        (Call("get_product", {"product_id": "P-1042"}),),
        lambda o: f"The {o[0]['name']} (P-1042) weighs {num(o[0]['weight_kg'])} kg.",
    ),
    CaseSpec(
        "shop-006",
        "Which company supplies product P-1107, and in which country is it?",
        (Call("get_product", {"product_id": "P-1107"}),),
        lambda o: (
            f"P-1107 is supplied by {o[0]['supplier']['name']} in {o[0]['supplier']['country']}."
        ),
    ),
    CaseSpec(
        "cook-001",
        "How much flour does the pancakes recipe need for 8 servings?",
        (Call("get_recipe", {"recipe": "pancakes", "servings": 8}, _INGREDIENTS),),
        lambda o: (
            f"Pancakes for 8 servings need {num(ingredient(o[0], 'flour')['quantity'])} g of flour."
        ),
    ),
    CaseSpec(
        "cook-002",
        "How many avocados does the guacamole recipe need for 6 servings?",
        (Call("get_recipe", {"recipe": "guacamole", "servings": 6}, _INGREDIENTS),),
        lambda o: (
            f"Guacamole for 6 servings needs {num(ingredient(o[0], 'avocado')['quantity'])} "
            "avocados."
        ),
    ),
    CaseSpec(
        "cook-003",
        "How many minutes does the banana_bread recipe need to cook?",
        (Call("get_recipe", {"recipe": "banana_bread"}, ("cook_minutes",)),),
        lambda o: f"Banana bread needs {o[0]['cook_minutes']} minutes to cook.",
    ),
    _weather(
        "wx-001",
        "What was the maximum temperature in Tokyo on 2023-08-05?",
        "Tokyo",
        "2023-08-05",
        "temp_max_c",
        "The maximum temperature in Tokyo on 2023-08-05 was {value} degrees Celsius.",
    ),
    _weather(
        "wx-002",
        "How much rain fell in London on 2022-11-21?",
        "London",
        "2022-11-21",
        "precipitation_mm",
        "{value} mm of rain fell in London on 2022-11-21.",
    ),
    CaseSpec(
        "wx-003",
        "Which day in 2021-01 had the lowest minimum temperature in Reykjavik?",
        (
            Call(
                "weather_archive",
                {"city": "Reykjavik", "month": "2021-01"},
                ("readings.date", "readings.temp_min_c"),
            ),
        ),
        lambda o: (
            "The coldest night in Reykjavik in 2021-01 was "
            f"{only(o[0]['readings'], 'temp_min_c')['date']}, at "
            f"{num(only(o[0]['readings'], 'temp_min_c')['temp_min_c'])} degrees Celsius."
        ),
    ),
    _weather(
        "wx-004",
        "What were the weather conditions in Sydney on 2024-01-26?",
        "Sydney",
        "2024-01-26",
        "conditions",
        "The conditions in Sydney on 2024-01-26 were: {value}.",
    ),
    CaseSpec(
        "ship-001",
        "How much does standard shipping of a 2.3 kg parcel to the europe zone cost?",
        (Call("shipping_cost", {"weight_kg": 2.3, "zone": "europe", "service": "standard"}),),
        lambda o: f"Standard shipping of 2.3 kg to europe costs {amount(o[0]['cost_usd'], 'USD')}.",
    ),
    CaseSpec(
        "ship-002",
        "What does express shipping of a 0.8 kg parcel to the asia_pacific zone cost?",
        (Call("shipping_cost", {"weight_kg": 0.8, "zone": "asia_pacific", "service": "express"}),),
        lambda o: (
            f"Express shipping of 0.8 kg to asia_pacific costs {amount(o[0]['cost_usd'], 'USD')}."
        ),
    ),
    CaseSpec(
        "ship-003",
        "How many days does standard shipping of a 12 kg parcel to the rest_of_world zone take?",
        (Call("shipping_cost", {"weight_kg": 12, "zone": "rest_of_world", "service": "standard"}),),
        lambda o: f"Standard shipping to rest_of_world takes {o[0]['delivery_days']} days.",
    ),
]
"""Cases answered by one tool call, in domain order."""

NO_TOOL: list[CaseSpec] = [
    CaseSpec("none-001", "Write a haiku about autumn."),
    CaseSpec("none-002", "Who painted the Mona Lisa?"),
    CaseSpec("none-003", "Translate 'good morning' into French."),
    CaseSpec("none-004", "What is the capital of Australia?"),
    CaseSpec("none-005", "Book a table for two at an Italian restaurant for tonight."),
    CaseSpec("none-006", "Summarise the plot of Hamlet in one sentence."),
    CaseSpec("none-007", "What is the current price of one Bitcoin in USD?"),
    CaseSpec("none-008", "What will the weather be like in London tomorrow?"),
]
"""Cases no suite tool can help with; the gold is an empty plan and :data:`NO_TOOL_ANSWER`."""
