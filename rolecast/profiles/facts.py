"""The facts a gold answer states, and whether an answer states the same: the responder's pass.

Cosine similarity cannot tell a right number from a wrong one ("is currently at $1.000"
scores 0.88 against the gold "248.9"), so the responder passes on facts:

* **Facts** of a text (:func:`extract_facts`): numbers with their unit (``16.09
  kilometres``, ``$17.85``, ``-6.4 °C``, ``three``), dates (``2024-06-23``, ``June 23,
  2024``, ``2021-01``), clock times (``18:00``, ``6 pm``), weekdays, proper names (a run of
  capitalised words not opening a sentence: ``Rustic Cutting Board``, ``New York``) and
  literal values (quoted text, URLs, codes such as ``P-1042`` or ``asia_pacific``,
  version strings).
* **Normalised** before comparing: ``1,000`` = ``1000.0`` = ``1000``; ``kilometres`` =
  ``kilometers`` = ``km``; ``$`` = ``USD`` = ``US dollars``; ``2024-06-23`` = ``June 23,
  2024`` = ``23 June 2024``; ``6 pm`` = ``18:00``; names casefolded, accents and
  punctuation dropped (``München`` = ``Munchen``).
* **The facts to state** are the gold's facts that the request does not already state
  (the ``10 miles`` being converted need not be repeated), or all of them where the
  request states every one.
* **A gold fact is stated** when the answer has it: the same kind and value, a number
  with a compatible unit (the same unit, any unit for a unitless gold number, bare
  ``degrees`` for a temperature). An answer may be more precise than the gold (``16.093
  km`` states ``16.09 km``: it rounds to it at the gold's decimals) but not less (``16.1
  km`` does not).
* **A contradiction** is a number whose unit the gold uses but whose value no gold number
  of that unit has (``93 EUR`` when the gold says ``92.00 EUR``), a gold or requested
  value in another unit (``2.3 lb`` for ``2.3 kg``), or a date, time or weekday the gold
  does not state, where the gold states one of that kind. Values that are in the request
  itself (the ``10 miles`` being converted) are never contradictions.
* **An echo** is an answer whose words are at least 80 % the request's and that adds no
  gold fact and no word of the gold that the request lacks: it repeats the question.

The pass (:func:`check_answer`): every gold fact stated, nothing contradicting, no echo.
A gold answer with no facts at all ("None of the available tools can help with that
request.") cannot be checked this way: :func:`answer_passes` then falls back to the
similarity rule (cosine ≥ 0.7) and still fails an echo. Every function is pure.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from rolecast.profiles._fact_words import (
    CURRENCY_BEFORE,
    MONTHS,
    NAME_JOINERS,
    NAME_STOPWORDS,
    NUMBER_WORDS,
    TEMPERATURES,
    UNIT_SPELLINGS,
    WEEKDAYS,
)

__all__ = [
    "COSINE_FALLBACK",
    "ECHO_SHARE",
    "AnswerVerdict",
    "Fact",
    "FactCheck",
    "answer_passes",
    "check_answer",
    "extract_facts",
]

COSINE_FALLBACK = 0.7
"""The pass of a gold answer without facts: MiniLM cosine to it of at least this."""
ECHO_SHARE = 0.8
"""An answer with at least this share of its words taken from the request may be an echo."""

# --------------------------------------------------------------------------- vocabulary

_UNIT_OF = {spelling: unit for unit, spellings in UNIT_SPELLINGS.items() for spelling in spellings}

_MONTH_RE = "|".join(sorted(MONTHS, key=len, reverse=True))
_NUM = r"(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"

_URL = re.compile(r"https?://[^\s<>\"')\]]+[^\s<>\"')\].,;:!?]")
_QUOTED = re.compile(r"(?<![\w])([\"“'‘])(.+?)([\"”'’])(?![\w])")
_ISO_DATE = re.compile(r"(?<![\d-])(\d{4})-(\d{1,2})-(\d{1,2})(?![\d-])")
_ISO_MONTH = re.compile(r"(?<![\d-])(\d{4})-(\d{2})(?![\d-])")
_SLASH_DATE = re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})/(\d{4})(?![\d/])")
_MONTH_DAY_YEAR = re.compile(
    rf"\b({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.IGNORECASE
)
_DAY_MONTH_YEAR = re.compile(
    rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH_RE})\.?,?\s+(\d{{4}})\b", re.IGNORECASE
)
_MONTH_YEAR = re.compile(rf"\b({_MONTH_RE})\.?,?\s+(\d{{4}})\b", re.IGNORECASE)
_TIME = re.compile(
    r"(?<![\d:.])(\d{1,2}):(\d{2})(?::\d{2})?(?:\s*([ap])\.?\s?m\b\.?)?(?![\d:])", re.IGNORECASE
)
_HOUR_AMPM = re.compile(r"(?<![\d:.])(\d{1,2})\s*([ap])\.?\s?m\b\.?", re.IGNORECASE)
_VERSION = re.compile(r"(?<![\w.])v?\d+(?:\.\d+){2,}(?![\w.])")
_CODE = re.compile(
    r"(?<![\w-])(?=[\w-]*[A-Za-z])(?=[\w-]*\d)[A-Za-z0-9]+(?:[-_][A-Za-z0-9]+)+(?![\w-])"
    r"|(?<![\w-])[A-Z]+\d[A-Z0-9]*(?![\w-])"
    r"|(?<![\w-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w-])"
)
_CURRENCY_PREFIX = "|".join(re.escape(k) for k in sorted(CURRENCY_BEFORE, key=len, reverse=True))
_MONEY_BEFORE = re.compile(rf"(?<![\w])({_CURRENCY_PREFIX})\s?([-−]?)({_NUM})(?!\d)", re.IGNORECASE)
_NUMBER = re.compile(
    rf"(?<![\w.,])([-−])?({_NUM})(?![\d])|\b({'|'.join(NUMBER_WORDS)})\b", re.IGNORECASE
)
_UNIT_AFTER = re.compile(
    "|".join(re.escape(s) for s in sorted(_UNIT_OF, key=len, reverse=True)),
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.!?]\s*$")
_PUNCTUATION = ".,;:!?()[]{}'\"’“”‘"
_TOKEN = re.compile(r"[a-z0-9]+")


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Fact:
    """One checkable statement of a text.

    ``kind`` is ``number``, ``date``, ``time``, ``weekday``, ``name`` or ``literal``;
    ``value`` its normalised form (a :class:`~decimal.Decimal` for numbers, ISO text for
    dates and times, a tuple of lower-case tokens for names and literals); ``unit`` the
    canonical unit of a number (None when it has none); ``text`` the words as written.
    """

    kind: str
    value: object
    text: str
    unit: str | None = None

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class FactCheck:
    """How an answer fares against the facts of a gold answer."""

    facts: tuple[Fact, ...]
    """The gold facts the answer must state (see :func:`check_answer`)."""
    missing: tuple[Fact, ...] = ()
    contradicting: tuple[Fact, ...] = ()
    echo: bool = False

    @property
    def recall(self) -> float:
        """Share of the gold facts the answer states (1.0 when the gold has none)."""
        if not self.facts:
            return 1.0
        return 1.0 - len(self.missing) / len(self.facts)

    @property
    def passed(self) -> bool:
        """Every gold fact stated, nothing contradicting them, not an echo of the request."""
        return not self.missing and not self.contradicting and not self.echo

    def reason(self) -> str:
        """Why the check failed, in one line ('' when it passed)."""
        parts = []
        if self.echo:
            parts.append("repeats the request")
        if self.missing:
            parts.append("missing " + ", ".join(repr(str(f)) for f in self.missing))
        if self.contradicting:
            parts.append("contradicts with " + ", ".join(repr(str(f)) for f in self.contradicting))
        return "; ".join(parts)


@dataclass(frozen=True)
class AnswerVerdict:
    """The responder's pass on one answer, and the metrics recorded beside it."""

    passed: bool
    check: FactCheck
    cosine: float
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def score(self) -> float:
        """The primary score in [0, 1].

        The fact recall (0 on a contradiction or an echo), or the clipped cosine where
        the gold states no facts.
        """
        if not self.check.facts:
            return 0.0 if self.check.echo else max(0.0, self.cosine)
        if self.check.contradicting or self.check.echo:
            return 0.0
        return self.check.recall


# --------------------------------------------------------------------------- normalising


def _fold(text: str) -> str:
    """Casefolded, accents dropped (``München`` -> ``munchen``)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _tokens(text: str) -> tuple[str, ...]:
    return tuple(_TOKEN.findall(_fold(text)))


def _decimal(text: str) -> Decimal | None:
    cleaned = text.replace(",", "").replace("−", "-")
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        return None


def _places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _iso(year: int, month: int, day: int | None = None) -> str | None:
    if not 1 <= month <= 12 or (day is not None and not 1 <= day <= 31):
        return None
    return f"{year:04d}-{month:02d}" + (f"-{day:02d}" if day is not None else "")


def _clock(hour: int, minute: int, half: str | None) -> str | None:
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half.lower() == "p" else 0)
    if not (0 <= hour <= 24 and 0 <= minute <= 59):
        return None
    return f"{hour % 24:02d}:{minute:02d}"


def _unit_after(text: str, end: int) -> tuple[str | None, int]:
    """The canonical unit written right after position ``end`` (and where it ends).

    One-letter spellings are read only where they cannot be a word: ``C``, ``F``, ``K``
    in capitals; ``m``, ``g``, ``L``/``l`` attached or spaced; ``h``, ``s`` attached;
    ``in`` only at the end of a clause (``34.88 in.``, not ``5 in 2024``).
    """
    rest = text[end:]
    stripped = rest.lstrip(" \u00a0\u202f")
    spaced = len(stripped) != len(rest)
    offset = end + len(rest) - len(stripped)
    match = _UNIT_AFTER.match(stripped)
    if not match:
        return None, end
    spelling = match.group(0)
    after = stripped[match.end() : match.end() + 1]
    if spelling[-1].isalnum() and (after.isalnum() or after == "_"):
        return None, end  # "5 miles" yes, "5 mice" no
    lower = spelling.lower()
    if lower in ("c", "f", "k") and spelling.islower():
        return None, end
    if lower in ("m", "g") and not spelling.islower():
        return None, end
    if lower in ("h", "s") and (spaced or not spelling.islower()):
        return None, end
    if lower == "in" and not (after == "" or after in ".,;:!?)"):
        return None, end
    return _UNIT_OF[lower], offset + match.end()


# --------------------------------------------------------------------------- extraction


class _Text:
    """A text being consumed: matched spans are masked so that no value is read twice."""

    def __init__(self, text: str) -> None:
        self.original = text
        self.masked = text

    def take(self, pattern: re.Pattern[str]) -> Iterator[re.Match[str]]:
        for match in list(pattern.finditer(self.masked)):
            if "\0" in match.group(0):
                continue
            yield match
            start, end = match.span()
            self.masked = self.masked[:start] + "\0" * (end - start) + self.masked[end:]


def _numbers(text: _Text, facts: list[Fact]) -> None:
    """Money with its symbol or code first (``$17.85``), then numbers with a unit after."""
    value: Decimal | None
    for match in text.take(_MONEY_BEFORE):
        symbol, sign, digits = match.group(1).lower(), match.group(2), match.group(3)
        value = _decimal(sign + digits)
        if value is not None:
            facts.append(Fact("number", value, match.group(0).strip(), CURRENCY_BEFORE[symbol]))
    masked = text.masked
    found: list[tuple[int, int, Fact]] = []
    for match in _NUMBER.finditer(masked):
        if "\0" in match.group(0):
            continue
        if match.group(3):
            value = Decimal(NUMBER_WORDS[match.group(3).lower()])
        else:
            value = _decimal((match.group(1) or "") + match.group(2))
        if value is None:
            continue
        unit, end = _unit_after(masked, match.end())
        if match.group(3) and match.group(3).lower() == "one" and unit is None:
            continue  # "one" alone is a pronoun more often than a number
        fact = Fact("number", value, masked[match.start() : end].strip(), unit)
        found.append((match.start(), end, fact))
    for start, end, fact in found:
        facts.append(fact)
        text.masked = text.masked[:start] + "\0" * (end - start) + text.masked[end:]


def _dates_and_times(text: _Text, facts: list[Fact]) -> None:
    def add(kind: str, value: str | None, match: re.Match[str]) -> None:
        if value is not None:
            facts.append(Fact(kind, value, match.group(0).strip()))

    for m in text.take(_ISO_DATE):
        add("date", _iso(int(m[1]), int(m[2]), int(m[3])), m)
    for m in text.take(_MONTH_DAY_YEAR):
        add("date", _iso(int(m[3]), MONTHS[m[1].lower()], int(m[2])), m)
    for m in text.take(_DAY_MONTH_YEAR):
        add("date", _iso(int(m[3]), MONTHS[m[2].lower()], int(m[1])), m)
    for m in text.take(_SLASH_DATE):
        first, second, year = int(m[1]), int(m[2]), int(m[3])
        month, day = (second, first) if first > 12 else (first, second)  # US order unless not
        add("date", _iso(year, month, day), m)
    for m in text.take(_ISO_MONTH):
        add("date", _iso(int(m[1]), int(m[2])), m)
    for m in text.take(_MONTH_YEAR):
        add("date", _iso(int(m[2]), MONTHS[m[1].lower()]), m)
    for m in text.take(_TIME):
        add("time", _clock(int(m[1]), int(m[2]), m[3]), m)
    for m in text.take(_HOUR_AMPM):
        add("time", _clock(int(m[1]), 0, m[2]), m)


def _names(text: _Text, facts: list[Fact]) -> None:
    """Weekdays, then runs of capitalised words (``Rustic Cutting Board``).

    A run loses leading words such as ``The`` or ``In`` and trailing joiners; a run of one
    word that opens a sentence is no name (``Pancakes for 8 servings ...``).
    """
    masked = text.masked
    run: list[tuple[int, int, str]] = []
    opens_sentence = False

    def flush() -> None:
        words = list(run)
        run.clear()
        while words and _fold(words[-1][2]) in NAME_JOINERS:
            words.pop()
        lead_dropped = False
        while words and _fold(words[0][2]) in NAME_STOPWORDS:
            words.pop(0)
            lead_dropped = True
        if not words or (opens_sentence and not lead_dropped and len(words) == 1):
            return
        phrase = masked[words[0][0] : words[-1][1]]
        facts.append(Fact("name", _tokens(phrase), phrase))

    for word in re.finditer(r"[^\s\0]+", masked):
        raw = word.group(0)
        core = raw.strip(_PUNCTUATION)
        folded = _fold(core)
        weekday = folded[:-1] if folded.endswith("s") and folded[:-1] in WEEKDAYS else folded
        if weekday in WEEKDAYS:
            flush()
            facts.append(Fact("weekday", weekday, core))
            continue
        capital = bool(core) and core[0].isupper() and folded not in _UNIT_OF
        if raw[:1] in "([{":
            flush()  # "North Carolina (NC)": two names
        if capital or (run and folded in NAME_JOINERS):
            if not run:
                before = masked[: word.start()].replace("\0", "")
                opens_sentence = not before.strip() or bool(_SENTENCE_END.search(before))
            start = word.start() + raw.index(core) if core else word.start()
            run.append((start, start + len(core), core))
            if raw.rstrip("'’\"”")[-1:] in (".", ",", ";", ":", "!", "?", ")"):
                flush()
        else:
            flush()
    flush()


def extract_facts(text: str) -> tuple[Fact, ...]:
    """The checkable facts ``text`` states, in a fixed order of kinds (see module doc)."""
    source = _Text(text)
    facts: list[Fact] = []
    for m in source.take(_URL):
        url = m.group(0).rstrip("/")
        facts.append(Fact("literal", _tokens(url), url))
    for m in source.take(_QUOTED):
        if m.group(2).strip():
            facts.append(Fact("literal", _tokens(m.group(2)), m.group(2)))
    for m in source.take(_VERSION):
        facts.append(Fact("literal", _tokens(m.group(0).lstrip("v")), m.group(0)))
    _dates_and_times(source, facts)
    for m in source.take(_CODE):
        facts.append(Fact("literal", _tokens(m.group(0)), m.group(0)))
    _numbers(source, facts)
    _names(source, facts)
    unique: dict[tuple[str, object, str | None], Fact] = {}
    for fact in facts:
        if fact.kind in ("name", "literal") and not fact.value:
            continue
        unique.setdefault((fact.kind, fact.value, fact.unit), fact)
    return tuple(unique.values())


# --------------------------------------------------------------------------- comparison


def _contains(haystack: tuple[str, ...], needle: object) -> bool:
    assert isinstance(needle, tuple)
    n = len(needle)
    return n > 0 and any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


def _number_matches(answer: Fact, gold: Fact) -> bool:
    """``answer`` states ``gold``'s value (rounded to the gold's decimals) in a fitting unit."""
    assert isinstance(answer.value, Decimal) and isinstance(gold.value, Decimal)
    generic = answer.unit == "degrees" and gold.unit in TEMPERATURES
    if gold.unit is not None and answer.unit != gold.unit and not generic:
        return False
    quantum = Decimal(1).scaleb(-_places(gold.value))
    try:
        rounded = answer.value.quantize(quantum, rounding=ROUND_HALF_EVEN)
    except InvalidOperation:
        return False
    return rounded == gold.value


def _states(answer_facts: tuple[Fact, ...], tokens: tuple[str, ...], gold: Fact) -> bool:
    if gold.kind in ("name", "literal"):
        return _contains(tokens, gold.value)
    if gold.kind == "number":
        return any(f.kind == "number" and _number_matches(f, gold) for f in answer_facts)
    return any(f.kind == gold.kind and f.value == gold.value for f in answer_facts)


def _contradicts(fact: Fact, gold: tuple[Fact, ...], request: tuple[Fact, ...]) -> bool:
    if fact.kind == "number":
        if fact.unit is None:
            return False
        known = [f for f in (*gold, *request) if f.kind == "number"]
        if any(g.unit == fact.unit and _number_matches(fact, g) for g in gold if g in known):
            return False  # a gold value, in its unit
        if any(r.unit == fact.unit and r.value == fact.value for r in request if r in known):
            return False  # the request's own value, as it was asked
        if any(g.unit == fact.unit for g in gold if g.kind == "number"):
            return True  # another value in a unit the gold uses: "93 EUR" for "92.00 EUR"
        # a gold or requested value in another unit: "2.3 lb" for "2.3 kg", "100 weeks"
        return any(
            f.unit is not None
            and f.value == fact.value
            and not (fact.unit == "degrees" and f.unit in TEMPERATURES)
            for f in known
        )
    if fact.kind in ("date", "time", "weekday"):
        same_kind = [g for g in gold if g.kind == fact.kind]
        if not same_kind or any(g.value == fact.value for g in same_kind):
            return False
        if fact.kind == "date" and any(
            isinstance(g.value, str)
            and isinstance(fact.value, str)
            and (g.value.startswith(fact.value) or fact.value.startswith(g.value))
            for g in same_kind
        ):
            return False  # "2021-01" beside the gold's "2021-01-23"
        return not any(r.kind == fact.kind and r.value == fact.value for r in request)
    return False


def check_answer(answer: str, gold: str, request: str = "") -> FactCheck:
    """Whether ``answer`` states every fact of ``gold``, contradicts none, and is no echo.

    The answer must state the gold facts the request does not already state (``10 miles
    is 16.09 kilometres`` for "How many km is 10 mi?" needs ``16.09 km``, not the ``10
    miles`` asked about); where the request states them all (the gold "The weather in
    Paris"), it must state them all.

    Args:
        answer: the model's final answer.
        gold: the gold final answer.
        request: the user's request; its values never count as contradictions, and an
            answer made of its words that adds no gold fact is an echo.
    """
    gold_facts = extract_facts(gold)
    answer_facts = extract_facts(answer)
    request_facts = extract_facts(request) if request else ()
    request_tokens = _tokens(request)
    new = tuple(g for g in gold_facts if not _states(request_facts, request_tokens, g))
    required = new or gold_facts
    tokens = _tokens(answer)
    missing = tuple(g for g in required if not _states(answer_facts, tokens, g))
    contradicting = tuple(f for f in answer_facts if _contradicts(f, gold_facts, request_facts))
    return FactCheck(required, missing, contradicting, _echoes(answer, request, gold, gold_facts))


def _echoes(answer: str, request: str, gold: str, gold_facts: tuple[Fact, ...]) -> bool:
    """Whether ``answer`` repeats the request.

    At least :data:`ECHO_SHARE` of its words are the request's, and it adds nothing of
    the gold's: no gold fact and no gold word that the request lacks.
    """
    words, asked = _tokens(answer), set(_tokens(request))
    if not words or not asked:
        return False
    if sum(word in asked for word in words) / len(words) < ECHO_SHARE:
        return False
    if (set(_tokens(gold)) - asked) & set(words):
        return False  # "... were: drizzle": the gold's own word, not the request's
    request_facts, request_tokens = extract_facts(request), _tokens(request)
    answer_facts = extract_facts(answer)
    new = [g for g in gold_facts if not _states(request_facts, request_tokens, g)]
    return not any(_states(answer_facts, words, g) for g in new)


def answer_passes(
    answer: str,
    gold: str,
    request: str,
    similarity: Callable[[str, str], float],
) -> AnswerVerdict:
    """The responder's pass on ``answer``.

    The fact check (:func:`check_answer`), or cosine ≥ :data:`COSINE_FALLBACK` where the
    gold states no facts; never an echo. ``similarity`` gives the cosine (MiniLM), which
    is also recorded as a secondary metric.
    """
    check = check_answer(answer, gold, request)
    cosine = similarity(answer, gold)
    fallback = not check.echo and cosine >= COSINE_FALLBACK
    passed = check.passed if check.facts else fallback
    values = {"cosine": cosine}
    if check.facts:
        values["fact_recall"] = check.recall
    return AnswerVerdict(passed, check, cosine, values)
