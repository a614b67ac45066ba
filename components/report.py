"""The clinician report as a PDF: data in, bytes out.

``build_report_pdf(ReportData) -> bytes`` is pure: no I/O beyond reading a system font file,
no SQL, no Dash. The caller (the report job) fills ``ReportData`` with already formatted,
unit-bearing strings and plain numbers; this module only lays them out.

Layout: A4 portrait, a header on every page (patient, range, time zone, "Page 1 of 2"), then
the title block, flags, the sections two per row (title, statistics, a small vector chart
drawn with reportlab.graphics), the notes and the reference-range sources.

Black and white: series differ by dash pattern and marker shape as well as by colour
(Okabe–Ito dark colours); bar series by fill (solid, open, tint); reference bands are light
grey fills that carry their label; note markers are dashed verticals numbered like the
legend. Every y axis names its unit (``y_title``), every x axis says date or time of day and
the time zone.

At most two pages, whatever the input. Every text is first capped to a sane length (so no
single cell can outgrow a page). Then the document is built at the first of these levels
whose result has at most two pages; each level keeps everything of the one before, except:

1. full: charts 150 pt high, up to 12 notes, 10 flags, 8 statistics a section, 8 sources;
2. charts 125 pt, up to 8 notes, 8 flags, 6 statistics, 6 sources;
3. charts 100 pt, up to 5 notes, 6 flags, 5 statistics, 4 sources, note texts shortened;
4. charts 80 pt, up to 3 notes, 5 flags, 4 statistics, 3 sources;
5. charts dropped (the statistics stay, and a line says the charts were left out);
6. up to 2 statistics a section, 3 flags, 2 sources;
7. last resort: level 6 on two pages: page 1 as laid out, page 2 scaled down to fit, but to
   no less than 60 %; section rows that still do not fit are left out from the end, and a
   line says how many ("… and N more sections left out …").

A list cut short ends with "… and N more". Characters a font lacks are replaced readably
(``≥`` becomes ``>=`` in Helvetica). DejaVu Sans is used where the system has it (it has
``≥``, ``µ``, subscripts), else reportlab's built-in Helvetica. The output is deterministic
(reportlab's invariant mode): the same data gives the same bytes.
"""

from __future__ import annotations

import io
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.graphics.shapes import Circle, Drawing, Group, Line, Polygon, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    KeepInFrame,
    KeepTogether,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.doctemplate import LayoutError

__all__ = [
    "MAX_PAGES",
    "ReportBand",
    "ReportChart",
    "ReportData",
    "ReportSection",
    "ReportSeries",
    "ReportStat",
    "build_report_pdf",
]

MAX_PAGES = 2


# --------------------------------------------------------------------------- the contract


@dataclass(frozen=True)
class ReportSeries:
    """One series of a chart; ``values`` has one entry per x label, ``None`` for a gap."""

    name: str
    values: tuple[float | None, ...]
    style: str = "line"  # "line" | "bar" | "points"


@dataclass(frozen=True)
class ReportBand:
    """A labelled horizontal reference band; an open side (``None``) runs to the axis end."""

    label: str
    low: float | None
    high: float | None


@dataclass(frozen=True)
class ReportChart:
    title: str
    y_title: str  # with unit, e.g. "mmHg"
    x: tuple[str, ...]  # local dates "2026-09-01" or times of day "06:00"
    series: tuple[ReportSeries, ...]
    bands: tuple[ReportBand, ...] = ()
    notes: tuple[tuple[str, str], ...] = ()  # (x label, short text): dashed vertical marker
    empty_message: str = "No readings in this range"


@dataclass(frozen=True)
class ReportStat:
    label: str
    value: str  # formatted, with unit
    detail: str = ""


@dataclass(frozen=True)
class ReportSection:
    title: str
    stats: tuple[ReportStat, ...]
    chart: ReportChart | None = None


@dataclass(frozen=True)
class ReportData:
    patient_name: str
    patient_detail: str
    range_label: str
    timezone: str
    generated: str
    sections: tuple[ReportSection, ...]
    notes: tuple[tuple[str, str, str], ...] = ()  # (when, author, text), shown in this order
    flags: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()


# --------------------------------------------------------------------------- fonts and text

_DEJAVU_DIRS = (
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/dejavu",
    "/usr/share/fonts/TTF",
    "/usr/local/share/fonts",
)

# Readable stand-ins for characters a font lacks (tried before a Unicode decomposition).
_REPLACEMENTS = {
    "≥": ">=",
    "≤": "<=",
    "≠": "!=",
    "≈": "~",
    "−": "-",
    "‐": "-",
    "‑": "-",
    "→": "->",
    "←": "<-",
    "↑": "up ",
    "↓": "down ",
    "✓": "yes",
    "✔": "yes",
    "✗": "no",
    "\u2009": " ",
    "\u202f": " ",
    "\u200b": "",
    "\ufeff": "",
}


@dataclass(frozen=True)
class _Fonts:
    regular: str
    bold: str
    cmap: frozenset[int] | None  # code points a TTF covers; None: a standard (WinAnsi) font

    def covers(self, ch: str) -> bool:
        if self.cmap is not None:
            return ord(ch) in self.cmap
        try:
            ch.encode("cp1252")
        except UnicodeEncodeError:
            return False
        return True


_HELVETICA = _Fonts("Helvetica", "Helvetica-Bold", None)


@cache
def _dejavu(font_dirs: tuple[str, ...]) -> _Fonts | None:
    """Register DejaVu Sans (regular and bold) from the first folder that has both."""
    for folder in font_dirs:
        regular, bold = Path(folder, "DejaVuSans.ttf"), Path(folder, "DejaVuSans-Bold.ttf")
        if not (regular.is_file() and bold.is_file()):
            continue
        try:
            reg_font = TTFont("HealthDashSans", str(regular))
            bold_font = TTFont("HealthDashSans-Bold", str(bold))
        except Exception:  # an unreadable or damaged file: use the built-in font
            continue
        pdfmetrics.registerFont(reg_font)
        pdfmetrics.registerFont(bold_font)
        pdfmetrics.registerFontFamily(  # so that <b> in a Paragraph picks the bold face
            "HealthDashSans", normal="HealthDashSans", bold="HealthDashSans-Bold",
            italic="HealthDashSans", boldItalic="HealthDashSans-Bold",
        )
        cmap = frozenset(reg_font.face.charToGlyph) & frozenset(bold_font.face.charToGlyph)
        return _Fonts("HealthDashSans", "HealthDashSans-Bold", cmap)
    return None


def _clean(text: object, fonts: _Fonts, limit: int | None = None) -> str:
    """Text the font can draw: controls dropped, missing characters replaced readably."""
    out: list[str] = []
    for ch in unicodedata.normalize("NFC", str(text)):
        if ch in "\t\n\r":
            out.append(" ")
        elif unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            out.append(_REPLACEMENTS.get(ch, ""))
        elif fonts.covers(ch):
            out.append(ch)
        elif ch in _REPLACEMENTS:
            out.append(_REPLACEMENTS[ch])
        else:
            decomposed = unicodedata.normalize("NFKD", ch)
            kept = "".join(
                c for c in decomposed if fonts.covers(c) and not unicodedata.combining(c)
            )
            out.append(kept or "?")
    cleaned = re.sub(r" {2,}", " ", "".join(out)).strip()
    if limit is not None and len(cleaned) > limit:
        cleaned = cleaned[: limit - 1].rstrip() + "…"
    return cleaned


# --------------------------------------------------------------------------- fit levels


@dataclass(frozen=True)
class _Level:
    chart_height: float  # 0: no charts
    notes: int
    flags: int
    stats: int
    sources: int
    note_chars: int
    squeeze: bool = False


_LEVELS = (
    _Level(150, 12, 10, 8, 8, 300),
    _Level(125, 8, 8, 6, 6, 300),
    _Level(100, 5, 6, 5, 4, 160),
    _Level(80, 3, 5, 4, 3, 120),
    _Level(0, 3, 5, 4, 3, 120),
    _Level(0, 3, 3, 2, 2, 120),
    _Level(0, 3, 3, 2, 2, 120, squeeze=True),
)

# Caps on single strings, applied at every level (characters).
_CAP_NAME = 80
_CAP_LINE = 120
_CAP_TITLE = 70
_CAP_STAT_LABEL = 60
_CAP_STAT_VALUE = 48
_CAP_STAT_DETAIL = 140
_CAP_FLAG = 240
_CAP_SOURCE = 240
_CAP_NOTE_META = 40
_CAP_LEGEND = 48
_CAP_X_LABEL = 16


def _more(n: int, what: str) -> str:
    return f"… and {n} more {what}" if n != 1 else f"… and 1 more {what.rstrip('s')}"


# --------------------------------------------------------------------------- page geometry

_PAGE_W, _PAGE_H = A4
_MARGIN_X = 14 * mm
_HEADER_H = 17 * mm  # page top to the frame
_FOOTER_H = 11 * mm  # page bottom to the frame
_FRAME_W = _PAGE_W - 2 * _MARGIN_X
_FRAME_H = _PAGE_H - _HEADER_H - _FOOTER_H
_GUTTER = 10.0
_CELL_W = (_FRAME_W - _GUTTER) / 2

_INK = colors.black
_GREY_TEXT = colors.Color(0.3, 0.3, 0.3)
_RULE = colors.Color(0.6, 0.6, 0.6)

# Okabe–Ito, the dark ones: distinct for colour-blind readers, all darker than mid-grey.
_PALETTE = (
    colors.HexColor("#000000"),
    colors.HexColor("#0072B2"),
    colors.HexColor("#D55E00"),
    colors.HexColor("#009E73"),
    colors.HexColor("#CC79A7"),
    colors.HexColor("#E69F00"),
)
_DASHES: tuple[tuple[float, ...] | None, ...] = (
    None,
    (4.0, 2.0),
    (1.2, 1.6),
    (5.0, 1.8, 1.2, 1.8),
    (2.5, 2.5),
    (7.0, 2.5),
)
_MARKERS = ("circle", "square", "triangle", "diamond", "plus", "cross")
_BAND_GREYS = (0.91, 0.84, 0.95, 0.87)


# --------------------------------------------------------------------------- styles


@dataclass(frozen=True)
class _Styles:
    fonts: _Fonts
    h1: ParagraphStyle
    h2: ParagraphStyle
    body: ParagraphStyle
    small: ParagraphStyle
    stat_label: ParagraphStyle
    stat_value: ParagraphStyle


def _styles(fonts: _Fonts) -> _Styles:
    base = ParagraphStyle("hd-body", fontName=fonts.regular, fontSize=8, leading=10)
    return _Styles(
        fonts=fonts,
        h1=ParagraphStyle("hd-h1", base, fontName=fonts.bold, fontSize=13, leading=16),
        h2=ParagraphStyle(
            "hd-h2", base, fontName=fonts.bold, fontSize=9.5, leading=12, spaceBefore=5,
            spaceAfter=2,
        ),
        body=base,
        small=ParagraphStyle("hd-small", base, fontSize=6.8, leading=8.4, textColor=_GREY_TEXT),
        stat_label=ParagraphStyle("hd-stat-label", base, fontSize=7.2, leading=8.8),
        stat_value=ParagraphStyle("hd-stat-value", base, fontSize=8, leading=9.6),
    )


def _p(text: str, style: ParagraphStyle, fonts: _Fonts, limit: int | None = None) -> Paragraph:
    return Paragraph(escape(_clean(text, fonts, limit)), style)


# --------------------------------------------------------------------------- charts

_TIME_OF_DAY = re.compile(r"^\d{1,2}:\d{2}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _x_title(labels: Sequence[str], timezone: str) -> str:
    if labels and all(_TIME_OF_DAY.match(x) for x in labels):
        return f"Time of day ({timezone})"
    if labels and all(_DATE.match(x) for x in labels):
        return f"Date ({timezone})"
    return f"Local time ({timezone})"


def _nice_ticks(lo: float, hi: float, count: int = 5) -> tuple[float, float, float]:
    """Axis limits and a step at 1, 2, 2.5 or 5 × 10^k around [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        lo, hi = 0.0, 1.0
    if hi - lo < 1e-9:
        pad = abs(hi) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw * 0.999)
    return math.floor(lo / step) * step, math.ceil(hi / step) * step, step


def _tick_text(value: float, step: float) -> str:
    decimals = max(0, -math.floor(math.log10(step))) if step < 1 else 0
    if decimals == 0 and abs(step - round(step)) > 1e-9:
        decimals = 1
    text = f"{value:,.{decimals}f}"
    return "0" if text in ("-0", "-0.0", "-0.00") else text


def _marker(kind: str, x: float, y: float, size: float, color: colors.Color) -> list:
    s = size
    if kind == "circle":
        return [Circle(x, y, s, fillColor=color, strokeColor=color, strokeWidth=0.5)]
    if kind == "square":
        return [Rect(x - s, y - s, 2 * s, 2 * s, fillColor=colors.white, strokeColor=color,
                     strokeWidth=0.8)]
    if kind == "triangle":
        pts = [x - s * 1.1, y - s * 0.9, x + s * 1.1, y - s * 0.9, x, y + s * 1.1]
        return [Polygon(pts, fillColor=color, strokeColor=color, strokeWidth=0.5)]
    if kind == "diamond":
        pts = [x, y - s * 1.25, x + s * 1.1, y, x, y + s * 1.25, x - s * 1.1, y]
        return [Polygon(pts, fillColor=colors.white, strokeColor=color, strokeWidth=0.8)]
    if kind == "plus":
        return [
            Line(x - s * 1.2, y, x + s * 1.2, y, strokeColor=color, strokeWidth=0.9),
            Line(x, y - s * 1.2, x, y + s * 1.2, strokeColor=color, strokeWidth=0.9),
        ]
    return [
        Line(x - s, y - s, x + s, y + s, strokeColor=color, strokeWidth=0.9),
        Line(x - s, y + s, x + s, y - s, strokeColor=color, strokeWidth=0.9),
    ]


def _bar_look(k: int) -> tuple[colors.Color, colors.Color]:
    """(fill, stroke) of the k-th bar series: solid, open, tint, repeating with the palette."""
    color = _PALETTE[(k + 1) % len(_PALETTE)]  # blue first: black bars weigh too much
    look = k % 3
    if look == 0:
        return color, color
    if look == 1:
        return colors.white, color
    tint = colors.Color(
        color.red + (1 - color.red) * 0.55,
        color.green + (1 - color.green) * 0.55,
        color.blue + (1 - color.blue) * 0.55,
    )
    return tint, color


@dataclass(frozen=True)
class _LegendItem:
    kind: str  # "series" | "band" | "note"
    text: str
    index: int  # series index / band index / note number


def _finite(v: float | None) -> bool:
    return v is not None and isinstance(v, int | float) and math.isfinite(v)


def _chart_drawing(
    chart: ReportChart, width: float, height: float, fonts: _Fonts, timezone: str
) -> Drawing:
    d = Drawing(width, height)
    font, bold = fonts.regular, fonts.bold
    title = _clean(chart.title, fonts, _CAP_TITLE)
    y_title = _clean(chart.y_title, fonts, 40)
    heading = f"{title} ({y_title})" if y_title else title
    d.add(String(0, height - 8, _fit(heading, bold, 7.5, width), fontName=bold, fontSize=7.5))
    top = height - 12

    n = len(chart.x)
    series = [s for s in chart.series if s.style in ("line", "bar", "points")] or list(
        chart.series
    )
    values = [
        [v if _finite(v) else None for v in tuple(s.values)[:n]] + [None] * (n - len(s.values))
        for s in series
    ]
    data_points = [v for vals in values for v in vals if v is not None]
    if n == 0 or not data_points:
        box_h = max(top - 4, 10)
        d.add(Rect(0.5, 2, width - 1, box_h, fillColor=colors.Color(0.97, 0.97, 0.97),
                   strokeColor=_RULE, strokeWidth=0.7, strokeDashArray=(3, 2)))
        message = _clean(chart.empty_message, fonts, 80) or "No readings in this range"
        d.add(String(width / 2, 2 + box_h / 2 - 3, _fit(message, font, 8, width - 8),
                     fontName=font, fontSize=8, textAnchor="middle", fillColor=_GREY_TEXT))
        return d

    # Legend entries: series, bands, then numbered notes placed on this axis.
    items = [_LegendItem("series", _clean(s.name, fonts, _CAP_LEGEND), i)
             for i, s in enumerate(series)]
    items += [_LegendItem("band", _clean(b.label, fonts, _CAP_LEGEND), i)
              for i, b in enumerate(chart.bands)]
    note_marks: list[tuple[int, int]] = []  # (x index, number)
    for x_label, text in chart.notes:
        if x_label in chart.x:
            number = len(note_marks) + 1
            note_marks.append((chart.x.index(x_label), number))
            items.append(_LegendItem("note", f"{number} {_clean(text, fonts, _CAP_LEGEND)}",
                                     number))
    legend_font, legend_row = 6.0, 8.0
    rows = _legend_rows(items, width, font, legend_font)
    max_rows = max(1, int((height - 12 - 70) / legend_row))
    if len(rows) > max_rows:
        hidden = sum(len(r) for r in rows[max_rows - 1:])
        rows = [*rows[: max_rows - 1], [_LegendItem("more", f"… and {hidden} more", 0)]]
    legend_h = len(rows) * legend_row + 2

    x_title = _clean(_x_title(chart.x, timezone), fonts, 60)
    left, right = 30.0, 4.0
    bottom = legend_h + 18.0
    px, py = left, bottom
    pw, ph = width - left - right, max(top - bottom - 2, 20.0)

    finite_band_edges = [e for b in chart.bands for e in (b.low, b.high) if _finite(e)]
    lo_hi = data_points + finite_band_edges
    lo, hi = min(lo_hi), max(lo_hi)
    if any(s.style == "bar" for s in series):  # a bar's length is its value: from zero
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    # Headroom, so that the extreme readings do not sit on the frame and a band open on one
    # side (e.g. "stage 2: >= 140") still shows beyond its edge; no negative axis for data
    # that cannot be negative.
    pad = (hi - lo) * 0.06
    y0, y1, step = _nice_ticks(max(lo - pad, 0.0) if lo >= 0 else lo - pad, hi + pad)

    def ypos(v: float) -> float:
        return py + (v - y0) / (y1 - y0) * ph

    slot = pw / n

    def xpos(i: int) -> float:
        return px + (i + 0.5) * slot

    # Bands first (under everything), with their label inside when it fits.
    for k, band in enumerate(chart.bands):
        lo = band.low if _finite(band.low) else y0
        hi = band.high if _finite(band.high) else y1
        lo, hi = max(min(lo, hi), y0), min(max(lo, hi), y1)
        if hi <= lo:
            continue
        grey = _BAND_GREYS[k % len(_BAND_GREYS)]
        d.add(Rect(px, ypos(lo), pw, ypos(hi) - ypos(lo), fillColor=colors.Color(grey, grey, grey),
                   strokeColor=None, strokeWidth=0))
        if ypos(hi) - ypos(lo) >= 7:
            label = _fit(_clean(band.label, fonts, _CAP_LEGEND), font, 5.5, pw - 4)
            d.add(String(px + pw - 2, ypos(hi) - 6, label, fontName=font, fontSize=5.5,
                         textAnchor="end", fillColor=colors.Color(0.25, 0.25, 0.25)))

    # Grid and y axis.
    tick = y0
    while tick <= y1 + step * 1e-6:
        y = ypos(tick)
        d.add(Line(px, y, px + pw, y, strokeColor=colors.Color(0.7, 0.7, 0.7), strokeWidth=0.3,
                   strokeDashArray=(1, 2)))
        d.add(Line(px - 2, y, px, y, strokeColor=_INK, strokeWidth=0.5))
        d.add(String(px - 3, y - 2, _tick_text(tick, step), fontName=font, fontSize=5.8,
                     textAnchor="end"))
        tick += step
    d.add(Line(px, py, px, py + ph, strokeColor=_INK, strokeWidth=0.6))
    d.add(Line(px, py, px + pw, py, strokeColor=_INK, strokeWidth=0.6))
    y_axis = Group(
        String(0, 0, _fit(y_title, font, 6.2, ph), fontName=font, fontSize=6.2,
               textAnchor="middle"),
        transform=(0, 1, -1, 0, 6.5, py + ph / 2),
    )
    d.add(y_axis)

    # X labels, thinned to what fits.
    shown = [_clean(x, fonts, _CAP_X_LABEL) for x in chart.x]
    widest = max(pdfmetrics.stringWidth(x, font, 5.8) for x in shown) + 6
    every = max(1, math.ceil(n / max(1, int(pw // widest))))
    for i in range(0, n, every):
        d.add(Line(xpos(i), py, xpos(i), py - 2, strokeColor=_INK, strokeWidth=0.5))
        d.add(String(xpos(i), py - 8, shown[i], fontName=font, fontSize=5.8,
                     textAnchor="middle"))
    d.add(String(px + pw / 2, py - 15.5, x_title, fontName=font, fontSize=6.2,
                 textAnchor="middle", fillColor=_GREY_TEXT))

    # Bars, grouped per x slot.
    bar_series = [i for i, s in enumerate(series) if s.style == "bar"]
    if bar_series:
        base = min(max(0.0, y0), y1)
        group_w = slot * 0.8
        bar_w = group_w / len(bar_series)
        for k, si in enumerate(bar_series):
            fill, stroke = _bar_look(k)
            for i, v in enumerate(values[si]):
                if v is None:
                    continue
                x = xpos(i) - group_w / 2 + k * bar_w
                ya, yb = sorted((ypos(base), ypos(min(max(v, y0), y1))))
                d.add(Rect(x, ya, bar_w, max(yb - ya, 0.3), fillColor=fill, strokeColor=stroke,
                           strokeWidth=0.5 if bar_w > 2 else 0.2))

    # Lines and points, markers on a subset so the shape stays visible.
    for si, s in enumerate(series):
        if s.style == "bar":
            continue
        color, dash = _PALETTE[si % len(_PALETTE)], _DASHES[si % len(_DASHES)]
        marker = _MARKERS[si % len(_MARKERS)]
        vals = values[si]
        pts = [(xpos(i), ypos(v)) for i, v in enumerate(vals) if v is not None]
        # A reading with gaps on both sides has no line: it always gets its marker.
        alone = {
            j for j, i in enumerate(i for i, v in enumerate(vals) if v is not None)
            if (i == 0 or vals[i - 1] is None) and (i == n - 1 or vals[i + 1] is None)
        }
        if s.style == "line":
            run: list[float] = []
            for i, v in enumerate([*values[si], None]):
                if v is None:
                    if len(run) >= 4:
                        d.add(PolyLine(run, strokeColor=color, strokeWidth=1.1,
                                       strokeDashArray=dash, strokeLineJoin=1))
                    run = []
                else:
                    run += [xpos(i), ypos(v)]
            every_marker = max(1, math.ceil(len(pts) / 18))
            size = 1.7
        else:
            every_marker = 1
            size = 1.6 if len(pts) <= 60 else 1.1
        for j, (x, y) in enumerate(pts):
            if j % every_marker == 0 or j == len(pts) - 1 or j in alone:
                for shape in _marker(marker, x, y, size, color):
                    d.add(shape)

    # Notes: dashed verticals with their number at the top.
    for i, number in note_marks:
        x = xpos(i)
        d.add(Line(x, py, x, py + ph, strokeColor=_INK, strokeWidth=0.6, strokeDashArray=(2, 1.5)))
        d.add(Rect(x - 3.2, py + ph - 7.5, 6.4, 7, fillColor=colors.white, strokeColor=_INK,
                   strokeWidth=0.4))
        d.add(String(x, py + ph - 5.8, str(number), fontName=bold, fontSize=5.5,
                     textAnchor="middle"))

    _draw_legend(d, rows, series, legend_h, font, legend_font, legend_row)
    return d


def _legend_width(item: _LegendItem, font: str, size: float) -> float:
    sample = {"series": 18.0, "band": 10.0, "note": 0.0, "more": 0.0}[item.kind]
    return sample + pdfmetrics.stringWidth(item.text, font, size) + 8


def _legend_rows(
    items: list[_LegendItem], width: float, font: str, size: float
) -> list[list[_LegendItem]]:
    rows: list[list[_LegendItem]] = []
    used = width + 1
    for item in items:
        w = min(_legend_width(item, font, size), width)
        if used + w > width:
            rows.append([])
            used = 0.0
        rows[-1].append(item)
        used += w
    return rows


def _draw_legend(
    d: Drawing,
    rows: list[list[_LegendItem]],
    series: list[ReportSeries],
    legend_h: float,
    font: str,
    size: float,
    row_h: float,
) -> None:
    bar_order = [i for i, s in enumerate(series) if s.style == "bar"]
    for r, row in enumerate(rows):
        y = legend_h - (r + 1) * row_h + 2
        x = 0.0
        for item in row:
            if item.kind == "series":
                s = series[item.index]
                color = _PALETTE[item.index % len(_PALETTE)]
                if s.style == "bar":
                    fill, stroke = _bar_look(bar_order.index(item.index))
                    d.add(Rect(x + 4, y, 9, 5, fillColor=fill, strokeColor=stroke,
                               strokeWidth=0.6))
                else:
                    if s.style == "line":
                        d.add(Line(x, y + 2.5, x + 15, y + 2.5, strokeColor=color,
                                   strokeWidth=1.1,
                                   strokeDashArray=_DASHES[item.index % len(_DASHES)]))
                    for shape in _marker(_MARKERS[item.index % len(_MARKERS)], x + 7.5, y + 2.5,
                                         1.7, color):
                        d.add(shape)
                x += 18
            elif item.kind == "band":
                grey = _BAND_GREYS[item.index % len(_BAND_GREYS)]
                d.add(Rect(x, y, 8, 5, fillColor=colors.Color(grey, grey, grey),
                           strokeColor=_RULE, strokeWidth=0.3))
                x += 10
            room = d.width - x
            text = _fit(item.text, font, size, room)
            d.add(String(x, y, text, fontName=font, fontSize=size))
            x += pdfmetrics.stringWidth(text, font, size) + 8


def _fit(text: str, font: str, size: float, width: float) -> str:
    """``text`` cut with "…" to fit ``width`` points."""
    if pdfmetrics.stringWidth(text, font, size) <= width:
        return text
    while text and pdfmetrics.stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text.rstrip() + "…"


# --------------------------------------------------------------------------- document parts


def _title_block(report: ReportData, st: _Styles) -> list[Flowable]:
    f = st.fonts
    who = escape(_clean(report.patient_name, f, _CAP_NAME))
    detail = escape(_clean(report.patient_detail, f, _CAP_LINE))
    return [
        Paragraph("Clinician report", st.h1),
        Paragraph(f"<b>{who}</b>" + (f" · {detail}" if detail else ""), st.body),
        Paragraph(
            f"Range: {escape(_clean(report.range_label, f, _CAP_LINE))} · "
            f"Time zone: {escape(_clean(report.timezone, f, 60))} "
            "(all dates and times are local to it)",
            st.body,
        ),
        Paragraph(f"Generated {escape(_clean(report.generated, f, _CAP_LINE))}", st.small),
    ]


def _flags(report: ReportData, st: _Styles, level: _Level) -> list[Flowable]:
    out: list[Flowable] = [Paragraph("Flags", st.h2)]
    if not report.flags:
        return [*out, Paragraph("No flags for this range.", st.body)]
    shown = report.flags[: level.flags]
    out += [
        Paragraph("• " + escape(_clean(flag, st.fonts, _CAP_FLAG)), st.body) for flag in shown
    ]
    if len(report.flags) > len(shown):
        out.append(Paragraph(escape(_more(len(report.flags) - len(shown), "flags")), st.small))
    return out


def _section_cell(
    section: ReportSection, st: _Styles, level: _Level, timezone: str
) -> list[Flowable]:
    f = st.fonts
    cell: list[Flowable] = [_p(section.title, st.h2, f, _CAP_TITLE)]
    stats = section.stats[: level.stats]
    if stats:
        rows = []
        for stat in stats:
            value = f"<b>{escape(_clean(stat.value, f, _CAP_STAT_VALUE))}</b>"
            detail = _clean(stat.detail, f, _CAP_STAT_DETAIL)
            if detail:
                value += f"<br/><font size='6.5' color='#4d4d4d'>{escape(detail)}</font>"
            rows.append([_p(stat.label, st.stat_label, f, _CAP_STAT_LABEL),
                         Paragraph(value, st.stat_value)])
        table = Table(rows, colWidths=[_CELL_W * 0.42, _CELL_W * 0.58])
        table.setStyle(TableStyle([
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ("RIGHTPADDING", (0, 0), (-1, -1), 3),
            ("TOPPADDING", (0, 0), (-1, -1), 1),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
            ("LINEBELOW", (0, 0), (-1, -2), 0.25, colors.Color(0.8, 0.8, 0.8)),
        ]))
        cell.append(table)
    else:
        cell.append(Paragraph("No statistics for this range.", st.small))
    if len(section.stats) > len(stats):
        cell.append(Paragraph(escape(_more(len(section.stats) - len(stats), "statistics")),
                              st.small))
    if section.chart is not None and level.chart_height > 0:
        cell.append(Spacer(1, 3))
        cell.append(_chart_drawing(section.chart, _CELL_W, level.chart_height, f, timezone))
    return cell


def _sections(
    report: ReportData, st: _Styles, level: _Level
) -> tuple[list[Flowable], list[tuple[Flowable, int]]]:
    """(an intro line if charts were dropped, [(row of up to two sections, sections in it)])."""
    intro: list[Flowable] = []
    if level.chart_height <= 0 and any(s.chart is not None for s in report.sections):
        intro.append(Paragraph(
            "Charts are left out to keep this report to two pages; the dashboard shows them.",
            st.small,
        ))
    rows: list[tuple[Flowable, int]] = []
    cells = [_section_cell(s, st, level, _clean(report.timezone, st.fonts, 40))
             for s in report.sections]
    for i in range(0, len(cells), 2):
        pair = cells[i : i + 2] + ([[]] if i + 1 >= len(cells) else [])
        row = Table([pair], colWidths=[_CELL_W + _GUTTER, _CELL_W], hAlign="LEFT")
        row.setStyle(TableStyle([
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ("RIGHTPADDING", (0, 0), (0, 0), _GUTTER),
            ("RIGHTPADDING", (1, 0), (1, 0), 0),
            ("TOPPADDING", (0, 0), (-1, -1), 0),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
        ]))
        rows.append((row, len(cells[i : i + 2])))
    return intro, rows


def _notes(report: ReportData, st: _Styles, level: _Level) -> list[Flowable]:
    if not report.notes:
        return []
    f = st.fonts
    shown = report.notes[: level.notes]
    rows = [[Paragraph("<b>When</b>", st.small), Paragraph("<b>By</b>", st.small),
             Paragraph("<b>Note</b>", st.small)]]
    for when, author, text in shown:
        rows.append([
            _p(when, st.stat_label, f, _CAP_NOTE_META),
            _p(author, st.stat_label, f, _CAP_NOTE_META),
            _p(text, st.stat_label, f, level.note_chars),
        ])
    table = Table(rows, colWidths=[70, 90, _FRAME_W - 160], repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ("TOPPADDING", (0, 0), (-1, -1), 1),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
        ("LINEBELOW", (0, 0), (-1, 0), 0.5, _RULE),
    ]))
    heading = Paragraph("Notes", st.h2)
    # KeepTogether cannot be drawn inside KeepInFrame, which the last level uses.
    out: list[Flowable] = [heading, table] if level.squeeze else [KeepTogether([heading, table])]
    if len(report.notes) > len(shown):
        out.append(Paragraph(escape(_more(len(report.notes) - len(shown), "notes")), st.small))
    return out


def _sources(report: ReportData, st: _Styles, level: _Level) -> list[Flowable]:
    if not report.sources:
        return []
    shown = report.sources[: level.sources]
    out: list[Flowable] = [Paragraph("Reference ranges", st.h2)]
    out += [Paragraph("• " + escape(_clean(s, st.fonts, _CAP_SOURCE)), st.small) for s in shown]
    if len(report.sources) > len(shown):
        out.append(Paragraph(escape(_more(len(report.sources) - len(shown), "sources")),
                             st.small))
    return out


def _story(report: ReportData, st: _Styles, level: _Level) -> list[Flowable]:
    intro, rows = _sections(report, st, level)
    head = [*_title_block(report, st), *_flags(report, st, level), Spacer(1, 2), *intro]
    tail = [*_notes(report, st, level), *_sources(report, st, level)]
    if level.squeeze:
        return _squeeze(head, rows, tail, st)
    return [*head, *(row for row, _ in rows), *tail]


_MIN_SCALE = 0.6  # the last resort shrinks page 2 no further; section rows beyond are left out


def _height(flowable: Flowable) -> float:
    _, h = flowable.wrap(_FRAME_W, _FRAME_H)
    return h + flowable.getSpaceBefore() + flowable.getSpaceAfter()


def _squeeze(
    head: list[Flowable], rows: list[tuple[Flowable, int]], tail: list[Flowable], st: _Styles
) -> list[Flowable]:
    """Two pages for sure: leave out trailing section rows beyond what fits page 1 plus a
    page 2 scaled to ``_MIN_SCALE``, say so, then scale page 2 down to fit."""
    budget = _FRAME_H + _FRAME_H / _MIN_SCALE - sum(map(_height, head)) - sum(map(_height, tail))
    kept: list[Flowable] = []
    dropped = sum(n for _, n in rows)
    for row, n in rows:
        h = _height(row)
        if h > budget - 30:  # room kept for the line that tells what was left out
            break
        kept.append(row)
        budget -= h
        dropped -= n
    if dropped:
        kept.append(Paragraph(
            escape(_more(dropped, "sections")) + " left out to keep this report to two pages;"
            " the dashboard shows them.",
            st.body,
        ))
    story = [*head, *kept, *tail]
    first: list[Flowable] = []
    used = 0.0
    while story:
        h = _height(story[0])
        if used + h > _FRAME_H - 2 and first:
            break
        first.append(story.pop(0))
        used += h
    pages: list[Flowable] = [KeepInFrame(_FRAME_W, _FRAME_H - 2, first, mode="shrink")]
    if story:
        pages += [PageBreak(), KeepInFrame(_FRAME_W, _FRAME_H - 2, story, mode="shrink")]
    return pages


# --------------------------------------------------------------------------- the document


class _Doc(BaseDocTemplate):
    def __init__(self, buffer: io.BytesIO, report: ReportData, fonts: _Fonts, total: int) -> None:
        name = _clean(report.patient_name, fonts, _CAP_NAME)
        super().__init__(
            buffer,
            pagesize=A4,
            leftMargin=_MARGIN_X,
            rightMargin=_MARGIN_X,
            topMargin=_HEADER_H,
            bottomMargin=_FOOTER_H,
            title=f"HealthDash report — {name}",
            author="HealthDash",
            subject=_clean(f"Clinician report, {report.range_label} ({report.timezone})", fonts),
            creator="HealthDash",
            invariant=1,
        )
        self.report, self.fonts, self.total, self.pages = report, fonts, total, 0
        frame = Frame(_MARGIN_X, _FOOTER_H, _FRAME_W, _FRAME_H, leftPadding=0, rightPadding=0,
                      topPadding=0, bottomPadding=0, id="body")
        self.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=self._decorate)])

    def _decorate(self, canvas, doc) -> None:  # type: ignore[no-untyped-def]
        self.pages = max(self.pages, doc.page)
        f, r = self.fonts, self.report
        canvas.saveState()
        top = _PAGE_H - 9 * mm
        page_text = f"Page {doc.page} of {self.total or '?'}"
        canvas.setFont(f.regular, 8)
        canvas.drawRightString(_PAGE_W - _MARGIN_X, top, page_text)
        room = _FRAME_W - pdfmetrics.stringWidth(page_text, f.regular, 8) - 12
        canvas.setFont(f.bold, 10.5)
        canvas.drawString(_MARGIN_X, top, _fit(_clean(r.patient_name, f, _CAP_NAME), f.bold,
                                               10.5, room))
        canvas.setFont(f.regular, 7.5)
        line = _clean(f"{r.range_label} · Time zone: {r.timezone}", f, 160)
        canvas.drawString(_MARGIN_X, top - 10, _fit(line, f.regular, 7.5, _FRAME_W))
        canvas.setStrokeColor(_RULE)
        canvas.setLineWidth(0.6)
        canvas.line(_MARGIN_X, top - 14, _PAGE_W - _MARGIN_X, top - 14)
        canvas.setFont(f.regular, 6.5)
        canvas.setFillColor(_GREY_TEXT)
        footer = _clean(f"HealthDash clinician report · generated {r.generated}", f, 160)
        canvas.drawString(_MARGIN_X, 6 * mm, _fit(footer, f.regular, 6.5, _FRAME_W))
        canvas.restoreState()


def _render(report: ReportData, fonts: _Fonts, level: _Level, total: int) -> tuple[bytes, int]:
    buffer = io.BytesIO()
    doc = _Doc(buffer, report, fonts, total)
    doc.build(_story(report, _styles(fonts), level))
    return buffer.getvalue(), doc.pages


def build_report_pdf(
    report: ReportData, *, font_dirs: Sequence[str] | None = _DEJAVU_DIRS
) -> bytes:
    """The report as PDF bytes: A4, at most two pages (see the module doc for the fit order).

    ``font_dirs`` are searched for DejaVu Sans; ``None`` or no hit uses built-in Helvetica.
    """
    fonts = (_dejavu(tuple(font_dirs)) if font_dirs else None) or _HELVETICA
    for level in _LEVELS:
        try:
            _, pages = _render(report, fonts, level, total=0)
        except LayoutError:
            continue
        if pages <= MAX_PAGES:
            pdf, final_pages = _render(report, fonts, level, total=pages)
            if final_pages == pages:
                return pdf
    raise RuntimeError("the report could not be fitted on two pages")
