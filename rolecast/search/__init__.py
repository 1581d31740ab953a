"""Exact search of the role -> candidate assignment, recorded in an Optuna study."""

from rolecast.search.optimize import (
    SearchResult,
    pareto_front,
    record_study,
    search,
    study_key,
    study_storage,
)
from rolecast.search.report import SearchReport, search_report

__all__ = [
    "SearchReport",
    "SearchResult",
    "pareto_front",
    "record_study",
    "search",
    "search_report",
    "study_key",
    "study_storage",
]
