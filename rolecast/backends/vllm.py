"""vLLM backend, in-process (``vllm.LLM``): a GPU engine that generates a whole batch at once.

The profiler hands it all pending steps of a role in one :meth:`VLLMBackend.generate`
call (its :attr:`~VLLMBackend.batch_size` is large); vLLM schedules them together with
prefix caching, so a role's shared instructions and tool list are computed once.

Decoding: ``SamplingParams`` with the candidate's temperature (0: greedy), seed and
``max_tokens`` (cut to the context left after the prompt, as llama.cpp does). A request
with a JSON schema (the structured roles) is constrained to it with vLLM's structured
outputs (``StructuredOutputsParams(json=...)``, vLLM >= 0.10.2; ``GuidedDecodingParams``
before), using the same prepared schema the llama.cpp grammar gets.

A request vLLM refuses (``ValueError``) is that request's scored failure; an engine
error (``RuntimeError``, e.g. CUDA) is an infrastructure fault (``ChatResult.fault``),
never a score. A batch that raises is retried one request at a time, so one bad request
does not fail the others.

Prompts are rendered here (the model's chat template, or ``chat_format``) and sent as
token ids, so the token counts are exact and a prompt longer than the context is that
request's error, not an exception that would fail the whole batch.

Engine arguments come from the candidate (``model``, ``dtype``, ``quantization``,
``revision``, ``context_length`` as ``max_model_len``, ``seed``) and its options
(:class:`VLLMOptions`: ``gpu_memory_utilization`` and ``tensor_parallel_size``, which a
placement sets; prefix caching on by default). vLLM is an optional extra
(``pip install 'rolecast[vllm]'``); it is imported when the backend is created.

Repeatability: vLLM does not promise batch-invariant numerics: the same greedy request
in a different batch can, rarely, give different text. The profiler's batches are the
same for the same pending steps, so a re-run of the same profile is repeatable.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from pydantic import Field

from rolecast._imports import try_import
from rolecast.backends._base import (
    Backend,
    BackendOptions,
    ChatRequest,
    ChatResult,
    Fault,
    MemoryFacts,
    Message,
    ServeCommand,
    neutral_option,
)
from rolecast.backends._schema import grammar_schema
from rolecast.backends._vllm_args import engine_args, vllm_serve_command
from rolecast.backends.chat_templates import CHAT_FORMATS, split_prefill
from rolecast.backends.hf import directory_identity
from rolecast.errors import BackendError
from rolecast.types import Candidate

__all__ = ["VLLMBackend", "VLLMOptions", "hf_config_path"]

_OVERHEAD_GB = 1.5  # CUDA context, activations, CUDA graphs, sampler buffers


class VLLMOptions(BackendOptions):
    """Options of the in-process vLLM backend (engine arguments of ``vllm.LLM``)."""

    gpu_memory_utilization: float = neutral_option(
        0.9, "Share of the GPU's memory vLLM may take (a placement's memory fraction).",
        gt=0, le=1,
    )  # fmt: skip
    tensor_parallel_size: int = neutral_option(1, "GPUs the model is split over.", ge=1)
    enable_prefix_caching: bool = neutral_option(True, "Reuse the KV cache of shared prefixes.")
    enforce_eager: bool = neutral_option(False, "Skip CUDA graph capture (less memory).")
    max_num_seqs: int | None = neutral_option(None, "Sequences scheduled at once.", gt=0)
    batch_size: int = neutral_option(4096, "Requests per generate call.", ge=1)
    trust_remote_code: bool = neutral_option(False, "Run the checkpoint's own model code.")
    tokenizer: str | None = Field(
        default=None, description="Tokenizer to load when it is not beside the weights."
    )


def hf_config_path(candidate: Candidate) -> Path | None:
    """The model's ``config.json``: in a local checkpoint, else in the Hugging Face cache.

    Nothing is downloaded: a hub id not in the local cache gives None (the memory model
    then falls back to ``n_params``).
    """
    path = Path(candidate.model).expanduser()
    if path.is_dir():
        return path / "config.json" if (path / "config.json").is_file() else None
    if path.exists() or candidate.model.startswith((".", "/", "~")):
        return None
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    found = try_to_load_from_cache(
        candidate.model, "config.json", revision=candidate.revision or None
    )
    return Path(found) if isinstance(found, str) else None


class VLLMBackend(Backend):
    """Runs one model in a ``vllm.LLM`` engine; a batch is generated in one call."""

    Options = VLLMOptions
    options: VLLMOptions

    def __init__(self, candidate: Candidate, *, vllm_module: ModuleType | Any = None) -> None:
        """Start the engine.

        Args:
            candidate: The model: a hub id (in the local cache) or a checkpoint directory.
            vllm_module: The ``vllm`` module (tests pass a fake with ``LLM``,
                ``SamplingParams`` and ``sampling_params``); imported when None.
        """
        super().__init__(candidate)
        if candidate.chat_format is not None and candidate.chat_format not in CHAT_FORMATS:
            raise BackendError(
                f"candidate {candidate.name}: unknown chat_format {candidate.chat_format!r}; use "
                f"one of {', '.join(CHAT_FORMATS)} or leave it unset for the model's own template"
            )
        self._vllm = vllm_module if vllm_module is not None else try_import("vllm")
        self.engine_args = engine_args(candidate, self.options, model=candidate.model)
        try:
            self._llm: Any = self._vllm.LLM(**self.engine_args)
        except (OSError, ValueError, RuntimeError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise BackendError(
                f"candidate {candidate.name}: vLLM cannot load {candidate.model}: {first}"
            ) from None
        self._tokenizer = self._llm.get_tokenizer()
        if candidate.chat_format is None and not getattr(self._tokenizer, "chat_template", None):
            raise BackendError(
                f"candidate {candidate.name}: the model has no chat template (a base model?); "
                f"set chat_format to one of {', '.join(CHAT_FORMATS)}"
            )

    # ----------------------------------------------------------------- facts

    @classmethod
    def identity(cls, candidate: Candidate) -> str:
        """sha256 of a local checkpoint directory, else the hub id and revision."""
        path = Path(candidate.model).expanduser()
        if path.is_dir():
            return directory_identity(path)
        return super().identity(candidate)

    @classmethod
    def memory_facts(cls, candidate: Candidate) -> MemoryFacts:
        """Weights and KV cache in the model dtype (fp16/bf16: 2 bytes), vLLM's overhead."""
        return MemoryFacts(overhead_gb=_OVERHEAD_GB, dtype=candidate.dtype)

    @classmethod
    def local_weights(cls, candidate: Candidate) -> Path | None:
        """The model's ``config.json`` (local checkpoint or Hugging Face cache)."""
        return hf_config_path(candidate)

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
        """``vllm serve`` with the same engine settings as the in-process engine."""
        options = cls.Options.model_validate(candidate.options)
        extra: list[str] = []
        if not options.enable_prefix_caching:
            extra.append("--no-enable-prefix-caching")
        if options.enforce_eager:
            extra.append("--enforce-eager")
        if options.trust_remote_code:
            extra.append("--trust-remote-code")
        if options.tokenizer:
            extra += ["--tokenizer", options.tokenizer]
        if options.max_num_seqs:
            extra += ["--max-num-seqs", str(options.max_num_seqs)]
        return vllm_serve_command(
            candidate,
            served_model=candidate.name,
            port=port,
            gpus=gpus,
            tensor_parallel_size=max(tensor_parallel_size, options.tensor_parallel_size),
            memory_fraction=memory_fraction or options.gpu_memory_utilization,
            extra=extra,
        )

    @classmethod
    def placed(
        cls, candidate: Candidate, *, tensor_parallel_size: int = 1, memory_fraction: float | None
    ) -> Candidate:
        """The placement's memory fraction and GPU split as engine options."""
        update: dict[str, object] = {}
        if memory_fraction:
            update["gpu_memory_utilization"] = round(memory_fraction, 4)
        if tensor_parallel_size > 1:
            update["tensor_parallel_size"] = tensor_parallel_size
        if not update:
            return candidate
        return candidate.model_copy(update={"options": {**candidate.options, **update}})

    @property
    def batch_size(self) -> int:
        """Large: vLLM batches the requests itself, so it gets a role's pending steps at once."""
        return self.options.batch_size

    # ----------------------------------------------------------------- prompts

    def _render(self, messages: Sequence[Message]) -> tuple[list[int], tuple[str, ...]]:
        """Prompt token ids and the stop strings of the chat format."""
        tokenizer = self._tokenizer
        fmt = self.candidate.chat_format
        if fmt is not None:
            rendered = CHAT_FORMATS[fmt](messages)
            ids = list(tokenizer(rendered.prompt, add_special_tokens=False)["input_ids"])
            bos = getattr(tokenizer, "bos_token_id", None)
            if rendered.add_bos and bos is not None:
                ids = [bos, *ids]
            return ids, rendered.stop
        messages, prefill = split_prefill(messages)  # a trailing assistant message is continued
        chat = [{"role": m.role, "content": m.content} for m in messages]
        prompt = tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)
        prompt += prefill
        ids = list(tokenizer(prompt, add_special_tokens=False)["input_ids"])
        eos = getattr(tokenizer, "eos_token", None)
        return ids, (eos,) if eos else ()

    def sampling_params(self, request: ChatRequest, prompt_tokens: int, stop: Sequence[str]) -> Any:
        """VLLM's ``SamplingParams`` for ``request`` (with structured output for a schema)."""
        candidate = self.candidate
        budget = candidate.context_length - prompt_tokens
        kwargs: dict[str, Any] = {
            "temperature": candidate.temperature,
            "seed": candidate.seed,
            "max_tokens": min(request.max_tokens or candidate.max_tokens, budget),
            "stop": [s for s in (*stop, *request.stop) if s] or None,
        }
        if request.json_schema:
            kwargs.update(self._structured(grammar_schema(request.json_schema)))
        return self._vllm.SamplingParams(**kwargs)

    def _structured(self, schema: dict[str, Any]) -> dict[str, Any]:
        """The structured-output keyword of ``SamplingParams`` in this vLLM's API."""
        module = self._vllm.sampling_params
        if hasattr(module, "StructuredOutputsParams"):  # vLLM >= 0.10.2
            return {"structured_outputs": module.StructuredOutputsParams(json=schema)}
        if hasattr(module, "GuidedDecodingParams"):  # vLLM 0.6.x - 0.11
            return {"guided_decoding": module.GuidedDecodingParams(json=schema)}
        raise BackendError(
            "this vLLM has neither StructuredOutputsParams nor GuidedDecodingParams; "
            "install a vLLM >= 0.6.3"
        )

    # ----------------------------------------------------------------- generation

    def generate(self, requests: Sequence[ChatRequest]) -> list[ChatResult]:
        """Generate the whole batch in one engine call; results in request order."""
        if self._llm is None:
            raise BackendError(f"candidate {self.candidate.name}: backend is closed")
        results: list[ChatResult | None] = [None] * len(requests)
        prompts: list[dict[str, Any]] = []
        params: list[Any] = []
        sent: list[int] = []
        for index, request in enumerate(requests):
            try:
                ids, stop = self._render(request.messages)
            except Exception as exc:  # a template error fails this request only
                results[index] = _failure(exc, 0, 0.0)
                continue
            if len(ids) >= self.candidate.context_length:
                results[index] = ChatResult(
                    text="",
                    tokens_in=len(ids),
                    error=f"prompt of {len(ids)} tokens exceeds context_length "
                    f"{self.candidate.context_length}",
                )
                continue
            prompts.append({"prompt_token_ids": ids})
            params.append(self.sampling_params(request, len(ids), stop))
            sent.append(index)
        if sent:
            for index, result in zip(sent, self._run(prompts, params), strict=True):
                results[index] = result
        return [result for result in results if result is not None]

    def _run(self, prompts: list[dict[str, Any]], params: list[Any]) -> list[ChatResult]:
        """One engine call; if the batch as a whole fails, each request is retried alone."""
        started = time.perf_counter()
        try:
            outputs = self._llm.generate(prompts, params, use_tqdm=False)
        except (ValueError, RuntimeError, TypeError) as exc:
            if len(prompts) == 1:
                return [_failure(exc, len(prompts[0]["prompt_token_ids"]), 0.0)]
            return [r for p, s in zip(prompts, params, strict=True) for r in self._run([p], [s])]
        elapsed = time.perf_counter() - started
        share = elapsed / max(len(prompts), 1)  # the batch's time, split evenly (GPU time)
        return [_parse(output, share, elapsed, len(prompts)) for output in outputs]

    def close(self) -> None:
        """Drop the engine (vLLM frees its GPU memory when the engine is collected)."""
        llm, self._llm = getattr(self, "_llm", None), None
        if llm is not None:
            del llm
            try:
                import gc

                gc.collect()
                torch = try_import("torch")
                if torch.cuda.is_available():
                    torch.cuda.empty_cache()
            except BackendError:
                pass


def _parse(output: Any, latency_s: float, batch_s: float, batch: int) -> ChatResult:
    """A ``RequestOutput`` as a result; a missing completion is an error, never a raise."""
    tokens_in = len(getattr(output, "prompt_token_ids", None) or ())
    completions = getattr(output, "outputs", None) or []
    if not completions:
        return ChatResult(text="", tokens_in=tokens_in, latency_s=latency_s, error="no output")
    first = completions[0]
    finish = getattr(first, "finish_reason", None)
    return ChatResult(
        text=str(first.text or ""),
        tokens_in=tokens_in,
        tokens_out=len(getattr(first, "token_ids", None) or ()),
        latency_s=latency_s,
        error="generation aborted" if finish == "abort" else None,
        extra={"finish_reason": finish, "batch_s": round(batch_s, 4), "batch_size": batch},
    )


def _failure(exc: BaseException, tokens_in: int, latency_s: float) -> ChatResult:
    """A refused request (``ValueError``: scored) or a broken engine (``RuntimeError``: a fault)."""
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return ChatResult(
        text="",
        tokens_in=tokens_in,
        latency_s=latency_s,
        error=f"{type(exc).__name__}: {detail}",
        fault=Fault.SERVER if isinstance(exc, RuntimeError) else None,
    )
