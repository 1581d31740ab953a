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
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from rolecast.types import Candidate

__all__ = ["Backend", "ChatRequest", "ChatResult", "Fault", "Message"]


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
    """Serves one candidate model."""

    def __init__(self, candidate: Candidate) -> None:
        self.candidate = candidate

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
        """What identifies the weights (file hash, model id + revision) for the fingerprint."""
        return f"{self.candidate.model}@{self.candidate.revision or 'unpinned'}"

    def close(self) -> None:  # noqa: B027 - optional hook, a no-op by default
        """Free the model's memory; idempotent."""

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
