from __future__ import annotations

from typing import Any, Iterable

from datetime import date, timedelta

from flask import Response, abort, redirect, render_template, request, stream_with_context, url_for
from markupsafe import Markup

from ..domain.clock import local_today, utcnow
from ..domain import validations as validation_rules
from ..domain.errors import DomainError, InvalidInput
from ..domain.inputs import parse_whole
from ..domain.money import example, in_currency, parse_money, typed_example
from ..domain.words import N_, _
from ..domain.periods import Period, parse_asked_period, parse_date, parse_period, presets
from ..persistence import replica
from ..services import closes, reports
from ..services import validations as validation_service
from ..services.settings import get_settings
from .. import htmx, i18n
from ..htmx import is_htmx
from ..garages_web import current_slug
from ..identity import current_actor, current_garage, manager_required
from . import bp, cache, present

def _period() -> tuple[Period | None, InvalidInput | None, str]:
    tz = get_settings(current_garage()).timezone
    try:
        return parse_period(request.args, local_today(utcnow(), tz)), None, tz
    except InvalidInput as exc:
        return None, exc, tz


@bp.get("")
@manager_required
def index():
    """The report page. Its form may ask for rows per hour over a year ("Yesterday" leaves Hour chosen):
    the report is then by day, and says so (domain.periods.parse_asked_period); the chart and CSV
    addresses keep refusing it (they link to the period shown). The report (reports/_report.html: its
    period form, figures, tables and charts) is drawn once and kept while nothing it shows changes
    (cache.py); a period refused is drawn every time, with the values typed."""
    garage = get_settings(current_garage())
    tz, revision, now = garage.timezone, garage.report_revision, utcnow()  # the revision read before the report
    today = local_today(now, tz)
    period, error, note = None, None, None
    try:
        period, note = parse_asked_period(request.args, today)
    except InvalidInput as exc:
        error = exc
    context = {"error": error, "period": period, "presets": presets(today, i18n.first_weekday()), "timezone": tz,
               "group_note": note, "attendant_label": present.attendant_label,
               "form": {k: request.args.get(k, "") for k in ("from", "to", "group")}}
    status = 422 if error else 200
    if period is not None:
        def draw() -> tuple[Markup, bool]:
            # from the replica when it may (persistence/replica.py): the page says how old the figures are
            report, age = replica.read(reports.build_report, garage.id, period, now)
            drawn = render_template("reports/_report.html", **context, report=report, data_age=age,
                                    charts=present.charts(report), figures=present.figures(report))
            return Markup(drawn), age is None  # a replica's may be behind the revision: not kept
        try:
            context["report_section"] = cache.body(cache.report_key(garage.id, revision, now, period, note), draw)
        except reports.ReportTooSlow as exc:
            # htmx here swaps only 2xx, 409 and 422 (base.html): show the message in place
            context["error"], status = exc, 200 if is_htmx() else exc.status
    return htmx.page_or_fragment("reports/index.html", "reports/_report.html", status, **context)


def _valid_period() -> tuple[Period, str]:
    """For the SVG and CSV URLs: the period, or a plain-text 422."""
    period, error, tz = _period()
    if error:
        abort(Response(i18n.translated(error.message) + "\n", status=422, mimetype="text/plain"))
    return period, tz


@bp.get("/charts/<name>.svg")
@manager_required
def chart(name: str):
    if name not in present.CHARTS:
        abort(404)
    period, _tz = _valid_period()
    report, _age = replica.read(reports.build_report, current_garage(), period, full=False)
    svg = render_template("reports/chart.svg", chart=present.BUILDERS[name](report))
    response = Response(svg, mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "private, no-store"  # a manager's figures
    return response


def _csv_response(filename: str, chunks: Iterable[str], age: replica.DataAge | None = None) -> Response:
    """Stream CSV text chunk by chunk (the request context stays open for the cursor). The file is
    named after the garage's slug (a-z 0-9 -: safe in a header), so two garages' downloads of one
    period never land as the same file. Read from the replica (`age`): X-Data-As-Of says as of when
    (the CSV's columns stay the same)."""
    response = Response(stream_with_context(chunks), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    if age is not None:
        response.headers["X-Data-As-Of"] = age.header()
    return response


@bp.get("/export/rows.csv")
@manager_required
def export_rows():
    period, _tz = _valid_period()
    report, age = replica.read(reports.build_report, current_garage(), period, full=False)
    return _csv_response(f"{current_slug()}-report-{period.first}-{period.last}-by-{period.group}.csv",
                         present.report_csv(report), age)


@bp.get("/export/tickets.csv")
@manager_required
def export_tickets():
    period, tz = _valid_period()
    garage = current_garage()
    chunks, age = replica.stream(lambda: present.tickets_csv(reports.ticket_csv_chunks(garage, period, tz), tz))
    return _csv_response(f"{current_slug()}-tickets-{period.first}-{period.last}.csv", chunks, age)


# --- the end-of-day close --------------------------------------------------------------------

def _close_page(day: date | None, status: int = 200, error: DomainError | None = None, typed: str = "") -> Response:
    """The day close page (the fragment `_close.html` for htmx): the day's figures, as closed with
    the after-close adjustments once closed; `error`: the day typed, or the close, refused."""
    garage = current_garage()
    view = closes.get_close(garage, day) if day is not None else None
    return htmx.page_or_fragment(
        "reports/close.html", "reports/_close.html", status, view=view, error=error,
        typed=typed if error and day is None else (day.isoformat() if day else ""),
        lines=present.close_lines(view) if view else [],
        adjustments=[present.adjustment_text(a) for a in view.adjustments] if view else [],
        closed_text=present.closed_text(view) if view else "", timezone=get_settings(garage).timezone)


@bp.get("/close")
@manager_required
def close():
    """Choose a day (default: yesterday, the garage's local day) and see its close."""
    raw = (request.args.get("day") or "").strip()
    if not raw:
        return _close_page(local_today(utcnow(), get_settings(current_garage()).timezone) - timedelta(days=1))
    try:
        return _close_page(parse_date(raw, "day"))
    except InvalidInput as exc:
        return _close_page(None, 422, exc, raw)


def _path_day(raw: str) -> date:
    """A day in a path: YYYY-MM-DD, else no such page (plain-text 404)."""
    try:
        return parse_date(raw, "day")
    except InvalidInput as exc:
        abort(Response(i18n.translated(exc.message) + "\n", status=404, mimetype="text/plain"))


@bp.post("/close/<date>")
@manager_required
def close_day(date: str):
    day = _path_day(date)
    try:
        closes.close_day(current_garage(), day, current_actor())
    except DomainError as exc:
        return _close_page(day, exc.status, exc)
    return redirect(url_for("reports.close", day=day.isoformat()), code=303)


@bp.get("/close/<date>/print")
@manager_required
def print_close(date: str):
    """The day close on A4 (the browser's print)."""
    day = _path_day(date)
    view = closes.get_close(current_garage(), day)
    return render_template("reports/print_close.html", view=view, lines=present.close_lines(view),
                           adjustments=[present.adjustment_text(a) for a in view.adjustments],
                           closed_text=present.closed_text(view),
                           garage=get_settings(current_garage()))


@bp.get("/close/<date>.csv")
@manager_required
def export_close(date: str):
    day = _path_day(date)
    view, age = replica.read(closes.get_close, current_garage(), day)
    return _csv_response(f"{current_slug()}-close-{day.isoformat()}.csv", iter([present.close_csv(view)]), age)


# --- merchant validations ----------------------------------------------------------------------

# What the value field means for each kind: its label and how it is typed.
# The units are English keys (N_): the page shows them translated; an amount's unit is the garage's currency.
VALUE_LABELS = {validation_rules.FREE_MINUTES: N_("minutes"), validation_rules.FLAT_PRICE: N_("dollars"),
                validation_rules.AMOUNT_OFF: N_("dollars"), validation_rules.PERCENT_OFF: N_("percent")}


def value_units() -> dict[str, Any]:
    """VALUE_LABELS as a page shows them: an amount in the garage's currency ("dollars" for USD, "EUR")."""
    money_unit = in_currency(bare=True)
    return {kind: money_unit if unit == "dollars" else _(unit) for kind, unit in VALUE_LABELS.items()}


PROGRAM_FIELDS = ("name", "merchant", "kind", "value", "valid_from", "valid_until", "usage_cap", "codes")


def _program_form(form) -> tuple[dict, dict[str, str]]:
    """The "New program" form as create_program's terms, and what could not be read (by field). The
    codes: one per line or separated by commas."""
    terms: dict = {"name": form.get("name", "")[:200], "merchant": form.get("merchant", "")[:200],
                   "kind": form.get("kind", ""), "stacks": form.get("stacks") == "1",
                   "reusable": form.get("reusable") == "1",
                   "codes": [c for c in form.get("codes", "").replace("\r", "\n").replace(",", "\n").split("\n")
                             if c.strip()][:1000]}
    errors: dict[str, str] = {}
    terms["value"] = None  # no kind chosen: create_program says so
    raw = form.get("value", "").strip()
    unit = VALUE_LABELS.get(terms["kind"])
    if unit == "dollars":
        try:
            terms["value"] = parse_money(raw)
        except ValueError:
            errors["value"] = _("Type the amount %(in_currency)s, like %(example)s", in_currency=in_currency(),
                                example=example(5))
    elif unit is not None:
        try:
            terms["value"] = parse_whole(raw, field="value", minimum=1, maximum=validation_rules.MAX_VALUE[terms["kind"]],
                                         label=_("Minutes") if unit == "minutes" else _("The percentage"))
        except InvalidInput as exc:
            errors["value"] = exc.message
    for name in ("valid_from", "valid_until"):
        try:
            terms[name] = parse_date(form.get(name, "").strip(), name) if form.get(name, "").strip() else None
        except InvalidInput as exc:
            errors[name] = exc.message
    try:
        cap = form.get("usage_cap", "").strip()  # blank: no cap
        terms["usage_cap"] = parse_whole(cap, field="usage_cap", minimum=1, maximum=validation_rules.MAX_CAP,
                                         label=_("The usage cap")) if cap else None
    except InvalidInput as exc:
        errors["usage_cap"] = exc.message
    if errors:  # what the terms that could be read have wrong too, all at once
        errors = {**validation_rules.check_program(terms["name"], terms["kind"], terms["value"] or 1,
                                                   terms.get("valid_from"), terms.get("valid_until"),
                                                   terms.get("usage_cap")), **errors}
    return terms, errors


def _validations_page(status: int = 200, form=None, errors: dict[str, str] | None = None) -> Response:
    return htmx.page_or_fragment(
        "reports/validations.html", "reports/_validations.html", status,
        programs=validation_service.list_programs(current_garage()), describe=validation_rules.describe,
        validity=present.validity_text, kinds=validation_rules.KIND_LABELS, units=value_units(), money_example=typed_example(5),
        form=form or {}, errors=errors or {})


@bp.get("/validations")
@manager_required
def validations():
    """The garage's validation programs (name, merchant, terms, validity, cap and use, codes) and the
    "New program" form."""
    return _validations_page()


@bp.post("/validations")
@manager_required
def create_validation():
    terms, errors = _program_form(request.form)
    form = {name: request.form.get(name, "")[:2000] for name in PROGRAM_FIELDS + ("stacks", "reusable")}
    if not errors:
        try:
            validation_service.create_program(current_garage(), current_actor(), **terms)
        except validation_service.InvalidProgram as exc:
            errors = exc.errors
        except DomainError as exc:
            errors = {exc.field if exc.field in PROGRAM_FIELDS else "name": exc.message}
            return _validations_page(exc.status, form, errors)
    if errors:
        return _validations_page(422, form, errors)
    return redirect(url_for("reports.validations"), code=303)


@bp.get("/validations/report")
@manager_required
def validation_report():
    """What each program gave in a period (tickets validated and paid, value): billing the merchants."""
    period, error, tz = _period()
    context = {"error": error, "period": period, "presets": presets(local_today(utcnow(), tz), i18n.first_weekday()),
               "timezone": tz,
               "form": {k: request.args.get(k, "") for k in ("from", "to")}, "rows": []}
    if period is not None:
        context["rows"] = validation_service.report(current_garage(), *period.bounds(tz))
    return htmx.page_or_fragment("reports/validation_report.html", "reports/_validation_report.html",
                                 422 if error else 200, **context)


@bp.get("/validations/report.csv")
@manager_required
def export_validations():
    period, tz = _valid_period()
    rows, age = replica.read(validation_service.report, current_garage(), *period.bounds(tz))
    return _csv_response(f"{current_slug()}-validations-{period.first}-{period.last}.csv",
                         iter([present.validations_csv(rows, period.first, period.last)]), age)
