"""Backends: one name per serving engine, imported lazily on first use."""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Sequence

from rolecast.backends._base import Backend, ChatRequest, ChatResult, Fault, Message
from rolecast.errors import ConfigError
from rolecast.types import Candidate, stable_hash

__all__ = [
    "BACKENDS",
    "Backend",
    "ChatRequest",
    "ChatResult",
    "Fault",
    "Message",
    "check_backend_name",
    "create_backend",
    "fingerprint",
    "fingerprints",
    "weights_identity",
]

BACKENDS: dict[str, str] = {
    "llamacpp": "rolecast.backends.llamacpp:LlamaCppBackend",
    "http": "rolecast.backends.http:OpenAIHTTPBackend",
    "transformers": "rolecast.backends.hf:TransformersBackend",
    "scripted": "rolecast.backends.scripted:ScriptedBackend",
    "imported": "rolecast.backends.imported:ImportedBackend",
}
"""Backend name -> "module:Class"; the module is imported only when the backend is used."""


def check_backend_name(name: str) -> str:
    """Return ``name`` if it is a known backend, else raise with a suggestion."""
    if name in BACKENDS:
        return name
    close = difflib.get_close_matches(name, BACKENDS, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ConfigError(f"unknown backend {name!r}{hint} (known: {', '.join(sorted(BACKENDS))})")


def create_backend(candidate: Candidate) -> Backend:
    """Instantiate the backend named by ``candidate.backend``."""
    module_name, _, class_name = BACKENDS[check_backend_name(candidate.backend)].partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    backend: Backend = cls(candidate)
    return backend


def weights_identity(candidate: Candidate) -> str:
    """What identifies the weights, computed without loading the model."""
    check_backend_name(candidate.backend)
    if candidate.backend == "llamacpp":
        from rolecast.backends.models import file_sha256, resolve_gguf_file

        return f"sha256:{file_sha256(resolve_gguf_file(candidate.model))}"
    if candidate.backend == "transformers":
        from rolecast.backends.hf import directory_identity, locate_weights
        from rolecast.backends.models import file_sha256

        directory, gguf = locate_weights(candidate.model)
        if gguf is not None:
            return f"sha256:{file_sha256(gguf)}"
        if directory is not None:
            return directory_identity(directory)
    if candidate.backend == "scripted":
        return f"scripted:{candidate.model}"
    if candidate.backend == "imported":
        return f"import:{candidate.name}"
    return f"{candidate.model}@{candidate.revision or 'unpinned'}"


def fingerprint(candidate: Candidate) -> str:
    """The identity that makes a cached profile valid: weights + decoding settings."""
    return stable_hash({"weights": weights_identity(candidate), **candidate.decoding()})


def fingerprints(candidates: Sequence[Candidate]) -> dict[str, str]:
    """Each candidate's fingerprint by name.

    It hashes the weights files (cached), so a wrong path or an uninstalled model package
    is a one-line error here, before a store, a run or a file exists.
    """
    return {candidate.name: fingerprint(candidate) for candidate in candidates}
