"""Tool sets: the spec in project and coalition files, Python tools, replay, the combined set."""

from __future__ import annotations

import json
import textwrap
import uuid
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from rolecast.errors import ConfigError
from rolecast.export import load_coalition, write_coalition
from rolecast.project import load_project
from rolecast.tools import NO_RECORDED_RESULT, ToolsSpec, open_tools
from rolecast.types import ToolCase

WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Current temperature of a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}
TOOLS_MODULE = '''
from rolecast.tools import tool

TEMPERATURES = {"berlin": 5, "paris": 12}


@tool({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]})
def get_weather(city):
    """Current temperature of a city.

    More text that is not part of the description.
    """
    if city.lower() not in TEMPERATURES:
        raise KeyError(city)
    return {"city": city, "temp_c": TEMPERATURES[city.lower()]}


def add_agenda(title, day):
    return {"added": title, "day": day}


TOOLS = [
    get_weather,
    (
        {
            "name": "AddAgenda",
            "description": "Add an agenda item.",
            "parameters": {
                "type": "object",
                "properties": {"title": {"type": "string"}, "day": {"type": "string"}},
                "required": ["title", "day"],
            },
        },
        add_agenda,
    ),
]
'''


def write_module(folder: Path, body: str) -> str:
    """A uniquely named module in ``folder``; its name (modules stay imported)."""
    name = f"user_tools_{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.py").write_text(textwrap.dedent(body), encoding="utf-8")
    return name


def weather_case(**extra) -> ToolCase:
    data = {
        "id": "w-1",
        "instruction": "And in Berlin?",
        "tools": [WEATHER_TOOL],
        "history": [
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "tool", "tool": "get_weather", "arguments": {"city": "Paris"},
             "observation": {"temp_c": 12}},
            {"role": "assistant", "content": "12 °C."},
        ],
        "steps": [{"tool": "get_weather", "arguments": {"city": "Berlin"},
                   "observation": {"temp_c": 5}}],
        "answer": "5 °C in Berlin.",
    }  # fmt: skip
    return ToolCase.model_validate({**data, **extra})


# --- the spec ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kinds"),
    [
        ("builtin", ["builtin"]),
        ("replay", ["replay"]),
        ("shop.tools:TOOLS", ["python"]),
        ({"kind": "mcp", "url": "http://127.0.0.1:1/mcp"}, ["mcp"]),
        (["shop.tools:TOOLS", {"kind": "mcp", "command": "srv"}, "replay"],
         ["python", "mcp", "replay"]),
    ],
)  # fmt: skip
def test_shorthands_and_lists(value, kinds):
    assert [s.kind for s in ToolsSpec.parse(value).sources] == kinds


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("shop.tools", "use 'builtin', 'replay', 'package.module:ATTRIBUTE'"),
        ("shop tools:TOOLS", "must be 'package.module:ATTRIBUTE'"),
        ({"kind": "mcp"}, "exactly one of 'command'"),
        ({"kind": "mcp", "command": "a", "url": "http://x/mcp"}, "exactly one of 'command'"),
        ({"kind": "mcp", "url": "ftp://x"}, "must start with http"),
        ({"kind": "mcp", "url": "http://x/mcp", "args": ["a"]}, "are for a stdio server"),
        ({"kind": "python", "module": "a:B", "paht": "."}, "paht"),
        (["builtin", "builtin"], "listed twice"),
        ([], "at least 1"),
    ],
)
def test_invalid_specs_say_what_to_fix(value, problem):
    with pytest.raises(ValidationError, match=problem):
        ToolsSpec.parse(value)


def test_project_tools_are_relative_to_the_project_file(tmp_path, monkeypatch):
    project = tmp_path / "proj"
    name = write_module(project / "lib", TOOLS_MODULE)
    (project / "rolecast.yaml").write_text(
        yaml.safe_dump(
            {
                "tools": [
                    {"kind": "python", "module": f"{name}:TOOLS", "path": "lib"},
                    {"kind": "mcp", "command": "python", "args": ["server.py"]},
                ],
                "candidates": [{"name": "s", "backend": "scripted", "model": "s"}],
            }
        ),
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)  # elsewhere than the project
    config, _ = load_project(project / "rolecast.yaml")
    python, mcp = config.tools.sources
    assert Path(python.path) == (project / "lib").resolve()
    assert Path(mcp.cwd) == project.resolve()  # the folder left out: the project's own
    # written next to a coalition elsewhere, the folders are relative to it
    moved = config.tools.relative_to(tmp_path / "out")
    assert moved.sources[0].path == "../proj/lib"
    assert moved.sources[1].cwd == "../proj"


def test_a_coalition_records_its_tools_and_old_files_still_load(tmp_path):
    from test_agent import coalition

    project = tmp_path / "proj"
    name = write_module(project, TOOLS_MODULE)
    spec = ToolsSpec.parse([f"{name}:TOOLS", "replay"]).resolved(project)
    config = coalition().model_copy(update={"tools": spec})
    path = write_coalition(config, tmp_path / "out" / "coalition.yaml")
    written = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert written["tools"] == [
        {"kind": "python", "module": f"{name}:TOOLS", "path": "../proj"},
        {"kind": "replay"},
    ]
    loaded = load_coalition(path)
    assert Path(loaded.tools.sources[0].path) == project.resolve()
    with open_tools(loaded.tools) as toolset:
        assert [t.name for t in toolset.tools()] == ["get_weather", "AddAgenda"]
    # a coalition written before tools were structured says `tools: builtin`
    old = {**written, "tools": "builtin"}
    (tmp_path / "old.yaml").write_text(yaml.safe_dump(old), encoding="utf-8")
    assert [s.kind for s in load_coalition(tmp_path / "old.yaml").tools.sources] == ["builtin"]
    bad = {**written, "tools": [{"kind": "python", "module": "nocolon"}]}
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(bad), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"package\.module:ATTRIBUTE"):
        load_coalition(tmp_path / "bad.yaml")


# --- Python tools --------------------------------------------------------------------------


def test_python_tools_are_listed_and_called(tmp_path):
    name = write_module(tmp_path, TOOLS_MODULE)
    with open_tools(f"{name}:TOOLS", base_dir=tmp_path) as toolset:
        weather, agenda = toolset.tools()
        assert weather.name == "get_weather"
        assert weather.description == "Current temperature of a city."
        assert weather.parameters["required"] == ["city"]
        assert agenda.name == "AddAgenda"
        assert toolset.call("get_weather", {"city": "Berlin"}) == {"city": "Berlin", "temp_c": 5}
        assert toolset.call("AddAgenda", {"title": "dentist", "day": "Mon"}) == {
            "added": "dentist",
            "day": "Mon",
        }
        with pytest.raises(ValueError, match="invalid arguments: 'city' is a required"):
            toolset.call("get_weather", {})
        with pytest.raises(ValueError, match="city: 3 is not of type 'string'"):
            toolset.call("get_weather", {"city": 3})
        with pytest.raises(ValueError, match="get_weather: KeyError: 'Rome'"):
            toolset.call("get_weather", {"city": "Rome"})  # the function refused
        with pytest.raises(ValueError, match="unknown tool 'nope'"):
            toolset.call("nope", {})


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("TOOLS = []", "expected a non-empty list of tools"),
        ("TOOLS = 'get_weather'", "expected a non-empty list of tools, got str"),
        ("OTHER = 1", "has no TOOLS"),
        ("import not_a_module_anywhere\nTOOLS = []", "cannot import .*ModuleNotFoundError"),
        ("def f(x):\n    pass\nTOOLS = [f]", r"\[0\]: function 'f' has no 'parameters'"),
        ("def f(x):\n    pass\nf.parameters = {'x': {'type': 'string'}}\nTOOLS = [f]",
         r"\[0\]: parameters must be a JSON Schema of type object .*got \['x'\]"),
        ("def f(x):\n    pass\nf.parameters = {'type': 'array'}\nTOOLS = [f]",
         r"\[0\]: parameters must be a JSON Schema of type object"),
        ("def f(x):\n    pass\nf.parameters = {'type': 'object', 'required': 3}\nTOOLS = [f]",
         r"\[0\]: parameters: parameters are not valid JSON Schema"),
        ("TOOLS = [({'name': 'f', 'parameters': {'type': 'object'}}, 42)]", "int is not callable"),
        ("def f():\n    pass\nf.parameters = {'type': 'object'}\nTOOLS = [f, f]",
         r"tool names must be unique; \['f'\]"),
        ("TOOLS = [({'name': 'bad name', 'parameters': {'type': 'object'}}, print)]",
         "must be an identifier"),
    ],
)  # fmt: skip
def test_python_tools_are_checked_when_loaded(tmp_path, body, problem):
    name = write_module(tmp_path, body)
    with pytest.raises(ConfigError, match=problem):
        open_tools(f"{name}:TOOLS", base_dir=tmp_path)


def test_a_module_of_the_same_name_imported_from_elsewhere_is_an_error(tmp_path):
    name = write_module(tmp_path / "a", TOOLS_MODULE)
    open_tools(f"{name}:TOOLS", base_dir=tmp_path / "a").close()
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / f"{name}.py").write_text(TOOLS_MODULE, encoding="utf-8")
    with pytest.raises(ConfigError, match=f"a module '{name}' is already imported from"):
        open_tools(f"{name}:TOOLS", base_dir=tmp_path / "b")


def test_a_missing_module_folder_is_one_line(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        open_tools({"kind": "python", "module": "m:TOOLS", "path": "nowhere"}, base_dir=tmp_path)


# --- replay --------------------------------------------------------------------------------


def test_replay_answers_equal_calls_and_only_those():
    case = weather_case(
        tools=[{**WEATHER_TOOL, "parameters": {"type": "object", "properties": {
            "city": {"type": "string"}, "days": {"type": "number"},
            "metric": {"type": "boolean"}}}}],
        steps=[{"tool": "get_weather", "arguments": {"city": "Berlin", "days": 2, "metric": True},
                "observation": {"temp_c": 5}}],
    )  # fmt: skip
    with open_tools("replay") as toolset:
        assert [t.name for t in toolset.tools(case)] == ["get_weather"]
        # equal as JSON values: key order and 2 vs 2.0 do not matter
        recorded = {"metric": True, "days": 2.0, "city": "Berlin"}
        assert toolset.call("get_weather", recorded, case) == {"temp_c": 5}
        # the earlier turn's call is recorded too
        assert toolset.call("get_weather", {"city": "Paris"}, case) == {"temp_c": 12}
        for other in (
            {"city": "Berlin", "days": 2, "metric": 1},  # 1 is not true
            {"city": "berlin", "days": 2, "metric": True},
            {"city": "Berlin", "days": 2},
            {"city": "Berlin", "days": "2", "metric": True},
        ):
            answer = toolset.call("get_weather", other, case)
            assert isinstance(answer, dict) and answer["error"].startswith(NO_RECORDED_RESULT)
            assert "temp_c" not in json.dumps(answer)  # the recording is not leaked
        with pytest.raises(ConfigError, match="recorded cases only"):
            toolset.tools(None)


def test_a_call_recorded_twice_gets_its_results_in_order():
    steps = [
        {"tool": "get_weather", "arguments": {"city": "Berlin"}, "observation": {"temp_c": t}}
        for t in (5, 6)
    ]
    case = weather_case(steps=steps)
    with open_tools("replay") as toolset:
        answers = [toolset.call("get_weather", {"city": "Berlin"}, case) for _ in range(3)]
    assert answers == [{"temp_c": 5}, {"temp_c": 6}, {"temp_c": 6}]


# --- the combined tool set -----------------------------------------------------------------


def test_a_case_runs_with_the_live_tools_and_replay_answers_the_rest(tmp_path):
    name = write_module(
        tmp_path,
        TOOLS_MODULE.replace("TOOLS = [\n    get_weather,", "TOOLS = [\n"),  # AddAgenda only
    )
    case = weather_case(tools=[WEATHER_TOOL, {"name": "AddAgenda", "parameters": {}}])
    with open_tools([f"{name}:TOOLS", "replay"], base_dir=tmp_path) as toolset:
        agenda, weather = sorted(toolset.tools(case), key=lambda t: t.name)
        assert agenda.parameters["required"] == ["title", "day"]  # the live definition
        assert weather == case.tool("get_weather")
        assert toolset.call("get_weather", {"city": "Berlin"}, case) == {"temp_c": 5}
        assert toolset.call("AddAgenda", {"title": "a", "day": "b"}, case)["added"] == "a"


def test_a_case_whose_gold_tool_no_source_provides_is_one_line():
    case = weather_case(
        tools=[{"name": "AddAgenda", "parameters": {}}],
        history=[],
        steps=[{"tool": "AddAgenda", "arguments": {}}],
    )
    with open_tools("builtin") as toolset:
        assert toolset.missing(case) == ["AddAgenda"]
        with pytest.raises(ConfigError, match=r"calls AddAgenda, which the tools \(builtin\)"):
            toolset.tools(case)


def test_tool_names_must_be_unique_across_sources(tmp_path):
    name = write_module(
        tmp_path,
        "from rolecast.tools import tool\n"
        "@tool({'type': 'object', 'properties': {}})\n"
        "def convert_units():\n    pass\n"
        "TOOLS = [convert_units]\n",
    )
    with pytest.raises(ConfigError, match="'convert_units' is provided by both builtin"):
        open_tools(["builtin", f"{name}:TOOLS"], base_dir=tmp_path)


def test_a_valid_tool_schema_is_checked_once_and_an_invalid_one_every_time(monkeypatch):
    """Cases repeat their tools: a schema already found valid is not checked again."""
    import jsonschema

    from rolecast.types import Tool

    checked: list[object] = []
    original = jsonschema.Draft202012Validator.check_schema

    def counted(schema):
        checked.append(schema)
        return original(schema)

    monkeypatch.setattr(jsonschema.Draft202012Validator, "check_schema", counted)
    params = {"type": "object", "properties": {"n": {"type": "integer"}}, "x-id": uuid.uuid4().hex}
    Tool(name="f", parameters=params)
    Tool(name="g", parameters=json.loads(json.dumps(params)))  # equal, another object
    assert len(checked) == 1
    bad = {**params, "required": 3}
    for _ in range(2):
        with pytest.raises(ValidationError, match="not valid JSON Schema at required"):
            Tool(name="f", parameters=bad)
    assert len(checked) == 3
    # a value JSON cannot tell from a valid one (a tuple for an array) is checked each time
    odd = {**params, "required": ("n",)}
    for _ in range(2):
        with pytest.raises(ValidationError, match="not valid JSON Schema"):
            Tool(name="f", parameters=odd)
    assert len(checked) == 5
