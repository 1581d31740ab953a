"""The calibration report as a PNG: a reliability diagram and predicted vs measured per coalition.

matplotlib runs with the Agg backend (no display needed) and is imported only here, when
a plot is drawn. :func:`calibration_png` returns the bytes, so an HTML report can embed
them; :func:`write_calibration_png` writes a file.
"""

from __future__ import annotations

import io
from pathlib import Path

from rolecast.verify.calibration import CalibrationReport

__all__ = ["calibration_png", "write_calibration_png"]

_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e")


def calibration_png(report: CalibrationReport, dpi: int = 110) -> bytes:
    """The calibration figure as PNG bytes.

    Two panels: runs binned by predicted probability (reliability), and each coalition's
    predicted against measured accuracy; one colour per surrogate, 95 % intervals.

    Raises:
        RolecastError: matplotlib is not installed (the ``plots`` extra).
    """
    from rolecast._imports import try_import

    matplotlib = try_import("matplotlib")
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 5), dpi=dpi)
    try:
        for ax in (left, right):
            ax.plot([0, 1], [0, 1], color="0.6", linestyle="--", linewidth=1, label="perfect")
            ax.set_xlim(-0.02, 1.02)
            ax.set_ylim(-0.02, 1.02)
            ax.set_aspect("equal")
            ax.grid(True, color="0.9")
        for i, (name, cal) in enumerate(report.surrogates.items()):
            colour = _COLOURS[i % len(_COLOURS)]
            offset = (i - (len(report.surrogates) - 1) / 2) * 0.012  # keep error bars apart
            if cal.bins:
                xs = [b.mean_predicted + offset for b in cal.bins]
                ys = [b.measured.mean for b in cal.bins]
                err = [
                    [b.measured.mean - b.measured.low for b in cal.bins],
                    [b.measured.high - b.measured.mean for b in cal.bins],
                ]
                left.errorbar(
                    xs,
                    ys,
                    yerr=err,
                    color=colour,
                    marker="o",
                    capsize=3,
                    label=f"{name} (MAE {cal.mae.mean:.2f})",
                )
                for x, y, b in zip(xs, ys, cal.bins, strict=True):
                    left.annotate(
                        f"n={b.n}",
                        (x, y),
                        textcoords="offset points",
                        xytext=(5, -11 - 9 * i),
                        fontsize=7,
                        color=colour,
                    )
            px = [p.predicted.get(name, float("nan")) + offset for p in report.points]
            py, lo, hi = [], [], []
            for p in report.points:
                from rolecast.profiles.stats import wilson_interval

                e = wilson_interval(sum(p.outcomes.values()), len(p.outcomes))
                py.append(e.mean)
                lo.append(e.mean - e.low)
                hi.append(e.high - e.mean)
            rho = "—" if cal.spearman is None else f"{cal.spearman.mean:+.2f}"
            right.errorbar(
                px,
                py,
                yerr=[lo, hi],
                color=colour,
                marker="s",
                linestyle="none",
                capsize=3,
                label=f"{name} (Spearman {rho})",
            )
        left.set_title("Reliability: runs binned by predicted probability", fontsize=10)
        left.set_xlabel("predicted success probability (bin mean)")
        left.set_ylabel("measured end-to-end success rate (95% CI)")
        right.set_title("Per coalition: predicted vs measured accuracy", fontsize=10)
        right.set_xlabel("predicted accuracy")
        right.set_ylabel("measured accuracy on held-out cases (95% CI)")
        left.legend(loc="upper left", fontsize=8)
        right.legend(loc="upper left", fontsize=8)
        fig.suptitle(
            f"Surrogate calibration: {len(report.points)} coalition(s), {report.n_runs} "
            f"end-to-end run(s)",
            fontsize=11,
        )
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        return buffer.getvalue()
    finally:
        plt.close(fig)


def write_calibration_png(report: CalibrationReport, path: str | Path) -> Path:
    """Write the PNG of :func:`calibration_png` to ``path`` (atomically)."""
    path = Path(path)
    data = calibration_png(report)
    tmp = path.with_name(f".{path.name}.png-tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
