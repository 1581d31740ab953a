"""Exports of a coalition for other runners: a LiteLLM proxy config, vLLM serve commands.

``coalition.yaml`` (:mod:`rolecast.export`) is rolecast's own format. From it:

* :func:`litellm_config`: a LiteLLM proxy ``config.yaml`` with one model alias per role
  (``rolecast-planner``, ...) whose ``litellm_params`` point at the serving endpoint
  (``openai/NAME`` for an OpenAI-compatible server, ``hosted_vllm/NAME`` for ``vllm
  serve``), API keys as ``os.environ/NAME`` references (never the key itself), and
  ``model_info`` with the candidate's prices.
* :func:`vllm_script` and :func:`compose_file`: the commands that start the coalition's
  distinct models (each once, however many roles it plays) on their GPUs with their
  memory fraction and tensor parallel size: a shell script and a Docker Compose file.

Which command starts a model, and which endpoint a client uses, is the backend's fact
(:func:`rolecast.backends.serve_command`, :func:`rolecast.backends.endpoint`); this
module only lays them out. Servers get ports 8000, 8001, ... in placement order.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from rolecast.backends import ServeCommand, endpoint, serve_command
from rolecast.errors import ConfigError
from rolecast.export import CoalitionConfig, write_atomic, write_coalition
from rolecast.types import Candidate

__all__ = [
    "FORMATS",
    "Server",
    "compose_file",
    "litellm_config",
    "servers",
    "vllm_script",
    "write_export",
]

FORMATS: tuple[str, ...] = ("yaml", "litellm", "vllm")
"""``rolecast export --format`` values."""

FIRST_PORT = 8000
ALIAS_PREFIX = "rolecast-"


@dataclass(frozen=True)
class Server:
    """One distinct model of the coalition and how it is started (None: nothing to start)."""

    candidate: Candidate
    gpus: tuple[int, ...]
    tensor_parallel_size: int
    memory_fraction: float | None
    command: ServeCommand | None


def _placement_gpus(entry: Any) -> tuple[int, ...]:
    """The GPUs of a placement entry (``gpus`` when the placement lists several)."""
    gpus = getattr(entry, "gpus", None)
    if gpus:
        return tuple(int(g) for g in gpus)
    return (int(entry.gpu),)


def servers(config: CoalitionConfig) -> list[Server]:
    """The coalition's distinct models with their placement and serve command."""
    out: list[Server] = []
    placed = {entry.candidate: entry for entry in config.placement}
    names = list(dict.fromkeys(assignment.candidate for assignment in config.roles.values()))
    taken = set()  # ports the candidates' own URLs name: never handed to another server
    for name in names:
        reached = endpoint(config.candidates[name])
        if reached is not None and urlsplit(reached.api_base).port:
            taken.add(urlsplit(reached.api_base).port)
    port = FIRST_PORT
    for name in names:
        while port in taken:
            port += 1
        candidate = config.candidates[name]
        entry = placed.get(name)
        gpus = _placement_gpus(entry) if entry is not None else ()
        tensor_parallel = int(getattr(entry, "tensor_parallel_size", 0) or len(gpus) or 1)
        fraction = entry.memory_fraction if entry is not None else None
        command = serve_command(
            candidate,
            port=port,
            gpus=gpus,
            tensor_parallel_size=tensor_parallel,
            memory_fraction=fraction,
        )
        if command is not None:
            taken.add(command.port)
        out.append(Server(candidate, gpus, tensor_parallel, fraction, command))
    return out


# ----------------------------------------------------------------------------- LiteLLM


def litellm_config(config: CoalitionConfig) -> dict[str, Any]:
    """A LiteLLM proxy config: one ``rolecast-<role>`` alias per role of the pipeline.

    Raises:
        ConfigError: a role's candidate has no endpoint (its results were imported and it
            names no ``base_url``, or it runs only in-process).
    """
    by_name = {server.candidate.name: server for server in servers(config)}
    model_list = []
    for role in config.pipeline:
        name = config.roles[role].candidate
        candidate = config.candidates[name]
        params = _litellm_params(candidate, by_name[name].command)
        model_list.append(
            {
                "model_name": f"{ALIAS_PREFIX}{role}",
                "litellm_params": params,
                "model_info": _model_info(candidate, role),
            }
        )
    return {
        "model_list": model_list,
        "litellm_settings": {"drop_params": True},
    }


def _litellm_params(candidate: Candidate, command: ServeCommand | None) -> dict[str, Any]:
    reached = endpoint(candidate)
    if reached is not None:  # a URL the candidate names (hosted API or your own server)
        api_base, model, provider = reached.api_base, reached.served_model, reached.provider
        key_env = reached.api_key_env
    elif command is not None:  # a server the exported commands start
        api_base, model, provider = command.api_base, command.served_model, command.provider
        key_env = candidate.api_key_env
    else:
        raise ConfigError(
            f"candidate {candidate.name!r} (backend {candidate.backend}) has no server to "
            "point LiteLLM at; give it backend http with base_url (or a backend with a "
            "serve command, such as llamacpp or vllm)"
        )
    params: dict[str, Any] = {
        "model": f"{provider}/{model}",
        "api_base": api_base,
        # LiteLLM resolves os.environ/NAME when it loads the config: the key stays out of
        # the file. A local server without auth still needs some key for the client.
        "api_key": f"os.environ/{key_env}" if key_env else "no-key",
        "temperature": candidate.temperature,
        "seed": candidate.seed,
        "max_tokens": candidate.max_tokens,
    }
    return params


def _model_info(candidate: Candidate, role: str) -> dict[str, Any]:
    prices = candidate.prices
    info: dict[str, Any] = {
        "mode": "chat",
        "max_input_tokens": candidate.context_length,
        "input_cost_per_token": prices.input_per_mtok / 1e6,
        "output_cost_per_token": prices.output_per_mtok / 1e6,
        "rolecast_candidate": candidate.name,
        "rolecast_role": role,
    }
    if prices.per_hour:  # a machine priced by the hour: LiteLLM counts it per second
        info["output_cost_per_second"] = prices.per_hour / 3600
    return info


# ----------------------------------------------------------------------------- vLLM


def vllm_script(config: CoalitionConfig) -> str:
    """A bash script that starts every distinct model of the coalition in the background."""
    lines = [
        "#!/usr/bin/env bash",
        "# rolecast: start the coalition's models (each once, on its GPUs), then wait.",
        f"# roles: {', '.join(f'{r}={a.candidate}' for r, a in config.roles.items())}",
        "set -euo pipefail",
        "pids=()",
        "trap 'kill \"${pids[@]}\" 2>/dev/null' EXIT",
    ]
    started = 0
    for server in servers(config):
        if server.command is None:
            lines.append(f"# {server.candidate.name}: nothing to start (no serve command)")
            continue
        lines.append(
            f"# {server.candidate.name}: GPUs {list(server.gpus) or 'default'}, "
            f"tensor parallel {server.tensor_parallel_size}, memory fraction "
            f"{server.memory_fraction if server.memory_fraction is not None else 'default'}, "
            f"{server.command.api_base}"
        )
        lines.append(f"{server.command.shell()} &")
        lines.append("pids+=($!)")
        started += 1
    if not started:
        lines.append("echo 'nothing to start: every model is served elsewhere' >&2")
        lines.append("exit 0")
    lines.append("wait -n")
    return "\n".join(lines) + "\n"


def compose_file(config: CoalitionConfig) -> dict[str, Any]:
    """A Docker Compose file: one service per distinct model that has a serve command.

    A ``vllm serve`` model runs in the official vLLM image (its entrypoint is ``vllm
    serve``) with its GPUs reserved; other servers run their command in a Python image.
    """
    services: dict[str, Any] = {}
    for server in servers(config):
        command = server.command
        if command is None:
            continue
        service: dict[str, Any] = {}
        if command.image is not None:
            service["image"] = command.image
            service["command"] = list(command.argv[2:])  # the image's entrypoint: vllm serve
            service["ipc"] = "host"
            service["volumes"] = ["~/.cache/huggingface:/root/.cache/huggingface"]
        else:
            service["image"] = "python:3.11-slim"
            service["command"] = [
                "sh",
                "-c",
                "pip install 'llama-cpp-python[server]' && exec "
                + " ".join(shlex.quote(part) for part in command.argv),
            ]
        service["ports"] = [f"{command.port}:{command.port}"]
        if command.files:  # local weights: mounted read-only at the same path
            service.setdefault("volumes", []).extend(
                f"{Path(f).parent if Path(f).is_file() else f}:"
                f"{Path(f).parent if Path(f).is_file() else f}:ro"
                for f in command.files
            )
        if server.gpus:
            service["deploy"] = {
                "resources": {
                    "reservations": {
                        "devices": [
                            {
                                "driver": "nvidia",
                                "device_ids": [str(g) for g in server.gpus],
                                "capabilities": ["gpu"],
                            }
                        ]
                    }
                }
            }
        if command.env:
            # inside the container the reserved GPUs are numbered from 0
            service["environment"] = {
                key: ",".join(str(i) for i in range(len(server.gpus)))
                if key == "CUDA_VISIBLE_DEVICES"
                else value
                for key, value in command.env.items()
            }
        services[_service_name(server.candidate.name)] = service
    if not services:
        raise ConfigError("nothing to start: every model of the coalition is served elsewhere")
    return {"services": services}


def _service_name(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name.lower())


# ----------------------------------------------------------------------------- writing


def write_export(config: CoalitionConfig, fmt: str, out: str | Path) -> list[Path]:
    """Write ``config`` in ``fmt``; returns the files written.

    ``yaml``: coalition.yaml at ``out``. ``litellm``: the proxy config at ``out``.
    ``vllm``: ``out`` is a folder that gets ``serve.sh`` and ``compose.yaml``.

    Raises:
        ConfigError: an unknown format, or a coalition the format cannot express.
    """
    writer = _WRITERS.get(fmt)
    if writer is None:
        raise ConfigError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    return writer(config, Path(out))


def _write_litellm(config: CoalitionConfig, out: Path) -> list[Path]:
    text = _header("LiteLLM proxy config (litellm --config FILE)") + _dump(litellm_config(config))
    return [write_atomic(out, text)]


def _write_vllm(config: CoalitionConfig, folder: Path) -> list[Path]:
    compose = _header("Docker Compose file (docker compose -f FILE up)") + _dump(
        compose_file(config)
    )
    script = write_atomic(folder / "serve.sh", vllm_script(config))
    script.chmod(0o755)
    return [script, write_atomic(folder / "compose.yaml", compose)]


_WRITERS: dict[str, Callable[[CoalitionConfig, Path], list[Path]]] = {
    "yaml": lambda config, out: [write_coalition(config, out)],
    "litellm": _write_litellm,
    "vllm": _write_vllm,
}


def _header(what: str) -> str:
    return f"# rolecast coalition as a {what}; written by `rolecast export`.\n"


def _dump(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
