"""Thin views of the permits' pages (managers): parse the form or the query (dollars → cents, dates),
call ONE service of garage/services/permits.py, render. A change answers 303 (the permit's page, a
notice shown once); a refused one its form again with each message under its field (422, 409 for a
plate on another permit), the typed values kept and nothing saved. The list's search swaps its
results (`_permit_results.html`) for htmx and is a page of its own without JS."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Mapping
from urllib.parse import urlencode

from flask import Response, abort, flash, get_flashed_messages, redirect, request, url_for

from ..domain import permits as rules
from ..domain.charts import Chart, bar_chart
from ..domain.clock import local_today, utcnow
from ..domain.errors import DomainError, InvalidInput
from ..domain.inputs import parse_page, parse_whole
from ..domain.money import DEFAULT_CURRENCY, current_currency, example, in_currency, minor_to_input, parse_money
from ..domain.periods import parse_date, parse_period, presets
from ..domain.tickets import PAYMENT_METHODS
from ..domain.words import N_, _, n_
from ..garages_web import current_slug
from ..persistence import replica
from ..services import permits as permit_service
from ..services.settings import get_settings
from .. import htmx, i18n
from ..htmx import is_htmx
from ..identity import current_actor, current_garage, manager_required
from ..reports.routes import _csv_response
from . import bp

NOTICE = "permits"  # flash category: the notice the next permits page shows once
SALE_FIELDS = ("holder", "contact", "plates", "valid_from", "valid_until", "price", "payment_method")
EDIT_FIELDS = ("holder", "contact", "plates")
RENEW_FIELDS = ("months", "price", "payment_method", "until")
# The services' field names → the form's.
FIELD_OF = {"validFrom": "valid_from", "validUntil": "valid_until", "priceCents": "price",
            "paymentMethod": "payment_method"}
STATE_LABELS = {rules.STATE_VALID: _("Valid"), rules.STATE_EXPIRED: _("Expired"),
                rules.STATE_SUSPENDED: _("Suspended"), rules.STATE_NOT_YET: _("Not yet valid"),
                rules.STATE_INSIDE: _("Car inside")}
FILTER_LABELS = {"all": _("All"), "valid": _("Valid today"), "expired": _("Expired"), "suspended": _("Suspended"),
                 "due": _("Due for renewal")}


@bp.url_value_preprocessor
def _import_size(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """The import's upload may be larger than any other form (MAX_CONTENT_LENGTH): set before any hook
    reads the body (web.refuse_control_characters runs after the url value preprocessors)."""
    if endpoint == "permits.import_csv":
        request.max_content_length = permit_service.IMPORT_MAX_BYTES + 64 * 1024  # the form's own parts too


def _tz() -> str:
    return get_settings(current_garage()).timezone


def _today():
    return local_today(utcnow(), _tz())


def _permit_id(raw: str) -> int:
    """A permit's id in a path: digits, else no such page."""
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9):
        abort(404)
    return int(raw)


def _form(names: tuple[str, ...]) -> dict[str, str]:
    return {name: request.form.get(name, "")[:2000] for name in names}


def _field(exc: DomainError, names: tuple[str, ...], default: str) -> str:
    field = FIELD_OF.get(exc.field or "", exc.field or "")
    return field if field in names else default


def _dates(form: Mapping[str, str], errors: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("valid_from", "valid_until"):
        try:
            out[name] = parse_date(form[name].strip(), name)
        except InvalidInput as exc:
            errors[name] = exc.message if form[name].strip() else _("Give the day (YYYY-MM-DD)")
    return out


def _price(raw: str, errors: dict[str, str]) -> int | None:
    try:
        return parse_money(raw)
    except ValueError:
        errors["price"] = (_("Type the price in dollars, like 120 or 120.00") if current_currency() == DEFAULT_CURRENCY
                           else _("Type the price %(in_currency)s, like %(example)s", in_currency=in_currency(),
                                   example=example(120, '00')))
        return None


# --- the list --------------------------------------------------------------------------------------

@bp.get("")
@manager_required
def index():
    """The garage's permits: search by holder, contact or plate, filter by state, pages."""
    query = (request.args.get("q") or "").strip()[:80]
    which = request.args.get("status") or "all"
    errors: dict[str, str] = {}
    if which not in permit_service.FILTERS:
        errors["status"], which = _("Show all, valid, expired, suspended or due permits"), "all"
    try:
        days = parse_whole(request.args.get("days"), field="days", minimum=1, maximum=90,
                           default=rules.DEFAULT_RENEW_DAYS_AHEAD, label=_("Days ahead"))
    except InvalidInput as exc:
        errors["days"], days = exc.message, rules.DEFAULT_RENEW_DAYS_AHEAD
    try:
        page = parse_page(request.args.get("page"))
    except InvalidInput as exc:
        errors["page"], page = exc.message, 1
    filters = {"q": query, "status": which if which != "all" else "",
               "days": str(days) if which == "due" and days != rules.DEFAULT_RENEW_DAYS_AHEAD else ""}
    active = {k: v for k, v in filters.items() if v}

    def page_url(n: int) -> str:
        return url_for("permits.index") + "?" + urlencode({**active, **({"page": n} if n > 1 else {})})

    context: dict[str, Any] = dict(filters=filters, which=which, days=days, errors=errors, result=None,
                                   page_url=page_url, states=STATE_LABELS, choices=FILTER_LABELS,
                                   notices=get_flashed_messages(category_filter=[NOTICE]))
    if not errors:
        context["result"] = permit_service.search_permits(current_garage(), query, which, page, due_days=days)
    response = htmx.page_or_fragment("permits/index.html", "permits/_permit_results.html",
                                     422 if errors else 200, **context)
    if is_htmx() and not errors:  # the address bar shows the search: bookmarkable, Back works
        htmx.push_or_replace_url(response, page_url(page).rstrip("?"))
    return response


# --- selling one ------------------------------------------------------------------------------------

def _new_page(status: int = 200, form: dict[str, str] | None = None, errors: dict[str, str] | None = None) -> Response:
    today = _today()
    form = form or {"valid_from": today.isoformat(),
                    "valid_until": (rules.add_months(today, 1) - timedelta(days=1)).isoformat(),
                    "payment_method": "Cash"}
    return htmx.page_or_fragment("permits/new.html", "permits/_permit_form.html", status, form=form,
                                 errors=errors or {}, methods=PAYMENT_METHODS, plates_most=get_settings(current_garage()).permit_max_plates)


@bp.get("/new")
@manager_required
def new():
    """The "New permit" form: today to a month later by default."""
    return _new_page()


@bp.post("")
@manager_required
def create():
    form = _form(SALE_FIELDS)
    errors: dict[str, str] = {}
    dates = _dates(form, errors)
    price = _price(form["price"], errors)
    terms = dict(holder=form["holder"], contact=form["contact"], plates=form["plates"],
                 payment_method=form["payment_method"])
    if errors:  # what else is wrong, all at once
        return _new_page(422, form, {**permit_service.holder_problems(form["holder"], form["contact"], form["plates"]),
                                     **errors})
    try:
        permit = permit_service.create_permit(current_garage(), current_actor(), price_cents=price,
                                              valid_from=dates["valid_from"], valid_until=dates["valid_until"],
                                              **terms)
    except DomainError as exc:
        return _new_page(exc.status, form, {_field(exc, SALE_FIELDS, "holder"): exc.message})
    flash(i18n.translated(_("Permit %(number)s sold to %(holder)s.", number=rules.number_of(permit.id),
                            holder=permit.holder)), NOTICE)
    target = url_for("permits.show", permit_id=permit.id)
    if is_htmx():  # the form's fragment was the target: the permit's own page instead
        return htmx.client_redirect(target)
    return redirect(target, code=303)


# --- one permit ---------------------------------------------------------------------------------------

def _permit_page(permit_id: int, status: int = 200, edit: dict[str, str] | None = None,
                 renew: dict[str, str] | None = None, errors: dict[str, str] | None = None,
                 renew_errors: dict[str, str] | None = None) -> Response:
    garage = current_garage()
    row = permit_service.permit_row(garage, permit_id)
    permit = row.permit
    tz = _tz()
    payments = permit_service.payments_of(garage, permit.id)
    edit = edit or {"holder": permit.holder, "contact": permit.contact,
                    "plates": "\n".join(p.license_plate for p in permit.plates)}
    renew = renew or {"months": "1", "price": minor_to_input(permit.price_cents),
                      "payment_method": payments[-1].payment_method if payments else "Cash"}
    today = _today()
    return htmx.page_or_fragment(
        "permits/permit.html", "permits/_permit.html", status, row=row, permit=permit, payments=payments,
        number=rules.number_of(permit.id), states=STATE_LABELS, edit=edit, renew=renew, errors=errors or {},
        renew_errors=renew_errors or {}, methods=PAYMENT_METHODS, plates_most=get_settings(current_garage()).permit_max_plates,
        next_from=rules.next_period(permit.valid_from, permit.valid_until, today)[0],
        local=lambda moment: i18n.format_datetime(moment, tz), timezone=tz,
        notices=get_flashed_messages(category_filter=[NOTICE]))


def _changed(permit_id: int, message: str) -> Response:
    flash(i18n.translated(message), NOTICE)
    return redirect(url_for("permits.show", permit_id=permit_id), code=303)


@bp.get("/<permit_id>")
@manager_required
def show(permit_id: str):
    """A permit: its details, its sales and renewals, the edit and renew forms, suspend / reactivate."""
    return _permit_page(_permit_id(permit_id))


@bp.post("/<permit_id>")
@manager_required
def update(permit_id: str):
    """Change the holder, the contact or the plates."""
    number = _permit_id(permit_id)
    form = _form(EDIT_FIELDS)
    try:
        permit = permit_service.update_permit(current_garage(), number, current_actor(), dict(form))
    except DomainError as exc:
        return _permit_page(number, exc.status, edit=form, errors={_field(exc, EDIT_FIELDS, "holder"): exc.message})
    return _changed(number, _("Permit %(number)s saved.", number=rules.number_of(permit.id)))


def _set_status(permit_id: str, status: str, message: str) -> Response:
    """`message`: the notice, with %(number)s for the permit's number."""
    number = _permit_id(permit_id)
    try:
        permit_service.update_permit(current_garage(), number, current_actor(), {"status": status})
    except DomainError as exc:
        return _permit_page(number, exc.status, errors={"status": exc.message})
    return _changed(number, _(message, number=rules.number_of(number)))


@bp.post("/<permit_id>/suspend")
@manager_required
def suspend(permit_id: str):
    return _set_status(permit_id, rules.STATUS_SUSPENDED,
                       N_("Permit %(number)s suspended: its cars enter as visitors (or not at all) until "
                          "reactivated."))


@bp.post("/<permit_id>/reactivate")
@manager_required
def reactivate(permit_id: str):
    return _set_status(permit_id, rules.STATUS_ACTIVE, N_("Permit %(number)s reactivated."))


def _shown_until(raw: str) -> date | None:
    """The permit's end as the renew form showed it (a form of before this field: none)."""
    try:
        return parse_date(raw, "until") if raw else None
    except InvalidInput:
        return None


@bp.post("/<permit_id>/renew")
@manager_required
def renew(permit_id: str):
    """Renew for 1 to 12 months at the price typed (the last one by default), paid by the method chosen."""
    number = _permit_id(permit_id)
    form = _form(RENEW_FIELDS)
    errors: dict[str, str] = {}
    try:
        months = parse_whole(form["months"], field="months", minimum=1, maximum=12, label=_("Months"))
    except InvalidInput as exc:
        errors["months"], months = exc.message, 1
    price = _price(form["price"], errors)
    if errors:  # another garage's permit: not found (the page's own read)
        return _permit_page(number, 422, renew=form, renew_errors=errors)
    try:
        permit = permit_service.renew_permit(current_garage(), number, current_actor(), price_cents=price,
                                             months=months, payment_method=form["payment_method"],
                                             expected_until=_shown_until(form["until"]))
    except DomainError as exc:
        return _permit_page(number, exc.status, renew=form,
                            renew_errors={_field(exc, RENEW_FIELDS, "months"): exc.message})
    return _changed(number, _("Permit %(number)s renewed until %(day)s.", number=rules.number_of(number),
                              day=i18n.format_date(permit.valid_until)))


# --- the holders' CSV -------------------------------------------------------------------------------------

@bp.get("/holders.csv")
@manager_required
def export():
    """Every permit of the garage, one row each (the import's columns and more): from the replica
    when it may (persistence/replica.py)."""
    text, age = replica.read(permit_service.holders_csv, current_garage())
    return _csv_response(f"{current_slug()}-permit-holders-{_today().isoformat()}.csv", iter([text]), age)


def _import_page(status: int = 200, errors: list[tuple[int, str]] | None = None, message: str = "") -> Response:
    return htmx.page_or_fragment("permits/import.html", "permits/_import.html", status, errors=errors or [],
                                 message=message, header=permit_service.IMPORT_HEADER,
                                 most_rows=permit_service.IMPORT_MAX_ROWS, methods=PAYMENT_METHODS)


@bp.get("/import")
@manager_required
def import_page():
    return _import_page()


@bp.post("/import")
@manager_required
def import_csv():
    """Sell every permit of an uploaded CSV file, or none: each line found wrong is listed (422)."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _import_page(422, message=_("Choose a CSV file to import"))
    data = upload.read(permit_service.IMPORT_MAX_BYTES + 1)
    try:
        permits = permit_service.import_permits(current_garage(), current_actor(), data)
    except permit_service.ImportRefused as exc:
        return _import_page(422, exc.errors, exc.message)
    except DomainError as exc:
        return _import_page(exc.status, message=exc.message)
    flash(i18n.translated(n_("%(num)d permit imported.", "%(num)d permits imported.", len(permits))), NOTICE)
    return redirect(url_for("permits.index"), code=303)


# --- the report ------------------------------------------------------------------------------------------

@bp.get("/report")
@manager_required
def report():
    """Permits by state today, renewals due within `days`, sales and renewals and the permit cars and
    visitors inside in a period (`from` / `to`: the garage's local days, the last 30 by default)."""
    tz = _tz()
    today = local_today(utcnow(), tz)
    errors: dict[str, str] = {}
    period = None
    try:
        period = parse_period({k: request.args.get(k, "") for k in ("from", "to")}, today)
        if period.days > permit_service.REPORT_MAX_DAYS:  # every ticket of the period is read (permit_occupancy)
            raise InvalidInput(_("The permits report covers at most %(most)d days; choose a shorter range",
                                 most=permit_service.REPORT_MAX_DAYS), field="to")
    except InvalidInput as exc:
        errors[exc.field or "from"] = exc.message
    try:
        days = parse_whole(request.args.get("days"), field="days", minimum=permit_service.REPORT_DUE_DAYS[0],
                           maximum=permit_service.REPORT_DUE_DAYS[1], default=rules.DEFAULT_RENEW_DAYS_AHEAD,
                           label=_("Days ahead"))
    except InvalidInput as exc:
        errors["days"], days = exc.message, rules.DEFAULT_RENEW_DAYS_AHEAD
    context: dict[str, Any] = dict(errors=errors, period=period, presets=presets(today), timezone=tz, days=days,
                                   form={k: request.args.get(k, "")[:20] for k in ("from", "to", "days")},
                                   report=None, states=STATE_LABELS, chart=None)
    if not errors and period is not None:
        found = permit_service.permits_report(current_garage(), period.first, period.last, days)
        context.update(report=found, chart=_occupancy_chart(found, tz))
    return htmx.page_or_fragment("permits/report.html", "permits/_report.html", 422 if errors else 200, **context)


def _occupancy_chart(found: permit_service.PermitReport, tz: str) -> Chart:
    labels = [i18n.format_date(d.day, "MMMd") for d in found.occupancy]
    return bar_chart("permit-occupancy", _("Peak cars inside per day: permit holders and visitors"),
                     _("The most permit cars and the most visitors inside at any moment of each local day "
                       "(%(timezone)s).", timezone=tz),
                     labels, [(i18n.translated(_("Permit holders")), [d.peak_permit for d in found.occupancy]),
                              (i18n.translated(_("Visitors")), [d.peak_visitor for d in found.occupancy])],
                     x_label=_("Day (%(timezone)s)", timezone=tz), y_label=_("Cars inside"),
                     fmt=lambda v: i18n.format_number(v))
