"""Case loaders: public tool-use data sets and native files turned into :class:`ToolCase`.

The contract every loader keeps:

* It returns a :class:`LoadResult`: the cases it built, and one :class:`Skipped` entry
  for every record it could not use, with a reason that names the file and the record.
  Nothing is dropped silently; facts about the load that are not skips (how many
  observations were attached, what was normalised) go in ``notes``.
* A benchmark file that is truncated or broken part-way keeps the complete records
  before the break; the break is a skip naming the file, the record and the line
  (:func:`rolecast.config.load_json_records`). A whole-file problem (missing file, broken
  before its first record, the wrong top-level shape) raises
  :class:`~rolecast.errors.ConfigError` naming the file. Native case files are the
  project's own and strict: their first problem is the error.
* Cases are held out: a loader never feeds them to prompt writing or few-shot examples.

:func:`load_cases` picks the loader from a spec string:

=====================================  ================================================
``builtin``                            rolecast's own suite (:mod:`rolecast.suite`)
``toolalpaca:PATH``                    ToolAlpaca ``eval_*.json`` file, or a folder of
                                       them; ``ibm_dir=DIR`` adds the IBM coalition
                                       study's answers and recorded observations
``bfcl:PATH``                          a BFCL v4 ``BFCL_v4_<category>.json`` file, or a
                                       folder of them (answers from ``possible_answer/``)
``jsonrag:PATH``                       IBM JSON-RAG ``testcases_orig.json``
``PATH.yaml|.yml|.json|.jsonl``        native ToolCase records
=====================================  ================================================
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rolecast.errors import ConfigError

if TYPE_CHECKING:
    from rolecast.types import ToolCase

__all__ = ["FORMATS", "MALFORMED", "LoadResult", "Skipped", "load_cases", "malformed"]

FORMATS = ("builtin", "toolalpaca", "bfcl", "jsonrag")
"""Spec prefixes :func:`load_cases` knows; anything else must be a native file path."""

NATIVE_SUFFIXES = (".yaml", ".yml", ".json", ".jsonl")

MALFORMED = (TypeError, AttributeError, KeyError, IndexError)
"""What walking a record of a shape nobody foresaw raises: the record is skipped with
:func:`malformed` as the reason, and the rest of the file still loads."""


def malformed(exc: Exception) -> str:
    """The skip reason for a record of unexpected shape."""
    return f"unexpected record structure ({type(exc).__name__}: {exc})"


@dataclass(frozen=True)
class Skipped:
    """A source record a loader could not turn into a case, and why.

    ``record`` locates it (``"eval_real.json: API 'Cataas' instruction 3"``,
    ``"cases.jsonl:7"``); ``reason`` says what is wrong with it. ``str()`` joins both
    into the one-line message a user sees.
    """

    source: str
    record: str
    reason: str

    def __str__(self) -> str:
        return f"{self.record}: {self.reason}"


@dataclass(frozen=True)
class LoadResult:
    """What a loader produced: the cases, the records it skipped, and notes on the load."""

    cases: list[ToolCase]
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __add__(self, other: LoadResult) -> LoadResult:
        return LoadResult(
            self.cases + other.cases, self.skipped + other.skipped, self.notes + other.notes
        )


def load_cases(spec: str, **options: Any) -> LoadResult:
    """Load the cases a spec string names (see the module docstring for the syntax).

    Args:
        spec: ``builtin``, ``<format>:<path>`` or a path to a native case file.
        **options: loader options; only ``toolalpaca`` takes one (``ibm_dir``).

    Raises:
        ConfigError: unknown format, an option the loader does not take, or a file
            that cannot be read as a whole.
    """
    kind, _, rest = spec.partition(":")
    if spec == "builtin":
        _no_options("builtin", options)
        from rolecast.suite import build_suite  # lazily: only a builtin spec needs the suite

        return LoadResult(list(build_suite()))
    if kind in FORMATS and rest:
        path = Path(rest).expanduser()
        if kind == "toolalpaca":
            from rolecast.profiles.loaders.toolalpaca import load_toolalpaca

            unknown = sorted(set(options) - {"ibm_dir"})
            if unknown:
                raise ConfigError(f"toolalpaca: unknown option(s) {unknown}; allowed: ibm_dir")
            ibm_dir = options.get("ibm_dir")
            return load_toolalpaca(path, ibm_dir=Path(ibm_dir) if ibm_dir else None)
        _no_options(kind, options)
        if kind == "bfcl":
            from rolecast.profiles.loaders.bfcl import load_bfcl

            return load_bfcl(path)
        if kind == "jsonrag":
            from rolecast.profiles.loaders.jsonrag import load_jsonrag

            return load_jsonrag(path)
        raise ConfigError(f"{spec}: the '{kind}' format takes no path")  # builtin:PATH
    close = difflib.get_close_matches(kind, FORMATS, n=1) if rest else []
    if Path(spec).suffix.lower() in NATIVE_SUFFIXES and (not close or Path(spec).exists()):
        _no_options("native files", options)
        from rolecast.profiles.loaders.native import load_native

        return load_native(Path(spec).expanduser())
    hint = f" (did you mean '{close[0]}:{rest}'?)" if close else ""
    raise ConfigError(
        f"{spec!r} is not a case source{hint}; use 'builtin', "
        f"'toolalpaca:PATH', 'bfcl:PATH', 'jsonrag:PATH' or a path to a "
        f"{'/'.join(NATIVE_SUFFIXES)} file of cases"
    )


def _no_options(kind: str, options: dict[str, Any]) -> None:
    if options:
        raise ConfigError(f"{kind}: takes no options (got {sorted(options)})")
