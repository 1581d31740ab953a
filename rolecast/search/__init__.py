"""Search of the role -> candidate assignment (Optuna)."""

from rolecast.search.optimize import SearchResult, pareto_front, search, study_storage

__all__ = ["SearchResult", "pareto_front", "search", "study_storage"]
