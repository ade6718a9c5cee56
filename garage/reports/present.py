"""From a Report to what the page draws: labels, charts, CSV rows."""
from __future__ import annotations

from typing import Iterable, Iterator

from ..domain.charts import Chart, bar_chart, heat_map, line_chart
from ..domain.clock import format_duration, to_local
from ..domain.figures import WEEKDAYS, csv_text, safe_cell, format_change, hour_of_week
from ..domain import closes as day_close
from ..domain.money import (
    current_currency, minor_to_decimal, minor_to_major, format_major_amount, format_money, format_whole_major,
)
from ..domain.periods import Bucket
from ..services.closes import CloseView
from ..services.reports import TICKET_COLUMNS, Report

CHARTS = ("revenue", "traffic", "occupancy", "heatmap")


def count(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def told_apart(garages: Iterable[tuple[str, str]]) -> list[str]:
    """Each garage's name from (name, slug) pairs, with its slug in brackets where another garage
    has the same name (allowed: slugs are what is unique), so a chart's two "Central" bars differ."""
    pairs = list(garages)
    names = [name for name, _ in pairs]
    return [f"{name} ({slug})" if names.count(name) > 1 else name for name, slug in pairs]


def hour_labels(buckets: list[Bucket], with_day: bool) -> list[str]:
    fmt = "%d %b %H:%M" if with_day else "%H:%M"
    labels = [b.local_start.strftime(fmt) for b in buckets]
    seen: dict[str, int] = {}
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
    # A fall-back night repeats 01:00: tell those two apart by EDT/EST.
    return [f"{label} {b.local_start.strftime('%Z')}" if seen[label] > 1 else label
            for label, b in zip(labels, buckets)]


def hour_axis(buckets: list[Bucket], with_day: bool) -> list[str] | None:
    """Over several days, tick the x axis at local midnights with the date only."""
    if not with_day:
        return None
    return [b.local_start.strftime("%a %d %b") if b.local_start.hour == 0 else "" for b in buckets]


def row_labels(report: Report) -> list[str]:
    buckets = [r.bucket for r in report.rows]
    if report.period.group == "hour":
        return hour_labels(buckets, with_day=not report.period.single_day)
    return [b.local_start.strftime("%a %d %b") for b in buckets]


def revenue_chart(report: Report) -> Chart:
    unit = "hour" if report.period.group == "hour" else "day"
    return bar_chart(
        "revenue", f"Revenue per {unit}",
        f"Money taken at exits in each local {unit}, {report.period.label()} ({report.timezone}).",
        row_labels(report), [("Revenue", [minor_to_major(r.revenue_cents) for r in report.rows])],
        x_label=f"{unit.title()} ({report.timezone})", y_label=f"Revenue ({current_currency()})", fmt=format_major_amount,
        tick_fmt=format_whole_major,
        axis_labels=hour_axis([r.bucket for r in report.rows], unit == "hour" and not report.period.single_day))


def traffic_chart(report: Report) -> Chart:
    axis = None
    if report.period.group == "hour":
        labels = hour_labels(report.hours, with_day=not report.period.single_day)
        axis = hour_axis(report.hours, with_day=not report.period.single_day)
        entries = [e.entries for e in report.hour_events]
        exits = [e.exits for e in report.hour_events]
        title, x_label = "Entries and exits per hour", f"Hour ({report.timezone})"
        description = "Cars entering and leaving in each local hour"
    else:  # many days: the daily profile, summed over the period
        labels = [f"{h:02d}:00" for h in range(24)]
        entries, exits = [0] * 24, [0] * 24
        for bucket, ev in zip(report.hours, report.hour_events):
            entries[bucket.local_start.hour] += ev.entries
            exits[bucket.local_start.hour] += ev.exits
        title, x_label = "Entries and exits by hour of day", f"Hour of day ({report.timezone})"
        description = "Cars entering and leaving in each hour of the day, summed over the period"
    return bar_chart("traffic", title, f"{description}, {report.period.label()}.", labels,
                     [("Entries", entries), ("Exits", exits)], x_label=x_label, y_label="Cars", fmt=count,
                     axis_labels=axis)


def occupancy_chart(report: Report) -> Chart:
    labels = hour_labels(report.hours, with_day=not report.period.single_day)
    return line_chart(
        "occupancy", "Occupancy over time",
        f"Peak and average number of cars inside in each local hour, {report.period.label()} "
        f"({report.timezone}); the dashed line is the garage's {report.total_spaces} spaces.",
        labels, [("Peak", [p.peak if p else None for p in report.occupancy]),
                 ("Average", [round(p.average, 1) if p else None for p in report.occupancy])],
        x_label=f"Hour ({report.timezone})", y_label="Cars inside", fmt=count,
        ceiling=("Total spaces", report.total_spaces),
        axis_labels=hour_axis(report.hours, with_day=not report.period.single_day))


def heatmap_chart(report: Report) -> Chart:
    cells = hour_of_week(report.occupancy)
    return heat_map(
        "heatmap", "Occupancy by hour of week",
        f"Average cars inside for each weekday and local hour, {report.period.label()} "
        f"({report.timezone}). Darker is busier.",
        WEEKDAYS, [f"{h:02d}" for h in range(24)],
        [[cell.average for cell in row] for row in cells],
        x_label=f"Hour of day ({report.timezone})", y_label="Weekday")


BUILDERS = {"revenue": revenue_chart, "traffic": traffic_chart,
            "occupancy": occupancy_chart, "heatmap": heatmap_chart}


def charts(report: Report) -> dict[str, Chart]:
    return {name: BUILDERS[name](report) for name in CHARTS}


FIGURES = (
    # money (revenue = time fees + lost-ticket fees; net = revenue − refunds), then traffic
    ("revenue_cents", "Revenue", "money"),
    ("refunded_cents", "Refunds", "money"),
    ("net_revenue_cents", "Net revenue", "money"),
    ("time_fee_cents", "Time fees", "money"),
    ("lost_fee_cents", "Lost-ticket fees", "money"),
    ("lost_tickets", "Lost tickets", "count"),
    ("average_ticket_cents", "Average ticket", "money"),
    ("exits", "Exits", "count"),
    ("entries", "Entries", "count"),
    ("voids", "Voided tickets", "count"),
    ("average_stay_minutes", "Average stay", "minutes"),
    ("median_stay_minutes", "Median stay", "minutes"),
    # monthly permits (issue 19): sold apart from the tickets; their cars' exits are part of Exits
    ("permit_sales_cents", "Permit sales", "money"),
    ("permit_exits", "Permit car exits", "count"),
)


def show(value: float | None, kind: str) -> str:
    if value is None:
        return "–"
    if kind == "money":
        return format_major_amount(minor_to_major(value))
    if kind == "minutes":
        return format_duration(int(round(value)))
    return count(value)


def figures(report: Report) -> list[dict[str, str | float | None]]:
    out = []
    for name, label, kind in FIGURES:
        change = report.changes.get(name)
        out.append({"name": name, "label": label, "value": show(getattr(report.summary, name), kind),
                    "previous": show(getattr(report.previous_summary, name), kind),
                    "change": format_change(change), "direction": (
                        "none" if change is None or round(change, 1) == 0 else "up" if change > 0 else "down")})
    return out


# --- CSV -------------------------------------------------------------------------------------

def _iso(moment) -> str:
    return moment.isoformat() if moment is not None else ""


def report_csv(report: Report) -> Iterator[str]:
    """The report's rows as CSV text: the header, then every row (at most 366 days or 31×24 hours).
    Revenue includes the lost-ticket fees, also given on their own; refunds given in the row's time
    are a column of their own (revenue is what was taken, never net of them)."""
    tz = report.timezone
    yield csv_text([[f"start ({tz}, ISO 8601)", f"end ({tz}, ISO 8601)", "entries", "exits", "revenue_usd",
                     "average_stay_minutes", "peak_occupancy", "average_occupancy", "lost_tickets",
                     "lost_fees_usd", "refunds_usd", "currency"]])
    currency = current_currency()  # the garage's: the *_usd columns keep their names, in its minor units' major unit
    rows = []
    for row in report.rows:
        stay = row.average_stay_minutes
        rows.append([_iso(row.bucket.local_start), _iso(row.bucket.end.astimezone(row.bucket.local_start.tzinfo)),
                     row.entries, row.exits, minor_to_decimal(row.revenue_cents),
                     "" if stay is None else f"{stay:.1f}", row.peak_occupancy,
                     "" if row.average_occupancy is None else f"{row.average_occupancy:.2f}",
                     row.lost_tickets, minor_to_decimal(row.lost_fee_cents), minor_to_decimal(row.refunded_cents),
                     currency])
    yield csv_text(rows)


def tickets_csv(chunks: Iterable[str], tz: str) -> Iterator[str]:
    """The header, then the service's CSV chunks as they come."""
    yield csv_text([[f"{name} ({tz}, ISO 8601)" if name.endswith("_time") else name for name in TICKET_COLUMNS]])
    yield from chunks


# --- the end-of-day close --------------------------------------------------------------------

def close_lines(view: CloseView) -> list[dict[str, str]]:
    """The day's figures as the page and its print show them: label, as closed (while not closed:
    the figures now), every payment method of either."""
    methods = day_close.methods_of(view.figures, view.live)
    return [{"figure": line.figure, "label": line.label,
             "value": format_money(line.value) if line.money else count(line.value)}
            for line in day_close.lines(view.figures, methods)]


def closed_text(view: CloseView) -> str:
    """"Closed by mia at Sat 11 Apr 2026, 08:00" (the garage's time), "" while not closed."""
    if not view.closed:
        return ""
    when = to_local(view.closed_at, view.timezone).strftime("%a %d %b %Y, %H:%M") if view.closed_at else "?"
    return f"Closed by {view.closed_by or 'someone no longer known'} at {when}"


def adjustment_text(adjustment: day_close.Adjustment) -> dict[str, str]:
    def show(value: int) -> str:
        return format_money(value) if adjustment.money else count(value)

    sign = "+" if adjustment.difference > 0 else "−"
    return {"figure": adjustment.figure, "label": adjustment.label, "before": show(adjustment.before),
            "after": show(adjustment.after), "difference": sign + show(abs(adjustment.difference))}


def close_csv(view: CloseView) -> str:
    """One row per figure (money in the garage's currency with a dot and its own decimals, no sign or
    separator; dates and times ISO 8601): the day, whether it is closed, when and by whom, the figure's
    name and unit, its value as closed (empty while not closed), now, the difference, and the currency
    (the money figures' names keep "_usd": the column says which currency they are in)."""
    methods = day_close.methods_of(view.figures, view.live)
    closed = day_close.lines(view.closed_figures, methods) if view.closed_figures else None
    rows = []
    for i, line in enumerate(day_close.lines(view.live, methods)):
        name, _, method = line.figure.partition(":")
        name = name.replace("_cents", "_usd")
        shown = minor_to_decimal if line.money else str
        before = closed[i].value if closed else None
        rows.append([view.day.isoformat(), "true" if view.closed else "false", _iso(view.closed_at),
                     view.closed_by or "", f"{name}:{method}" if method else name,
                     "" if before is None else shown(before), shown(line.value),
                     "" if before is None else shown(line.value - before), current_currency()])
    return csv_text([["date", "closed", "closed_at (UTC, ISO 8601)", "closed_by", "figure", "as_closed", "now",
                      "difference", "currency"], *rows])


def cell_text(text: str) -> str:
    """A name a spreadsheet must not run as a formula (the reports' CSV rule, persistence.formula_safe)."""
    return safe_cell(text)


def validity_text(valid_from, valid_until) -> str:
    """A program's validity in words: "Always", "From 2026-01-01", "Until 2026-12-31", "2026-01-01 – 2026-12-31"."""
    if valid_from and valid_until:
        return f"{valid_from.isoformat()} – {valid_until.isoformat()}"
    if valid_from:
        return f"From {valid_from.isoformat()}"
    if valid_until:
        return f"Until {valid_until.isoformat()}"
    return "Always"


def validations_csv(rows: Iterable, first, last) -> str:
    """The merchants' report, one row per program (for billing): the period's first and last local days
    (ISO 8601), the program, the merchant, the tickets validated and paid in it, and the value given in
    minor units and in the major unit (a dot, the currency's decimals, no sign or separator; value_cents and
    value_usd keep their names), and the currency (the garage's)."""
    currency = current_currency()
    return csv_text([["from", "to", "program", "merchant", "tickets", "value_cents", "value_usd", "currency"],
                     *[[first.isoformat(), last.isoformat(), cell_text(f.name), cell_text(f.merchant), str(f.tickets), str(f.value_cents),
                        minor_to_decimal(f.value_cents), currency] for f in rows]])
