"""From a Report to what the page draws: labels, charts, CSV rows."""
from __future__ import annotations

from datetime import date, time, timedelta
from functools import lru_cache
from typing import Callable, Iterable, Iterator

from babel import Locale, dates as babel_dates, numbers as babel_numbers

from .. import i18n
from ..domain.charts import Chart, bar_chart, heat_map, line_chart
from ..domain.clock import format_duration
from ..domain.figures import csv_text, money_column, safe_cell, format_change, week_order
from ..domain.words import N_, _
from ..domain import closes as day_close
from ..domain.money import (
    currency_and_locale, current_currency, minor_to_decimal, minor_to_major, format_major_amount, format_money, format_whole_major,
)
from ..domain.periods import Bucket
from ..services.closes import CloseView
from ..services.reports import TICKET_COLUMNS, UNKNOWN_ATTENDANT, Report

CHARTS = ("revenue", "traffic", "occupancy", "heatmap")


def count(value: float) -> str:
    """A count (cars, exits) in the reader's locale: 1,234 / 1.234; an average with one decimal."""
    return _count(value, i18n.format_locale())


def counts() -> Callable[[float], str]:
    """`count` in the reader's locale, looked up once (a chart writes a thousand counts)."""
    locale = i18n.format_locale()
    return lambda value: _count(value, locale)


@lru_cache(maxsize=8192)
def _count(value: float, locale: Locale) -> str:
    # A report's charts and tables format the same few thousand counts again and again (a month's
    # hourly occupancy: 720 points of two series); Babel's formatting is costly (issue 21).
    return babel_numbers.format_decimal(value, format="#,##0" if value == int(value) else "#,##0.0", locale=locale)


def amounts() -> Callable[[float], str]:
    """format_major_amount in the context's currency and locale, looked up once, each amount formatted
    once per process (a year's revenue chart: 365 amounts, each in its hover text and its table row)."""
    currency, locale = currency_and_locale()
    return lambda major: _amount(major, currency, locale)


@lru_cache(maxsize=8192)
def _amount(major: float, currency: str, locale: Locale) -> str:
    return format_major_amount(major, currency, locale)


def decimals() -> Callable[[float, int], str]:
    """A value with so many decimals in the reader's locale (0.08 / 0,08), looked up once, each value
    formatted once per process: the heat map's 168 averages, most of them the same when the report is
    drawn again the next minute."""
    locale = i18n.format_locale()
    return lambda value, places: _decimals(value, places, locale)


@lru_cache(maxsize=8192)
def _decimals(value: float, places: int, locale: Locale) -> str:
    return babel_numbers.format_decimal(value, format="0." + "0" * places, locale=locale)


@lru_cache(maxsize=64)
def _day_labels(first: date, days: int, locale: Locale, form: str = "MMMEd") -> tuple[str, ...]:
    return tuple(babel_dates.format_skeleton(form, first + timedelta(days=i), locale=locale) for i in range(days))


def told_apart(garages: Iterable[tuple[str, str]]) -> list[str]:
    """Each garage's name from (name, slug) pairs, with its slug in brackets where another garage
    has the same name (allowed: slugs are what is unique), so a chart's two "Central" bars differ."""
    pairs = list(garages)
    names = [name for name, _ in pairs]
    return [f"{name} ({slug})" if names.count(name) > 1 else name for name, slug in pairs]


def two_years(buckets: list[Bucket]) -> bool:
    """Whether the buckets' local days span two calendar years: then a day says its year ("Sat, Dec 6, 2025"
    and "Sun, Dec 6, 2026" of a year's report, never two "Sat, Dec 6")."""
    return bool(buckets) and buckets[0].local_start.year != buckets[-1].local_start.year


def hour_labels(buckets: list[Bucket], with_day: bool) -> list[str]:
    """Each hour's local start in the reader's locale (14:00 / 2:00 PM; with the day: "Mar 8, 2:00 PM";
    across New Year: "Dec 31, 2025, 11:00 PM")."""
    if with_day:
        labels = i18n.format_datetimes([b.local_start for b in buckets], form="yMMMdHm" if two_years(buckets) else "MMMdHm")
    else:
        labels = [i18n.format_time(b.local_start) for b in buckets]
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
    form = day_form(buckets)
    return [i18n.format_date(b.local_start, form) if b.local_start.hour == 0 else "" for b in buckets]


def day_axis(buckets: list[Bucket]) -> list[str] | None:
    """Days across New Year tick the x axis without their weekday ("6 Dec 2025"): the first tick,
    turned, has room for that much whole ("Sat, Dec 6, 2…" lost the year it is there for)."""
    return [i18n.format_date(b.local_start, "yMMMd") for b in buckets] if two_years(buckets) else None


def day_form(buckets: list[Bucket]) -> str:
    """A day's label's CLDR skeleton: "Sat, Dec 6", with the year when the days span two years."""
    return "yMMMEd" if two_years(buckets) else "MMMEd"


def row_labels(report: Report) -> list[str]:
    buckets = [r.bucket for r in report.rows]
    if report.period.group == "hour":
        return hour_labels(buckets, with_day=not report.period.single_day)
    # each day's local date (a year's two daily charts: 730 dates formatted once per period, locale and form)
    return list(_day_labels(report.period.first, len(buckets), i18n.format_locale(), day_form(buckets)))


def attendant_label(label: str) -> str:
    """A "By attendant" row's name: the exits of no one known (the API's) in the reader's words, a
    username as it is (a username has no "/": none can read "API/unknown")."""
    return _(N_("API/unknown")) if label == UNKNOWN_ATTENDANT else label


def period_label(report: Report) -> str:
    return report.period.label(i18n.format_date)


def revenue_chart(report: Report) -> Chart:
    hourly = report.period.group == "hour"
    tz, period = report.timezone, period_label(report)
    return bar_chart(
        "revenue", _("Revenue per hour") if hourly else _("Revenue per day"),
        _("Money taken at exits in each local hour, %(period)s (%(timezone)s).", period=period, timezone=tz)
        if hourly else
        _("Money taken at exits in each local day, %(period)s (%(timezone)s).", period=period, timezone=tz),
        row_labels(report), [(_("Revenue"), [minor_to_major(r.revenue_cents) for r in report.rows])],
        x_label=_("Hour (%(timezone)s)", timezone=tz) if hourly else _("Day (%(timezone)s)", timezone=tz),
        y_label=_("Revenue (%(currency)s)", currency=current_currency()), fmt=amounts(), tick_fmt=format_whole_major,
        axis_labels=hour_axis([r.bucket for r in report.rows], hourly and not report.period.single_day)
        if hourly else day_axis([r.bucket for r in report.rows]))


def traffic_chart(report: Report) -> Chart:
    axis = None
    if report.period.group == "hour":
        labels = hour_labels(report.hours, with_day=not report.period.single_day)
        axis = hour_axis(report.hours, with_day=not report.period.single_day)
        entries = [e.entries for e in report.hour_events]
        exits = [e.exits for e in report.hour_events]
        title, x_label = _("Entries and exits per hour"), _("Hour (%(timezone)s)", timezone=report.timezone)
        description = _("Cars entering and leaving in each local hour, %(period)s.", period=period_label(report))
    else:  # many days: the daily profile, summed over the period
        labels = [i18n.format_time(time(h)) for h in range(24)]
        entries, exits = report.profile.hour_of_day()
        title = _("Entries and exits by hour of day")
        x_label = _("Hour of day (%(timezone)s)", timezone=report.timezone)
        description = _("Cars entering and leaving in each hour of the day, summed over the period, "
                        "%(period)s.", period=period_label(report))
    return bar_chart("traffic", title, description, labels,
                     [(_("Entries"), entries), (_("Exits"), exits)], x_label=x_label, y_label=_("Cars"),
                     fmt=counts(), axis_labels=axis)


def occupancy_chart(report: Report) -> Chart:
    """Per hour up to a month, per day beyond (`Period.by_day`: the report has no hours then)."""
    if report.period.by_day:
        return daily_occupancy_chart(report)
    labels = hour_labels(report.hours, with_day=not report.period.single_day)
    return line_chart(
        "occupancy", _("Occupancy over time"),
        _("Peak and average number of cars inside in each local hour, %(period)s (%(timezone)s); the dashed "
          "line is the garage's %(spaces)s spaces.", period=period_label(report), timezone=report.timezone,
          spaces=count(report.total_spaces)),
        labels, [(_("Peak"), [p.peak if p else None for p in report.occupancy]),
                 (_("Average"), [round(p.average, 1) if p else None for p in report.occupancy])],
        x_label=_("Hour (%(timezone)s)", timezone=report.timezone), y_label=_("Cars inside"), fmt=counts(),
        ceiling=(_("Total spaces"), report.total_spaces),
        axis_labels=hour_axis(report.hours, with_day=not report.period.single_day))


def daily_occupancy_chart(report: Report) -> Chart:
    """The report's days: each day's peak and its average over the day's hours (the rows' figures)."""
    return line_chart(
        "occupancy", _("Occupancy over time"),
        _("Peak and average number of cars inside in each local day, %(period)s (%(timezone)s); the dashed "
          "line is the garage's %(spaces)s spaces.", period=period_label(report), timezone=report.timezone,
          spaces=count(report.total_spaces)),
        row_labels(report), [(_("Peak"), [r.peak_occupancy for r in report.rows]),
                             (_("Average"), [None if r.average_occupancy is None else round(r.average_occupancy, 1)
                                             for r in report.rows])],
        x_label=_("Day (%(timezone)s)", timezone=report.timezone), y_label=_("Cars inside"), fmt=counts(),
        ceiling=(_("Total spaces"), report.total_spaces), axis_labels=day_axis([r.bucket for r in report.rows]))


def heatmap_chart(report: Report) -> Chart:
    """Weekdays (the locale's abbreviations) from the locale's first day of the week, by hour."""
    first = i18n.first_weekday()
    cells = report.profile.heat(first)
    names = i18n.format_locale().days["format"]["abbreviated"]
    return heat_map(
        "heatmap", _("Occupancy by hour of week"),
        _("Average cars inside for each weekday and local hour, %(period)s (%(timezone)s). Darker is busier.",
          period=period_label(report), timezone=report.timezone),
        [names[day] for day in week_order(first)], [f"{h:02d}" for h in range(24)],
        [[cell.average for cell in row] for row in cells],
        x_label=_("Hour of day (%(timezone)s)", timezone=report.timezone), y_label=_("Weekday"),
        number=decimals())


BUILDERS = {"revenue": revenue_chart, "traffic": traffic_chart,
            "occupancy": occupancy_chart, "heatmap": heatmap_chart}


def charts(report: Report) -> dict[str, Chart]:
    return {name: BUILDERS[name](report) for name in CHARTS}


FIGURES = (
    # money (revenue = time fees + lost-ticket fees; net = revenue − refunds), then traffic
    ("revenue_cents", N_("Revenue"), "money"),
    ("refunded_cents", N_("Refunds"), "money"),
    ("net_revenue_cents", N_("Net revenue"), "money"),
    ("time_fee_cents", N_("Time fees"), "money"),
    ("lost_fee_cents", N_("Lost-ticket fees"), "money"),
    ("lost_tickets", N_("Lost tickets"), "count"),
    ("average_ticket_cents", N_("Average ticket"), "money"),
    ("exits", N_("Exits"), "count"),
    ("entries", N_("Entries"), "count"),
    ("voids", N_("Voided tickets"), "count"),
    ("average_stay_minutes", N_("Average stay"), "minutes"),
    ("median_stay_minutes", N_("Median stay"), "minutes"),
    # monthly permits (issue 19): sold apart from the tickets; their cars' exits are part of Exits
    ("permit_sales_cents", N_("Permit sales"), "money"),
    ("permit_exits", N_("Permit car exits"), "count"),
)


def one_decimal(value: float) -> str:
    return babel_numbers.format_decimal(value, format="#,##0.0", locale=i18n.format_locale())


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
        out.append({"name": name, "label": _(label), "value": show(getattr(report.summary, name), kind),
                    "previous": show(getattr(report.previous_summary, name), kind),
                    "change": format_change(change, one_decimal), "direction": (
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
    currency = current_currency()  # the garage's: money in its major unit, the columns named after it
    yield csv_text([[f"start ({tz}, ISO 8601)", f"end ({tz}, ISO 8601)", "entries", "exits",
                     money_column("revenue_usd", currency), "average_stay_minutes", "peak_occupancy",
                     "average_occupancy", "lost_tickets", money_column("lost_fees_usd", currency),
                     money_column("refunds_usd", currency), "currency"]])
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
    currency = current_currency()
    yield csv_text([[f"{name} ({tz}, ISO 8601)" if name.endswith("_time") else money_column(name, currency)
                     if name.endswith("_usd") else name for name in TICKET_COLUMNS]])
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
    """"Closed by mia at Sat, Apr 11, 2026, 8:00 AM" (the garage's time, the reader's format), ""
    while not closed."""
    if not view.closed:
        return ""
    when = i18n.format_datetime(view.closed_at, view.timezone, "yMMMEdHm") if view.closed_at else "?"
    if view.closed_by:
        return _("Closed by %(name)s at %(when)s", name=view.closed_by, when=when)
    return _("Closed by someone no longer known at %(when)s", when=when)


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
    (the money figures' names end in the currency's code: "revenue_eur")."""
    methods = day_close.methods_of(view.figures, view.live)
    closed = day_close.lines(view.closed_figures, methods) if view.closed_figures else None
    rows = []
    for i, line in enumerate(day_close.lines(view.live, methods)):
        name, _, method = line.figure.partition(":")
        name = money_column(name, current_currency()) if line.money else name
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
    """A program's validity in words (the days in the reader's locale): "Always", "From Jan 1, 2026",
    "Until Dec 31, 2026", "Jan 1, 2026 – Dec 31, 2026"."""
    first, last = i18n.format_date(valid_from, "yMMMd"), i18n.format_date(valid_until, "yMMMd")
    if valid_from and valid_until:
        return _("%(first)s – %(last)s", first=first, last=last)
    if valid_from:
        return _("From %(day)s", day=first)
    if valid_until:
        return _("Until %(day)s", day=last)
    return _("Always")


def validations_csv(rows: Iterable, first, last) -> str:
    """The merchants' report, one row per program (for billing): the period's first and last local days
    (ISO 8601), the program, the merchant, the tickets validated and paid in it, and the value given in
    minor units and in the major unit (a dot, the currency's decimals, no sign or separator; value_cents keeps
    its name, the major unit's is named after the currency: value_usd, value_eur), and the currency (the garage's)."""
    currency = current_currency()
    return csv_text([["from", "to", "program", "merchant", "tickets", "value_cents", money_column("value_usd", currency),
                      "currency"],
                     *[[first.isoformat(), last.isoformat(), cell_text(f.name), cell_text(f.merchant), str(f.tickets), str(f.value_cents),
                        minor_to_decimal(f.value_cents), currency] for f in rows]])
