"""Where the report takes end-to-end verification results from (the calibration section).

Verification (``rolecast verify``, :mod:`rolecast.verify`) stores agent runs and builds
a calibration report with its own figure; the report shows them when they exist. This
module is the one seam between the two: without a stored run the report says so
instead of drawing an empty plot.
"""

from __future__ import annotations

from collections.abc import Mapping

from rolecast.allocator.coalition import ProfileMatrix
from rolecast.project import ProjectConfig
from rolecast.reporting.data import Calibration
from rolecast.storage import ProfileStore

__all__ = ["calibration_for"]


def calibration_for(
    store: ProfileStore,
    project: ProjectConfig,
    matrix: ProfileMatrix,
    fingerprints: Mapping[str, str],
    *,
    png: bool = True,
) -> Calibration | None:
    """The stored end-to-end runs' calibration (and its PNG when ``png``), or None."""
    from rolecast.verify.calibration import render_markdown
    from rolecast.verify.flow import project_calibration

    report = project_calibration(store, project, matrix, fingerprints)
    if report is None:
        return None
    figure = None
    if png:
        from rolecast.verify.plot import calibration_png

        figure = calibration_png(report)
    return Calibration(data=report.to_dict(), png=figure, markdown=render_markdown(report))
