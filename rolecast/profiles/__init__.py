"""Profiling: roles (prompt files, parsers, scorers), metrics, intervals, case loaders.

Modules: :mod:`~rolecast.profiles.roles` (the four roles), :mod:`~rolecast.profiles.metrics`
(α-UMi, IBM, BFCL-style and ROUGE-L metrics), :mod:`~rolecast.profiles.stats` (Wilson and
bootstrap intervals), :mod:`~rolecast.profiles.loaders` (built-in, ToolAlpaca, BFCL,
JSON-RAG, native files), :mod:`~rolecast.profiles.imports` (results measured elsewhere) and
:mod:`~rolecast.profiles.profiler` (candidate × role × step, stored as produced). Import
them from their modules; this package imports nothing so that ``rolecast --help`` stays light.
"""
