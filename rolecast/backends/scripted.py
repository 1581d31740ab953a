"""A scripted backend for testing bookkeeping (failure paths, odd outputs), never scores.

Outputs are queued with :meth:`ScriptedBackend.enqueue` or produced by a responder
function; ``options: {"outputs": [...]}`` in the candidate also queues outputs.

It is not a backend a project can name: the test suite registers it as ``scripted``
with :func:`rolecast.backends.registered` (``tests/conftest.py``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence

from pydantic import Field

from rolecast.backends._base import Backend, BackendOptions, ChatRequest, ChatResult, MemoryFacts
from rolecast.types import Candidate

__all__ = ["ScriptedBackend", "ScriptedOptions"]


class ScriptedOptions(BackendOptions):
    """The scripted fake's only option: outputs to queue."""

    outputs: list[str] = Field(default_factory=list, description="Texts returned in order.")


Responder = Callable[[ChatRequest], "str | ChatResult"]


class ScriptedBackend(Backend):
    """Returns queued texts (or a responder's), in order; records every request."""

    Options = ScriptedOptions
    options: ScriptedOptions

    def __init__(self, candidate: Candidate, responder: Responder | None = None) -> None:
        super().__init__(candidate)
        self._queue: deque[str | ChatResult] = deque(self.options.outputs)
        self._responder = responder
        self.requests: list[ChatRequest] = []
        self.closed = False

    def enqueue(self, *outputs: str | ChatResult) -> None:
        """Queue outputs for the next requests."""
        self._queue.extend(outputs)

    def set_responder(self, responder: Responder) -> None:
        """Answer every request with ``responder(request)``."""
        self._responder = responder

    @classmethod
    def identity(cls, candidate: Candidate) -> str:
        """Scripted outputs have no weights; the model name stands in."""
        return f"scripted:{candidate.model}"

    @classmethod
    def memory_facts(cls, candidate: Candidate) -> MemoryFacts:
        """No engine: sized from ``n_params`` (or ``memory_gb``) with a nominal 1 GB overhead."""
        return MemoryFacts(overhead_gb=1.0, reads_weights=False)

    def generate(self, requests: Sequence[ChatRequest]) -> list[ChatResult]:
        """Pop one queued output per request (or call the responder)."""
        results = []
        for request in requests:
            self.requests.append(request)
            if self._queue:
                output = self._queue.popleft()
            elif self._responder is not None:
                output = self._responder(request)
            else:
                output = ChatResult(text="", error="scripted backend: nothing queued")
            if isinstance(output, str):
                words = sum(len(m.content.split()) for m in request.messages)
                output = ChatResult(text=output, tokens_in=words, tokens_out=len(output.split()))
            results.append(output)
        return results

    def close(self) -> None:
        """Mark closed."""
        self.closed = True
