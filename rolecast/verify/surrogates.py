"""The surrogates a verify or calibration report compares, each as a ProfileMatrix.

``observed`` is the profile's own 0/1 case outcomes (the first surrogate); others swap in
their per-case probabilities with :meth:`ProfileMatrix.with_case_scores`.
"""

from __future__ import annotations

from rolecast.allocator import ProfileMatrix
from rolecast.storage import ProfileStore

__all__ = ["surrogate_matrices"]


def surrogate_matrices(
    matrix: ProfileMatrix, store: ProfileStore | None = None
) -> dict[str, ProfileMatrix]:
    """Surrogate name -> matrix whose case scores it fills (``observed`` always first)."""
    observed = ProfileMatrix(
        matrix.stats, list(matrix.candidates.values()), matrix.roles, matrix.case_ids
    )
    out = {"observed": observed}
    if matrix.surrogate != "observed":
        out[matrix.surrogate] = matrix
    return out
