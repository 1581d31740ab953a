"""OpenAI-compatible HTTP backend: vLLM, the llama.cpp server, hosted chat APIs.

Split as the style guide asks: :func:`build_payload` and :func:`parse_response` are pure
(tested exactly, without a network); :class:`OpenAIHTTPBackend` is the thin I/O layer.

Candidate fields used: ``model`` (the *served* model name), ``base_url`` (as for the
OpenAI client, e.g. ``http://127.0.0.1:8000/v1``; a URL without a path gets ``/v1``),
``api_key_env`` (the environment variable holding the key, sent as a bearer token; None
for servers without auth), ``temperature``, ``seed``, ``max_tokens``. Options:

* ``json_mode``: how a request's JSON schema is sent.
  ``"json_schema"`` (default, OpenAI and vLLM): ``response_format: {"type":
  "json_schema", "json_schema": {"name": "output", "schema": ..., "strict": true}}``;
  ``"json_object"`` (llama.cpp server, llama-cpp-python): ``response_format: {"type":
  "json_object", "schema": ...}``; ``"guided_json"`` (older vLLM): a top-level
  ``guided_json`` field; ``"none"``: the schema is not sent (the prompt must ask for JSON).
* ``concurrency`` (default 4): requests in flight at once.
* ``max_retries`` (default 3): retries on connect errors, timeouts, 429 and 5xx, with
  exponential backoff from ``backoff_s`` (default 0.5 s, doubled per retry, capped at
  30 s, jittered; a numeric ``Retry-After`` header is honoured up to 60 s). Any other 4xx
  is not retried: it becomes that request's error.
* ``timeout_s`` (default 60): per attempt (connect, read, write).

Faults are not scores (see :mod:`rolecast.backends._base`). A result carries a
:class:`~rolecast.backends.Fault` when the model never answered: ``connect`` (refused,
reset, unreachable, after retries), ``timeout`` (after retries, or 408), ``server`` (5xx
or 429 after retries, or an ``error`` object in a 200 body), ``auth`` (401, 403),
``protocol`` (a 2xx body that is not JSON or has no ``choices[0].message``), ``client``
(404, 405, or a URL httpx cannot send to: the endpoint or the served model name is
wrong). A 400, 413 or 422 stays the model's failure (no fault): the server refused this
request for this model, typically a prompt over its context length. A valid reply with
unusable text is the model's failure too.

A result's ``latency_s`` is the time of the attempt that answered (backoff waits are not
counted); ``extra`` holds ``finish_reason``, ``attempts`` and, for an HTTP error, ``status``.

Weights identity is ``model@revision`` (``unpinned`` without a revision), not the URL:
the same served model on another host reuses its cached profiles. Pin ``revision`` when
a hosted name may change behind your back.

Repeatability is the server's: this backend sends the same body for the same request.
The llama.cpp server reuses the KV cache of the prefix shared with the previous request,
and llama.cpp rounds prompt batches of different sizes differently, so the same greedy
request can give different text depending on the request before it; start it with
``--n_batch 1`` for repeatable outputs. vLLM does not promise batch-invariant outputs
either. Profiles measured over HTTP are therefore as repeatable as the server makes them.

The API key is kept in the request headers only; it is never logged, and any error text
that echoes it has it masked.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import random
import time
from collections.abc import Sequence
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, StrictFloat, StrictInt

from rolecast._imports import try_import
from rolecast.backends._base import (
    Backend,
    BackendOptions,
    ChatRequest,
    ChatResult,
    Endpoint,
    Fault,
    MemoryFacts,
    ServeCommand,
    neutral_option,
)
from rolecast.backends.chat_templates import split_prefill
from rolecast.errors import BackendError
from rolecast.types import Candidate

__all__ = ["JSON_MODES", "HTTPOptions", "OpenAIHTTPBackend", "build_payload", "parse_response"]

JSON_MODES = ("json_schema", "json_object", "guided_json", "none")
"""Ways to send a request's JSON schema; see the module docstring."""

_VLLM_OVERHEAD_GB = 1.5  # a self-served vllm serve: CUDA context, activations, CUDA graphs
_STATUS_FAULTS = {
    401: Fault.AUTH,
    403: Fault.AUTH,
    404: Fault.CLIENT,
    405: Fault.CLIENT,
    408: Fault.TIMEOUT,
}
"""Unretried 4xx statuses that are infrastructure faults; other 4xx are the model's."""

_MAX_BACKOFF_S = 30.0
_MAX_RETRY_AFTER_S = 60.0
_DETAIL_CHARS = 300


class HTTPOptions(BackendOptions):
    """Options of the HTTP backend; see the module docstring."""

    json_mode: Literal["json_schema", "json_object", "guided_json", "none"] = Field(
        default="json_schema", description="How a request's JSON schema is sent."
    )
    concurrency: StrictInt = neutral_option(4, "Requests in flight at once.", ge=1)
    max_retries: StrictInt = neutral_option(
        3, "Retries on connect errors, timeouts, 429 and 5xx.", ge=0
    )
    timeout_s: StrictFloat = neutral_option(
        60.0, "Seconds per attempt (connect, read, write).", gt=0
    )
    backoff_s: StrictFloat = neutral_option(0.5, "First retry's wait, doubled per retry.", ge=0)


def build_payload(candidate: Candidate, request: ChatRequest) -> dict[str, Any]:
    """The OpenAI chat-completions body for ``request`` served as ``candidate``.

    ``stop`` is sent only when the request has stop strings; the JSON schema is sent in
    the form ``candidate.options["json_mode"]`` names (default ``"json_schema"``). A
    trailing assistant message (a prefill, which a chat-completions server does not
    continue portably) is appended to the last user message instead.
    """
    messages, prefill = split_prefill(request.messages)
    chat = [{"role": m.role, "content": m.content} for m in messages]
    if prefill and chat and chat[-1]["role"] == "user":
        chat[-1]["content"] += f"\n\n{prefill}"
    payload: dict[str, Any] = {
        "model": candidate.model,
        "messages": chat,
        "temperature": candidate.temperature,
        "seed": candidate.seed,
        "max_tokens": request.max_tokens or candidate.max_tokens,
    }
    if request.stop:
        payload["stop"] = list(request.stop)
    schema = request.json_schema
    if schema is None:
        return payload
    mode = candidate.options.get("json_mode", "json_schema")
    if mode == "json_schema":
        payload["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "output", "schema": schema, "strict": True},
        }
    elif mode == "json_object":
        payload["response_format"] = {"type": "json_object", "schema": schema}
    elif mode == "guided_json":
        payload["guided_json"] = schema
    elif mode != "none":
        raise BackendError(
            f"candidate {candidate.name}: options.json_mode must be one of "
            f"{list(JSON_MODES)}, not {mode!r}"
        )
    return payload


def parse_response(body: Any, latency_s: float) -> ChatResult:
    """Turn a chat-completions response body into a result; never raises.

    A body that carries an ``error`` object (fault ``server``), or lacks
    ``choices[0].message`` (fault ``protocol``), gives a faulted result: the model's
    answer never arrived. ``finish_reason`` goes into ``extra``.
    """
    if isinstance(body, dict) and body.get("error"):
        return ChatResult(
            text="",
            latency_s=latency_s,
            error=f"server error: {_error_text(body)}",
            fault=Fault.SERVER,
        )
    try:
        choice = body["choices"][0]
        message = choice["message"]
        content = message.get("content")
        if content is not None and not isinstance(content, str):
            raise TypeError(f"message.content is {type(content).__name__}, not a string")
        usage = body.get("usage") or {}
        tokens_in = int(usage.get("prompt_tokens") or 0)
        tokens_out = int(usage.get("completion_tokens") or 0)
        finish_reason = choice.get("finish_reason")
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        shape = _shape(body)
        return ChatResult(
            text="",
            latency_s=latency_s,
            error=f"malformed response ({type(exc).__name__}: {exc}): {shape}",
            fault=Fault.PROTOCOL,
        )
    return ChatResult(
        text=content or "",
        tokens_in=tokens_in,
        tokens_out=tokens_out,
        latency_s=latency_s,
        extra={"finish_reason": finish_reason},
    )


def _error_text(body: dict[str, Any]) -> str:
    error = body.get("error")
    if isinstance(error, dict):
        return str(error.get("message") or error)[:_DETAIL_CHARS]
    return str(error)[:_DETAIL_CHARS]


def _shape(body: Any) -> str:
    text = repr(body)
    return text if len(text) <= _DETAIL_CHARS else text[:_DETAIL_CHARS] + "..."


def _chat_url(base_url: str) -> str:
    parts = urlsplit(base_url)
    base = base_url.rstrip("/")
    if parts.path in ("", "/"):
        base += "/v1"
    return base + "/chat/completions"


class OpenAIHTTPBackend(Backend):
    """Talks to one model behind an OpenAI-compatible ``/chat/completions`` endpoint."""

    Options = HTTPOptions
    options: HTTPOptions

    def __init__(self, candidate: Candidate, *, transport: Any = None) -> None:
        """Check the configuration; no request is sent yet.

        Args:
            candidate: The served model; ``base_url`` is required.
            transport: An ``httpx.AsyncBaseTransport`` to use instead of the network
                (tests inject ``httpx.MockTransport``).
        """
        super().__init__(candidate)
        prefix = f"candidate {candidate.name}"
        self._options = self.options
        if not candidate.base_url:
            raise BackendError(
                f"{prefix}: backend 'http' needs base_url (e.g. http://127.0.0.1:8000/v1)"
            )
        scheme = urlsplit(candidate.base_url).scheme
        if scheme not in ("http", "https"):
            raise BackendError(
                f"{prefix}: base_url {candidate.base_url!r} must start with http:// or https://"
            )
        self._httpx = try_import("httpx")
        self._url = _chat_url(candidate.base_url)
        self._headers = {"Accept": "application/json"}
        self._secret: str | None = None
        if candidate.api_key_env:
            key = os.environ.get(candidate.api_key_env)
            if not key:
                raise BackendError(
                    f"{prefix}: environment variable {candidate.api_key_env} (api_key_env) "
                    f"is not set; export the API key in it"
                )
            self._secret = key
            self._headers["Authorization"] = f"Bearer {key}"
        self._transport = transport
        self._closed = False

    @classmethod
    def identity(cls, candidate: Candidate) -> str:
        """``model@revision``: the served name, not the host, identifies the weights."""
        return f"{candidate.model}@{candidate.revision or 'unpinned'}"

    @classmethod
    def memory_facts(cls, candidate: Candidate) -> MemoryFacts:
        """A server of your own (``n_params`` given) is sized like ``vllm serve``.

        Without ``n_params`` (or a measured ``memory_gb``) it is a hosted API and takes
        nothing from the GPU budget.
        """
        return MemoryFacts(
            overhead_gb=_VLLM_OVERHEAD_GB, remote=candidate.n_params is None, reads_weights=False
        )

    @classmethod
    def serve_command(
        cls,
        candidate: Candidate,
        *,
        port: int = 8000,
        gpus: Sequence[int] = (),
        tensor_parallel_size: int = 1,
        memory_fraction: float | None = None,
    ) -> ServeCommand | None:
        """``vllm serve`` for a self-served model (one with ``n_params`` or ``memory_gb``).

        It listens on the port of the candidate's ``base_url`` when that names one (the
        server the candidate points at), else on ``port``. None for a hosted API: there
        is nothing to start.
        """
        if not (candidate.n_params or candidate.memory_gb):
            return None
        from rolecast.backends._vllm_args import vllm_serve_command

        own_port = urlsplit(candidate.base_url).port if candidate.base_url else None
        return vllm_serve_command(
            candidate,
            served_model=candidate.model,
            port=own_port or port,
            gpus=gpus,
            tensor_parallel_size=tensor_parallel_size,
            memory_fraction=memory_fraction,
        )

    @classmethod
    def endpoint(cls, candidate: Candidate) -> Endpoint | None:
        """The candidate's ``base_url`` and served model name, with its key's variable."""
        if not candidate.base_url:
            return None
        return Endpoint(
            api_base=candidate.base_url,
            served_model=candidate.model,
            provider="openai",
            api_key_env=candidate.api_key_env,
        )

    @property
    def batch_size(self) -> int:
        """``options.concurrency``: that many requests are in flight at once."""
        return self._options.concurrency

    def generate(self, requests: Sequence[ChatRequest]) -> list[ChatResult]:
        """Send the batch concurrently (``options.concurrency``); results in request order."""
        if self._closed:
            raise BackendError(f"candidate {self.candidate.name}: backend is closed")
        batch = list(requests)
        if not batch:
            return []
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self._generate_all(batch))
        # Called from inside an event loop (a notebook, an async app): run on a private
        # loop in a worker thread rather than fail.
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, self._generate_all(batch)).result()

    def close(self) -> None:
        """Mark the backend closed; connections live only for one ``generate`` call."""
        self._closed = True

    async def _generate_all(self, requests: list[ChatRequest]) -> list[ChatResult]:
        httpx = self._httpx
        limit = self._options.concurrency
        semaphore = asyncio.Semaphore(limit)
        async with httpx.AsyncClient(
            headers=self._headers,
            timeout=httpx.Timeout(self._options.timeout_s),
            limits=httpx.Limits(max_connections=limit, max_keepalive_connections=limit),
            transport=self._transport,
        ) as client:

            async def one(request: ChatRequest) -> ChatResult:
                async with semaphore:
                    return await self._send(client, request)

            return list(await asyncio.gather(*(one(request) for request in requests)))

    async def _send(self, client: Any, request: ChatRequest) -> ChatResult:
        """POST one request, retrying transient failures; never raises for HTTP trouble."""
        httpx = self._httpx
        payload = build_payload(self.candidate, request)
        attempts = self._options.max_retries + 1
        error = ""
        fault = Fault.CONNECT
        latency = 0.0
        wait_hint: float | None = None
        for attempt in range(1, attempts + 1):
            if attempt > 1:
                await asyncio.sleep(self._backoff(attempt - 1, wait_hint))
            wait_hint = None
            started = time.perf_counter()
            try:
                response = await client.post(self._url, json=payload)
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                latency = time.perf_counter() - started
                error = f"{type(exc).__name__}: {str(exc) or 'no detail'}"
                fault = Fault.TIMEOUT if isinstance(exc, httpx.TimeoutException) else Fault.CONNECT
                continue
            except httpx.HTTPError as exc:  # not transient (bad URL, local protocol error)
                return self._failure(
                    f"{type(exc).__name__}: {exc}",
                    time.perf_counter() - started,
                    attempt,
                    fault=Fault.CLIENT,
                )
            latency = time.perf_counter() - started
            status = response.status_code
            if status == 429 or status >= 500:
                error = f"HTTP {status}: {_response_detail(response)}"
                fault = Fault.SERVER
                wait_hint = _retry_after(response)
                continue
            if status >= 400:
                detail = f"HTTP {status}: {_response_detail(response)}"
                return self._failure(
                    detail, latency, attempt, status=status, fault=_STATUS_FAULTS.get(status)
                )
            try:
                body = response.json()
            except ValueError:
                detail = f"HTTP {status} but the body is not JSON: {response.text[:200]!r}"
                return self._failure(detail, latency, attempt, status=status, fault=Fault.PROTOCOL)
            result = parse_response(body, latency)
            return ChatResult(
                text=result.text,
                tokens_in=result.tokens_in,
                tokens_out=result.tokens_out,
                latency_s=result.latency_s,
                error=self._redact(result.error) if result.error else None,
                extra={**result.extra, "attempts": attempt},
                fault=result.fault,
            )
        return self._failure(
            f"{error} (gave up after {attempts} attempt(s))", latency, attempts, fault=fault
        )

    def _failure(
        self,
        error: str,
        latency_s: float,
        attempts: int,
        status: int | None = None,
        fault: Fault | None = None,
    ) -> ChatResult:
        extra: dict[str, Any] = {"attempts": attempts}
        if status is not None:
            extra["status"] = status
        return ChatResult(
            text="", latency_s=latency_s, error=self._redact(error), extra=extra, fault=fault
        )

    def _backoff(self, retry: int, retry_after: float | None) -> float:
        delay = min(self._options.backoff_s * 2 ** (retry - 1), _MAX_BACKOFF_S)
        delay *= 0.5 + random.random() / 2  # jitter so concurrent retries spread out
        if retry_after is not None:
            delay = max(delay, min(retry_after, _MAX_RETRY_AFTER_S))
        return delay

    def _redact(self, text: str) -> str:
        return text.replace(self._secret, "***") if self._secret else text


def _response_detail(response: Any) -> str:
    """The server's error message, or the start of the body."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:_DETAIL_CHARS] or response.reason_phrase
    if isinstance(body, dict) and body.get("error"):
        return _error_text(body)
    if isinstance(body, dict) and "detail" in body:  # FastAPI validation errors
        return str(body["detail"])[:_DETAIL_CHARS]
    return _shape(body)


def _retry_after(response: Any) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return max(float(value), 0.0) if value is not None else None
    except ValueError:
        return None  # an HTTP date: fall back to the exponential backoff
