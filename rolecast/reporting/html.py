"""One self-contained HTML page: the figures inline (base64 PNG), the CSS inline, tables.

Opens from disk, by mail or as a CI artefact: nothing is fetched from anywhere.
"""

from __future__ import annotations

import base64
from html import escape

from rolecast.report import ALL_ROLES, ReportRow
from rolecast.reporting.data import CoalitionPoint, ReportData

__all__ = ["render_html"]

#: Rows of the Pareto-front table; the JSON output has all of them.
_FRONT_ROWS = 15

_CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222;
       max-width: 1180px; margin: 24px auto; padding: 0 16px; }
h1 { font-size: 22px; margin-bottom: 4px; }
h2 { font-size: 17px; margin-top: 32px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 20px 0 6px; }
.meta { color: #666; }
.note { background: #fff6e0; border-left: 4px solid #e0a800; padding: 8px 12px; }
.chosen { background: #eef6ee; border-left: 4px solid #2e7d32; padding: 8px 12px; }
img { max-width: 100%; height: auto; display: block; margin: 8px 0; }
table { border-collapse: collapse; margin: 6px 0 14px; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.best td { background: #eef6ee; }
tr.tie td { background: #f6f9ee; }
tr.pick td { background: #fdecea; font-weight: 600; }
.wide { overflow-x: auto; max-width: 100%; }
code { background: #f4f4f4; padding: 1px 4px; border-radius: 3px; }
"""


def render_html(data: ReportData, pngs: dict[str, bytes]) -> str:
    """The report page; ``pngs`` maps figure file names (heatmap.png, ...) to PNG bytes."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>rolecast report</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>rolecast report</h1>",
        f'<p class="meta">{data.n_cases} profiled case(s), {len(data.candidates)} '
        f"candidate(s), surrogate <code>{escape(data.surrogate)}</code>, budget "
        f"<code>{escape(_budget(data.budget))}</code>; generated "
        f"{data.generated_at:%Y-%m-%d %H:%M} UTC</p>",
    ]
    chosen = data.chosen
    if chosen is not None:
        parts.append(
            f'<p class="chosen">Chosen coalition: <b>{escape(chosen.label)}</b> — predicted '
            f"accuracy {_est(chosen.accuracy.mean, chosen.accuracy.low, chosen.accuracy.high)}, "
            f"{chosen.cost_per_1k:.4g} USD per 1000 tasks, {chosen.memory_gb:.3g} GB.</p>"
        )
    parts.append("<h2>Roles × models</h2>")
    parts.append(_figure(pngs, "heatmap.png", "role × model heat map of cases passed"))
    parts.append("<h2>Coalitions: accuracy against cost and memory</h2>")
    if data.search_note:
        parts.append(f'<p class="note">{escape(data.search_note)}</p>')
    parts.append(_figure(pngs, "pareto.png", "Pareto front of accuracy against cost and memory"))
    if data.coalitions:
        parts.append(_front_table([p for p in data.coalitions if p.pareto]))
    parts.append("<h2>Calibration: predicted against measured end to end</h2>")
    if data.calibration is None:
        parts.append(
            '<p class="note">No end-to-end runs stored for these coalitions yet: run '
            "<code>rolecast verify</code> to measure the top coalitions as agents and "
            "compare them with the prediction.</p>"
        )
    else:
        parts.append(_figure(pngs, "calibration.png", "calibration of the surrogate"))
    parts.append("<h2>Per role</h2>")
    parts.append(
        "<p>Mean with its 95% interval and the number of cases (n). <b>best</b>: clearly "
        "ahead; <b>≈</b>: the interval overlaps the best one's (within noise).</p>"
    )
    for role in dict.fromkeys(row.role for row in data.rows):
        parts.append(_role_table(role, [r for r in data.rows if r.role == role], data.candidates))
    parts.append("</body></html>")
    return "\n".join(parts)


def _figure(pngs: dict[str, bytes], name: str, alt: str) -> str:
    png = pngs.get(name)
    if png is None:
        return ""
    encoded = base64.b64encode(png).decode("ascii")
    return f'<img alt="{escape(alt)}" src="data:image/png;base64,{encoded}">'


def _est(mean: float, low: float, high: float) -> str:
    return f"{mean:.3f} [{low:.3f}, {high:.3f}]"


def _budget(budget: dict[str, object]) -> str:
    return ", ".join(f"{k}={v}" for k, v in budget.items()) or "none"


def _front_table(front: list[CoalitionPoint]) -> str:
    rows = [
        "<h3>Pareto front (accuracy ↑, cost ↓, memory ↓)</h3><table><tr><th>coalition</th>"
        "<th>predicted accuracy [95% CI]</th><th>USD / 1000 tasks</th><th>memory GB</th></tr>"
    ]
    ordered = sorted(front, key=lambda p: (-p.accuracy.mean, p.cost_per_1k, p.memory_gb))
    shown = ordered[:_FRONT_ROWS]
    if not any(p.chosen for p in shown):
        shown += [p for p in ordered if p.chosen]
    for p in shown:
        css = ' class="pick"' if p.chosen else ""
        a = p.accuracy
        rows.append(
            f"<tr{css}><td>{escape(p.label)}{' (chosen)' if p.chosen else ''}</td>"
            f'<td class="num">{_est(a.mean, a.low, a.high)}</td>'
            f'<td class="num">{p.cost_per_1k:.4g}</td><td class="num">{p.memory_gb:.3g}</td></tr>'
        )
    rows.append("</table>")
    if len(ordered) > len(shown):
        rows.append(
            f"<p>… and {len(ordered) - len(shown)} more on the front "
            "(all of them in <code>rolecast report --format json</code>).</p>"
        )
    return "".join(rows)


def _role_table(role: str, rows: list[ReportRow], candidates: list[str]) -> str:
    title = "every role, one model (cases passed end to end)" if role == ALL_ROLES else role
    metrics = list(dict.fromkeys(r.metric for r in rows))
    by_key = {(r.metric, r.candidate): r for r in rows}
    names = [name for name in candidates if any(r.candidate == name for r in rows)]
    out = [f'<h3>{escape(title)}</h3><div class="wide"><table><tr><th>candidate</th>']
    out += [f"<th>{escape(metric)}</th>" for metric in metrics]
    out.append("</tr>")
    for name in names:
        first = by_key.get((metrics[0], name))
        css = {"best": ' class="best"', "tie": ' class="tie"'}.get(first.rank if first else "", "")
        out.append(f"<tr{css}><td>{escape(name)}</td>")
        for metric in metrics:
            row = by_key.get((metric, name))
            if row is None:
                out.append('<td class="num">—</td>')
                continue
            e = row.estimate
            mark = {"best": " <b>best</b>", "tie": " ≈"}.get(row.rank, "")
            out.append(f'<td class="num">{_est(e.mean, e.low, e.high)} n={e.n}{mark}</td>')
        out.append("</tr>")
    out.append("</table></div>")
    return "".join(out)
