"""Metrics against hand-computed values (and against rouge_score where it is installed)."""

from __future__ import annotations

import pytest

from rolecast.profiles.metrics import (
    action_exact_match,
    arg_f1,
    args_exact_match,
    cosine_similarity,
    evidence_recall,
    filter_json,
    ibm_planner_pass,
    ibm_slot_filling_pass,
    is_hallucinated,
    json_equal,
    json_paths,
    normalize_value,
    plan_accuracy,
    procedural_accuracy,
    rouge_l_f,
    size_reduction,
    values_equal,
)

# ----------------------------------------------------------------------------- values


@pytest.mark.parametrize(
    ("a", "b", "equal"),
    [
        (2, 2.0, True),
        ("2", 2, True),
        (2.5, " 2.5 ", True),
        ("2", "2.0", False),  # two strings compare as strings
        (0.1 + 0.2, 0.3, True),
        (1_000_000, 1_000_000.5, True),  # relative difference 5e-7
        (1.0, 1.00001, False),  # relative difference 1e-5
        (0.0, 1e-17, True),
        (True, 1, False),
        (True, "true", False),
        (False, False, True),
        (None, None, True),
        (None, "", False),
        ("  New   York ", "new york", True),
        ("Straße", "STRASSE", True),  # casefold, not lower
        ("new york", "newyork", False),
        ([1, "A"], [1.0, "a"], True),
        ([1, 2], [2, 1], False),
        ([1, 2], [1, 2, 3], False),
        ({"a": {"b": [1, " X"]}}, {"a": {"b": [1.0, "x"]}}, True),
        ({"a": 1}, {"a": 1, "b": 2}, False),
        ((1, 2), [1, 2], True),
        ("abc", 1, False),
        ("nan", float("nan"), False),
        (10**400, 10**400, True),  # beyond float range: compared exactly
        (10**400, 10**400 + 1, False),
    ],
)
def test_values_equal(a, b, equal):
    assert values_equal(a, b) is equal
    assert values_equal(b, a) is equal


def test_normalize_value():
    assert normalize_value({"k": ("  A\tB  ", 3)}) == {"k": ["a b", 3]}
    assert normalize_value(None) is None


# ----------------------------------------------------------------------------- arg F1


@pytest.mark.parametrize(
    ("predicted", "gold", "expected"),
    [
        ({"a": 1, "b": "x"}, {"a": 1, "b": "x"}, 1.0),
        # one of two values wrong: sum = 1 + 0.5 = 1.5; P = 1.5/2, R = 1.5/2 -> F1 0.75
        ({"a": 1, "b": "y"}, {"a": 1, "b": "x"}, 0.75),
        # extra predicted key: sum = 2; P = 2/3, R = 2/2 -> F1 = 2(2/3)/(5/3) = 0.8
        ({"a": 1, "b": 2, "c": 3}, {"a": 1, "b": 2}, 0.8),
        # missing key: sum = 1; P = 1/1, R = 1/2 -> F1 = 1/1.5 = 2/3
        ({"a": 1}, {"a": 1, "b": 2}, 2 / 3),
        # extra key and a wrong value: sum = 1.5; P = 1.5/3, R = 1.5/2 -> 0.375/0.625 = 0.6
        ({"a": 1, "b": 3, "c": 0}, {"a": 1, "b": 2}, 0.6),
        ({"z": 1}, {"a": 1}, 0.0),  # no key in common
        ({}, {"a": 1}, 0.0),
        ({}, {}, 1.0),
        ({"a": 1}, {}, 0.0),
        (None, {"a": 1}, 0.0),
        (None, {}, 0.0),
        ("{'a': 1}", {"a": 1}, 0.0),  # unparsed text is not a prediction
        ({"n": 2}, {"n": 2.0}, 1.0),
        # values compare as parsed JSON, as α-UMi's ==: no spelling or type leniency
        ({"n": "2"}, {"n": 2}, 0.5),
        ({"city": "  New   York "}, {"city": "new york"}, 0.5),
        ({"city": "New York"}, {"city": "New York"}, 1.0),
        ({"flag": 1}, {"flag": True}, 0.5),  # a key with a different value still earns 0.5
        ({"xs": [1, 2]}, {"xs": [1, 2.0]}, 1.0),
        ({"xs": [2, 1]}, {"xs": [1, 2]}, 0.5),
    ],
)
def test_arg_f1(predicted, gold, expected):
    assert arg_f1(predicted, gold) == pytest.approx(expected)


def test_args_exact_match():
    assert args_exact_match({"q": "Cats ", "n": 2.0}, {"q": "cats", "n": 2})
    assert not args_exact_match({"q": "cats"}, {"q": "cats", "n": 2})
    assert not args_exact_match({"q": "cats", "n": 2}, {"q": "cats"})
    assert not args_exact_match(None, {})
    assert args_exact_match({}, {})


# ----------------------------------------------------------------------------- planner


def test_plan_accuracy_is_the_kind_of_decision():
    # α-UMi Plan ACC: call a tool / finish / give up, whichever tool
    assert plan_accuracy(" search\n", "search")
    assert plan_accuracy("lookup", "search")  # a call where a call is due: right decision
    assert plan_accuracy("finish", "finish")
    assert plan_accuracy("give_up", "give_up")
    assert not plan_accuracy("finish", "search")
    assert not plan_accuracy("search", "finish")
    assert not plan_accuracy("give_up", "finish")
    assert not plan_accuracy(None, "search")
    assert not plan_accuracy("  ", "search")


def test_action_exact_match_is_the_tool_name():
    # α-UMi Act. EM: the exact tool name
    assert action_exact_match(" search\n", "search")
    assert not action_exact_match("Search", "search")  # tool names are case-sensitive
    assert not action_exact_match("lookup", "search")
    assert not action_exact_match(None, "search")
    assert action_exact_match("finish", "finish")


def test_json_equal():
    assert json_equal({"a": [1, 2.0]}, {"a": [1.0, 2]})
    assert not json_equal(True, 1) and not json_equal(0, False)
    assert not json_equal("2", 2)
    assert not json_equal({"a": 1}, {"a": 1, "b": 2})
    assert not json_equal("Cats", "cats")


@pytest.mark.parametrize(
    ("action", "hallucinated"),
    [
        ("search", False),
        (" search ", False),
        ("finish", False),
        ("give_up", False),
        ("Search", True),
        ("web_search", True),
        (None, False),  # a failure, not a hallucination
        ("", False),
        ("   ", False),
    ],
)
def test_is_hallucinated(action, hallucinated):
    assert is_hallucinated(action, {"search", "weather"}) is hallucinated


def test_is_hallucinated_custom_specials():
    assert is_hallucinated("finish", ["search"], allowed_special=())
    assert not is_hallucinated("stop", ["search"], allowed_special=("stop",))


# ----------------------------------------------------------------------------- ROUGE-L


def test_rouge_l_hand_worked():
    # prediction tokens: it is paris the capital                      (5)
    # reference tokens:  the capital of france is paris               (6)
    # LCS length 2 ("is paris", or "the capital"); no common subsequence of 3 exists,
    # since "the capital" comes after "paris" in the prediction but before it in the
    # reference. P = 2/5, R = 2/6, F = 2PR/(P+R) = (4/15)/(11/15) = 4/11.
    assert rouge_l_f("It is Paris, the capital.", "The capital of France is Paris") == (
        pytest.approx(4 / 11)
    )
    # the cat sat on the mat / the cat is on the mat: LCS "the cat on the mat" = 5 of 6
    assert rouge_l_f("the cat sat on the mat", "the cat is on the mat") == pytest.approx(5 / 6)


def test_rouge_l_edges():
    assert rouge_l_f("Hello, WORLD!", "hello world") == 1.0  # case and punctuation
    assert rouge_l_f("alpha beta", "gamma delta") == 0.0
    assert rouge_l_f("", "hello") == 0.0
    assert rouge_l_f("hello", "") == 0.0
    assert rouge_l_f("!!!", "...") == 0.0  # no tokens on either side
    assert rouge_l_f("café", "cafe") == 0.0  # é is not in [a-z0-9]: "caf" vs "cafe"


ROUGE_PAIRS = [
    ("It is Paris, the capital.", "The capital of France is Paris"),
    ("The weather in Berlin is 21°C and sunny.", "It is sunny in Berlin, 21 degrees."),
    ("the the the cat", "the cat the the"),
    ("Order #A-1234 ships on 2024-05-01", "Your order A1234 will ship May 1, 2024"),
    ("Café crème costs €3.50", "A cafe creme costs 3.50 euros"),
    ("I could not find any flights.", "No flights were found for those dates."),
    ("", "nothing predicted"),
]


@pytest.mark.parametrize(("prediction", "reference"), ROUGE_PAIRS)
def test_rouge_l_matches_rouge_score(prediction, reference):
    rouge_scorer = pytest.importorskip("rouge_score.rouge_scorer")
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    expected = scorer.score(reference, prediction)["rougeL"].fmeasure  # (target, prediction)
    assert rouge_l_f(prediction, reference) == pytest.approx(expected, abs=1e-12)


# ----------------------------------------------------------------------------- IBM coalition


@pytest.mark.parametrize(
    ("predicted", "gold", "passed"),
    [
        (["geo", "weather"], ["geo", "weather"], True),
        (["search", "geo", "weather"], ["geo", "weather"], True),  # tried something first
        (["weather", "geo"], ["geo", "weather"], False),  # wrong order
        (["weather"], ["geo", "weather"], False),  # shorter
        (["geo", "weather", "search"], ["geo", "weather"], False),  # gold not at the end
        (["geo", "search", "weather"], ["geo", "weather"], False),  # interleaved
        ([], [], True),
        (["geo"], [], False),  # no call was needed
        ([], ["geo"], False),
    ],
)
def test_ibm_planner_pass(predicted, gold, passed):
    assert ibm_planner_pass(predicted, gold) is passed


GOLD_CALLS = [("geo", {"city": "Paris"}), ("weather", {"lat": 48.85, "unit": ""})]


@pytest.mark.parametrize(
    ("predicted", "passed"),
    [
        ([("geo", {"city": "paris"}), ("weather", {"lat": 48.85})], True),  # optional omitted
        ([("geo", {"city": "Paris"}), ("weather", {"lat": 48.85, "unit": "C"})], True),
        ([("geo", {"city": "Paris"}), ("weather", {"lat": 48.85, "unit": ""})], True),
        ([("geo", {"city": "Paris"}), ("weather", {"lat": "48.85"})], True),
        ([("geo", {"city": "Lyon"}), ("weather", {"lat": 48.85})], False),
        ([("geo", {"city": "Paris"}), ("weather", {})], False),  # required value missing
        ([("geo", {"city": "Paris"}), ("weather", {"lat": 48.85, "days": 3})], False),
        # aligned from the end: the first attempt is not compared
        ([("geo", {}), ("geo", {"city": "Paris"}), ("weather", {"lat": 48.85})], True),
        ([("weather", {"lat": 48.85})], False),  # fewer calls than gold
        ([("geo", None), ("weather", {"lat": 48.85})], False),  # unparseable arguments
    ],
)
def test_ibm_slot_filling_pass(predicted, passed):
    assert ibm_slot_filling_pass(predicted, GOLD_CALLS) is passed


def test_procedural_accuracy_needs_both_passes():
    good = [("geo", {"city": "Paris"}), ("weather", {"lat": 48.85})]
    assert procedural_accuracy(good, GOLD_CALLS)
    # right arguments, wrong tool in the last position: slot filling passes, planner fails
    wrong_tool = [("geo", {"city": "Paris"}), ("forecast", {"lat": 48.85})]
    assert ibm_slot_filling_pass(wrong_tool, GOLD_CALLS)
    assert not procedural_accuracy(wrong_tool, GOLD_CALLS)
    # right tools, wrong argument: planner passes, slot filling fails
    wrong_arg = [("geo", {"city": "Paris"}), ("weather", {"lat": 2.35})]
    assert ibm_planner_pass([name for name, _ in wrong_arg], ["geo", "weather"])
    assert not procedural_accuracy(wrong_arg, GOLD_CALLS)
    assert procedural_accuracy([], [])


# ----------------------------------------------------------------------------- cosine


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ([1, 0], [0, 1], 0.0),
        ([1, 2, 3], [2, 4, 6], 1.0),
        ([1, 0], [-1, 0], -1.0),
        ([3, 4], [4, 3], 24 / 25),  # (12 + 12) / (5 * 5)
        ([0, 0], [1, 2], 0.0),
        ([], [], 0.0),
    ],
)
def test_cosine_similarity(a, b, expected):
    assert cosine_similarity(a, b) == pytest.approx(expected)


def test_cosine_similarity_lengths_differ():
    with pytest.raises(ValueError, match="equal lengths"):
        cosine_similarity([1, 2], [1, 2, 3])


# ----------------------------------------------------------------------------- extractor

RESPONSE = {
    "products": [
        {"name": "A", "price": 1.5, "meta": {"sku": "x1", "tags": ["new"]}},
        {"name": "B", "price": 2},
    ],
    "total": 2,
    "page": {"n": 1, "size": 10},
}


def test_json_paths():
    assert json_paths(RESPONSE) == {
        "products",
        "products.name",
        "products.price",
        "products.meta",
        "products.meta.sku",
        "products.meta.tags",
        "total",
        "page",
        "page.n",
        "page.size",
    }
    assert json_paths([{"a": [{"b": 1}]}, {"c": None}]) == {"a", "a.b", "c"}
    assert json_paths({"a": 1}, prefix="data") == {"data.a"}
    assert json_paths(42) == set()
    assert json_paths({"empty": {}, "none": []}) == {"empty", "none"}


def test_filter_json():
    kept = filter_json(RESPONSE, ["products.name", "products.meta.sku", "page"])
    assert kept == {
        "products": [{"name": "A", "meta": {"sku": "x1"}}, {"name": "B"}],
        "page": {"n": 1, "size": 10},  # keeping a path keeps everything under it
    }
    # the second product has no meta: left empty by filtering, so it is dropped
    assert filter_json(RESPONSE, ["products.meta.sku"]) == {"products": [{"meta": {"sku": "x1"}}]}
    assert filter_json(RESPONSE, ["products"]) == {"products": RESPONSE["products"]}
    assert filter_json(RESPONSE, []) == {}
    assert filter_json(RESPONSE, ["missing", "products.nam"]) == {}
    assert filter_json({"tags": [], "x": 1}, ["tags"]) == {"tags": []}  # kept explicitly
    assert filter_json([{"a": 1, "b": 2}, {"b": 3}, {"a": 4}], ["a"]) == [{"a": 1}, {"a": 4}]
    assert filter_json([{"b": 3}], ["a"]) == []
    assert filter_json("plain text", ["a"]) == "plain text"
    assert RESPONSE["products"][0]["meta"] == {"sku": "x1", "tags": ["new"]}  # not mutated


def test_evidence_recall():
    gold = ["products.name", "products.price", "page.n"]
    # products.name kept; products.price not; page.n covered by its ancestor page -> 2/3
    assert evidence_recall(["products.name", "page"], gold) == pytest.approx(2 / 3)
    assert evidence_recall(["products"], gold) == pytest.approx(2 / 3)
    assert evidence_recall(["products", "page"], gold) == 1.0
    assert evidence_recall(["products.na", "pag"], gold) == 0.0  # string prefixes are not paths
    assert evidence_recall(["products.name.first"], ["products.name"]) == 0.0  # child only
    assert evidence_recall([], gold) == 0.0
    assert evidence_recall([], []) == 1.0


def test_size_reduction():
    original = {"a": 1, "bb": [1, 2]}  # '{"a":1,"bb":[1,2]}' is 18 characters
    assert size_reduction(original, {"a": 1}) == pytest.approx(1 - 7 / 18)  # '{"a":1}'
    assert size_reduction(original, {}) == pytest.approx(1 - 2 / 18)  # '{}'
    assert size_reduction(original, original) == 0.0
    assert size_reduction({"a": 1}, {"a": 1, "b": 2}) == 0.0  # grew: clamped at 0
    # key order and whitespace do not count: the canonical JSON is compared
    assert size_reduction({"b": 1, "a": 2}, {"a": 2, "b": 1}) == 0.0
