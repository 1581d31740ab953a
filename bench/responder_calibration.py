"""Calibrates the responder's pass on the built-in suite's gold answers and paraphrases.

Usage (from the repository root)::

    .venv/bin/python bench/responder_calibration.py [--no-cosine]

Two labelled sets, every item an answer to a built-in suite case with the label "right"
(states what the gold states) or "wrong":

* ``hand``: ``bench/data/responder_paraphrases.jsonl``, paraphrases written by hand as a
  model might answer (free word order, other spellings, some right answers in other
  units, wrong numbers, units, names, dates, weekdays, times, made-up answers to no-tool
  requests).
* ``rules``: variants of each gold answer made by fixed rules (:func:`variants`), none
  of which reads the fact checker: right ones reformat numbers (``92.00`` -> ``92``,
  thousands separators), respell units (``kilometres`` -> ``km``, ``USD`` -> ``$``),
  rewrite ISO dates (``June 23, 2024``) or wrap the sentence; wrong ones change one
  number's last digit, swap a unit for another of its kind, swap a name, shift a date by
  a day, or reply with the request itself or the responder's system prompt.

For each set it prints the false-fail rate (right answers failed) and the false-pass
rate (wrong answers passed) of the fact check (:func:`rolecast.profiles.facts.answer_passes`)
and of the old rule (MiniLM cosine ≥ 0.7), with Wilson 95 % intervals, then every
misjudged item of the fact check.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from rolecast.profiles.facts import COSINE_FALLBACK, answer_passes
from rolecast.profiles.prompts import load_template
from rolecast.profiles.stats import wilson_interval
from rolecast.suite import build_suite

HAND = Path(__file__).parent / "data" / "responder_paraphrases.jsonl"


@dataclass(frozen=True)
class Item:
    """One labelled answer to a suite case."""

    case: str
    answer: str
    right: bool
    rule: str


# ------------------------------------------------------------------------ rule variants

_RESPELL = [
    ("kilometres", "km"),
    ("miles", "mi"),
    ("degrees Celsius", "°C"),
    ("degrees Fahrenheit", "°F"),
    ("kilograms", "kg"),
    ("pounds", "lb"),
    ("litres", "L"),
    ("centimetres", "cm"),
    ("millilitres", "ml"),
    ("grams", "g"),
    ("ounces", "oz"),
    ("inches", "in."),
    ("gallons", "gal"),
    ("feet", "ft"),
]
_SWAP_UNIT = [
    ("kilometres", "miles"),
    ("miles", "kilometres"),
    ("degrees Celsius", "degrees Fahrenheit"),
    ("degrees Fahrenheit", "degrees Celsius"),
    ("kilograms", "pounds"),
    ("pounds", "kilograms"),
    ("cups", "litres"),
    ("centimetres", "inches"),
    ("inches", "centimetres"),
    ("millilitres", "litres"),
    ("grams", "ounces"),
    ("ounces", "grams"),
    ("gallons", "litres"),
    (" kg", " lb"),
    (" mm", " cm"),
    ("EUR", "GBP"),
    ("JPY", "CNY"),
    ("CAD", "AUD"),
    (" USD", " EUR"),
    ("days", "weeks"),
    ("minutes", "hours"),
    ("units", "boxes"),
]
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_NAMES = [
    "Tokyo",
    "London",
    "Reykjavik",
    "Sydney",
    "Cairo",
    "New York",
    "Mumbai",
    "Honolulu",
    "Dubai",
    "Mexico",
    "Meridian Supply",
    "Rustic Cutting Board",
    "Mini E-Reader",
    "Coastal Hiking Backpack",
    "Smart Webcam",
    "Alpine Tent",
    "Summit Hiking Backpack",
    "Nordic Pour-Over Kettle",
    "Studio Notebook Set",
    "Puzzle Plush Bear",
    "Happy Kite",
]
_NUMBER = re.compile(r"(?<![\w.-])\d+(?:\.\d+)?(?![\w-]*\d)")
_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


def _reformat_numbers(gold: str) -> str | None:
    def one(m: re.Match[str]) -> str:
        text = m.group(0)
        if "." in text and set(text.split(".")[1]) == {"0"}:
            return text.split(".")[0]  # 92.00 -> 92
        whole, _, frac = text.partition(".")
        if len(whole) > 3:
            return f"{int(whole):,}" + (f".{frac}" if frac else "")  # 47943.04 -> 47,943.04
        return text

    out = _NUMBER.sub(one, gold)
    return out if out != gold else None


def _respell(gold: str) -> str | None:
    out = gold
    for long, short in sorted(_RESPELL, key=lambda pair: -len(pair[0])):  # millilitres first
        out = out.replace(long, short)
    out = re.sub(r"(\d+(?:\.\d+)?) USD", r"$\1", out)
    return out if out != gold else None


def _iso_to_words(gold: str) -> str | None:
    def one(m: re.Match[str]) -> str:
        return f"{_MONTHS[int(m.group(2)) - 1]} {int(m.group(3))}, {m.group(1)}"

    out = _ISO.sub(one, gold)
    return out if out != gold else None


def _bump_number(gold: str, request: str) -> str | None:
    asked = set(_NUMBER.findall(request))
    for m in _NUMBER.finditer(gold):
        text = m.group(0)
        if text in asked or _ISO.search(gold[max(0, m.start() - 8) : m.end() + 8]):
            continue
        digits = list(text)
        i = len(digits) - 1
        while i >= 0:  # add one to the last digit, carrying
            if digits[i] == ".":
                i -= 1
                continue
            if digits[i] == "9":
                digits[i] = "0"
                i -= 1
                continue
            digits[i] = str(int(digits[i]) + 1)
            break
        else:
            digits.insert(0, "1")
        return gold[: m.start()] + "".join(digits) + gold[m.end() :]
    return None


def _swap_unit(gold: str, request: str) -> str | None:
    for old, new in _SWAP_UNIT:
        at = gold.rfind(old)  # the answer's unit comes last; the request's unit first
        if at >= 0 and old.strip() not in request.split()[-2:]:
            return gold[:at] + new + gold[at + len(old) :]
    return None


def _swap_name(gold: str, request: str) -> str | None:
    for name in _NAMES:
        if name in gold and name not in request:
            other = next(n for n in _NAMES if n != name and n not in gold)
            return gold.replace(name, other)
    for day in _WEEKDAYS:
        if day in gold:
            return gold.replace(day, _WEEKDAYS[(_WEEKDAYS.index(day) + 1) % 7])
    return None


def _shift_date(gold: str, request: str) -> str | None:
    for m in _ISO.finditer(gold):
        if m.group(0) in request:
            continue
        year, month, day = (int(x) for x in m.groups())
        shifted = f"{year:04d}-{month:02d}-{day + 1 if day < 28 else day - 1:02d}"
        return gold[: m.start()] + shifted + gold[m.end() :]
    return None


def variants(gold: str, request: str) -> Iterator[tuple[str, bool, str]]:
    """(answer, right?, rule) for every rule that applies to ``gold``."""
    right: list[tuple[str, Callable[[str], str | None]]] = [
        ("number format", _reformat_numbers),
        ("unit spelling", _respell),
        ("date format", _iso_to_words),
        ("wrapped", lambda g: f"Sure! {g} Let me know if you need more."),
    ]
    for rule, make in right:
        out = make(gold)
        if out:
            yield out, True, rule
    wrong: list[tuple[str, Callable[[str, str], str | None]]] = [
        ("changed number", _bump_number),
        ("changed unit", _swap_unit),
        ("changed name", _swap_name),
        ("changed date", _shift_date),
        ("repeats the request", lambda g, r: r),
        ("system prompt", lambda g, r: _system_prompt()),
    ]
    for rule, make_wrong in wrong:
        out = make_wrong(gold, request)
        if out and out != gold:
            yield out, False, rule


def _system_prompt() -> str:
    return load_template("responder").render(history="", instruction="")[0].content


# ------------------------------------------------------------------------ calibration


def labelled_sets() -> dict[str, list[Item]]:
    """The hand-written set and the rule variants of every suite gold answer."""
    suite = {case.id: case for case in build_suite()}
    hand = []
    for line in HAND.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            hand.append(
                Item(
                    record["case"],
                    record["answer"],
                    record["label"] == "right",
                    record.get("why", "hand"),
                )
            )
    rules = [
        Item(case.id, answer, right, rule)
        for case in suite.values()
        if case.answer
        for answer, right, rule in variants(case.answer, case.instruction)
    ]
    return {"hand": hand, "rules": rules}


def main() -> None:
    """Print the false-fail and false-pass rates of both rules on both sets."""
    use_cosine = "--no-cosine" not in sys.argv
    suite = {case.id: case for case in build_suite()}
    similarity: Callable[[str, str], float] = lambda a, b: 0.0  # noqa: E731
    if use_cosine:
        from rolecast.profiles.embeddings import default_embedder

        similarity = default_embedder().similarity
    print(
        "| set | n right / wrong | fact check: false fail | fact check: false pass "
        "| cosine ≥ 0.7: false fail | cosine ≥ 0.7: false pass |"
    )
    print("|---|---|---|---|---|---|")
    misjudged: list[str] = []
    for name, items in labelled_sets().items():
        counts = {"ff": 0, "fp": 0, "cff": 0, "cfp": 0}
        for item in items:
            case = suite[item.case]
            assert case.answer is not None
            verdict = answer_passes(item.answer, case.answer, case.instruction, similarity)
            cosine_pass = verdict.cosine >= COSINE_FALLBACK
            if item.right and not verdict.passed:
                counts["ff"] += 1
            if not item.right and verdict.passed:
                counts["fp"] += 1
            counts["cff"] += item.right and not cosine_pass
            counts["cfp"] += (not item.right) and cosine_pass
            if verdict.passed != item.right:
                why = verdict.check.reason() or f"cosine {verdict.cosine:.2f}"
                misjudged.append(
                    f"- {name} {item.case} ({'right' if item.right else 'wrong'}: {item.rule}): "
                    f"{item.answer!r} -> {'pass' if verdict.passed else 'fail'} ({why})"
                )
        n_right = sum(item.right for item in items)
        n_wrong = len(items) - n_right

        def rate(k: int, n: int) -> str:
            e = wilson_interval(k, n)
            return f"{k}/{n} = {e.mean:.3f} [{e.low:.3f}, {e.high:.3f}]"

        cosine_cells = (
            [rate(counts["cff"], n_right), rate(counts["cfp"], n_wrong)]
            if use_cosine
            else ["not run", "not run"]
        )
        print(
            f"| {name} | {n_right} / {n_wrong} | {rate(counts['ff'], n_right)} | "
            f"{rate(counts['fp'], n_wrong)} | " + " | ".join(cosine_cells) + " |"
        )
    print()
    print("Misjudged by the fact check:")
    print("\n".join(misjudged) if misjudged else "(none)")


if __name__ == "__main__":
    main()
