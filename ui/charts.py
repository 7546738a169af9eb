"""Small bar charts drawn as HTML, so every number on them is written the page's way (1.234,5 and Rp 2.437.500
in Bahasa Indonesia; 1,234.5 and IDR 2,437,500 in English), one month of data shows as bars (a line through
one point draws nothing), long category names wrap instead of overlapping, and an empty chart says why instead
of drawing a "0.000000" axis.

    bars_html("analytics-usage-chart", "Created per month", groups, series=["Images", "Posters"],
              fmt=lambda v: number(request, v, ","), empty="Nothing made yet.")

`groups`: [(x label, {series: value})] in order. Negative values (a month whose net saving is below zero)
grow downwards from the zero line, in red.
"""
from __future__ import annotations

from typing import Callable

from ui.common import esc

PALETTE = ("#4f46e5", "#16a34a", "#ea580c", "#0891b2", "#db2777", "#65a30d")
HEIGHT = 160   # px of the tallest bar (above and below the zero line together)


def bars_html(elem_id: str, title: str, groups: list[tuple[str, dict[str, float]]], *, series: list[str],
              fmt: Callable[[float], str], empty: str, colors: dict[str, str] | None = None) -> str:
    head = f"<div class='apg-chart-title'>{esc(title)}</div>"
    values = [v for _, row in groups for v in row.values() if v is not None]
    if not groups or not values or all(v == 0 for v in values):
        return (f"<div class='apg-chart' id='{esc(elem_id)}' data-empty='1'>{head}"
                f"<div class='apg-empty apg-chart-empty'>{esc(empty)}</div></div>")
    colors = colors or {s: PALETTE[i % len(PALETTE)] for i, s in enumerate(series)}
    top, bottom = max(0.0, max(values)), min(0.0, min(values))
    span = (top - bottom) or 1.0
    up, down = HEIGHT * top / span, HEIGHT * -bottom / span
    cols = []
    for label, row in groups:
        bars = []
        for name in series:
            v = row.get(name)
            if v is None:
                continue
            h = max(HEIGHT * abs(v) / span, 1.0 if v else 0.0)
            color = "#dc2626" if v < 0 else colors[name]
            shown = fmt(v)
            if v < 0:    # from the zero line down; its number just above the line
                style, at = f"height:{h:.1f}px;margin-bottom:{down - h:.1f}px", f"bottom:{down + 2:.1f}px"
            else:
                style, at = f"height:{h:.1f}px;margin-bottom:{down:.1f}px", f"bottom:{down + h + 2:.1f}px"
            # side by side, long numbers would overlap: they are in the bar's tooltip then
            value = (f"<span class='apg-bar-value' style='{at}'>{esc(shown)}</span>"
                     if len(series) == 1 or len(shown) <= 6 else "")
            bars.append(f"<div class='apg-bar-slot' style='height:{HEIGHT}px'>"
                        f"<div class='apg-zero' style='bottom:{down:.1f}px'></div>"
                        f"<div class='apg-chart-bar' style='{style};background:{color}' "
                        f"title='{esc(name)}: {esc(shown)}' data-series='{esc(name)}' data-value='{v:g}'></div>"
                        f"{value}</div>")
        cols.append(f"<div class='apg-chart-group' data-x='{esc(label)}'><div class='apg-chart-bars'>{''.join(bars)}"
                    f"</div><div class='apg-chart-x'>{esc(label)}</div></div>")
    legend = ("<div class='apg-chart-legend'>" + "".join(
        f"<span><i style='background:{colors[s]}'></i>{esc(s)}</span>" for s in series) + "</div>"
              if len(series) > 1 else "")
    return (f"<div class='apg-chart' id='{esc(elem_id)}' data-empty='0'>{head}{legend}"
            f"<div class='apg-chart-body'>{''.join(cols)}</div></div>")
