"""Exports for other runners: a LiteLLM proxy config and vLLM serve commands.

The LiteLLM config is loaded by LiteLLM's own proxy config loader (``ProxyConfig.
load_config``) when LiteLLM is installed: in this environment, or in the interpreter
``ROLECAST_LITELLM_PYTHON`` names (LiteLLM's proxy pins versions that may not sit beside
rolecast's). Otherwise its keys are checked against LiteLLM's documented ones.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from _coalitions import matrix, role_stats
from _helpers import cli
from test_export import BUDGET, PIPELINE, build

from rolecast.errors import ConfigError
from rolecast.export import CoalitionConfig, Placement, build_coalition_config, write_coalition
from rolecast.export_formats import compose_file, litellm_config, servers, vllm_script, write_export
from rolecast.profiles.roles import get_role
from rolecast.types import Candidate, Prices

# LiteLLM's documented proxy config keys (docs.litellm.ai/docs/proxy/configs)
LITELLM_TOP = {"model_list", "litellm_settings", "general_settings", "router_settings",
               "environment_variables"}  # fmt: skip
LITELLM_MODEL = {"model_name", "litellm_params", "model_info"}


def vllm_coalition() -> CoalitionConfig:
    """planner on a 7B vLLM model split over GPUs 1 and 2, caller/responder on a 0.5B."""
    big = Candidate(
        name="qwen-7b", backend="vllm", model="Qwen/Qwen2.5-7B-Instruct", dtype="bf16",
        memory_gb=30.0, prices=Prices(per_hour=3.6),
    )  # fmt: skip
    small = Candidate(
        name="qwen-0.5b", backend="vllm", model="Qwen/Qwen2.5-0.5B-Instruct", memory_gb=4.0,
        prices=Prices(input_per_mtok=0.02, output_per_mtok=0.04),
    )  # fmt: skip
    stats = {(name, role): role_stats(name, role, "1111") for name in ("qwen-7b", "qwen-0.5b")
             for role in PIPELINE}  # fmt: skip
    m = matrix(stats, [big, small], PIPELINE)
    chosen = {"planner": "qwen-7b", "caller": "qwen-0.5b", "responder": "qwen-0.5b"}
    config = build_coalition_config(
        m.evaluate(chosen, BUDGET), [], m, pipeline=PIPELINE,
        prompt_versions={role: get_role(role).prompt_version for role in PIPELINE},
        budget=BUDGET, cases="builtin", database="sqlite:///x.db",
        fingerprints={"qwen-7b": "a", "qwen-0.5b": "b"}, study=None,
    )  # fmt: skip
    placement = [
        Placement(candidate="qwen-7b", gpu=1, memory_gb=30.0, memory_fraction=0.8),
        Placement(candidate="qwen-0.5b", gpu=0, memory_gb=4.0, memory_fraction=0.25),
    ]
    return config.model_copy(update={"placement": placement})


# ----------------------------------------------------------------------------- LiteLLM


def test_litellm_has_one_alias_per_role_pointing_at_its_endpoint() -> None:
    data = litellm_config(build())
    assert set(data) <= LITELLM_TOP
    models = {entry["model_name"]: entry for entry in data["model_list"]}
    assert list(models) == ["rolecast-planner", "rolecast-caller", "rolecast-responder"]
    for entry in models.values():
        assert set(entry) == LITELLM_MODEL
    planner = models["rolecast-planner"]
    # "big" is an http candidate: its own base_url, the OpenAI-compatible provider
    assert planner["litellm_params"]["model"] == "openai/Qwen/Qwen2.5-7B-Instruct"
    assert planner["litellm_params"]["api_base"] == "http://127.0.0.1:8000/v1"
    assert planner["model_info"]["output_cost_per_second"] == pytest.approx(3.6 / 3600)
    # "small" is llama.cpp: the exported server under its name, on the first port that
    # "big"'s own URL does not take
    caller = models["rolecast-caller"]
    assert caller["litellm_params"]["model"] == "openai/small"
    assert caller["litellm_params"]["api_base"] == "http://127.0.0.1:8001/v1"
    assert caller["model_info"]["input_cost_per_token"] == pytest.approx(0.1 / 1e6)
    assert models["rolecast-responder"]["litellm_params"] == caller["litellm_params"]


def test_litellm_keys_are_environment_references_never_values(monkeypatch) -> None:
    config = build()
    big = config.candidates["big"].model_copy(update={"api_key_env": "BIG_KEY"})
    config = config.model_copy(update={"candidates": {**config.candidates, "big": big}})
    monkeypatch.setenv("BIG_KEY", "sk-secret-value")
    data = litellm_config(config)
    assert data["model_list"][0]["litellm_params"]["api_key"] == "os.environ/BIG_KEY"
    assert "sk-secret-value" not in json.dumps(data)


def test_litellm_vllm_models_use_the_hosted_vllm_provider() -> None:
    models = litellm_config(vllm_coalition())["model_list"]
    params = {m["model_name"]: m["litellm_params"] for m in models}
    assert params["rolecast-planner"]["model"] == "hosted_vllm/qwen-7b"
    assert params["rolecast-planner"]["api_base"] == "http://127.0.0.1:8000/v1"
    assert params["rolecast-caller"]["model"] == "hosted_vllm/qwen-0.5b"
    assert params["rolecast-caller"]["api_base"] == "http://127.0.0.1:8001/v1"


def test_an_imported_candidate_without_an_endpoint_is_a_one_line_error() -> None:
    config = build()
    ext = config.candidates["small"].model_copy(update={"backend": "imported"})
    config = config.model_copy(update={"candidates": {**config.candidates, "small": ext}})
    with pytest.raises(ConfigError, match=r"candidate 'small' \(backend imported\) has no server"):
        litellm_config(config)


def _litellm_python() -> str | None:
    explicit = os.environ.get("ROLECAST_LITELLM_PYTHON")
    if explicit:
        return explicit
    try:
        import litellm.proxy.proxy_server  # noqa: F401
    except ImportError:
        return None
    return sys.executable


LOAD = """
import asyncio, json, sys
from litellm.proxy.proxy_server import ProxyConfig
router, models, settings = asyncio.run(ProxyConfig().load_config(router=None,
                                                                 config_file_path=sys.argv[1]))
print(json.dumps([{"name": m["model_name"], "params": m["litellm_params"],
                   "info": m.get("model_info", {})} for m in models], default=str))
"""


@pytest.mark.slow
def test_litellm_own_loader_accepts_the_exported_config(tmp_path: Path) -> None:
    python = _litellm_python()
    if python is None:
        pytest.skip("LiteLLM is not installed (set ROLECAST_LITELLM_PYTHON to a venv with it)")
    config = vllm_coalition()
    big = config.candidates["qwen-7b"].model_copy(
        update={"backend": "http", "base_url": "https://api.example.com/v1",
                "model": "qwen7", "api_key_env": "ROLECAST_TEST_KEY", "memory_gb": None}
    )  # fmt: skip
    config = config.model_copy(update={"candidates": {**config.candidates, "qwen-7b": big}})
    (path,) = write_export(config, "litellm", tmp_path / "litellm.yaml")
    env = {**os.environ, "ROLECAST_TEST_KEY": "sk-test-123", "LITELLM_LOG": "ERROR"}
    out = subprocess.run(
        [python, "-c", LOAD, str(path)], capture_output=True, text=True, env=env,
        timeout=180, cwd=tmp_path,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    by_name = {m["name"]: m for m in loaded}
    assert list(by_name) == ["rolecast-planner", "rolecast-caller", "rolecast-responder"]
    planner = by_name["rolecast-planner"]["params"]
    assert (
        planner["model"] == "openai/qwen7" and planner["api_base"] == "https://api.example.com/v1"
    )
    assert planner["api_key"] == "sk-test-123"  # LiteLLM resolved os.environ/ROLECAST_TEST_KEY
    caller = by_name["rolecast-caller"]
    assert caller["params"]["model"] == "hosted_vllm/qwen-0.5b"
    assert caller["info"]["input_cost_per_token"] == pytest.approx(0.02 / 1e6)


# ----------------------------------------------------------------------------- vLLM


def test_each_distinct_model_is_started_once_on_its_gpus() -> None:
    config = vllm_coalition()
    found = servers(config)
    assert [s.candidate.name for s in found] == ["qwen-7b", "qwen-0.5b"]
    big, small = found
    assert big.gpus == (1,) and big.memory_fraction == 0.8
    assert big.command is not None and small.command is not None
    assert dict(big.command.env) == {"CUDA_VISIBLE_DEVICES": "1"}
    assert "--gpu-memory-utilization 0.80" in big.command.shell()
    assert "--gpu-memory-utilization 0.25" in small.command.shell()
    assert (big.command.port, small.command.port) == (8000, 8001)
    script = vllm_script(config)
    assert script.count("vllm serve") == 2
    assert "CUDA_VISIBLE_DEVICES=1 vllm serve Qwen/Qwen2.5-7B-Instruct" in script
    assert "CUDA_VISIBLE_DEVICES=0 vllm serve Qwen/Qwen2.5-0.5B-Instruct" in script


def test_tensor_parallel_placement_over_several_gpus() -> None:
    config = vllm_coalition()
    # a placement with several GPUs (the search's placement) splits the model over them
    fields = {"candidate": "qwen-7b", "gpu": 1, "gpus": [1, 2], "tensor_parallel_size": 2,
              "memory_fraction": 0.8}  # fmt: skip
    entry: Any = type("Entry", (), fields)()
    config = config.model_copy(update={"placement": [entry, config.placement[1]]})
    big = servers(config)[0]
    assert big.gpus == (1, 2) and big.tensor_parallel_size == 2
    assert big.command is not None and "--tensor-parallel-size 2" in big.command.shell()
    assert dict(big.command.env) == {"CUDA_VISIBLE_DEVICES": "1,2"}
    compose = compose_file(config)["services"]["qwen-7b"]
    assert compose["deploy"]["resources"]["reservations"]["devices"][0]["device_ids"] == ["1", "2"]
    assert compose["environment"] == {"CUDA_VISIBLE_DEVICES": "0,1"}  # renumbered inside


def test_compose_runs_vllm_in_its_image_with_ports_and_gpus() -> None:
    services = compose_file(vllm_coalition())["services"]
    assert list(services) == ["qwen-7b", "qwen-0-5b"]
    big = services["qwen-7b"]
    assert big["image"].startswith("vllm/vllm-openai")
    assert big["command"][:3] == ["Qwen/Qwen2.5-7B-Instruct", "--served-model-name", "qwen-7b"]
    assert big["ports"] == ["8000:8000"] and big["ipc"] == "host"
    assert services["qwen-0-5b"]["ports"] == ["8001:8001"]


def test_export_cli_writes_every_format_from_a_coalition(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    coalition = write_coalition(vllm_coalition(), tmp_path / "coalition.yaml")
    code, out, err = cli(monkeypatch, capsys, "export", "--coalition", str(coalition),
                         "--format", "vllm", "--out", str(tmp_path / "serve"))  # fmt: skip
    assert code == 0, err
    script = tmp_path / "serve" / "serve.sh"
    assert os.access(script, os.X_OK)
    if shutil.which("bash"):
        subprocess.run(["bash", "-n", str(script)], check=True)  # the script parses
    compose = yaml.safe_load((tmp_path / "serve" / "compose.yaml").read_text())
    assert set(compose["services"]) == {"qwen-7b", "qwen-0-5b"}
    code, out, err = cli(monkeypatch, capsys, "export", "--coalition", str(coalition),
                         "--format", "litellm", "--out", str(tmp_path / "l.yaml"))  # fmt: skip
    assert code == 0, err
    assert "l.yaml" in out
    assert yaml.safe_load((tmp_path / "l.yaml").read_text())["model_list"]
    code, _, err = cli(monkeypatch, capsys, "export", "--coalition", str(coalition),
                       "--format", "toml")  # fmt: skip
    assert code == 2 and "unknown --format 'toml'" in err and err.count("\n") == 1


def quickstart_coalition() -> CoalitionConfig:
    """The embedded default's two CPU models, planner/extractor on one, the rest on the other."""
    from rolecast.project import load_project

    project, _ = load_project(None)
    smol, gemma = project.candidates
    roles = list(project.pipeline)
    stats = {(c.name, role): role_stats(c.name, role, "1010") for c in (smol, gemma)
             for role in roles}  # fmt: skip
    m = matrix(stats, [smol, gemma], roles)
    chosen = {role: (smol if role in ("planner", "extractor") else gemma).name for role in roles}
    return build_coalition_config(
        m.evaluate(chosen, project.budget), [], m, pipeline=roles,
        prompt_versions={role: get_role(role).prompt_version for role in roles},
        budget=project.budget, cases="builtin", database="sqlite:///x.db",
        fingerprints={smol.name: "a", gemma.name: "b"}, study=None,
    )  # fmt: skip


def test_quickstart_coalition_exports_llama_cpp_servers(tmp_path: Path) -> None:
    from rolecast.backends.models import resolve_gguf_file
    from rolecast.errors import ModelNotFoundError

    config = quickstart_coalition()
    try:
        files = {n: str(resolve_gguf_file(c.model)) for n, c in config.candidates.items()}
    except ModelNotFoundError as exc:
        pytest.skip(str(exc))
    models = {m["model_name"]: m["litellm_params"] for m in litellm_config(config)["model_list"]}
    assert models["rolecast-planner"]["model"] == "openai/smollm2-135m"
    assert models["rolecast-planner"]["api_base"] == "http://127.0.0.1:8000/v1"
    assert models["rolecast-caller"]["model"] == "openai/gemma3-270m"
    assert models["rolecast-caller"]["api_base"] == "http://127.0.0.1:8001/v1"
    script, compose = write_export(config, "vllm", tmp_path / "serve")
    text = script.read_text()
    assert text.count("python -m llama_cpp.server") == 2
    for name, path in files.items():
        assert f"--model {path}" in text and f"--model_alias {name}" in text
    services = yaml.safe_load(compose.read_text())["services"]
    assert services["smollm2-135m"]["volumes"] == [
        f"{Path(files['smollm2-135m']).parent}:{Path(files['smollm2-135m']).parent}:ro"
    ]
