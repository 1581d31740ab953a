"""Candidates whose results were measured elsewhere and brought in with ``rolecast import``.

Such a candidate is searched over and exported like any other (its memory comes from
``memory_gb`` or ``n_params``), but rolecast never generates with it: the class says so
(``generates = False``), the profiler skips it, and creating its backend is an error.
Its weights identity is its name: the imported rows are matched by candidate name.
"""

from __future__ import annotations

from collections.abc import Sequence

from rolecast.backends._base import Backend, ChatRequest, ChatResult, MemoryFacts
from rolecast.errors import BackendError
from rolecast.types import Candidate

__all__ = ["ImportedBackend"]


class ImportedBackend(Backend):
    """Refuses to run: the candidate's profile comes only from imported results."""

    generates = False

    @classmethod
    def identity(cls, candidate: Candidate) -> str:
        """The candidate's name: imported rows carry no weights hash."""
        return f"import:{candidate.name}"

    @classmethod
    def memory_facts(cls, candidate: Candidate) -> MemoryFacts:
        """Sized from ``memory_gb`` or ``n_params`` (served somewhere: assume vLLM-like)."""
        return MemoryFacts(overhead_gb=1.0, reads_weights=False)

    def __init__(self, candidate: Candidate) -> None:
        super().__init__(candidate)
        raise BackendError(
            f"candidate {candidate.name} has backend 'imported': its results come from "
            f"`rolecast import`, and it cannot be run; give it a real backend to run it"
        )

    def generate(self, requests: Sequence[ChatRequest]) -> list[ChatResult]:  # pragma: no cover
        """Never reached: construction fails."""
        raise BackendError(f"candidate {self.candidate.name} cannot generate")
