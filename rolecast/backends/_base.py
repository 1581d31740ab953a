"""The backend contract: batch-shaped, typed, and explicit about failures.

A backend turns a batch of :class:`ChatRequest` into one :class:`ChatResult` each, in
order. A single bad generation is a result with ``error`` set, never an exception;
exceptions are for the backend as a whole (missing weights, missing extra).

Faults are not scores. A result with ``error`` set is one of two things, and the backend
says which:

* **The model's failure** (``fault is None``): the model answered, but unusably (a
  context overflow, output the parser rejects). It is scored as a failure and stored.
* **An infrastructure fault** (``fault`` set to a :class:`Fault` kind): the model never
  answered (server down, timeout, 5xx after retries, a refused key, a reply that breaks
  the protocol). It says nothing about the model: callers never score it, never store it
  as a step, never reuse it, and report it (candidate, where, what) instead.

``fault`` set implies ``error`` set (the detail, secrets masked), so code that only looks
at :attr:`ChatResult.ok` still treats a fault as "no usable text".

Contract for implementations:

* ``generate`` returns exactly ``len(requests)`` results, in request order.
* The same request with the same seed gives the same text, within a run and across
  runs (backends with a prompt cache reset it per request).
* ``close()`` frees the model's memory; it is idempotent.
* Heavy engines (llama_cpp, vllm, torch, ...) are imported inside the implementation
  module only, so ``import rolecast`` stays light.

A backend class also owns the facts the rest of rolecast needs about it without loading
a model, as class-level declarations (nothing outside ``rolecast/backends`` tests a
backend's name):

* :attr:`Backend.Options`: its ``options`` as a pydantic model (``extra="forbid"``),
  validated when a project or coalition file loads; fields marked with
  :func:`neutral_option` change speed or transport only and are left out of the
  fingerprint.
* :meth:`Backend.identity`: what identifies the weights (file hash, model id + revision).
* :meth:`Backend.memory_facts`: runtime overhead and the dtype the engine holds the
  weights and KV cache in, for the allocator's memory model.
* :meth:`Backend.serve_command`: how to start the model as an OpenAI-compatible server
  on given GPUs, and :meth:`Backend.endpoint`: where a runner reaches it.
* :attr:`Backend.generates`: False for a candidate whose results are only imported.
"""

from __future__ import annotations

import abc
import difflib
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rolecast.errors import ConfigError
from rolecast.types import Candidate

__all__ = [
    "Backend",
    "BackendOptions",
    "ChatRequest",
    "ChatResult",
    "Endpoint",
    "Fault",
    "MemoryFacts",
    "Message",
    "ServeCommand",
    "neutral_option",
]


class BackendOptions(BaseModel):
    """A backend's ``options``: unknown keys are errors, fields carry their defaults.

    Subclasses mark the fields that only change speed or transport with
    :func:`neutral_option`; every other option is part of the candidate's fingerprint.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    @classmethod
    def neutral_keys(cls) -> frozenset[str]:
        """Options that never change the generated text (left out of the fingerprint)."""
        return frozenset(
            name
            for name, info in cls.model_fields.items()
            if isinstance(info.json_schema_extra, dict)
            and info.json_schema_extra.get("output_neutral") is True
        )


def neutral_option(default: Any, description: str, **constraints: Any) -> Any:
    """A field of a :class:`BackendOptions` that changes speed or transport, not output."""
    return Field(
        default=default,
        description=description,
        json_schema_extra={"output_neutral": True},
        **constraints,
    )


@dataclass(frozen=True)
class MemoryFacts:
    """What the memory model needs to know about how a backend holds a model.

    Attributes:
        overhead_gb: Runtime overhead on top of weights and KV cache (CUDA context,
            activations, compute buffers).
        dtype: The dtype the engine keeps the KV cache in (None: fp16).
        gguf_dtype: When set, a GGUF file is dequantized to this dtype on load (its
            weights cost parameters × this dtype, and so does the KV cache).
        remote: Served by someone else: it takes nothing from the GPU budget.
        reads_weights: Whether a local weights file or config.json describes the model.
    """

    overhead_gb: float
    dtype: str | None = None
    gguf_dtype: str | None = None
    remote: bool = False
    reads_weights: bool = True


@dataclass(frozen=True)
class ServeCommand:
    """How to start a model as an OpenAI-compatible server.

    Attributes:
        argv: The command line.
        env: Environment it needs (``CUDA_VISIBLE_DEVICES`` for its GPUs).
        port: The port it listens on.
        served_model: The model name clients send in requests.
        provider: LiteLLM's provider prefix for this kind of server (``hosted_vllm``,
            ``openai`` for any other OpenAI-compatible server).
        image: A container image that runs ``argv`` (None: no official image).
        files: Local files or folders the command reads (a container must mount them).
    """

    argv: tuple[str, ...]
    port: int
    served_model: str
    provider: str = "openai"
    env: Mapping[str, str] = field(default_factory=dict)
    image: str | None = None
    files: tuple[str, ...] = ()

    @property
    def api_base(self) -> str:
        """The base URL clients use (``http://127.0.0.1:PORT/v1``)."""
        return f"http://127.0.0.1:{self.port}/v1"

    def shell(self, *, with_env: bool = True) -> str:
        """The command as one shell line, the environment first."""
        env = [f"{k}={shlex.quote(v)}" for k, v in self.env.items()] if with_env else []
        return " ".join([*env, *(shlex.quote(part) for part in self.argv)])


@dataclass(frozen=True)
class Endpoint:
    """Where an OpenAI-compatible client reaches an already running model."""

    api_base: str
    served_model: str
    provider: str = "openai"
    api_key_env: str | None = None


@dataclass(frozen=True)
class Message:
    """One chat message."""

    role: str
    content: str


@dataclass(frozen=True)
class ChatRequest:
    """One generation: messages, an optional JSON schema to constrain the output, limits."""

    messages: tuple[Message, ...]
    json_schema: dict[str, Any] | None = None
    max_tokens: int | None = None
    stop: tuple[str, ...] = ()
    tag: str = ""
    """Free-form label carried through to the result (e.g. the step key)."""


class Fault(StrEnum):
    """Why a request got no answer from the model: infrastructure, never a score."""

    CONNECT = "connect"
    """The server could not be reached (connection refused, DNS, reset)."""
    TIMEOUT = "timeout"
    """No complete answer within the timeout (after retries)."""
    SERVER = "server"
    """The server kept failing (5xx or 429 after retries)."""
    AUTH = "auth"
    """The server refused the credentials (401, 403)."""
    PROTOCOL = "protocol"
    """The reply breaks the API's protocol (not JSON, no ``choices``, an error object)."""
    CLIENT = "client"
    """The server rejected the request itself (another 4xx: wrong URL, unknown model)."""


@dataclass(frozen=True)
class ChatResult:
    """What a backend returned for one request.

    ``error`` says what went wrong; ``fault`` is set when it was the infrastructure, not
    the model (see the module docstring): such a result is never scored or stored.
    """

    text: str
    tokens_in: int = 0
    tokens_out: int = 0
    latency_s: float = 0.0
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    fault: Fault | None = None

    def __post_init__(self) -> None:
        if self.fault is not None and self.error is None:
            raise ValueError("a ChatResult with a fault must say what happened in error")

    @property
    def ok(self) -> bool:
        """True when the generation produced text without an error."""
        return self.error is None

    @property
    def faulted(self) -> bool:
        """True when the infrastructure failed: the result says nothing about the model."""
        return self.fault is not None


class Backend(abc.ABC):
    """Serves one candidate model; its class-level methods are its facts (no model loaded)."""

    Options: ClassVar[type[BackendOptions]] = BackendOptions
    """The backend's ``options`` (none by default)."""

    generates: ClassVar[bool] = True
    """False when the candidate's results only come from an import: nothing to run."""

    def __init__(self, candidate: Candidate) -> None:
        self.candidate = candidate
        self.options = self.parse_options(candidate)

    @classmethod
    def parse_options(cls, candidate: Candidate) -> BackendOptions:
        """``candidate.options`` as this backend's :attr:`Options`.

        Raises:
            ConfigError: an unknown key (with "did you mean" and the allowed keys) or a
                bad value, in one line.
        """
        try:
            return cls.Options.model_validate(candidate.options)
        except ValidationError as exc:
            raise ConfigError(_option_error(candidate, cls.Options, exc)) from None

    @classmethod
    def identity(cls, candidate: Candidate) -> str:
        """What identifies the weights for the fingerprint, computed without loading them.

        The default, for served models: ``model@revision`` (``unpinned`` without one).
        """
        return f"{candidate.model}@{candidate.revision or 'unpinned'}"

    @classmethod
    def memory_facts(cls, candidate: Candidate) -> MemoryFacts:
        """How the engine holds the model (overhead, dtypes), for the memory model."""
        return MemoryFacts(overhead_gb=1.0)

    @classmethod
    def local_weights(cls, candidate: Candidate) -> Path | None:
        """A local weights file or checkpoint directory whose metadata gives the shape."""
        return None

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
        """How to start ``candidate`` as a server on ``gpus``; None when nothing is started.

        Args:
            candidate: The model.
            port: The port to listen on.
            gpus: GPU indices (``CUDA_VISIBLE_DEVICES``); empty for the default device.
            tensor_parallel_size: GPUs one model is split over.
            memory_fraction: Share of each GPU's memory the server may take.
        """
        return None

    @classmethod
    def placed(
        cls, candidate: Candidate, *, tensor_parallel_size: int = 1, memory_fraction: float | None
    ) -> Candidate:
        """``candidate`` as its placement runs it in-process (default: unchanged).

        An engine that takes a memory share or a GPU split as options (vLLM) sets them;
        they are output-neutral, so the fingerprint does not change.
        """
        return candidate

    @classmethod
    def endpoint(cls, candidate: Candidate) -> Endpoint | None:
        """Where a client reaches the candidate without rolecast starting it (a URL)."""
        return None

    @abc.abstractmethod
    def generate(self, requests: Sequence[ChatRequest]) -> list[ChatResult]:
        """Generate one result per request, in order."""

    @property
    def batch_size(self) -> int:
        """How many requests one :meth:`generate` call should get.

        1 for a backend that generates one request after another (llama.cpp,
        transformers): the profiler then commits every step as it is produced, so a
        killed run loses nothing. A backend that serves requests concurrently says more.
        """
        return 1

    def weights_identity(self) -> str:
        """:meth:`identity` of this backend's candidate."""
        return self.identity(self.candidate)

    def close(self) -> None:  # noqa: B027 - optional hook, a no-op by default
        """Free the model's memory; idempotent."""

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _option_error(candidate: Candidate, options: type[BackendOptions], exc: ValidationError) -> str:
    error = exc.errors()[0]
    key = ".".join(str(part) for part in error["loc"])
    allowed = sorted(options.model_fields)
    where = f"candidate {candidate.name!r} (backend {candidate.backend})"
    if error["type"] == "extra_forbidden":
        close = difflib.get_close_matches(str(error["loc"][0]), allowed, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        known = ", ".join(allowed) if allowed else "none"
        return f"{where}: unknown option {key!r}{hint} (allowed: {known})"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{where}: options.{key}: {message}"
