"""`rolecast run` with the project's tools: the docs example's Python tools and MCP server."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from _helpers import cli, require
from test_agent import coalition

from rolecast.export import load_coalition, write_coalition
from rolecast.project import load_project
from rolecast.tools import ToolsSpec
from rolecast.types import Candidate

require("mcp", "mcp")

EXAMPLE = Path(__file__).parents[1] / "docs" / "examples" / "weather-agent"


def scripted_coalition(tmp_path: Path, outputs: list[str], tools=None) -> Path:
    """A coalition whose one scripted model gives ``outputs``, with the example's tools."""
    project, _ = load_project(EXAMPLE / "rolecast.yaml")
    config = coalition(pipeline=("planner", "caller", "responder"))
    model = Candidate(name="s", backend="scripted", model="s", options={"outputs": outputs})
    provenance = config.provenance.model_copy(update={"cases": str(EXAMPLE / "cases.yaml")})
    config = config.model_copy(
        update={
            "candidates": {"s": model},
            "tools": project.tools if tools is None else ToolsSpec.parse(tools),
            "provenance": provenance,
        }
    )
    return write_coalition(config, tmp_path / "coalition.yaml")


def test_the_example_project_records_python_and_mcp_tools(tmp_path):
    path = scripted_coalition(tmp_path, [])
    kinds = [source.kind for source in load_coalition(path).tools.sources]
    assert kinds == ["python", "mcp"]


def test_run_calls_the_python_and_the_mcp_tools(tmp_path, monkeypatch, capsys):
    path = scripted_coalition(
        tmp_path,
        [
            '{"action": "get_weather"}',
            '{"city": "Berlin"}',
            '{"action": "add_agenda"}',
            '{"title": "buy gloves", "day": "Friday"}',
            '{"action": "finish"}',
            "It is 5 °C in Berlin; gloves are on Friday's agenda.",
        ],
    )
    monkeypatch.chdir(tmp_path)  # the tools are found from the coalition, not the cwd
    code, out, err = cli(
        monkeypatch,
        capsys,
        "run",
        str(path),
        "Berlin weather, and gloves on Friday",
        "--no-progress",
    )
    assert code == 0, err
    assert "tools: python:agenda_tools:TOOLS + mcp:python weather_server.py" in out
    assert 'tool:get_weather: {"city":"Berlin","temp_c":5}' in out  # from the MCP server
    assert 'tool:add_agenda: {"added":"buy gloves","day":"Friday","items":' in out  # Python
    assert "stopped: finish" in out


def test_a_user_case_against_tools_that_lack_it_is_one_line(tmp_path, monkeypatch, capsys):
    path = scripted_coalition(tmp_path, [], tools="builtin")
    code, _, err = cli(monkeypatch, capsys, "run", str(path), "--case", "agenda-dentist")
    assert code == 2
    assert "case 'agenda-dentist' calls add_agenda, which the tools (builtin) do not provide" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.slow
def test_a_case_with_history_runs_from_the_coalitions_case_source(tmp_path, monkeypatch, capsys):
    require("sentence_transformers", "hf")  # the judge's MiniLM
    path = scripted_coalition(
        tmp_path,
        ['{"action": "get_weather"}', '{"city": "Berlin"}', '{"action": "finish"}',
         "It is 5 °C in Berlin."],
    )  # fmt: skip
    code, out, err = cli(
        monkeypatch, capsys, "run", str(path), "--case", "weather-followup", "--no-progress"
    )
    assert code == 0, err
    assert "instruction: And in Berlin?" in out
    assert "'procedural': True" in out and "'success': True" in out


def test_replay_runs_a_recorded_case_without_the_real_tools(tmp_path, monkeypatch, capsys):
    path = scripted_coalition(
        tmp_path,
        ['{"action": "add_agenda"}', '{"title": "dentist", "day": "Tuesday"}',
         '{"action": "finish"}', "Done."],
    )  # fmt: skip
    # not the subject here: the answer's cosine (MiniLM) is taken as 0
    monkeypatch.setattr(
        "rolecast.profiles.embeddings.default_embedder",
        lambda: SimpleNamespace(similarity=lambda a, b: 0.0),
    )
    code, out, err = cli(
        monkeypatch, capsys, "run", str(path), "--case", "agenda-dentist", "--tools", "replay",
        "--no-progress",
    )  # fmt: skip
    assert code == 0, err
    assert "tools: replay" in out
    out = " ".join(out.split())  # rich wraps long lines
    assert "no recorded result for add_agenda" in out  # Tuesday was not recorded: no answer
    assert "'procedural': False" in out
