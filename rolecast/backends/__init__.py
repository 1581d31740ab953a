"""Backends: one name per serving engine, imported lazily on first use.

The registry maps a backend name to ``"module:Class"``; the module is imported the first
time a candidate names it (the engine inside it only when a model is loaded). Every fact
about a backend (options, weights identity, memory, serve command) is asked of its class
through the functions here, so no code outside this package tests a backend's name.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from rolecast.backends._base import (
    Backend,
    BackendOptions,
    ChatRequest,
    ChatResult,
    Endpoint,
    Fault,
    MemoryFacts,
    Message,
    ServeCommand,
)
from rolecast.errors import ConfigError
from rolecast.types import Candidate, stable_hash

__all__ = [
    "BACKENDS",
    "Backend",
    "BackendOptions",
    "ChatRequest",
    "ChatResult",
    "Endpoint",
    "Fault",
    "MemoryFacts",
    "Message",
    "ServeCommand",
    "backend_class",
    "check_backend_name",
    "check_candidate",
    "create_backend",
    "endpoint",
    "fingerprint",
    "fingerprints",
    "generates",
    "local_weights",
    "memory_facts",
    "place",
    "registered",
    "serve_command",
    "weights_identity",
]

BACKENDS: dict[str, str] = {
    "llamacpp": "rolecast.backends.llamacpp:LlamaCppBackend",
    "http": "rolecast.backends.http:OpenAIHTTPBackend",
    "transformers": "rolecast.backends.hf:TransformersBackend",
    "vllm": "rolecast.backends.vllm:VLLMBackend",
    "imported": "rolecast.backends.imported:ImportedBackend",
}
"""Backend name -> "module:Class" of the backends a project file may name."""


@contextmanager
def registered(name: str, target: str) -> Iterator[None]:
    """Make ``name`` a backend (``"module:Class"``) while the block runs.

    For tests: the scripted fake is registered this way (``tests/conftest.py``), never
    listed in :data:`BACKENDS`, so no project file can select it.
    """
    if name in BACKENDS:
        raise ConfigError(f"backend {name!r} is already registered")
    BACKENDS[name] = target
    try:
        yield
    finally:
        del BACKENDS[name]


def check_backend_name(name: str) -> str:
    """Return ``name`` if it is a known backend, else raise with a suggestion."""
    if name in BACKENDS:
        return name
    close = difflib.get_close_matches(name, BACKENDS, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ConfigError(f"unknown backend {name!r}{hint} (known: {', '.join(sorted(BACKENDS))})")


def backend_class(name: str) -> type[Backend]:
    """The class registered as ``name`` (its module imported now, its engine not yet)."""
    module_name, _, class_name = BACKENDS[check_backend_name(name)].partition(":")
    cls: type[Backend] = getattr(importlib.import_module(module_name), class_name)
    return cls


def check_candidate(candidate: Candidate) -> Candidate:
    """Check ``candidate``'s backend name and options; raise one line naming what to fix.

    Raises:
        ConfigError: unknown backend, or an option the backend does not take (with "did
            you mean" and the allowed keys) or a bad option value.
    """
    backend_class(candidate.backend).parse_options(candidate)
    return candidate


def create_backend(candidate: Candidate) -> Backend:
    """Instantiate the backend named by ``candidate.backend`` (options checked first)."""
    check_candidate(candidate)
    return backend_class(candidate.backend)(candidate)


def weights_identity(candidate: Candidate) -> str:
    """What identifies the weights, computed without loading the model."""
    return backend_class(candidate.backend).identity(candidate)


def memory_facts(candidate: Candidate) -> MemoryFacts:
    """How ``candidate``'s engine holds the model (overhead, dtypes), for the memory model."""
    return backend_class(candidate.backend).memory_facts(candidate)


def local_weights(candidate: Candidate) -> Path | None:
    """Local weights whose metadata gives the model's shape; None when there are none."""
    return backend_class(candidate.backend).local_weights(candidate)


def generates(candidate: Candidate) -> bool:
    """False when ``candidate``'s results come from an import: rolecast runs nothing."""
    return backend_class(candidate.backend).generates


def serve_command(
    candidate: Candidate,
    *,
    port: int = 8000,
    gpus: Sequence[int] = (),
    tensor_parallel_size: int = 1,
    memory_fraction: float | None = None,
) -> ServeCommand | None:
    """How to start ``candidate`` as an OpenAI-compatible server; None if nothing to start."""
    return backend_class(candidate.backend).serve_command(
        candidate,
        port=port,
        gpus=gpus,
        tensor_parallel_size=tensor_parallel_size,
        memory_fraction=memory_fraction,
    )


def place(
    candidate: Candidate, *, tensor_parallel_size: int = 1, memory_fraction: float | None = None
) -> Candidate:
    """``candidate`` with its placement's memory share and GPU split, for in-process engines."""
    return backend_class(candidate.backend).placed(
        candidate, tensor_parallel_size=tensor_parallel_size, memory_fraction=memory_fraction
    )


def endpoint(candidate: Candidate) -> Endpoint | None:
    """Where a client reaches ``candidate`` when it is already served (a URL); else None."""
    return backend_class(candidate.backend).endpoint(candidate)


def fingerprint(candidate: Candidate) -> str:
    """The identity that makes a cached profile valid: weights + decoding settings.

    Options the backend marks output-neutral (threads, timeouts, concurrency) are left
    out: changing them reuses the stored steps.
    """
    cls = backend_class(candidate.backend)
    decoding = candidate.decoding(neutral=cls.Options.neutral_keys())
    return stable_hash({"weights": cls.identity(candidate), **decoding})


def fingerprints(candidates: Sequence[Candidate]) -> dict[str, str]:
    """Each candidate's fingerprint by name.

    It hashes the weights files (cached), so a wrong path or an uninstalled model package
    is a one-line error here, before a store, a run or a file exists.
    """
    return {candidate.name: fingerprint(candidate) for candidate in candidates}
