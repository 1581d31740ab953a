"""`rolecast search --format json` against its published schema, --top, --gpus, --no-progress."""

from __future__ import annotations

import json

import jsonschema
import pytest
from _helpers import cli

from rolecast.schemas import json_schema

PROJECT = """
cases: builtin
subset: 6
pipeline: [planner, caller, extractor]
budget: {gpu_memory_gb: 2.0}
candidates:
  - {name: a, backend: scripted, model: a, memory_gb: 0.3}
  - {name: b, backend: scripted, model: b, memory_gb: 0.5}
"""


@pytest.fixture
def project(tmp_path, monkeypatch, capsys):
    path = tmp_path / "project.yaml"
    path.write_text(PROJECT)
    code, _, err = cli(monkeypatch, capsys, "profile", "-c", str(path), "--no-progress")
    assert code == 0, err
    return path


def test_json_output_validates_against_the_published_schema(project, monkeypatch, capsys):
    code, out, err = cli(
        monkeypatch, capsys, "search", "-c", str(project), "--format", "json", "--top", "3",
        "--gpus", "2x80",
    )  # fmt: skip
    assert code == 0, err
    report = json.loads(out)  # stdout holds the JSON document and nothing else
    jsonschema.validate(report, json_schema("search"))
    assert report["exact"] is True
    assert report["space_size"] == 8  # 2 candidates, 3 roles
    assert len(report["top"]) == 3
    assert report["top"][0] == report["best"]
    assert report["best"]["rank"] == 1
    assert report["budget"]["gpus"] == [80.0, 80.0]
    assert report["study"].startswith("rolecast-")
    assert all(c["pareto"] for c in report["pareto"])
    for coalition in report["top"]:
        assert coalition["placement"], coalition["label"]
        for placed in coalition["placement"]:
            assert placed["tensor_parallel_size"] == 1
            assert placed["memory_fraction"] <= 0.9


def test_table_output_with_top_and_no_progress(project, monkeypatch, capsys):
    code, out, err = cli(
        monkeypatch, capsys, "search", "-c", str(project), "--top", "2", "--no-progress"
    )
    assert code == 0, err
    assert "exact search" in out
    assert "Top 2 by predicted accuracy" in out
    assert "chosen:" in out


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--gpus", "2xabc"], "--gpus"),
        (["--format", "yaml"], "--format 'yaml'"),
        (["--gpus", "0.1"], "gpus="),  # a GPU too small for any model: the budget binds
    ],
)
def test_bad_search_options_are_one_line_errors(project, monkeypatch, capsys, args, fragment):
    code, _, err = cli(monkeypatch, capsys, "search", "-c", str(project), *args)
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert fragment in lines[0]


def test_schema_search_is_published(monkeypatch, capsys):
    code, out, _ = cli(monkeypatch, capsys, "schema", "search")
    assert code == 0
    assert json.loads(out)["title"] == "SearchReport"


def test_export_with_gpus_writes_the_placement(project, tmp_path, monkeypatch, capsys):
    import yaml

    out = tmp_path / "coalition.yaml"
    code, _, err = cli(
        monkeypatch, capsys, "export", "-c", str(project), "-o", str(out), "--gpus", "2x80"
    )
    assert code == 0, err
    data = yaml.safe_load(out.read_text())
    assert data["budget"]["gpus"] == [80.0, 80.0]
    for placed in data["placement"]:
        assert placed["gpus"] and placed["gpus"][0] == placed["gpu"]
        assert placed["tensor_parallel_size"] == 1
        assert 0 < placed["memory_fraction"] <= 0.9
