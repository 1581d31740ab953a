"""Coalition, memory and cost model."""

from rolecast.allocator.coalition import CoalitionEval, ProfileMatrix, RoleStats, candidate_memory
from rolecast.allocator.memory import MemoryEstimate, estimate_memory

__all__ = [
    "CoalitionEval",
    "MemoryEstimate",
    "ProfileMatrix",
    "RoleStats",
    "candidate_memory",
    "estimate_memory",
]
