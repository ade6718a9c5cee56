"""Chart geometry for the server-rendered SVG charts: scales, ticks, bars,
polylines and heat-map cells. Pure Python; the templates only draw what this
computes (templates/reports/_charts.html)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Sequence

from .words import _

WIDTH, HEIGHT = 960, 320
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 80, 16, 36, 56
MAX_X_LABELS = 12
# The x axis's labels (font-size 12 in the template). Flat and centred under their slot while
# each clears its neighbours by X_LABEL_GAP; otherwise (many garages, long names) turned by
# X_LABEL_ANGLE, each ending at its slot's centre and reading down-left, cut at ROTATED_MAX
# (with "…"; the whole label is its title), every k-th only when even turned ones would touch
# (two parallel labels d apart are d × sin 45° apart across: at least LINE_HEIGHT).
FONT_SIZE = 12
LINE_HEIGHT = 15
X_LABEL_GAP = 6
X_LABEL_ANGLE = -45
ROTATED_MAX = 140
X_LABEL_FLAT_DROP, X_LABEL_DROP = 18, 12  # a flat label's baseline, a turned one's end, below the axis
X_TITLE_ROOM = 28  # the axis title's band at the foot of the picture
SIN45 = math.sqrt(0.5)
PALETTE = ("#0b5cd5", "#e07b00", "#0a7a32", "#8a3ffc")
# Light to dark blue: heat-map levels (no data is drawn as light grey).
HEAT_COLOURS = ("#eef3fb", "#c9dbf5", "#94b8eb", "#5b8fdc", "#2c64c2", "#123f8c")
NO_DATA_COLOUR = "#f1f1f1"


def nice_ticks(max_value: float, count: int = 5) -> list[float]:
    """0 and evenly spaced round values (1, 2, 2.5, 5 × 10^k) reaching max_value."""
    if max_value <= 0:
        return [0.0, 1.0]
    raw = max_value / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    n = math.ceil(max_value / step)
    while n * step < max_value:  # the division may have rounded down
        n += 1
    return [i * step for i in range(n + 1)]


@dataclass(frozen=True)
class Tick:
    pos: float
    label: str
    title: str = ""  # the whole label when `label` is cut short


# How wide a sans-serif font draws a character, in ems, erring wide (DejaVu Sans, the widest
# common one: W 0.99, m 0.97, M 0.86, capitals up to 0.79, lower case and digits up to 0.64).
_WIDE, _NARROW = set("WMmw@%"), set("iljtfrI.,:;'!| ")


def text_width(text: str, size: float = FONT_SIZE) -> float:
    """A generous estimate of `text`'s width at `size`: never narrower than drawn, so two labels
    estimated apart are apart. Anything outside ASCII counts as wide (accents, other scripts)."""
    ems = sum(1.0 if c in _WIDE or not c.isascii() else 0.42 if c in _NARROW else 0.8 if c.isupper() else 0.65
              for c in text)
    return round(ems * size, 2)


def cut(text: str, room: float) -> str:
    """`text` if it fits in `room`, else its longest start that fits with "…" after it."""
    if text_width(text) <= room:
        return text
    while text and text_width(text + "…") > room:
        text = text[:-1]
    return text.rstrip() + "…"


@dataclass(frozen=True)
class Rect:
    """A bar or a heat-map cell, with its hover text."""

    x: float
    y: float
    width: float
    height: float
    colour: str
    tooltip: str


@dataclass(frozen=True)
class Line:
    name: str
    colour: str
    segments: list[str]  # "x,y x,y ..." per unbroken run (None values break the line)
    dashed: bool = False


@dataclass
class Chart:
    kind: str  # "bar" | "line" | "heat"
    slug: str
    title: str
    description: str
    x_label: str
    y_label: str
    width: int = WIDTH
    height: int = HEIGHT
    left: float = MARGIN_LEFT
    top: float = MARGIN_TOP
    right: float = WIDTH - MARGIN_RIGHT
    bottom: float = HEIGHT - MARGIN_BOTTOM
    x_ticks: list[Tick] = field(default_factory=list)
    x_angle: int = 0  # the x labels' turn (degrees; 0: flat)
    y_ticks: list[Tick] = field(default_factory=list)
    bars: list[Rect] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    cells: list[Rect] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)
    table_head: list[str] = field(default_factory=list)
    table_rows: list[list[str]] = field(default_factory=list)

    @property
    def plot_width(self) -> float:
        return self.right - self.left

    @property
    def plot_height(self) -> float:
        return self.bottom - self.top

    @property
    def x_label_y(self) -> float:
        """The x labels' baseline: a flat one's, or where a turned one ends."""
        return self.bottom + (X_LABEL_DROP if self.x_angle else X_LABEL_FLAT_DROP)


def _x_ticks(chart: Chart, labels: Sequence[str], centre: Callable[[int], float], slot: float) -> None:
    """At most MAX_X_LABELS evenly spread labels; empty labels are never ticked (callers blank the
    ones not worth a tick, e.g. every hour but midnight). Flat when each clears its neighbours,
    else turned (see X_LABEL_ANGLE), and the chart grows downwards to hold them."""
    candidates = [i for i, label in enumerate(labels) if label]
    step = max(1, math.ceil(len(candidates) / MAX_X_LABELS))

    def spacings(chosen: list[int]) -> list[tuple[int, int, float]]:
        return [(a, b, (b - a) * slot) for a, b in zip(chosen, chosen[1:])]

    chosen = candidates[::step]
    inside = all(text_width(labels[i]) / 2 <= min(centre(i), chart.width - centre(i)) for i in chosen)
    if inside and all((text_width(labels[a]) + text_width(labels[b])) / 2 + X_LABEL_GAP <= apart
                      for a, b, apart in spacings(chosen)):
        chart.x_ticks = [Tick(round(centre(i), 2), labels[i]) for i in chosen]
        return
    while any(apart * SIN45 < LINE_HEIGHT for _, _, apart in spacings(chosen)):
        step += 1
        chosen = candidates[::step]
    ticks = []
    for i in chosen:
        pos = round(centre(i), 2)
        # Its start stays inside the picture: pos / cos 45° along the turned line, less its height.
        shown = cut(labels[i], min(ROTATED_MAX, pos / SIN45 - FONT_SIZE))
        ticks.append(Tick(pos, shown, labels[i] if shown != labels[i] else ""))
    chart.x_ticks, chart.x_angle = ticks, X_LABEL_ANGLE
    longest = max(text_width(t.label) for t in ticks)
    chart.height = max(chart.height, math.ceil(chart.bottom + X_LABEL_DROP + longest * SIN45 + X_TITLE_ROOM))


def _y_scale(chart: Chart, max_value: float, fmt: Callable[[float], str]) -> Callable[[float], float]:
    ticks = nice_ticks(max_value)
    top = ticks[-1]

    def y(value: float) -> float:
        return round(chart.bottom - (value / top) * chart.plot_height, 2)

    chart.y_ticks = [Tick(y(t), fmt(t)) for t in ticks]
    return y


def once(fmt: Callable[[float], str]) -> Callable[[float], str]:
    """`fmt` writing each value once: a chart writes its values for the hover texts and the table, and
    many repeat (a month's hourly occupancy: 1,440 values, a few dozen distinct), and a locale's number
    formatting is costly (issue 21)."""
    written: dict[float, str] = {}

    def write(value: float) -> str:
        text = written.get(value)
        if text is None:
            text = written[value] = fmt(value)
        return text

    return write


def bar_chart(slug: str, title: str, description: str, labels: Sequence[str],
              series: Sequence[tuple[str, Sequence[float]]], x_label: str, y_label: str,
              fmt: Callable[[float], str] = lambda v: f"{v:g}", tick_fmt: Callable[[float], str] | None = None,
              axis_labels: Sequence[str] | None = None) -> Chart:
    """One bar per label and series (series side by side within a slot).
    `fmt` writes values (hover text, table), `tick_fmt` the y axis (default
    fmt); `axis_labels` replaces `labels` under the x axis."""
    chart = Chart("bar", slug, title, description, x_label, y_label)
    fmt = once(fmt)
    n = max(1, len(labels))
    slot = chart.plot_width / n
    gap = slot * 0.15 if slot >= 4 else 0.0
    bar_w = (slot - gap) / max(1, len(series))
    peak = max((v for _, values in series for v in values), default=0)
    y = _y_scale(chart, peak, tick_fmt or fmt)
    for s, (name, values) in enumerate(series):
        colour = PALETTE[s % len(PALETTE)]
        chart.legend.append((name, colour))
        for i, value in enumerate(values):
            top = y(value)
            chart.bars.append(Rect(round(chart.left + i * slot + gap / 2 + s * bar_w, 2), top,
                                  round(max(bar_w, 0.5), 2), round(chart.bottom - top, 2), colour,
                                  _("%(label)s: %(series)s %(value)s", label=labels[i], series=name,
                                    value=fmt(value))))
    _x_ticks(chart, axis_labels or labels, lambda i: chart.left + (i + 0.5) * slot, slot)
    chart.table_head = [x_label] + [name for name, _ in series]
    chart.table_rows = [[labels[i]] + [fmt(values[i]) for _, values in series] for i in range(len(labels))]
    return chart


def line_chart(slug: str, title: str, description: str, labels: Sequence[str],
               series: Sequence[tuple[str, Sequence[float | None]]], x_label: str, y_label: str,
               fmt: Callable[[float], str] = lambda v: f"{v:g}",
               ceiling: tuple[str, float] | None = None, axis_labels: Sequence[str] | None = None) -> Chart:
    """One polyline per series; a None value breaks the line. `ceiling` draws
    a dashed horizontal reference (e.g. total spaces)."""
    chart = Chart("line", slug, title, description, x_label, y_label)
    fmt = once(fmt)
    n = len(labels)
    step = chart.plot_width / max(1, n - 1)
    values_all = [v for _, values in series for v in values if v is not None]
    peak = max(values_all + ([ceiling[1]] if ceiling else []), default=0)
    y = _y_scale(chart, peak, fmt)

    def x(i: int) -> float:
        return round(chart.left + (i * step if n > 1 else chart.plot_width / 2), 2)

    for s, (name, values) in enumerate(series):
        colour = PALETTE[s % len(PALETTE)]
        segments, run = [], []
        for i, value in enumerate(values):
            if value is None:
                if run:
                    segments.append(" ".join(run))
                run = []
                continue
            run.append(f"{x(i)},{y(value)}")
        if run:
            segments.append(" ".join(run))
        chart.lines.append(Line(name, colour, segments))
        chart.legend.append((name, colour))
    if ceiling:
        name, value = ceiling
        chart.lines.append(Line(name, "#b3141b", [f"{chart.left},{y(value)} {chart.right},{y(value)}"], True))
        chart.legend.append((name, "#b3141b"))
    _x_ticks(chart, axis_labels or labels, x, step)
    chart.table_head = [x_label] + [name for name, _ in series]
    chart.table_rows = [[labels[i]] + ["" if values[i] is None else fmt(values[i]) for _, values in series]
                        for i in range(n)]
    return chart


def heat_scale(top: float, levels: int = len(HEAT_COLOURS) - 1) -> tuple[int, int]:
    """(decimals, steps) of a heat map whose largest value is `top`: values are shown with
    `decimals` (1, or more while the largest value is small: an average of 0.08 cars reads
    0.08, not 0.1), and the colours use `steps` levels above zero, at most `levels` and no
    more than there are distinct values at that precision. So each legend entry reads
    differently (not "≈ 0.0" four times); no steps at all when every value is 0."""
    decimals = next((d for d in (1, 2) if top * 10 ** d >= levels), 3)
    return decimals, min(levels, math.floor(top * 10 ** decimals + 1e-9)) if top > 0 else 0


def heat_level(value: float | None, top: float, steps: int | None = None) -> str:
    """The colour of `value` on a map whose largest value is `top`, in `steps` levels above zero."""
    if value is None:
        return NO_DATA_COLOUR
    steps = heat_scale(top)[1] if steps is None else steps
    if top <= 0 or steps <= 0:
        return HEAT_COLOURS[0]
    level = min(steps, int(value / top * steps + 0.5))
    return HEAT_COLOURS[round(level * (len(HEAT_COLOURS) - 1) / steps)]


# Writes a value with so many decimals (a page: the reader's locale, 0,08 in German).
Decimals = Callable[[float, int], str]


def _dot_decimals(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}"


def heat_legend(top: float, number: Decimals = _dot_decimals) -> list[tuple[str, str]]:
    """One entry per colour in use: "≈ value" at the shown precision, every label different."""
    decimals, steps = heat_scale(top)
    if steps == 0:
        return [("0", HEAT_COLOURS[0])]
    unit = 10 ** decimals
    # Multiples of the shown precision, one unit or more apart (the steps are): never the same label twice.
    marks: list[int] = []
    for level in range(steps + 1):
        mark = math.floor(top * unit * level / steps + 0.5)
        marks.append(max(mark, marks[-1] + 1) if marks else mark)
    return [(f"≈ {number(mark / unit, decimals)}", heat_level(top * level / steps, top, steps))
            for level, mark in enumerate(marks)]


def heat_map(slug: str, title: str, description: str, row_labels: Sequence[str],
             col_labels: Sequence[str], values: Sequence[Sequence[float | None]],
             x_label: str, y_label: str, number: Decimals = _dot_decimals) -> Chart:
    """A row per row label, a column per column label; `number` writes the values."""
    chart = Chart("heat", slug, title, description, x_label, y_label, height=300,
                  left=56, bottom=300 - 48)
    rows, cols = len(row_labels), len(col_labels)
    cw, ch = chart.plot_width / cols, chart.plot_height / rows
    top = max((v for row in values for v in row if v is not None), default=0)
    decimals, steps = heat_scale(top)

    fmt = once(lambda value: number(value, decimals))

    for r in range(rows):
        for c in range(cols):
            value = values[r][c]
            text = _("no data") if value is None else fmt(value)
            chart.cells.append(Rect(round(chart.left + c * cw, 2), round(chart.top + r * ch, 2),
                                    round(cw - 1, 2), round(ch - 1, 2), heat_level(value, top, steps),
                                    _("%(day)s %(hour)s: %(value)s", day=row_labels[r], hour=col_labels[c],
                                      value=text)))
    chart.x_ticks = [Tick(round(chart.left + (c + 0.5) * cw, 2), col_labels[c]) for c in range(0, cols, 2)]
    chart.y_ticks = [Tick(round(chart.top + (r + 0.5) * ch, 2), row_labels[r]) for r in range(rows)]
    chart.legend = heat_legend(top, number) + [(_("no data"), NO_DATA_COLOUR)]
    chart.table_head = [y_label] + list(col_labels)
    chart.table_rows = [[row_labels[r]] + ["" if values[r][c] is None else fmt(values[r][c])
                                           for c in range(cols)] for r in range(rows)]
    return chart
