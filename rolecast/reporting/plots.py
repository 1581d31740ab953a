"""The report's figures as PNG bytes: role × model heat map, Pareto front, calibration.

matplotlib (the ``plots`` extra) runs with the Agg backend and is imported only when a
figure is drawn. Each function returns ``None`` when it has nothing to draw, so a report
never contains an empty plot.
"""

from __future__ import annotations

import io
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rolecast._imports import try_import
from rolecast.reporting.data import CoalitionPoint, ReportData

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["PLOTS", "heatmap_png", "pareto_png", "render_plots", "write_plots"]

#: File names of the figures, in the order the report shows them.
PLOTS = ("heatmap.png", "pareto.png", "calibration.png")

_FRONT = "#1f77b4"
_OTHER = "0.72"
_CHOSEN = "#d62728"


def _pyplot() -> Any:
    matplotlib = try_import("matplotlib")
    matplotlib.use("Agg")
    from matplotlib import pyplot

    return pyplot


def _png(fig: Figure, dpi: int) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return buffer.getvalue()


def heatmap_png(data: ReportData, dpi: int = 110) -> bytes | None:
    """Roles down, candidates across; colour = share of cases passed, text = mean [95% CI]."""
    if not data.heat:
        return None
    plt = _pyplot()
    np = try_import("numpy")
    roles, names = data.roles, data.candidates
    grid = np.full((len(roles), len(names)), np.nan)
    for heat in data.heat:
        grid[roles.index(heat.role), names.index(heat.candidate)] = heat.mean
    width = min(2.0 + 1.6 * len(names), 22.0)
    fig, ax = plt.subplots(figsize=(width, 1.2 + 0.75 * len(roles)))
    try:
        cmap = plt.get_cmap("viridis").with_extremes(bad="0.92")  # grey: not profiled
        image = ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, vmin=0.0, vmax=1.0, aspect="auto")
        for i, role in enumerate(roles):
            for j, name in enumerate(names):
                cell = data.cell(role, name)
                if cell is None:
                    ax.text(j, i, "—", ha="center", va="center", color="0.4", fontsize=9)
                    continue
                mark = {"best": " ★", "tie": " ≈"}.get(cell.rank, "")
                text = f"{cell.mean:.2f}{mark}\n[{cell.low:.2f}, {cell.high:.2f}]\nn={cell.n}"
                colour = "black" if cell.mean > 0.55 else "white"
                ax.text(j, i, text, ha="center", va="center", color=colour, fontsize=8)
        ax.set_xticks(range(len(names)), [_wrap(n, 14) for n in names], fontsize=9)
        ax.set_yticks(range(len(roles)), roles, fontsize=9)
        ax.tick_params(top=True, bottom=False, labeltop=True, labelbottom=False)
        plt.setp(ax.get_xticklabels(), rotation=30 if len(names) > 5 else 0, ha="left")
        ax.set_xticks([x - 0.5 for x in range(1, len(names))], minor=True)
        ax.set_yticks([y - 0.5 for y in range(1, len(roles))], minor=True)
        ax.grid(which="minor", color="white", linewidth=2)
        ax.tick_params(which="minor", length=0)
        bar = fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02)
        bar.set_label("share of cases passed", fontsize=9)
        ax.set_title(
            "Cases passed per role (95% interval; ★ best, ≈ within noise of the best)",
            fontsize=10,
            pad=12,
        )
        return _png(fig, dpi)
    finally:
        plt.close(fig)


def pareto_png(data: ReportData, dpi: int = 110) -> bytes | None:
    """Predicted accuracy against cost and against memory; each panel's front, the pick."""
    if not data.coalitions:
        return None
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8), sharey=True)
    try:
        panels = (
            (axes[0], "cost_per_1k", "cost_per_1k_tasks", "cost per 1000 tasks (USD)", "cost"),
            (axes[1], "memory_gb", "gpu_memory_gb", "GPU memory (GB)", "memory"),
        )
        for ax, x, budget_key, xlabel, short in panels:
            _pareto_panel(ax, data.coalitions, x, short)
            _budget_line(ax, data.coalitions, x, data.budget.get(budget_key))
            ax.set_xlabel(xlabel)
            ax.legend(loc="upper left", fontsize=8, framealpha=0.9)
        axes[0].set_ylabel(f"predicted accuracy ({data.surrogate} surrogate, 95% interval)")
        chosen = data.chosen
        title = f"{len(data.coalitions)} coalition(s) within the budget"
        if chosen is not None:
            title += f"; chosen (★): {chosen.label}"
        fig.suptitle(_wrap(title, 130), fontsize=10)
        fig.tight_layout(rect=(0, 0, 1, 0.95))
        return _png(fig, dpi)
    finally:
        plt.close(fig)


def _pareto_panel(ax: Axes, points: list[CoalitionPoint], x: str, short: str) -> None:
    """Grey: every feasible coalition; blue: this panel's front (accuracy ↑, ``x`` ↓)."""
    front = _front_2d(points, x)
    keys = {id(p) for p in front}
    others = [p for p in points if id(p) not in keys]
    ax.scatter(
        [getattr(p, x) for p in others],
        [p.accuracy.mean for p in others],
        s=14,
        color=_OTHER,
        label="other coalitions",
        zorder=2,
    )
    ax.errorbar(
        [getattr(p, x) for p in front],
        [p.accuracy.mean for p in front],
        yerr=[
            [p.accuracy.mean - p.accuracy.low for p in front],
            [p.accuracy.high - p.accuracy.mean for p in front],
        ],
        color=_FRONT,
        marker="o",
        markersize=5,
        linestyle="none",
        capsize=3,
        label=f"front: most accurate for its {short}",
        zorder=3,
    )
    if front:
        ax.step(
            [getattr(p, x) for p in front],
            [p.accuracy.mean for p in front],
            where="post",
            color=_FRONT,
            linewidth=1,
            alpha=0.6,
            zorder=3,
        )
    for p in points:
        if p.chosen:
            ax.scatter(
                [getattr(p, x)],
                [p.accuracy.mean],
                s=200,
                marker="*",
                color=_CHOSEN,
                edgecolor="black",
                linewidth=0.6,
                label="chosen",
                zorder=4,
            )
    ax.set_ylim(-0.03, 1.03)
    ax.grid(True, color="0.92")
    ax.margins(x=0.08)


def _budget_line(ax: Axes, points: list[CoalitionPoint], x: str, limit: float | None) -> None:
    """A dotted line at the budget, or a note when it lies far right of every coalition."""
    if limit is None:
        return
    largest = max(getattr(p, x) for p in points)
    if limit <= 1.5 * largest or largest == 0:
        ax.axvline(limit, color="0.5", linestyle=":", linewidth=1)
        ax.annotate(
            "budget",
            (limit, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(-3, -12),
            textcoords="offset points",
            ha="right",
            fontsize=8,
            color="0.4",
        )
    else:
        ax.annotate(
            f"budget {limit:g} (beyond the axis)",
            (1.0, 1.0),
            xycoords="axes fraction",
            xytext=(-4, -12),
            textcoords="offset points",
            ha="right",
            fontsize=8,
            color="0.4",
        )


def _front_2d(points: list[CoalitionPoint], x: str) -> list[CoalitionPoint]:
    """Coalitions no other beats on accuracy and ``x`` at once, by increasing ``x``."""
    ordered = sorted(points, key=lambda p: (getattr(p, x), -p.accuracy.mean))
    front: list[CoalitionPoint] = []
    for p in ordered:
        if not front or p.accuracy.mean > front[-1].accuracy.mean:
            front.append(p)
    return front


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text


def render_plots(data: ReportData, dpi: int = 110) -> dict[str, bytes]:
    """Every figure there is something to draw for, by file name (see :data:`PLOTS`)."""
    figures = {
        "heatmap.png": heatmap_png(data, dpi),
        "pareto.png": pareto_png(data, dpi),
        "calibration.png": data.calibration.png if data.calibration else None,
    }
    return {name: png for name, png in figures.items() if png is not None}


def write_plots(pngs: dict[str, bytes], folder: str | Path) -> list[Path]:
    """Write the figures into ``folder`` (created if needed); returns the paths written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, png in pngs.items():
        path = folder / name
        path.write_bytes(png)
        written.append(path)
    return written
