"""The daily P&L chart: an SVG drawn by pm-agent (no plotting library), for the daily report.

Bars are each UTC day's net P&L (green up, red down, ``pm_lib.portfolio.pnl_by_day``); the line
is the cumulative net P&L, which is the change in equity since the first fill. Coordinates are
computed from the exact Decimal figures; the labels print them to the cent. ``chart_markdown``
embeds the SVG as a ``data:`` URI image, which the Prefect UI's markdown artifact renders.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from html import escape

from pm_lib.portfolio import DayPnl
from pm_lib.reporting.tables import plain_decimal

__all__ = ["chart_markdown", "pnl_chart_svg"]

_W, _H = 640, 260
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 16, 28, 40
_GREEN, _RED, _LINE, _GRID, _TEXT = "#16a34a", "#dc2626", "#2563eb", "#e5e7eb", "#374151"
_PX = Decimal("0.1")


def _px(value: Decimal) -> str:
    return format(value.quantize(_PX, rounding=ROUND_HALF_EVEN), "f")


def _cumulative(days: Sequence[DayPnl]) -> list[Decimal]:
    out, total = [], Decimal(0)
    for d in days:
        total += d.net
        out.append(total)
    return out


def pnl_chart_svg(days: Sequence[DayPnl], title: str = "Net P&L by UTC day (pUSD)") -> str:
    """An SVG of ``days``' net P&L bars and the cumulative line (equity change)."""
    cumulative = _cumulative(days)
    values = [d.net for d in days] + cumulative + [Decimal(0)]
    top, bottom = max(values), min(values)
    if top == bottom:
        top += 1
    plot_w = Decimal(_W - _LEFT - _RIGHT)
    plot_h = Decimal(_H - _TOP - _BOTTOM)

    def y(value: Decimal) -> Decimal:
        return Decimal(_TOP) + (top - value) / (top - bottom) * plot_h

    n = max(len(days), 1)
    slot = plot_w / n
    bar_w = slot * Decimal("0.6")
    zero = y(Decimal(0))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" '
        f'viewBox="0 0 {_W} {_H}" font-family="sans-serif" font-size="11">',
        f'<rect width="{_W}" height="{_H}" fill="#ffffff"/>',
        f'<text x="{_LEFT}" y="18" font-size="13" fill="{_TEXT}">{escape(title)}</text>',
    ]
    for value in (top, bottom):
        parts.append(
            f'<line x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{_px(y(value))}" y2="{_px(y(value))}" '
            f'stroke="{_GRID}"/>'
            f'<text x="{_LEFT - 6}" y="{_px(y(value) + 4)}" text-anchor="end" '
            f'fill="{_TEXT}">{plain_decimal(value, 2)}</text>'
        )
    parts.append(
        f'<line x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{_px(zero)}" y2="{_px(zero)}" '
        f'stroke="{_TEXT}"/><text x="{_LEFT - 6}" y="{_px(zero + 4)}" text-anchor="end" '
        f'fill="{_TEXT}">0</text>'
    )
    label_every = max(1, len(days) // 8)
    points = []
    for i, (d, cum) in enumerate(zip(days, cumulative, strict=True)):
        x = Decimal(_LEFT) + slot * i + (slot - bar_w) / 2
        y_net = y(d.net)
        height = abs(zero - y_net)
        colour = _GREEN if d.net >= 0 else _RED
        parts.append(
            f'<rect x="{_px(x)}" y="{_px(min(zero, y_net))}" width="{_px(bar_w)}" '
            f'height="{_px(max(height, Decimal(1)))}" fill="{colour}">'
            f"<title>{d.day.isoformat()}: net {plain_decimal(d.net, 2)}, cumulative "
            f"{plain_decimal(cum, 2)}</title></rect>"
        )
        centre = Decimal(_LEFT) + slot * i + slot / 2
        points.append(f"{_px(centre)},{_px(y(cum))}")
        if i % label_every == 0 or i == len(days) - 1:
            parts.append(
                f'<text x="{_px(centre)}" y="{_H - _BOTTOM + 16}" text-anchor="middle" '
                f'fill="{_TEXT}">{d.day.strftime("%m-%d")}</text>'
            )
    if points:
        parts.append(
            f'<polyline points="{" ".join(points)}" fill="none" stroke="{_LINE}" stroke-width="2"/>'
        )
        last_x, last_y = points[-1].split(",")
        parts.append(f'<circle cx="{last_x}" cy="{last_y}" r="3" fill="{_LINE}"/>')
    total = cumulative[-1] if cumulative else Decimal(0)
    parts.append(
        f'<text x="{_W - _RIGHT}" y="{_H - 8}" text-anchor="end" fill="{_TEXT}">'
        f'<tspan fill="{_GREEN}">&#9632;</tspan> gain <tspan fill="{_RED}">&#9632;</tspan> loss '
        f'<tspan fill="{_LINE}">&#9644;</tspan> cumulative {plain_decimal(total, 2)}</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def chart_markdown(days: Sequence[DayPnl], title: str = "Net P&L by UTC day (pUSD)") -> str:
    """The chart as a markdown image (an SVG ``data:`` URI), or a note when there is no day."""
    if not days:
        return "_no fills yet_"
    svg = pnl_chart_svg(days, title)
    encoded = base64.b64encode(svg.encode()).decode("ascii")
    return f"![{title}](data:image/svg+xml;base64,{encoded})"
