"""llama.cpp backend (``llama-cpp-python``): GGUF models on CPU, grammar-constrained JSON.

Repeatability: llama.cpp reuses the KV cache of a shared prompt prefix, and a cache hit
changes greedy output slightly. Every request therefore starts from ``reset()`` with the
candidate's seed, so the same request gives the same text within and across runs.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from typing import Any

from rolecast._imports import try_import
from rolecast.backends._base import Backend, ChatRequest, ChatResult
from rolecast.backends.models import file_sha256, resolve_model_path
from rolecast.errors import BackendError
from rolecast.types import Candidate

__all__ = ["LlamaCppBackend"]

_OPTIONS = {"n_threads", "n_batch", "n_gpu_layers", "flash_attn"}


class LlamaCppBackend(Backend):
    """Runs one GGUF model in-process."""

    def __init__(self, candidate: Candidate) -> None:
        super().__init__(candidate)
        unknown = set(candidate.options) - _OPTIONS
        if unknown:
            raise BackendError(
                f"candidate {candidate.name}: unknown llamacpp option(s) {sorted(unknown)}; "
                f"allowed: {sorted(_OPTIONS)}"
            )
        self.model_path = resolve_model_path(candidate.model)
        llama_cpp = try_import("llama_cpp")
        self._llama_cpp = llama_cpp
        options: dict[str, Any] = {
            "n_threads": os.cpu_count() or 1,
            "n_batch": 512,
            "n_gpu_layers": 0,
            **candidate.options,
        }
        try:
            self._llm = llama_cpp.Llama(
                model_path=str(self.model_path),
                n_ctx=candidate.context_length,
                seed=candidate.seed,
                chat_format=candidate.chat_format,
                verbose=False,
                **options,
            )
        except (ValueError, RuntimeError) as exc:
            raise BackendError(
                f"candidate {candidate.name}: llama.cpp cannot load {self.model_path}: {exc}"
            ) from None
        self._grammars: dict[str, Any] = {}

    def weights_identity(self) -> str:
        """sha256 of the GGUF file."""
        return f"sha256:{file_sha256(self.model_path)}"

    def _grammar(self, schema: dict[str, Any]) -> Any:
        """The grammar for ``schema``, built once.

        A schema llama.cpp cannot convert falls back to "any JSON object": an exotic tool
        schema costs constraint strength, not the run.
        """
        key = json.dumps(schema, sort_keys=True)
        if key not in self._grammars:
            from_schema = self._llama_cpp.LlamaGrammar.from_json_schema
            try:
                self._grammars[key] = from_schema(key, verbose=False)
            except Exception:  # any converter failure means: use the fallback
                self._grammars[key] = from_schema('{"type": "object"}', verbose=False)
        return self._grammars[key]

    def generate(self, requests: Sequence[ChatRequest]) -> list[ChatResult]:
        """Generate sequentially; each request starts from a clean cache and the seed."""
        return [self._generate_one(request) for request in requests]

    def _generate_one(self, request: ChatRequest) -> ChatResult:
        if self._llm is None:
            raise BackendError(f"candidate {self.candidate.name}: backend is closed")
        started = time.perf_counter()
        try:
            grammar = self._grammar(request.json_schema) if request.json_schema else None
            self._llm.reset()
            self._llm.set_seed(self.candidate.seed)
            response = self._llm.create_chat_completion(
                messages=[{"role": m.role, "content": m.content} for m in request.messages],
                temperature=self.candidate.temperature,
                seed=self.candidate.seed,
                max_tokens=request.max_tokens or self.candidate.max_tokens,
                stop=list(request.stop) or None,
                grammar=grammar,
            )
        except (ValueError, RuntimeError) as exc:  # context overflow, bad grammar, decode error
            return ChatResult(
                text="",
                latency_s=time.perf_counter() - started,
                error=f"{type(exc).__name__}: {exc}",
            )
        latency = time.perf_counter() - started
        choice = response["choices"][0]
        usage = response.get("usage") or {}
        return ChatResult(
            text=choice["message"].get("content") or "",
            tokens_in=int(usage.get("prompt_tokens", 0)),
            tokens_out=int(usage.get("completion_tokens", 0)),
            latency_s=latency,
            extra={"finish_reason": choice.get("finish_reason")},
        )

    def close(self) -> None:
        """Release the model."""
        llm, self._llm = getattr(self, "_llm", None), None
        if llm is not None:
            llm.close()
