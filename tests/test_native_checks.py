"""Native case files that load but cannot be right (issue 11, fault 5).

Tool parameters without the JSON Schema wrapper, gold arguments that do not fit their
tool's schema, ``subset:`` on a native file, and a relative ``cases:`` path: each is
reported by ``rolecast cases`` (a skip with its reason) and failed by ``--strict``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from _helpers import cli
from pydantic import ValidationError

from rolecast.profiles.loaders.native import load_native
from rolecast.project import load_project
from rolecast.types import Tool
from rolecast.workflow import select_cases

TOKEN_PARAMETERS = {
    "type": "object",
    "properties": {"username": {"type": "string"}, "password": {"type": "string"}},
    "required": ["username", "password"],
}


def _case(case_id: str, *, parameters: Any = None, arguments: Any = None, tags=()) -> dict:
    return {
        "id": case_id,
        "instruction": "My username is foo and my password is bar; log me in.",
        "tools": [
            {"name": "GetUserToken", "parameters": parameters or TOKEN_PARAMETERS},
            {
                "name": "SetDevice",
                "parameters": {"type": "object", "properties": {"name": {"type": "string"}}},
            },
        ],
        "steps": [
            {
                "tool": "GetUserToken",
                "arguments": arguments or {"username": "foo", "password": "bar"},
            }
        ],
        "tags": list(tags),
    }


def _write(path: Path, cases: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(case) for case in cases) + "\n")
    return path


def _project(folder: Path, cases: str, subset: int | None = None) -> Path:
    path = folder / "project.yaml"
    path.write_text(
        f"cases: {json.dumps(cases)}\n"
        + (f"subset: {subset}\n" if subset else "")
        + "pipeline: [planner, caller, responder]\n"
        "candidates: [{name: a, backend: scripted, model: a}]\n"
    )
    return path


def test_parameters_without_the_schema_wrapper_are_rejected():
    with pytest.raises(ValidationError, match=r"bare properties mapping.*'username', 'password'"):
        Tool(
            name="GetUserToken",
            parameters={"username": {"type": "string"}, "password": {"type": "string"}},
        )
    with pytest.raises(ValidationError, match=r"bare properties mapping.*'username'"):
        Tool(name="t", parameters={"type": "object", "username": {"type": "string"}})
    # keywords, annotations and vendor extensions are not properties
    Tool(
        name="t",
        parameters={
            **TOKEN_PARAMETERS,
            "$defs": {"x": {"type": "string"}},
            "x-vendor": {"note": "kept"},
            "title": "Token",
        },
    )


def test_unwrapped_parameters_are_a_skip_with_the_reason(tmp_path):
    file = _write(
        tmp_path / "cases.jsonl",
        [
            _case("ok"),
            _case(
                "bare",
                parameters={"username": {"type": "string"}, "password": {"type": "string"}},
                arguments={"username": "foo", "password": "bar"},
            ),
        ],
    )
    result = load_native(file)
    assert [c.id for c in result.cases] == ["ok"]
    (skipped,) = result.skipped
    assert str(skipped).startswith("cases.jsonl:2: ")
    assert "bare properties mapping" in skipped.reason and "type: object" in skipped.reason


def test_gold_arguments_are_checked_against_the_tool_schema(tmp_path):
    case = _case("undeclared")
    case["steps"] = [{"tool": "SetDevice", "arguments": {"device_id": "d-1"}}]
    wrong_type = _case("wrong-type", arguments={"username": "foo", "password": 7})
    missing = _case("missing", arguments={"username": "foo"})
    file = _write(tmp_path / "cases.jsonl", [_case("ok"), case, wrong_type, missing])
    result = load_native(file)
    assert [c.id for c in result.cases] == ["ok"]
    reasons = [str(s) for s in result.skipped]
    assert reasons[0] == (
        "cases.jsonl:2: gold step 0 (SetDevice): argument 'device_id' is not among the "
        "tool's parameters ['name']; the caller can never pass"
    )
    assert reasons[1].startswith("cases.jsonl:3: gold step 0 (GetUserToken): at 'password': ")
    assert "'password' is a required property" in reasons[2]


def _tagged(n_per_tag: int) -> list[dict]:
    cases = []
    for i in range(n_per_tag):
        for tag in ("login", "device", "profile"):
            cases.append(_case(f"{tag}-{i}", tags=[tag]))
    # the file lists all of one tag first, as a converted benchmark often does
    return sorted(cases, key=lambda c: c["tags"][0])


def test_subset_of_a_native_file_is_tag_balanced(tmp_path):
    _write(tmp_path / "cases.jsonl", _tagged(4))
    project, _ = load_project(_project(tmp_path, "cases.jsonl", subset=6))
    chosen = select_cases(project).profile
    assert len(chosen) == 6
    assert sorted(tag for c in chosen for tag in c.tags) == sorted(
        ["device", "login", "profile"] * 2
    )
    order = [c["id"] for c in sorted(_tagged(4), key=lambda c: c["tags"][0])]
    assert [c.id for c in chosen] == sorted((c.id for c in chosen), key=order.index)


def test_relative_cases_path_resolves_against_the_project_file(tmp_path, monkeypatch):
    folder = tmp_path / "proj"
    folder.mkdir()
    _write(folder / "cases.jsonl", [_case("ok")])
    config = _project(folder, "cases.jsonl")
    monkeypatch.chdir(tmp_path)  # not the project's folder
    project, _ = load_project(config)
    assert Path(project.cases) == folder / "cases.jsonl"
    assert [c.id for c in select_cases(project).profile] == ["ok"]
    (folder / "data").mkdir()
    (folder / "data" / "x.json").write_text("[]")
    prefixed, _ = load_project(_project(folder, "bfcl:data/x.json"))
    assert prefixed.cases == f"bfcl:{folder / 'data' / 'x.json'}"
    absolute, _ = load_project(_project(folder, str(folder / "cases.jsonl")))
    assert absolute.cases == str(folder / "cases.jsonl")
    assert load_project(_project(folder, "builtin"))[0].cases == "builtin"


def test_cases_command_reports_each_problem_and_strict_fails(tmp_path, monkeypatch, capsys):
    good = [_case(f"ok-{i}") for i in range(3)]
    bare = _case("bare", parameters={"username": {"type": "string"}})
    undeclared = _case("undeclared")
    undeclared["steps"] = [{"tool": "SetDevice", "arguments": {"device_id": "d-1"}}]
    _write(tmp_path / "cases.jsonl", [*good, bare, undeclared])
    config = _project(tmp_path, "cases.jsonl")
    code, out, _ = cli(monkeypatch, capsys, "cases", "-c", str(config))
    assert code == 0
    skipped = [line for line in out.splitlines() if line.startswith("skipped ")]
    assert len(skipped) == 2
    assert "cases.jsonl:4: " in skipped[0] and "bare properties mapping" in skipped[0]
    assert "cases.jsonl:5: " in skipped[1] and "'device_id'" in skipped[1]
    code, out, _ = cli(monkeypatch, capsys, "cases", "-c", str(config), "--format", "json")
    assert json.loads(out)["loaded"] == 3 and len(json.loads(out)["skipped"]) == 2
    code, _, _ = cli(monkeypatch, capsys, "cases", "-c", str(config), "--strict")
    assert code == 1
    # profiling a native file with problems is refused, with the first problem
    code, _, err = cli(monkeypatch, capsys, "profile", "-c", str(config), "--no-progress")
    assert code == 2 and "bare properties mapping" in err and "(and 1 more)" in err
