"""Charts drawn on the server as inline SVG: no script, no inline style (colours come from classes in
``wallet.css``), and each one an image with a title and a description (``role="img"``, ``aria-labelledby``).
Every chart is shown next to a table of the same figures, which is what a screen reader reads.

Amounts are pence (int); positions are whole SVG units worked out with integer arithmetic.
"""
from __future__ import annotations

from typing import Sequence

from markupsafe import Markup, escape

from wallet.money import format_pence

WIDTH = 640


def _open(chart_id: str, title: str, description: str, height: int) -> list[str]:
    cid = escape(chart_id)
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg" id="{cid}" role="img" '
        f'aria-labelledby="{cid}-title {cid}-desc" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" focusable="false">',
        f'<title id="{cid}-title">{escape(title)}</title>',
        f'<desc id="{cid}-desc">{escape(description)}</desc>',
    ]


def _scale(value: int, top: int, span: int) -> int:
    """``value`` of ``top`` as a length of at most ``span`` units (integers only)."""
    if top <= 0 or value <= 0:
        return 0
    return max(1, value * span // top)


def plan_chart(rows: Sequence[tuple[str, int, int]], *, chart_id: str, title: str, description: str) -> Markup:
    """Planned against spent, one pair of bars per budget line: rows of (label, planned, spent) in pence."""
    label_h, bar_h, gap = 24, 18, 18
    row_h = label_h + 2 * bar_h + gap
    legend_h = 34
    height = legend_h + row_h * len(rows) + 4
    span = WIDTH - 190
    top = max([1] + [max(p, s) for _, p, s in rows])
    out = _open(chart_id, title, description, height)
    out += ['<g class="chart-legend" aria-hidden="true">',
            '<rect class="chart-planned" x="0" y="6" width="18" height="18"/>',
            '<text class="chart-text" x="26" y="21">Planned</text>',
            '<rect class="chart-spent" x="130" y="6" width="18" height="18"/>',
            '<text class="chart-text" x="156" y="21">Spent</text>',
            '<rect class="chart-over" x="240" y="6" width="18" height="18"/>',
            '<text class="chart-text" x="266" y="21">Spent, more than planned</text>',
            '</g>']
    for i, (label, planned, spent) in enumerate(rows):
        y = legend_h + i * row_h
        spent_class = "chart-over" if spent > planned else "chart-spent"
        out.append('<g class="chart-row">')
        out.append(f'<text class="chart-text chart-label" x="0" y="{y + 17}">{escape(label)}</text>')
        out.append(f'<rect class="chart-planned" x="0" y="{y + label_h}" width="{_scale(planned, top, span)}" '
                   f'height="{bar_h}"/>')
        out.append(f'<text class="chart-text chart-value" x="{_scale(planned, top, span) + 6}" '
                   f'y="{y + label_h + 14}">{escape(format_pence(planned))} planned</text>')
        out.append(f'<rect class="{spent_class}" x="0" y="{y + label_h + bar_h}" '
                   f'width="{_scale(spent, top, span)}" height="{bar_h}"/>')
        out.append(f'<text class="chart-text chart-value" x="{_scale(spent, top, span) + 6}" '
                   f'y="{y + label_h + bar_h + 14}">{escape(format_pence(spent))} spent</text>')
        out.append('</g>')
    out.append('</svg>')
    return Markup("".join(out))


def balance_chart(points: Sequence[tuple[str, int]], *, chart_id: str, title: str, description: str) -> Markup:
    """Money held over time, one column per point: (label, pence). Below zero never happens (cash has a floor
    of zero), so the columns grow up from one baseline."""
    height, top_pad, bottom_pad = 300, 30, 56
    span = height - top_pad - bottom_pad
    n = max(1, len(points))
    slot = WIDTH // n
    bar_w = max(8, slot * 3 // 5)
    top = max([1] + [v for _, v in points])
    base = height - bottom_pad
    out = _open(chart_id, title, description, height)
    out.append(f'<line class="chart-axis" x1="0" y1="{base}" x2="{WIDTH}" y2="{base}"/>')
    out.append(f'<text class="chart-text chart-small" x="0" y="16">Highest: {escape(format_pence(top))}</text>')
    for i, (label, value) in enumerate(points):
        h = _scale(value, top, span)
        x = i * slot + (slot - bar_w) // 2
        last = i == len(points) - 1
        out.append(f'<rect class="{"chart-now" if last else "chart-balance"}" x="{x}" y="{base - h}" '
                   f'width="{bar_w}" height="{h}"/>')
        short = label if label == "Now" else " ".join(label.split(" ")[:2])
        out.append(f'<text class="chart-text chart-small" text-anchor="middle" x="{x + bar_w // 2}" '
                   f'y="{base + 20}">{escape(short)}</text>')
        if last:
            out.append(f'<text class="chart-text chart-small" text-anchor="end" x="{WIDTH}" '
                       f'y="{base + 44}">Now: {escape(format_pence(value))}</text>')
    out.append('</svg>')
    return Markup("".join(out))
