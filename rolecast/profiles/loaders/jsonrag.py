"""IBM JSON-RAG test cases (``ibm_coalitions/testcases_orig.json``) for the extractor role.

The file is ``{"testcases": [{"api", "api_cases": [{"input", "expected_output"}]}]}``:
per API, questions and the dotted field paths (list indices omitted) that answer them.
**It holds no API responses.** So each case is built to profile the extractor honestly
on what the data does give:

* one :class:`Tool` named after the API, with no parameters;
* one :class:`GoldStep` whose ``evidence`` is the question's expected paths and whose
  ``observation`` is a JSON *skeleton*: the union of every expected path seen for that
  API, as nested objects with ``null`` leaves. The extractor chooses, among the fields
  the API is known to return, the ones that answer the question; evidence recall is
  meaningful, size reduction is relative to the skeleton, not to a real response.

Cases: id ``jsonrag/<api>/<index>``, tags ``jsonrag`` and ``skeleton`` (the observation
is synthetic), split ``profile``. A case with no expected path, or a path the skeleton
cannot hold, is skipped with the reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from rolecast.config import describe_validation_error, load_json_records
from rolecast.errors import ConfigError
from rolecast.profiles.loaders import LoadResult, Skipped
from rolecast.types import GoldStep, Tool, ToolCase

__all__ = ["load_jsonrag", "skeleton"]

SOURCE = "jsonrag"
NOTE = (
    "{file}: the JSON-RAG data set holds no API responses; each case's observation is a "
    "skeleton built from the union of the expected field paths of its API (null leaves), "
    "so the extractor chooses among the API's known fields (tagged 'skeleton')"
)


def load_jsonrag(path: str | Path) -> LoadResult:
    """Load ``testcases_orig.json``.

    Raises:
        ConfigError: the file is missing, broken before its first testcase, or has no
            ``testcases`` list.
    """
    path = Path(path)
    data, broken = load_json_records(path, key="testcases")
    if not isinstance(data, dict) or not isinstance(data.get("testcases"), list):
        raise ConfigError(f"{path}: expected {{'testcases': [...]}} (IBM JSON-RAG format)")
    cases: list[ToolCase] = []
    skipped: list[Skipped] = []
    for number, group in enumerate(data["testcases"]):
        api = group.get("api") if isinstance(group, dict) else None
        entries = group.get("api_cases") if isinstance(group, dict) else None
        if not isinstance(api, str) or not isinstance(entries, list):
            where = f"{path.name}: testcase {number}"
            skipped.append(Skipped(SOURCE, where, "needs 'api' (str) and 'api_cases' (list)"))
            continue
        paths = [
            p
            for entry in entries
            if isinstance(entry, dict) and isinstance(entry.get("expected_output"), list)
            for p in entry["expected_output"]
            if isinstance(p, str) and p
        ]
        shape = skeleton(paths)
        for index, entry in enumerate(entries):
            where = f"{path.name}: API {api!r} case {index}"
            problem = _problem(entry)
            if problem:
                skipped.append(Skipped(SOURCE, where, problem))
                continue
            try:
                cases.append(
                    ToolCase(
                        id=f"jsonrag/{api}/{index}",
                        instruction=entry["input"],
                        tools=[Tool(name=api, description=f"The {api} API (JSON response).")],
                        steps=[
                            GoldStep(tool=api, observation=shape, evidence=entry["expected_output"])
                        ],
                        source=SOURCE,
                        tags=[SOURCE, "skeleton"],
                    )
                )
            except ValidationError as exc:
                skipped.append(Skipped(SOURCE, where, describe_validation_error(exc, ToolCase)))
    if broken is not None:
        skipped.append(Skipped(SOURCE, f"{path.name}: testcase {broken.index}", broken.reason))
    return LoadResult(cases, skipped, [NOTE.format(file=path.name)])


def _problem(entry: Any) -> str | None:
    if not isinstance(entry, dict) or not isinstance(entry.get("input"), str):
        return "no 'input' question"
    if not entry["input"].strip():
        return "empty 'input' question"
    expected = entry.get("expected_output")
    if not isinstance(expected, list) or not expected:
        return "no 'expected_output' paths"
    if not all(isinstance(p, str) and p and "" not in p.split(".") for p in expected):
        return f"'expected_output' has a malformed path: {expected!r}"
    return None


def skeleton(paths: list[str]) -> dict[str, Any]:
    """Nested objects holding every dotted path, with ``None`` leaves.

    A path that is a prefix of another (``meta`` and ``meta.species``) becomes an object.
    """
    root: dict[str, Any] = {}
    for path in paths:
        node = root
        *parents, leaf = path.split(".")
        for key in parents:
            child = node.get(key)
            if not isinstance(child, dict):
                child = node[key] = {}
            node = child
        node.setdefault(leaf, None)
    return root
