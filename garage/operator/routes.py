"""Thin views for /garages and /portfolio. Who may see them: /garages an admin (anyone else signed
in: 403, as the other admin pages); /portfolio an admin or someone who manages two garages or
more, showing those (anyone else: 404, services.garages.may_see_portfolio)."""
from __future__ import annotations

from typing import Any, Iterator

from flask import Response, abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from .. import htmx
from ..domain.charts import bar_chart
from ..domain.clock import utcnow
from ..domain.errors import DomainError, InvalidInput, NotFound
from ..domain.figures import csv_text, money_column
from ..domain.garage_settings import MAX_SPACES, InvalidSettings
from ..domain.inputs import parse_whole
from ..domain.money import DEFAULT_CURRENCY, minor_to_decimal, minor_to_major, format_major_amount, format_whole_major
from ..domain.periods import Period, TodayAcross, parse_period
from ..htmx import fragment_of, is_htmx
from ..identity import current_actor, current_garage, role_required
from ..persistence import replica
from ..reports.present import cell_text, count, told_apart
from ..reports.routes import _csv_response
from ..services import garages as garage_service
from ..services.stats import BOARD_COLUMNS, garages_now
from ..services import reports
from ..services import settings as settings_service
from . import bp
from .. import i18n
from ..domain.words import _

signed_in = role_required()  # anyone signed in: who may see what is decided below


def _admin_only() -> Response | None:
    if not current_user.is_admin:
        return make_response(render_template("errors/403.html"), 403)
    return None


# --- /garages ---------------------------------------------------------------------------------

GARAGE_FIELDS = ("slug", "name", "spaces", "timezone")


def _garages_page(status: int = 200, **context: Any):
    context.setdefault("form", {"timezone": "UTC"})
    context.setdefault("errors", {})
    return htmx.page_or_fragment("operator/garages.html", "operator/_garages.html", status,
                                 garages=garages_now(garage_service.list_garages(current_actor())), **context)


@bp.get("/garages")
@signed_in
def garages():
    return _admin_only() or _garages_page()


@bp.post("/garages")
@signed_in
def create_garage():
    refused = _admin_only()
    if refused:
        return refused
    form = {name: (request.form.get(name) or "").strip() for name in GARAGE_FIELDS}
    spaces_error = None
    try:
        spaces = parse_whole(form["spaces"], field="spaces", minimum=1, maximum=MAX_SPACES, label=_("Spaces"))
    except InvalidInput as exc:  # said with the other fields' problems, all at once
        spaces, spaces_error = None, exc.message
    try:
        garage = garage_service.create_garage(current_actor(), form["slug"], form["name"], spaces,
                                              form["timezone"] or "UTC")
    except InvalidSettings as exc:
        names = {"garage_name": "name", "total_spaces": "spaces"}
        errors = {names.get(k, k): v for k, v in exc.errors.items()}
        if spaces_error:
            errors["spaces"] = spaces_error
        return _garages_page(exc.status, form=form, errors=errors)
    except DomainError as exc:
        return _garages_page(exc.status, form=form, errors={exc.field or "slug": exc.message})
    message = _("Created the garage %(name)s (%(slug)s).", name=garage.garage_name, slug=garage.slug)
    if is_htmx():
        return _garages_page(notice=message)
    flash(i18n.translated(message))
    return redirect(url_for("operator.garages"), code=303)


# --- /portfolio -------------------------------------------------------------------------------

def _period(today: TodayAcross) -> tuple[Period | None, InvalidInput | None]:
    """The reports' period picker: ?from=&to= (per day: the portfolio has no hourly rows); none:
    the last 30 days of every garage shown, each in its own timezone (TodayAcross)."""
    args = {k: request.args.get(k, "") for k in ("from", "to")}
    try:
        return parse_period({**args, "group": "day"}, today.latest, today.default_period()), None
    except InvalidInput as exc:
        return None, exc


def _today(garages: list) -> TodayAcross:
    return TodayAcross.at(utcnow(), [garage.timezone for garage in garages])


def _visible(*columns):
    try:
        return garage_service.may_see_portfolio(current_actor(), *columns)
    except NotFound:
        abort(404)


def comparison_charts(figures: list[reports.GarageFigures], currencies: dict[int, str]) -> list:
    """Side by side: revenue per garage, then entries and exits per garage (same-named garages
    told apart by their slugs). Revenue in the garages' currency; garages in several currencies get a
    revenue chart per currency, each of its own garages (one axis over yen and euros drew every garage in
    the first currency's unit, yen divided by 100: an outside check)."""
    names = told_apart((f.name, f.slug) for f in figures)
    code_of = [currencies.get(f.garage_id, DEFAULT_CURRENCY) for f in figures]
    codes = sorted(set(code_of)) or [DEFAULT_CURRENCY]
    several = len(codes) > 1
    revenue = []
    for code in codes:
        mine = [i for i, c in enumerate(code_of) if c == code]
        revenue.append(bar_chart(
            f"portfolio-revenue-{code.lower()}" if several else "portfolio-revenue",
            _("Revenue by garage in %(currency)s", currency=code) if several else _("Revenue by garage"),
            _("Money taken at exits in each garage over the period."),
            [names[i] for i in mine], [(_("Revenue"), [minor_to_major(figures[i].revenue_cents, code) for i in mine])],
            x_label=_("Garage"), y_label=_("Revenue (%(currency)s)", currency=code),
            fmt=lambda v, code=code: format_major_amount(v, code), tick_fmt=lambda v, code=code: format_whole_major(v, code)))
    return [
        *revenue,
        bar_chart("portfolio-traffic", _("Entries and exits by garage"),
                  _("Cars entering and leaving each garage over the period."), names,
                  [(_("Entries"), [f.entries for f in figures]), (_("Exits"), [f.exits for f in figures])],
                  x_label=_("Garage"), y_label=_("Cars"), fmt=count),
    ]


@bp.get("/portfolio")
@signed_in
def portfolio():
    visible = _visible()
    today = _today(visible)
    period, error = _period(today)
    context: dict[str, Any] = {"error": error, "period": period, "presets": today.presets(), "today": today,
                               "form": {k: request.args.get(k, "") for k in ("from", "to")},
                               "now": garages_now(visible)}
    if period is not None:  # who sees which garages: the primary; their figures: the replica when it may
        figures, age = replica.read(reports.portfolio_figures, visible, period)
        currencies = settings_service.currencies([f.garage_id for f in figures])
        context.update(figures=figures, charts=comparison_charts(figures, currencies), currencies=currencies,
                       data_age=age)
        if age is not None:  # said at the clock of the viewer's garage
            context["timezone"] = settings_service.get_settings(current_garage()).timezone
    return htmx.page_or_fragment("operator/portfolio.html", "operator/_portfolio_figures.html",
                                 422 if error else 200, **context)


@bp.get("/portfolio/live")
@fragment_of("operator.portfolio")
@signed_in
def portfolio_live():
    """The live panel alone (polled): every garage's occupancy and state now."""
    return render_template("operator/_portfolio_live.html", now=garages_now(_visible(*BOARD_COLUMNS)))


def portfolio_csv(figures: list[reports.GarageFigures], currencies: dict[int, str]) -> Iterator[str]:
    """One row per garage and local day (its own timezone), money as the reports' CSV writes it: in the
    garage's currency (`currencies`: settings.currencies), named in the last column; the revenue column is named
    after the currency when every garage listed has the same ("revenue_usd"), else "revenue"."""
    used = {currencies.get(f.garage_id, DEFAULT_CURRENCY) for f in figures}
    only = used.pop() if len(used) == 1 else (DEFAULT_CURRENCY if not used else None)
    yield csv_text([["garage", "name", "day", "timezone", "entries", "exits", money_column("revenue_usd", only),
                     "currency"]])
    yield csv_text([[f.slug, cell_text(f.name), d.day.isoformat(), f.timezone, d.entries, d.exits,
                     minor_to_decimal(d.revenue_cents, currencies.get(f.garage_id, DEFAULT_CURRENCY)),
                     currencies.get(f.garage_id, DEFAULT_CURRENCY)] for f in figures for d in f.days])


@bp.get("/portfolio/export.csv")
@signed_in
def export_portfolio():
    visible = _visible()
    period, error = _period(_today(visible))
    if error:
        abort(Response(error.message + "\n", status=422, mimetype="text/plain"))
    figures, age = replica.read(reports.portfolio_figures, visible, period)
    currencies = settings_service.currencies([f.garage_id for f in figures])
    return _csv_response(f"garages-{period.first}-{period.last}.csv", portfolio_csv(figures, currencies), age)
