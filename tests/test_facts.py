"""The responder's fact check: hand-written answers against hand-read gold facts."""

from __future__ import annotations

from decimal import Decimal

import pytest

from rolecast.profiles.facts import answer_passes, check_answer, extract_facts


def _facts(text: str) -> set[tuple[str, str, str | None]]:
    return {
        (f.kind, " ".join(f.value) if isinstance(f.value, tuple) else str(f.value), f.unit)
        for f in extract_facts(text)
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10 miles is 16.09 kilometres.", {("number", "10", "mi"), ("number", "16.09", "km")}),
        ("100.00 USD is 92.00 EUR.", {("number", "100.00", "USD"), ("number", "92.00", "EUR")}),
        ("It costs $1,000.50.", {("number", "1000.50", "USD")}),
        (
            "2024-02-29 is a Thursday.",
            {("date", "2024-02-29", None), ("weekday", "thursday", None)},
        ),
        ("on June 23, 2024 at 6 pm", {("date", "2024-06-23", None), ("time", "18:00", None)}),
        ("on 23 June 2024 at 18:00", {("date", "2024-06-23", None), ("time", "18:00", None)}),
        (
            "The coldest night in Reykjavik in 2021-01 was 2021-01-23, at -6.4 degrees Celsius.",
            {
                ("date", "2021-01", None),
                ("date", "2021-01-23", None),
                ("number", "-6.4", "celsius"),
                ("name", "reykjavik", None),
            },
        ),
        (
            "P-1107 is supplied by Meridian Supply in Mexico.",
            {
                ("literal", "p 1107", None),
                ("name", "meridian supply", None),
                ("name", "mexico", None),
            },
        ),
        (
            "Express shipping to asia_pacific costs 41.65 USD.",
            {("literal", "asia pacific", None), ("number", "41.65", "USD")},
        ),
        (
            "Pancakes for 8 servings need 400 g of flour.",  # "Pancakes" opens the sentence
            {("number", "8", "serving"), ("number", "400", "g")},
        ),
        ("It is in North Carolina (NC).", {("name", "north carolina", None), ("name", "nc", None)}),
        (
            "official name 'People's Republic of China'",
            {("literal", "people s republic of china", None)},
        ),
        ("Nager.Date version is 1.48.0", {("literal", "1 48 0", None)}),
        (
            "See https://www.frankfurt-airport.com/.",
            {("literal", "https www frankfurt airport com", None)},
        ),
        (
            "Here are three Chuck Norris jokes",
            {("number", "3", None), ("name", "chuck norris", None)},
        ),
        ("None of the available tools can help with that request.", set()),
        (
            "5 in 2024 and 10 mi in km",
            {("number", "5", None), ("number", "2024", None), ("number", "10", "mi")},
        ),
    ],
)
def test_extract_facts(text, expected):
    assert _facts(text) == expected


def test_numbers_are_decimals_as_written():
    (fact,) = extract_facts("47,943.04 JPY")
    assert fact.value == Decimal("47943.04") and fact.unit == "JPY"


@pytest.mark.parametrize(
    ("answer", "gold", "asked", "passed"),
    [
        # the example: a wrong price in a confident sentence
        ("The price is currently at $1.000.", "248.9", "What is the price of gold?", False),
        ("It is 248.9.", "248.9", "What is the price of gold?", True),
        ("It is 248.90 USD.", "248.9", "What is the price of gold?", True),
        # number formats and unit spellings
        ("10 mi is 16.09 km.", "10 miles is 16.09 kilometres.", "How many km is 10 mi?", True),
        (
            "That is 16.093 kilometers.",
            "10 miles is 16.09 kilometres.",
            "How many km is 10 mi?",
            True,
        ),
        ("That is 16.1 km.", "10 miles is 16.09 kilometres.", "How many km is 10 mi?", False),
        ("That is 16.09 miles.", "10 miles is 16.09 kilometres.", "How many km is 10 mi?", False),
        ("100 USD = 92 EUR", "100.00 USD is 92.00 EUR.", "Convert 100 USD to EUR.", True),
        ("100 USD is €92.00", "100.00 USD is 92.00 EUR.", "Convert 100 USD to EUR.", True),
        ("100 USD is 93.00 EUR.", "100.00 USD is 92.00 EUR.", "Convert 100 USD to EUR.", False),
        # stating the gold value but also a different one of the same unit: a contradiction
        (
            "It is 92.00 EUR, or maybe 95 EUR.",
            "100.00 USD is 92.00 EUR.",
            "Convert 100 USD to EUR.",
            False,
        ),
        (
            "250 GBP is 47,943.04 JPY.",
            "250.00 GBP is 47943.04 JPY.",
            "How much is 250 GBP in JPY?",
            True,
        ),
        (
            "It was 37.78 °C.",
            "100 degrees Fahrenheit is 37.78 degrees Celsius.",
            "What is 100 degrees fahrenheit in celsius?",
            True,
        ),
        (
            "It was 37.78 degrees.",
            "100 degrees Fahrenheit is 37.78 degrees Celsius.",
            "What is 100 degrees fahrenheit in celsius?",
            True,
        ),
        # dates, weekdays and times
        (
            "It falls on Thursday, February 29, 2024.",
            "2024-02-29 is a Thursday.",
            "What day of the week is 2024-02-29?",
            True,
        ),
        (
            "2024-02-29 is a Friday.",
            "2024-02-29 is a Thursday.",
            "What day of the week is 2024-02-29?",
            False,
        ),
        (
            "In New York it is 6 pm on 2024-01-14.",
            "It is 18:00 on 2024-01-14 in New York.",
            "When it is 08:00 on 2024-01-15 in Tokyo, what is the local date and time in New York?",
            True,
        ),
        (
            "It is 18:00 on 2024-01-15 in New York.",
            "It is 18:00 on 2024-01-14 in New York.",
            "When it is 08:00 on 2024-01-15 in Tokyo, what is the local date and time in New York?",
            False,
        ),
        # names
        (
            "The Rustic Cutting Board costs 17.85 USD.",
            "The cheapest kitchen product is the Rustic Cutting Board at 17.85 USD.",
            "Which product in the kitchen category is the cheapest, and what does it cost?",
            True,
        ),
        (
            "The Oak Cutting Board costs 17.85 USD.",
            "The cheapest kitchen product is the Rustic Cutting Board at 17.85 USD.",
            "Which product in the kitchen category is the cheapest, and what does it cost?",
            False,
        ),
        (
            "It is supplied by Meridian Supply (Mexico), product P-1107.",
            "P-1107 is supplied by Meridian Supply in Mexico.",
            "Which company supplies product P-1107, and in which country is it?",
            True,
        ),
        # accents dropped; EDDM is the request's, so it need not be repeated
        (
            "Flaghafen München is its name.",
            "The name of EDDM airport is Flaghafen Munchen.",
            "What is the name of EDDM airport?",
            True,
        ),
        (
            "Flughafen Berlin is its name.",
            "The name of EDDM airport is Flaghafen Munchen.",
            "What is the name of EDDM airport?",
            False,
        ),
        # a reply that repeats the request fails, even where the gold's facts are the request's
        (
            "What is the weather in Paris?",
            "The weather in Paris",
            "What is the weather in Paris?",
            False,
        ),
        (
            "The weather in Paris is sunny and 14 degrees.",
            "The weather in Paris",
            "What is the weather in Paris?",
            True,
        ),
        ("How many km is 10 mi?", "10 miles is 16.09 kilometres.", "How many km is 10 mi?", False),
        # the system prompt echoed back (Gemma, issue 11 fault 3)
        (
            "You write the final answer of a tool-using assistant in one short sentence.",
            "10 miles is 16.09 kilometres.",
            "How many km is 10 mi?",
            False,
        ),
    ],
)
def test_check_answer(answer, gold, asked, passed):
    check = check_answer(answer, gold, asked)
    assert check.passed is passed, check.reason()


def test_reasons_name_what_is_missing_and_what_contradicts():
    check = check_answer(
        "100 USD is 93 EUR.", "100.00 USD is 92.00 EUR.", "Convert 100 USD to EUR."
    )
    assert [str(f) for f in check.missing] == ["92.00 EUR"]
    assert [str(f) for f in check.contradicting] == ["93 EUR"]
    assert check.recall == 0.0  # the request's 100 USD need not be stated, 92 EUR must
    assert check.reason() == "missing '92.00 EUR'; contradicts with '93 EUR'"


def test_request_values_are_no_contradiction():
    # the request's 10 miles is restated; "16.09 km" is the gold's
    check = check_answer(
        "10 mi (that is 10 miles) is 16.09 km.",
        "10 miles is 16.09 kilometres.",
        "How many km is 10 mi?",
    )
    assert check.passed


def test_gold_without_facts_falls_back_to_cosine_and_still_fails_an_echo():
    gold = "None of the available tools can help with that request."

    def cosine(value: float):
        return lambda a, b: value

    assert answer_passes("No tool can help with that.", gold, "Write a haiku.", cosine(0.8)).passed
    assert not answer_passes("Leaves fall.", gold, "Write a haiku.", cosine(0.3)).passed
    echo = answer_passes(
        "Write a haiku about autumn.", gold, "Write a haiku about autumn.", cosine(0.9)
    )
    assert not echo.passed and echo.score == 0.0
    assert "fact_recall" not in echo.metrics


def test_verdict_metrics_and_score():
    verdict = answer_passes(
        "100 USD is 92 EUR", "100.00 USD is 92.00 EUR.", "Convert 100 USD.", lambda a, b: 0.5
    )
    assert verdict.passed and verdict.score == 1.0
    assert verdict.metrics == {"cosine": 0.5, "fact_recall": 1.0}
    wrong = answer_passes(
        "100 USD is 93 EUR", "100.00 USD is 92.00 EUR.", "Convert 100 USD.", lambda a, b: 0.95
    )
    assert not wrong.passed and wrong.score == 0.0  # a contradiction scores 0, high cosine or not
