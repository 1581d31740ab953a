"""The surrogates a verify or calibration report compares, each as a ProfileMatrix.

``observed`` is the profile's own 0/1 case outcomes (the first surrogate); ``irt`` the
item-response model's per-case probabilities (:mod:`rolecast.allocator.surrogate`). Both
fill :meth:`ProfileMatrix.case_scores`, so a coalition's prediction is computed the same
way for each.
"""

from __future__ import annotations

from rolecast.allocator import ProfileMatrix
from rolecast.allocator.surrogate import SURROGATES, apply_surrogate
from rolecast.storage import ProfileStore

__all__ = ["surrogate_matrices"]


def surrogate_matrices(
    matrix: ProfileMatrix, store: ProfileStore | None = None
) -> dict[str, ProfileMatrix]:
    """Surrogate name -> ``matrix`` with that surrogate's case scores, every known one."""
    return {
        name: matrix if matrix.surrogate == name else apply_surrogate(matrix, name)
        for name in SURROGATES
    }
