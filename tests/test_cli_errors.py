"""Bad input: one line on stderr, a non-zero exit, and nothing half-written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from _helpers import cli

SCRIPTED = """
cases: builtin
subset: 4
budget: {budget}
pipeline: {pipeline}
candidates:
  - {{name: a, backend: {backend}, model: a, memory_gb: 0.3}}
  - {{name: b, backend: scripted, model: b, memory_gb: 0.5}}
"""


def write_project(
    tmp_path: Path,
    budget="{gpu_memory_gb: 1.0}",
    pipeline="[planner, caller, responder]",
    backend="scripted",
) -> Path:
    path = tmp_path / "project.yaml"
    path.write_text(SCRIPTED.format(budget=budget, pipeline=pipeline, backend=backend))
    return path


def assert_one_line_error(code: int, err: str, *fragments: str) -> None:
    assert code != 0
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def assert_nothing_written(tmp_path: Path, *inputs: str) -> None:
    """Only the test's own input files are there: no database, no output, no temp file."""
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(inputs)


def test_malformed_yaml(tmp_path, monkeypatch, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("candidates: [\n  - name: a\n  backend: x\n")
    code, _, err = cli(monkeypatch, capsys, "profile", "--config", str(bad))
    assert_one_line_error(code, err, "bad.yaml", "malformed YAML", "line")
    assert_nothing_written(tmp_path, "bad.yaml")


def test_unknown_key_names_the_allowed_keys(tmp_path, monkeypatch, capsys):
    path = write_project(tmp_path, budget="{gpu_mem_gb: 1.0}")
    code, _, err = cli(monkeypatch, capsys, "profile", "--config", str(path))
    assert_one_line_error(code, err, "gpu_mem_gb", "allowed keys", "gpu_memory_gb")
    assert_nothing_written(tmp_path, "project.yaml")


def test_unknown_role_in_pipeline_and_flag(tmp_path, monkeypatch, capsys):
    path = write_project(tmp_path, pipeline="[planer, caller]")
    code, _, err = cli(monkeypatch, capsys, "profile", "--config", str(path))
    assert_one_line_error(code, err, "unknown role 'planer'", "did you mean 'planner'")
    path = write_project(tmp_path)
    code, _, err = cli(
        monkeypatch, capsys, "profile", "--config", str(path), "--role", "summarizer"
    )
    assert_one_line_error(code, err, "unknown role 'summarizer'")
    assert_nothing_written(tmp_path, "project.yaml")


def test_unknown_backend(tmp_path, monkeypatch, capsys):
    path = write_project(tmp_path, backend="llamacp")
    code, _, err = cli(monkeypatch, capsys, "profile", "--config", str(path))
    assert_one_line_error(code, err, "unknown backend 'llamacp'", "did you mean 'llamacpp'")
    assert_nothing_written(tmp_path, "project.yaml")


@pytest.mark.parametrize("budget", ["{gpu_memory_gb: 0}", "{cost_per_1k_tasks: -1}"])
def test_zero_or_negative_budget(tmp_path, monkeypatch, capsys, budget):
    path = write_project(tmp_path, budget=budget)
    code, _, err = cli(monkeypatch, capsys, "search", "--config", str(path))
    assert_one_line_error(code, err, "budget", "greater than 0")
    assert_nothing_written(tmp_path, "project.yaml")


def test_zero_budget_flag(tmp_path, monkeypatch, capsys):
    path = write_project(tmp_path)
    code, _, err = cli(monkeypatch, capsys, "search", "--config", str(path), "--gpu-memory-gb", "0")
    assert_one_line_error(code, err, "gpu_memory_gb", "greater than 0")
    assert_nothing_written(tmp_path, "project.yaml")


def test_case_naming_an_unknown_tool(tmp_path, monkeypatch, capsys):
    cases = tmp_path / "cases.jsonl"
    good = {
        "id": "c1",
        "instruction": "Add.",
        "tools": [{"name": "add"}],
        "steps": [{"tool": "add"}],
        "answer": "2",
    }
    bad = {
        "id": "c2",
        "instruction": "Mul.",
        "tools": [{"name": "add"}],
        "steps": [{"tool": "multiply"}],
        "answer": "4",
    }
    cases.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    path = tmp_path / "project.yaml"
    path.write_text(f"cases: {cases}\ncandidates:\n  - {{name: a, backend: scripted, model: a}}\n")
    code, _, err = cli(monkeypatch, capsys, "profile", "--config", str(path))
    assert_one_line_error(code, err, "cases.jsonl", "multiply")
    assert_nothing_written(tmp_path, "cases.jsonl", "project.yaml")


@pytest.mark.parametrize(
    ("parameters", "fragment"),
    [
        ({"type": "object", "properties": {"x": {"type": "strng"}}}, "not valid JSON Schema"),
        ({"type": "array"}, "of type object, not 'array'"),
    ],
)
def test_tool_parameters_that_are_no_json_schema(
    tmp_path, monkeypatch, capsys, parameters, fragment
):
    case = {
        "id": "c1",
        "instruction": "Add.",
        "tools": [{"name": "add", "parameters": parameters}],
        "steps": [{"tool": "add"}],
        "answer": "2",
    }
    cases = tmp_path / "cases.jsonl"
    cases.write_text(json.dumps(case) + "\n")
    path = tmp_path / "project.yaml"
    path.write_text(f"cases: {cases}\ncandidates:\n  - {{name: a, backend: scripted, model: a}}\n")
    code, _, err = cli(monkeypatch, capsys, "profile", "--config", str(path))
    assert_one_line_error(code, err, "cases.jsonl", fragment)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cases.jsonl", "project.yaml"]


def test_missing_model_file(tmp_path, monkeypatch, capsys):
    path = tmp_path / "project.yaml"
    path.write_text(
        "subset: 2\ncandidates:\n  - {name: m, backend: llamacpp, model: /nonexistent/model.gguf}\n"
    )
    code, _, err = cli(monkeypatch, capsys, "profile", "--config", str(path))
    assert_one_line_error(code, err, "/nonexistent/model.gguf", "does not exist")
    assert_nothing_written(tmp_path, "project.yaml")  # not even an empty database
    code, _, err = cli(monkeypatch, capsys, "reprofile", "--config", str(path))
    assert_one_line_error(code, err, "/nonexistent/model.gguf", "does not exist")
    assert_nothing_written(tmp_path, "project.yaml")


def test_budget_nothing_fits_names_the_binding_budget(tmp_path, monkeypatch, capsys):
    path = write_project(tmp_path, budget="{gpu_memory_gb: 0.2}")
    code, _, err = cli(monkeypatch, capsys, "profile", "--config", str(path), "--no-progress")
    assert code == 0, err
    out_file = tmp_path / "coalition.yaml"
    code, _, err = cli(monkeypatch, capsys, "export", "--config", str(path), "--out", str(out_file))
    assert_one_line_error(
        code, err, "gpu_memory_gb=0.2 binds", "planner=a caller=a responder=a", "0.3"
    )
    assert not out_file.exists()
    assert not list(tmp_path.glob(".coalition.yaml*"))


def test_run_with_a_broken_coalition_file(tmp_path, monkeypatch, capsys):
    bad = tmp_path / "coalition.yaml"
    bad.write_text("version: 1\npipeline: [planner]\n")
    code, _, err = cli(monkeypatch, capsys, "run", str(bad), "hello")
    assert_one_line_error(code, err, "coalition.yaml")


def test_help_imports_no_heavy_engine():
    code = (
        "import sys; from rolecast.cli import app; "
        "from typer.testing import CliRunner; CliRunner().invoke(app, ['--help']); "
        "heavy = [m for m in ('torch', 'llama_cpp', 'vllm', 'transformers', "
        "'sentence_transformers', 'optuna') if m in sys.modules]; "
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("args", "fragment", "hint"),
    [
        (["search", "--bogus"], "No such option: --bogus", "see rolecast search --help"),
        (["search", "--top", "abc"], "'--top'", "see rolecast search --help"),
        (["profile", "--subset", "0"], "'--subset'", "see rolecast profile --help"),
        (["run"], "Missing argument 'coalition'", "see rolecast run --help"),
        (["nosuchcmd"], "No such command 'nosuchcmd'", "see rolecast --help"),
    ],
)
def test_command_line_mistakes(monkeypatch, capsys, args, fragment, hint):
    code, _, err = cli(monkeypatch, capsys, *args)
    assert code == 2
    assert_one_line_error(code, err, fragment, hint)


def test_bare_rolecast_prints_the_help(monkeypatch, capsys):
    code, out, err = cli(monkeypatch, capsys)
    assert code == 0, err
    assert "Usage" in out and "profile" in out and not err


def test_project_that_is_not_utf8(tmp_path, monkeypatch, capsys):
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(b"candidates:\n  - {name: caf\xe9, backend: scripted, model: a}\n")
    code, _, err = cli(monkeypatch, capsys, "cases", "--config", str(bad))
    assert_one_line_error(code, err, "latin1.yaml", "not UTF-8")


def test_empty_pipeline(tmp_path, monkeypatch, capsys):
    path = write_project(tmp_path, pipeline="[]")
    code, _, err = cli(monkeypatch, capsys, "search", "--config", str(path))
    assert_one_line_error(code, err, "pipeline", "names no role")
    assert "Value error" not in err


def test_profiling_a_role_outside_the_pipeline(tmp_path, monkeypatch, capsys):
    path = write_project(tmp_path, pipeline="[caller]")
    code, _, err = cli(monkeypatch, capsys, "profile", "--config", str(path), "--role", "planner")
    assert_one_line_error(code, err, "'planner' is not in the project's pipeline")


def test_a_folder_as_llamacpp_model_records_no_run(tmp_path, monkeypatch, capsys):
    from rolecast.storage import ProfileStore, resolve_db_url

    path = tmp_path / "project.yaml"
    path.write_text(
        f"subset: 2\ncandidates:\n  - {{name: m, backend: llamacpp, model: {tmp_path}}}\n"
    )
    code, _, err = cli(monkeypatch, capsys, "profile", "--config", str(path))
    assert_one_line_error(code, err, "is a folder", ".gguf")
    with ProfileStore(resolve_db_url(None)) as store:
        assert store.runs() == []  # the failure came before a run was recorded


@pytest.mark.parametrize(
    ("study_db", "fragment"),
    [
        ("bogus://x", "cannot open the study database bogus://x"),
        ("postgresql://u:secretpw@127.0.0.1:1/x", "cannot open the study database"),
    ],
)
def test_bad_study_database(tmp_path, monkeypatch, capsys, study_db, fragment):
    path = write_project(tmp_path)
    code, _, err = cli(monkeypatch, capsys, "profile", "--config", str(path), "--no-progress")
    assert code == 0, err
    code, _, err = cli(monkeypatch, capsys, "search", "--config", str(path), "--study-db", study_db)
    assert_one_line_error(code, err, fragment, "--study-db")
    assert "secretpw" not in err


def test_study_database_given_as_a_path(tmp_path, monkeypatch, capsys):
    path = write_project(tmp_path)
    assert cli(monkeypatch, capsys, "profile", "--config", str(path), "--no-progress")[0] == 0
    study = tmp_path / "studies" / "optuna.db"
    for _ in range(2):  # the second search resumes the stored study
        code, out, err = cli(
            monkeypatch, capsys, "search", "--config", str(path), "--study-db", str(study)
        )
        assert code == 0, err
        assert "chosen:" in out
    assert study.is_file()


def test_run_needs_planner_caller_and_responder(tmp_path, monkeypatch, capsys):
    path = write_project(tmp_path, pipeline="[caller]")
    assert cli(monkeypatch, capsys, "profile", "--config", str(path), "--no-progress")[0] == 0
    coalition = tmp_path / "coalition.yaml"
    code, _, err = cli(monkeypatch, capsys, "export", "--config", str(path), "-o", str(coalition))
    assert code == 0, err
    code, _, err = cli(monkeypatch, capsys, "run", str(coalition), "hello")
    assert_one_line_error(code, err, "coalition.yaml", "no planner or responder")


def test_export_under_a_file(tmp_path, monkeypatch, capsys):
    path = write_project(tmp_path)
    assert cli(monkeypatch, capsys, "profile", "--config", str(path), "--no-progress")[0] == 0
    (tmp_path / "plain").write_text("not a folder")
    out = tmp_path / "plain" / "coalition.yaml"
    code, _, err = cli(monkeypatch, capsys, "export", "--config", str(path), "-o", str(out))
    assert_one_line_error(code, err, "plain is a file, not a folder")


@pytest.mark.parametrize("command", ["export", "search", "reprofile"])
def test_nothing_fits_leaves_no_new_study_database(command, tmp_path, monkeypatch, capsys):
    path = write_project(tmp_path)
    code, _, err = cli(monkeypatch, capsys, "profile", "--config", str(path), "--no-progress")
    assert code == 0, err
    study = tmp_path / "studies" / "optuna.db"
    args = [command, "--config", str(path), "--study-db", str(study)]
    if command == "export":
        args += ["--out", str(tmp_path / "coalition.yaml")]
    path.write_text(path.read_text().replace("gpu_memory_gb: 1.0", "gpu_memory_gb: 0.1"))
    code, _, err = cli(monkeypatch, capsys, *args)
    assert_one_line_error(code, err, "gpu_memory_gb=0.1 binds")
    assert not study.exists() and list(study.parent.iterdir()) == []


def test_a_study_database_that_existed_is_kept_when_nothing_fits(tmp_path, monkeypatch, capsys):
    path = write_project(tmp_path)
    study = tmp_path / "optuna.db"
    assert cli(monkeypatch, capsys, "profile", "--config", str(path), "--no-progress")[0] == 0
    args = ["search", "--config", str(path), "--study-db", str(study)]
    code, _, err = cli(monkeypatch, capsys, *args)
    assert code == 0, err
    before = study.stat().st_size
    path.write_text(path.read_text().replace("gpu_memory_gb: 1.0", "gpu_memory_gb: 0.1"))
    code, _, _ = cli(monkeypatch, capsys, *args)
    assert code == 2 and study.exists() and study.stat().st_size >= before
