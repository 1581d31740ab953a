"""coalition.yaml: what it holds, round trip, validation, atomic writes, published schemas."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from _coalitions import candidate, matrix, role_stats

from rolecast import __version__
from rolecast.allocator import ProfileMatrix
from rolecast.cli import main
from rolecast.errors import ConfigError
from rolecast.export import (
    CoalitionConfig,
    _serve_command,
    build_coalition_config,
    load_coalition,
    write_atomic,
    write_coalition,
)
from rolecast.profiles.roles import get_role
from rolecast.profiles.stats import wilson_interval
from rolecast.schemas import SCHEMAS, json_schema
from rolecast.types import Budget, Candidate, Prices

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "rolecast" / "schemas"
PIPELINE = ["planner", "caller", "responder"]
BUDGET = Budget(gpu_memory_gb=24.0, cost_per_1k_tasks=10.0)
CHOSEN = {"planner": "big", "caller": "small", "responder": "small"}


def two_models() -> ProfileMatrix:
    big = Candidate(
        name="big",
        backend="http",
        model="Qwen/Qwen2.5-7B-Instruct",
        base_url="http://127.0.0.1:8000/v1",
        dtype="bf16",
        memory_gb=18.0,
        prices=Prices(per_hour=3.6),
    )
    small = candidate("small", memory_gb=0.5, prices=Prices(input_per_mtok=0.1))
    small = small.model_copy(update={"backend": "llamacpp", "model": "pypi:tiny-gguf"})
    costs = {
        "big": {"tokens_in": 1000, "tokens_out": 100, "latency": 2.0, "run_ids": (3,)},
        "small": {"tokens_in": 1000, "tokens_out": 100, "latency": 0.5, "run_ids": (3, 5)},
    }
    outcomes = {
        ("big", "planner"): "1111",
        ("small", "planner"): "1000",
        ("big", "caller"): "1110",
        ("small", "caller"): "1110",
        ("big", "responder"): "1101",
        ("small", "responder"): "1101",
    }
    table = {key: role_stats(*key, value, **costs[key[0]]) for key, value in outcomes.items()}
    return matrix(table, [big, small], PIPELINE)


def build(m: ProfileMatrix | None = None) -> CoalitionConfig:
    m = m or two_models()
    tie = {"planner": "big", "caller": "big", "responder": "small"}
    return build_coalition_config(
        m.evaluate(CHOSEN, BUDGET),
        [m.evaluate(tie, BUDGET)],
        m,
        pipeline=PIPELINE,
        prompt_versions={role: get_role(role).prompt_version for role in PIPELINE},
        budget=BUDGET,
        cases="builtin",
        database="sqlite:////data/rolecast.db",
        fingerprints={"big": "fp-big", "small": "fp-small", "unused": "fp-unused"},
        study="rolecast-0123456789ab",
    )


@pytest.fixture
def config() -> CoalitionConfig:
    return build()


@pytest.fixture
def written(config: CoalitionConfig, tmp_path: Path) -> Path:
    return write_coalition(config, tmp_path / "out" / "coalition.yaml")


# --- what coalition.yaml holds ------------------------------------------------------------


def test_round_trip_build_write_load(config: CoalitionConfig, written: Path) -> None:
    assert load_coalition(written) == config


def test_the_yaml_holds_roles_placement_expectations_and_provenance(written: Path) -> None:
    text = written.read_text(encoding="utf-8")
    assert text.startswith("# rolecast coalition config")
    data = yaml.safe_load(text)

    assert data["pipeline"] == PIPELINE
    assert {role: entry["candidate"] for role, entry in data["roles"].items()} == CHOSEN
    assert data["roles"]["caller"]["prompt_version"] == get_role("caller").prompt_version
    assert sorted(data["candidates"]) == ["big", "small"]  # only the models it uses
    assert data["candidates"]["big"]["model"] == "Qwen/Qwen2.5-7B-Instruct"
    assert data["placement"] == [
        {
            "candidate": "big",
            "gpu": 0,
            "gpus": [0],
            "memory_gb": 18.0,
            "memory_fraction": 0.75,  # 18 of 24 GB
            "tensor_parallel_size": 1,
            "serve_command": "vllm serve Qwen/Qwen2.5-7B-Instruct --served-model-name "
            "Qwen/Qwen2.5-7B-Instruct --host 0.0.0.0 --port 8000 --max-model-len 4096 "
            "--dtype bfloat16 --gpu-memory-utilization 0.75 --seed 0",
        },
        {
            "candidate": "small",
            "gpu": 0,
            "gpus": [0],
            "memory_gb": 0.5,
            "memory_fraction": 0.0208,  # 0.5 / 24
            "tensor_parallel_size": 1,
            "serve_command": "python -m llama_cpp.server --model '<pypi:tiny-gguf>' --n_ctx "
            "4096 --model_alias small --host 0.0.0.0 --port 8001",
        },
    ]
    expected = data["expected"]
    # planner 1111 AND caller 1110 AND responder 1101 = 1100: 2 of 4 cases
    interval = wilson_interval(2, 4)
    assert expected["accuracy"] == {
        "mean": 0.5,
        "low": round(interval.low, 4),
        "high": round(interval.high, 4),
        "n": 4,
        "method": "wilson",
    }
    assert expected["accuracy"]["low"] == pytest.approx(0.15, abs=1e-3)
    assert expected["accuracy"]["high"] == pytest.approx(0.85, abs=1e-3)
    assert expected["memory_gb"] == 18.5  # 18 + 0.5, each model once
    # big planner: 2 s × 3.6 USD/h = 0.002; small caller and responder: 1000 × 0.1/1e6 each
    assert expected["cost_per_1k_tasks"] == pytest.approx(2.2)
    assert expected["latency_s"] == pytest.approx(3.0)
    assert expected["tied_with"] == [
        {"roles": {"planner": "big", "caller": "big", "responder": "small"}, "accuracy": 0.5}
    ]
    assert data["budget"] == {
        "gpu_memory_gb": 24.0,
        "cost_per_1k_tasks": 10.0,
        "latency_s": None,
        "gpus": None,
    }
    provenance = data["provenance"]
    assert provenance["rolecast_version"] == __version__
    assert provenance["cases"] == "builtin"
    assert provenance["case_ids"] == ["case-0", "case-1", "case-2", "case-3"]
    assert provenance["profile_runs"] == [3, 5]  # the runs behind the chosen roles' steps
    assert provenance["database"] == "sqlite:////data/rolecast.db"
    assert provenance["fingerprints"] == {"big": "fp-big", "small": "fp-small"}
    assert provenance["study"] == "rolecast-0123456789ab"
    assert provenance["surrogate"] == "observed"  # the matrix as built: 0/1 products
    assert isinstance(provenance["created_at"], str)  # ISO 8601, quoted


def test_the_provenance_names_the_surrogate_the_search_ranked_by() -> None:
    from rolecast.allocator.surrogate import apply_surrogate

    assert build(apply_surrogate(two_models(), "irt")).provenance.surrogate == "irt"


def test_the_llamacpp_serve_command_names_the_weights_file(tmp_path: Path) -> None:
    gguf = tmp_path / "my model.gguf"
    gguf.write_bytes(b"GGUF")
    local = Candidate(name="local", backend="llamacpp", model=str(gguf), context_length=2048)
    assert _serve_command(local, None) == (
        f"python -m llama_cpp.server --model '{gguf}' --n_ctx 2048 --model_alias local "
        "--host 0.0.0.0 --port 8000"
    )
    absent = local.model_copy(update={"model": "pypi:not-installed-here"})
    assert "--model '<pypi:not-installed-here>'" in str(_serve_command(absent, None))


def test_without_a_memory_budget_there_is_no_memory_fraction() -> None:
    m = two_models()
    config = build_coalition_config(
        m.evaluate(CHOSEN, Budget()),
        [],
        m,
        pipeline=PIPELINE,
        prompt_versions=dict.fromkeys(PIPELINE, "v"),
        budget=Budget(),
        cases="cases.jsonl",
        database="sqlite:///x.db",
        fingerprints={"big": "a", "small": "b"},
        study=None,
    )
    assert [p.memory_fraction for p in config.placement] == [None, None]
    assert config.placement[0].serve_command == (
        "vllm serve Qwen/Qwen2.5-7B-Instruct --served-model-name Qwen/Qwen2.5-7B-Instruct "
        "--host 0.0.0.0 --port 8000 --max-model-len 4096 --dtype bfloat16 --seed 0"
    )


def test_the_written_file_validates_against_the_published_schema(written: Path) -> None:
    data = yaml.safe_load(written.read_text(encoding="utf-8"))
    jsonschema.validate(data, json_schema("coalition"))


# --- validation when it is read back ------------------------------------------------------


def edited(written: Path, edit: Callable[[dict[str, Any]], object]) -> Path:
    data = yaml.safe_load(written.read_text(encoding="utf-8"))
    edit(data)
    written.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return written


def test_unknown_top_level_key_names_the_allowed_keys(written: Path) -> None:
    edited(written, lambda d: d.update(budgte={"gpu_memory_gb": 4}))
    with pytest.raises(ConfigError) as excinfo:
        load_coalition(written)
    message = str(excinfo.value)
    assert "unknown key 'budgte'" in message
    assert (
        "allowed keys: budget, candidates, expected, max_steps, pipeline, placement, "
        "provenance, roles, tools, version" in message
    )
    assert str(written) in message


def test_unknown_nested_key_names_the_allowed_keys_there(written: Path) -> None:
    edited(written, lambda d: d["expected"]["accuracy"].update(median=0.5))
    with pytest.raises(ConfigError, match="allowed keys: high, low, mean, method, n"):
        load_coalition(written)


def test_a_role_naming_an_unlisted_candidate_is_an_error(written: Path) -> None:
    edited(written, lambda d: d["roles"]["caller"].update(candidate="ghost"))
    with pytest.raises(ConfigError) as excinfo:
        load_coalition(written)
    assert "role 'caller' names candidate 'ghost'" in str(excinfo.value)
    assert "not under 'candidates'" in str(excinfo.value)


def test_a_pipeline_role_without_an_assignment_is_an_error(written: Path) -> None:
    edited(written, lambda d: d["pipeline"].append("extractor"))
    with pytest.raises(ConfigError, match="pipeline role 'extractor' has no entry"):
        load_coalition(written)


def _rename_candidate(data: dict[str, Any]) -> None:
    data["candidates"]["big"]["name"] = "large"


def _unknown_backend(data: dict[str, Any]) -> None:
    data["candidates"]["small"]["backend"] = "lamacpp"


def _role_outside_pipeline(data: dict[str, Any]) -> None:
    data["roles"]["extractor"] = dict(data["roles"]["caller"])


@pytest.mark.parametrize(
    ("edit", "fragment"),
    [
        (lambda d: d["pipeline"].append("summarizer"), "unknown role 'summarizer'"),
        (lambda d: d["pipeline"].append("caller"), "names a role twice"),
        (_role_outside_pipeline, "'roles' has ['extractor'], which the pipeline"),
        (_rename_candidate, "key 'big' holds candidate 'large'"),
        (_unknown_backend, "candidate 'small': unknown backend 'lamacpp'; did you mean 'llamacpp'"),
    ],
)
def test_an_inconsistent_coalition_is_an_error_before_anything_runs(
    written: Path, edit: Callable[[dict[str, Any]], object], fragment: str
) -> None:
    edited(written, edit)
    with pytest.raises(ConfigError) as excinfo:
        load_coalition(written)
    assert fragment in str(excinfo.value)
    assert "\n" not in str(excinfo.value)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("- just\n- a list\n", "expected a coalition mapping"),
        ("roles: [\n", "malformed YAML"),
    ],
)
def test_a_file_that_is_no_coalition_is_a_config_error(
    tmp_path: Path, content: str, fragment: str
) -> None:
    path = tmp_path / "coalition.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=fragment):
        load_coalition(path)
    with pytest.raises(ConfigError, match="file not found"):
        load_coalition(tmp_path / "missing.yaml")


# --- atomic writes ------------------------------------------------------------------------


@pytest.fixture
def old_file(tmp_path: Path) -> Path:
    path = tmp_path / "coalition.yaml"
    path.write_text("old: content\n", encoding="utf-8")
    return path


def assert_untouched(path: Path) -> None:
    assert path.read_text(encoding="utf-8") == "old: content\n"
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temporary left


def test_a_failing_rename_keeps_the_old_file_and_leaves_no_temporary(
    old_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(ConfigError, match=r"cannot write .*coalition\.yaml: No space left"):
        write_atomic(old_file, "new: content\n")
    assert_untouched(old_file)


def test_an_interrupted_write_keeps_the_old_file(
    old_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(src: str, dst: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(old_file, "new: content\n")
    assert_untouched(old_file)


def test_text_that_fails_to_serialize_keeps_the_old_file(old_file: Path) -> None:
    with pytest.raises(TypeError):
        write_atomic(old_file, object())  # type: ignore[arg-type]
    assert_untouched(old_file)


def test_a_directory_in_the_way_is_a_config_error(tmp_path: Path) -> None:
    target = tmp_path / "coalition.yaml"
    target.mkdir()
    with pytest.raises(ConfigError, match="cannot write"):
        write_coalition(build(), target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["coalition.yaml"]
    assert target.is_dir()


def test_write_replaces_the_old_content_and_creates_parents(old_file: Path) -> None:
    assert write_atomic(old_file, "new: content\n") == old_file
    assert old_file.read_text(encoding="utf-8") == "new: content\n"
    nested = old_file.parent / "a" / "b" / "c.yaml"
    write_atomic(nested, "x: 1\n")
    assert nested.read_text(encoding="utf-8") == "x: 1\n"


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
@pytest.mark.usefixtures("umask_022")
def test_the_written_file_is_readable_like_any_new_file(tmp_path: Path) -> None:
    # not the 0600 of a temporary file: other runners (and users) read coalition.yaml
    path = write_coalition(build(), tmp_path / "coalition.yaml")
    assert path.stat().st_mode & 0o777 == 0o644


# --- published schemas --------------------------------------------------------------------


@pytest.mark.parametrize("name", SCHEMAS)
def test_committed_schema_files_are_up_to_date(name: str) -> None:
    path = SCHEMA_DIR / f"{name}.schema.json"
    assert path.is_file(), f"{path} is missing"
    committed = json.loads(path.read_text(encoding="utf-8"))
    assert committed == json_schema(name), (
        f'{path.name} is stale; regenerate: python -c "import json; from rolecast.schemas '
        f"import json_schema; print(json.dumps(json_schema('{name}'), indent=2, "
        f'ensure_ascii=False))" > {path.relative_to(SCHEMA_DIR.parents[1])}'
    )


@pytest.mark.parametrize("name", SCHEMAS)
def test_schema_command_prints_the_schema(
    name: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["rolecast", "schema", name])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 0
    assert json.loads(capsys.readouterr().out) == json_schema(name)


def test_schema_command_rejects_an_unknown_name(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["rolecast", "schema", "coalitions"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert err.strip() == (
        "error: unknown schema 'coalitions'; choose one of case, coalition, project, search"
    )


def _place_ghost(data: dict[str, Any]) -> None:
    data["placement"].append({**data["placement"][0], "candidate": "ghost"})


def _place_twice(data: dict[str, Any]) -> None:
    data["placement"].append(dict(data["placement"][0]))


def _unplace(data: dict[str, Any]) -> None:
    data["placement"] = [p for p in data["placement"] if p["candidate"] != "small"]


def _idle_candidate(data: dict[str, Any]) -> None:
    data["candidates"]["spare"] = {**data["candidates"]["small"], "name": "spare"}


def _profile_of_another(data: dict[str, Any]) -> None:
    data["expected"]["roles"]["responder"]["candidate"] = "big"


def _profile_of_unknown_role(data: dict[str, Any]) -> None:
    data["expected"]["roles"]["extractor"] = data["expected"]["roles"]["caller"]


def _tie_of_other_roles(data: dict[str, Any]) -> None:
    data["expected"]["tied_with"][0]["roles"] = {"planner": "big"}


def _fingerprint_of_unknown(data: dict[str, Any]) -> None:
    data["provenance"]["fingerprints"]["ghost"] = "fp"


def _inverted_interval(data: dict[str, Any]) -> None:
    data["expected"]["accuracy"].update(low=0.9, high=0.1)


@pytest.mark.parametrize(
    ("edit", "fragment"),
    [
        (_place_ghost, "placement names candidate 'ghost', which is not under 'candidates'"),
        (_place_twice, "placement lists ['big'] more than once"),
        (_unplace, "candidates ['small'] play a role but have no 'placement' entry"),
        (_idle_candidate, "candidates ['spare'] play no role"),
        (_profile_of_another, "expected.roles.responder describes candidate 'big'"),
        (_profile_of_unknown_role, "expected.roles has 'extractor'"),
        (_tie_of_other_roles, "expected.tied_with has a coalition of roles ['planner']"),
        (_fingerprint_of_unknown, "provenance.fingerprints names ['ghost']"),
        (_inverted_interval, "low <= high"),
    ],
)
def test_cross_references_are_checked_at_load(
    written: Path, edit: Callable[[dict[str, Any]], object], fragment: str
) -> None:
    edited(written, edit)
    with pytest.raises(ConfigError) as excinfo:
        load_coalition(written)
    assert fragment in str(excinfo.value), str(excinfo.value)
    assert "\n" not in str(excinfo.value)


def test_run_refuses_a_placement_of_an_unknown_candidate(
    written: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from _helpers import cli

    edited(written, _place_ghost)
    code, out, err = cli(monkeypatch, capsys, "run", str(written), "hello", "--no-progress")
    assert code == 2 and out == ""
    assert "placement names candidate 'ghost'" in err and len(err.strip().splitlines()) == 1
