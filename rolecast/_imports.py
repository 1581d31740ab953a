"""Guarded imports of optional heavy engines, with the extra that provides each."""

from __future__ import annotations

import importlib
from types import ModuleType

from rolecast.errors import BackendError

EXTRAS: dict[str, str] = {
    "llama_cpp": "llamacpp",
    "vllm": "vllm",
    "transformers": "hf",
    "torch": "hf",
    "sentence_transformers": "hf",
    "lmformatenforcer": "hf",
    "gguf": "hf",
    "accelerate": "hf",
    "psycopg": "postgres",
    "httpx": "http",
    "matplotlib": "plots",
    "mcp": "mcp",
}


def try_import(module: str) -> ModuleType:
    """Import ``module`` or raise a :class:`BackendError` naming the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        extra = EXTRAS.get(module.split(".")[0])
        hint = f"pip install 'rolecast[{extra}]'" if extra else f"pip install {module}"
        raise BackendError(f"{module} is not installed ({exc}); install it with: {hint}") from exc
