"""The daily P&L chart: a real SVG from the exact figures (pm_lib.reporting.chart)."""

from __future__ import annotations

import base64
import re
import xml.etree.ElementTree as ET
from datetime import date
from decimal import Decimal

from pm_lib.portfolio import DayPnl
from pm_lib.reporting.chart import chart_markdown, pnl_chart_svg

SVG = "{http://www.w3.org/2000/svg}"
DAYS = (
    DayPnl(day=date(2026, 11, 20), realised=Decimal("2"), fees=Decimal("0.5")),
    DayPnl(day=date(2026, 11, 21), realised=Decimal("-1"), fees=Decimal("0.25")),
    DayPnl(day=date(2026, 11, 22), unrealised=Decimal("3.125")),
)


def test_one_bar_a_day_coloured_by_sign_and_the_cumulative_line() -> None:
    root = ET.fromstring(pnl_chart_svg(DAYS))
    bars = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert len(bars) == 3
    assert [b.get("fill") for b in bars] == ["#16a34a", "#dc2626", "#16a34a"]
    titles = [b.find(f"{SVG}title").text for b in bars]  # type: ignore[union-attr]
    assert titles[1] == "2026-11-21: net -1.25, cumulative 0.25"
    assert titles[2] == "2026-11-22: net 3.12, cumulative 3.38"
    line = root.find(f"{SVG}polyline")
    assert line is not None and len(line.get("points", "").split()) == 3
    text = "".join(root.itertext())
    assert "cumulative 3.38" in text


def test_a_loss_bar_hangs_below_zero_and_a_gain_stands_on_it() -> None:
    root = ET.fromstring(pnl_chart_svg(DAYS))
    zero = next(
        t for t in root.iter(f"{SVG}text") if t.text == "0" and t.get("text-anchor") == "end"
    )
    zero_y = Decimal(zero.get("y", "0")) - 4
    bars = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    gain, loss = bars[0], bars[1]
    assert Decimal(gain.get("y", "0")) + Decimal(gain.get("height", "0")) == zero_y
    assert Decimal(loss.get("y", "0")) == zero_y


def test_markdown_embeds_the_svg_as_a_data_uri_image() -> None:
    md = chart_markdown(DAYS)
    match = re.fullmatch(r"!\[[^\]]+\]\(data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)\)", md)
    assert match is not None
    assert base64.b64decode(match.group(1)).decode().startswith("<svg")
    assert chart_markdown(()) == "_no fills yet_"


def test_a_single_flat_day_still_draws() -> None:
    ET.fromstring(pnl_chart_svg((DayPnl(day=date(2026, 11, 22)),)))
