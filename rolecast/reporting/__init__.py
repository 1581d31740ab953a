"""The report people look at: a role × model heat map, the Pareto front, calibration, tables.

:func:`build_report_data` gathers everything once (the data of ``rolecast report
--format json``); :mod:`~rolecast.reporting.plots` draws it with matplotlib (Agg, the
``plots`` extra) and :func:`render_html` puts the PNGs and tables in one self-contained
HTML file.
"""

from rolecast.reporting.data import (
    Calibration,
    CoalitionPoint,
    HeatCell,
    ReportData,
    build_report_data,
)
from rolecast.reporting.html import render_html
from rolecast.reporting.plots import PLOTS, render_plots, write_plots

__all__ = [
    "PLOTS",
    "Calibration",
    "CoalitionPoint",
    "HeatCell",
    "ReportData",
    "build_report_data",
    "render_html",
    "render_plots",
    "write_plots",
]
