"""Thin views: parse the form (dollars → cents), call the settings service, render.

One template pair serves both paths: the full page (no JS: 303 to itself
after saving, with a "Saved" notice) and the form fragment htmx swaps in
(422/409 with each message next to its field, the typed values kept)."""
from __future__ import annotations

from typing import Any, Mapping

from flask import flash, get_flashed_messages, redirect, request, url_for
from markupsafe import escape

from ..domain import garage_settings as rules
from ..domain import rate_periods as periods
from ..domain.clock import utcnow
from ..domain.errors import Conflict, InvalidInput, NotFound
from ..domain.inputs import parse_integer
from ..domain.locales import COMMON_CURRENCIES, COMMON_LOCALES, INTERNATIONAL_SETTINGS, LANGUAGES, check_international
from ..domain.locales import is_currency, is_locale
from ..domain.money import DEFAULT_CURRENCY, current_currency, example, in_currency, minor_to_input, parse_money
from ..domain.permits import POLICY_REFUSE, POLICY_VISITOR
from ..domain.pricing import LOST_ADD, LOST_REPLACE
from ..domain.tax import parse_percent, percent_text
from ..domain.tickets import VEHICLE_TYPES
from ..domain.words import Text, _
from ..services import settings as settings_service
from .. import htmx, i18n
from ..htmx import is_htmx
from ..identity import current_garage, current_actor, manager_required
from . import bp

SAVED = _("Saved. New rules apply to exits from now on; tickets already paid keep their amount.")


def rate_field(kind: str) -> str:
    """Form field of a vehicle type's rate: "Standard Vehicle" → rate_standard_vehicle."""
    return "rate_" + kind.lower().replace(" ", "_")


FIELDS = ("garage_name", "total_spaces", "timezone", "almost_full_percent", "hourly_rate",
          *(rate_field(kind) for kind in VEHICLE_TYPES), "grace_minutes", "daily_max",
          "lost_ticket_fee", "lost_ticket_mode", "garage_address", "tax_rate", "tax_id", "void_window_minutes",
          "payments_require_shift", "reserved_spaces", "permit_policy", "pricing_choice", "permit_max_plates",
          *INTERNATIONAL_SETTINGS)
INTERNATIONAL = "international"  # a hidden field of templates/settings/_international.html: its fields were sent
CHECKED = "1"  # a ticked checkbox's value
# Setting (service keyword / check() key) → form field, where they differ.
FIELD_OF = {"daily_max_cents": "daily_max", "lost_ticket_fee_cents": "lost_ticket_fee", "tax_rate_bp": "tax_rate",
            **{f"vehicle_rates.{kind}": rate_field(kind) for kind in VEHICLE_TYPES}}


def form_values() -> dict[str, str]:
    """The saved settings as the form shows them (money in the garage's currency, the reader's decimal mark)."""
    s = settings_service.get_settings(current_garage())
    tariff = settings_service.current_tariff(current_garage())
    own = dict(tariff.vehicle_rates)
    return {
        "total_spaces": str(s.total_spaces), "hourly_rate": minor_to_input(s.hourly_rate),
        **{rate_field(kind): minor_to_input(own.get(kind)) for kind in VEHICLE_TYPES},
        "grace_minutes": str(tariff.grace_minutes), "daily_max": minor_to_input(tariff.daily_max_cents),
        "lost_ticket_fee": minor_to_input(tariff.lost_ticket_fee_cents or None),
        "lost_ticket_mode": tariff.lost_ticket_mode, "garage_name": s.garage_name,
        "timezone": s.timezone, "almost_full_percent": str(s.almost_full_percent),
        "garage_address": s.garage_address, "tax_rate": percent_text(s.tax_rate_bp), "tax_id": s.tax_id,
        "void_window_minutes": str(s.void_window_minutes),
        "payments_require_shift": CHECKED if s.payments_require_shift else "",
        "reserved_spaces": str(s.reserved_spaces), "permit_policy": s.permit_policy,
        "permit_max_plates": str(s.permit_max_plates),
        "pricing_choice": tariff.choice,
        "currency": s.currency, "locale": s.locale, "language": s.language, "lobby_language": s.lobby_language,
        "legal_name": s.legal_name, "tax_added": CHECKED if s.tax_added else "",
    }


def parse_form(form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """(changes for the service, errors by form field). Blank optional money
    fields mean "none": default rate, no maximum, no lost-ticket fee."""
    changes: dict[str, Any] = {}
    errors: dict[str, str] = {}

    def text(name: str) -> str:
        return (form.get(name) or "").strip()

    if INTERNATIONAL in form:  # a form of before these fields leaves them as they are
        changes.update(currency=text("currency").upper(), locale=text("locale"), language=text("language"),
                       lobby_language=text("lobby_language"), legal_name=text("legal_name"),
                       tax_added=text("tax_added") == CHECKED)
    # The amounts are typed in the currency the form names (a new one: in it), the reader's decimal mark; in
    # the garage's own where it cannot change (something is counted in it: the save is refused for that, and
    # its rate read as the new currency's was told a range it is inside: an outside check).
    currency = changes["currency"] if is_currency(changes.get("currency")) else current_currency()
    if currency != current_currency() and settings_service.currency_in_use(current_garage()):
        currency = current_currency()

    def in_the_currency(message: Text) -> str:
        """The message (which names dollars) for a USD garage; for another currency, how to type its amounts."""
        if currency == DEFAULT_CURRENCY:
            return message
        return _("Enter an amount %(in_currency)s, e.g. %(example)s", in_currency=in_currency(currency),
                 example=example(currency=currency))

    def whole(name: str, setting: str, message: Text, blank: int | None = None) -> None:
        raw = text(name)
        if raw == "" and blank is not None:
            changes[setting] = blank
        else:
            number = parse_integer(raw)  # -5 is a whole number: rules.check says its limits
            if number is None:
                errors[name] = message
            else:
                changes[setting] = number

    def money(name: str, message: Text, required: Text | None = None) -> int | None:
        """`message`: not an amount; `required`: the message when it is left empty (None: optional)."""
        raw = text(name)
        if raw == "":
            if required is not None:
                errors[name] = in_the_currency(required)
            return None
        try:
            return parse_money(raw, currency)
        except ValueError:
            errors[name] = in_the_currency(message)
            return None

    whole("total_spaces", "total_spaces", _("Enter the total spaces as a whole number"))
    rate = money("hourly_rate", _("Enter the hourly rate in dollars and cents, e.g. 10 or 10.50"),
                 required=_("Enter the hourly rate in dollars, e.g. 10 or 10.50"))
    if rate is not None:
        changes["hourly_rate"] = rate
    changes["vehicle_rates"] = {
        kind: money(rate_field(kind), _("Enter the %(vehicle_type)s rate in dollars and cents, e.g. 10 or 10.50",
                                        vehicle_type=Text(kind)))
        for kind in VEHICLE_TYPES}
    whole("grace_minutes", "grace_minutes", _("Enter the grace period in minutes as a whole number"), blank=0)
    daily_max = money("daily_max", _("Enter the daily maximum in dollars and cents, e.g. 10 or 10.50"))
    if "daily_max" not in errors:
        changes["daily_max_cents"] = daily_max
    lost_fee = money("lost_ticket_fee", _("Enter the lost-ticket fee in dollars and cents, e.g. 10 or 10.50"))
    if "lost_ticket_fee" not in errors:
        changes["lost_ticket_fee_cents"] = lost_fee or 0
    changes["lost_ticket_mode"] = text("lost_ticket_mode")
    changes["garage_name"] = text("garage_name")
    changes["timezone"] = text("timezone")
    whole("almost_full_percent", "almost_full_percent", _("Enter the ALMOST FULL threshold as a whole number"))
    changes["garage_address"] = form.get("garage_address") or ""  # lines: the service tidies them
    try:
        changes["tax_rate_bp"] = parse_percent(text("tax_rate"))
    except ValueError:
        errors["tax_rate"] = _("Enter the tax rate as a percentage with at most two decimals, e.g. 19 or 7.25")
    changes["tax_id"] = text("tax_id")
    whole("void_window_minutes", "void_window_minutes", _("Enter the void window in minutes as a whole number"))
    changes["payments_require_shift"] = text("payments_require_shift") == CHECKED  # unticked: not sent
    if "reserved_spaces" in form:  # a form from before these fields (a page left open) leaves them as they are
        whole("reserved_spaces", "reserved_spaces", _("Enter the reserved spaces as a whole number"), blank=0)
    if "permit_policy" in form:
        changes["permit_policy"] = text("permit_policy")
    if "permit_max_plates" in form:
        whole("permit_max_plates", "permit_max_plates", _("Enter the plates per permit as a whole number"))
    if "pricing_choice" in form:  # a form of before rate periods keeps the garage's choice
        changes["pricing_choice"] = text("pricing_choice")
    international = {k: v for k, v in changes.items() if k in INTERNATIONAL_SETTINGS}
    found = {**rules.check({k: v for k, v in changes.items() if k not in international}),
             **check_international(international)}
    for setting, message in found.items():
        errors.setdefault(FIELD_OF.get(setting, setting), message)
    return changes, errors


def _render(values: Mapping[str, str], errors: Mapping[str, str], status: int = 200,
            saved: bool = False):
    settings = settings_service.get_settings(current_garage())
    return htmx.page_or_fragment(
        "settings/index.html", "settings/_form.html", status,
        values=values, errors=errors, saved=saved, oob=is_htmx() and saved,
        vehicle_types=[(kind, rate_field(kind)) for kind in VEHICLE_TYPES],
        timezones=rules.COMMON_TIMEZONES, occupied=settings.occupied,
        modes=((LOST_REPLACE, _("Instead of the time fee")), (LOST_ADD, _("On top of the time fee"))),
        permit_policies=((POLICY_VISITOR, _("Let it in as a visitor (charged as one)")),
                         (POLICY_REFUSE, _("Do not let it in"))),
        choices=CHOICE_LABELS, **periods_context(), **international_context(values))


def international_context(values: Mapping[str, str]) -> dict[str, Any]:
    """The choices of templates/settings/_international.html: common currencies, locales (by their
    English names; the stored or typed one too), the languages Garage speaks; and whether the currency
    is fixed (the garage has payments)."""
    from babel import Locale

    codes = list(COMMON_LOCALES)
    for code in (values.get("locale"), settings_service.get_settings(current_garage()).locale):
        if code and code not in codes and is_locale(code):
            codes.append(code)
    return {"currencies": COMMON_CURRENCIES, "languages": list(LANGUAGES.items()),
            "locales": [(code, Locale.parse(code).get_display_name("en")) for code in codes],
            "currency_fixed": settings_service.currency_in_use(current_garage())}


CHOICE_LABELS = ((periods.LOWEST, _("The driver pays the lowest price that applies")),
                 (periods.FIRST, _("The first flat price listed that applies (else the hourly rates)")))


def periods_context() -> dict[str, Any]:
    """The rate periods in plain words and the preview of a few stays, for the settings page."""
    garage = current_garage()
    tariff = settings_service.current_tariff(garage)
    zone = settings_service.get_settings(garage).timezone

    def when(moment) -> str:
        return i18n.format_datetime(moment, zone, "MMMEdHm")

    return {"periods": [(p.name, periods.words(p)) for p in tariff.periods],
            "preview": [(when(row.entry), when(row.exit), row.quote)
                        for row in settings_service.preview(garage, utcnow())]}


# --- one rate period: add, edit, remove ------------------------------------------------------------

PERIOD_FIELDS = ("kind", "name", "price", "enter_from", "enter_until", "leave_from", "leave_by", "start", "end",
                 "dates", "vehicle_type")
# The period's JSON field (garage/domain/rate_periods.py) → the form's field, where they differ.
PERIOD_FIELD_OF = {"priceCents": "price", "rateCents": "price", "enterFrom": "enter_from", "enterUntil": "enter_until",
                   "leaveFrom": "leave_from", "leaveBy": "leave_by", "vehicleType": "vehicle_type"}
ITEM_FIELD_OF = {"enter_from": "enterFrom", "enter_until": "enterUntil", "leave_from": "leaveFrom",
                 "leave_by": "leaveBy", "start": "start", "end": "end"}


class Capitalized(str):
    """A period's problem (worded to follow "Period 2: ", as the API says it) as a sentence under its
    field: its first letter upper case, in the reader's language too."""

    def __new__(cls, message: str) -> "Capitalized":
        self = super().__new__(cls, message[:1].upper() + message[1:])
        self.message = message
        return self

    def __html__(self) -> str:
        shown = str(escape(self.message))
        return shown[:1].upper() + shown[1:]


def _problem(message: str) -> str:
    """ "Period 2: another period has the name X" → its problem, for the field of the form."""
    if isinstance(message, Text) and "problem" in message.params:
        return message.params["problem"]
    return message.split(": ", 1)[-1]


def period_item(form: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """(the period as its JSON object, errors by form field) from the period form: the price in dollars,
    times as typed (HH:MM), days ticked, dates separated by commas or spaces, the vehicle type (empty: all)."""
    errors: dict[str, str] = {}

    def text(name: str) -> str:
        return (form.get(name) or "").strip()

    kind = text("kind")
    item: dict[str, Any] = {"kind": kind, "name": text("name")}
    try:
        cents: int | None = parse_money(text("price"))  # the garage's currency, the reader's decimal mark
    except ValueError:
        cents = None
        errors["price"] = (_("Enter the price in dollars and cents, e.g. 8 or 8.50") if current_currency() == DEFAULT_CURRENCY
                           else _("Enter the price %(in_currency)s, e.g. %(example)s", in_currency=in_currency(), example=example(8)))
    clocks = {periods.FLAT: ("enter_from", "enter_until", "leave_by", "leave_from"),
              periods.HOURLY: ("start", "end")}.get(kind, ())
    for name in clocks:
        if text(name) or name not in ("leave_from", "start", "end"):
            item[ITEM_FIELD_OF[name]] = text(name)
    if kind in (periods.FLAT, periods.HOURLY):
        item["days"] = [day for day in form.getlist("days") if isinstance(day, str)]
    if kind == periods.EVENT:
        item["dates"] = text("dates").replace(",", " ").split()
    if kind in periods.KINDS:
        item["rateCents" if kind == periods.HOURLY else "priceCents"] = cents if cents is not None else 0
    item["vehicleType"] = text("vehicle_type") or None
    for field, message in periods.parse_one(item, VEHICLE_TYPES)[1].items():
        errors.setdefault(PERIOD_FIELD_OF.get(field, field), Capitalized(message))
    return item, errors


def period_values(item: Mapping[str, Any] | None) -> dict[str, Any]:
    """A stored period as the form shows it (a new one: a flat window with nothing filled in)."""
    if item is None:
        return {"kind": periods.FLAT, "days": []}
    cents = item.get("priceCents", item.get("rateCents"))
    values: dict[str, Any] = {"kind": item["kind"], "name": item["name"], "price": minor_to_input(cents),
                              "days": list(item.get("days", [])), "dates": ", ".join(item.get("dates", [])),
                              "vehicle_type": item.get("vehicleType") or ""}
    for name, key in ITEM_FIELD_OF.items():
        values[name] = item.get(key) or ""
    return values


def _render_period(position: int | None, values: Mapping[str, Any], errors: Mapping[str, str], status: int = 200,
                   was: str = ""):
    return htmx.page_or_fragment(
        "settings/period.html", "settings/_period_form.html", status, position=position, values=values,
        was=was,
        errors=errors, kinds=list(periods.KIND_LABELS.items()), days=[(d, periods.DAY_NAMES[d]) for d in periods.DAYS],
        vehicle_types=VEHICLE_TYPES)


def _list_error_field(key: str) -> str:
    """The form's field of an error about the whole list (check()'s ``rate_periods.<n>.<field>``, or
    ``rate_periods`` itself: the form as a whole)."""
    field = key.rsplit(".", 1)[-1] if key.count(".") == 2 else "form"
    return PERIOD_FIELD_OF.get(field, field)


def _back_to_settings():
    """Saved: the settings page with its "Saved" notice (htmx: the whole page loaded)."""
    flash(i18n.translated(SAVED), "settings-saved")
    if is_htmx():
        return htmx.client_redirect(url_for("settings.index"))
    return redirect(url_for("settings.index"), code=303)


def _position(raw: str) -> int:
    """A period's place in the list (from 1) in a URL; anything else: NotFound."""
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 3):
        raise NotFound(_("No such rate period"))
    return int(raw)


def _existing(position: int | None) -> Mapping[str, Any] | None:
    items = settings_service.period_items(current_garage())
    if position is None:
        return None
    if not 1 <= position <= len(items):
        raise NotFound(_("No such rate period"))
    return items[position - 1]


@bp.route("/settings/periods/new", methods=["GET", "POST"])
@bp.route("/settings/periods/<position>", methods=["GET", "POST"])
@manager_required
def period(position: str | None = None):
    """A rate period's form: a new one (added at the end) or the one at `position` (from 1)."""
    position = _position(position) if position is not None else None
    existing = _existing(position)
    if request.method != "POST":
        return _render_period(position, period_values(existing), {}, was=existing["name"] if existing else "")
    item, errors = period_item(request.form)
    values = {**{name: (request.form.get(name) or "") for name in PERIOD_FIELDS}, "days": request.form.getlist("days")}
    was = (request.form.get("was") or "").strip()
    if errors:
        return _render_period(position, values, errors, 422, was)
    try:
        settings_service.save_period(current_garage(), current_actor(), position, item, was)
    except rules.InvalidSettings as exc:  # across the list: a name another period has, one period too many
        return _render_period(position, values, {_list_error_field(key): _problem(message)
                                                 for key, message in exc.errors.items()}, 422, was)
    except Conflict as exc:  # the period was changed or moved meanwhile: the form again, with why
        return _render_period(position, values, {"form": exc.message}, 409, was)
    return _back_to_settings()


@bp.post("/settings/periods/<position>/remove")
@manager_required
def remove_period(position: str):
    """Remove the period at `position`, named `name` in the form (the list may have changed since the
    page was shown: another name there is a Conflict, nothing removed)."""
    name = (request.form.get("name") or "").strip()
    if not name:
        raise InvalidInput(_("Say which rate period to remove"), field="name")
    settings_service.remove_period(current_garage(), current_actor(), _position(position), name)
    return _back_to_settings()


@bp.get("/settings")
@manager_required
def index():
    saved = bool(get_flashed_messages(category_filter=["settings-saved"]))
    return _render(form_values(), {}, saved=saved)


def _read_in() -> tuple[str, str]:
    """The garage's language and locale: what the page around the settings form is written in."""
    s = settings_service.get_settings(current_garage())
    return s.language, s.locale


@bp.post("/settings")
@manager_required
def save():
    changes, errors = parse_form(request.form)
    values = {name: request.form.get(name, "") for name in FIELDS}
    if errors:
        return _render(values, errors, 422)
    read_in = _read_in()
    try:
        settings_service.update_settings(current_garage(), current_actor(), **changes)
    except Conflict as exc:  # total spaces below the cars inside (checked atomically)
        return _render(values, {FIELD_OF.get(exc.field or "", exc.field or "form"): exc.message}, 409)
    except rules.InvalidSettings as exc:  # parse_form already checked; kept for safety
        return _render(values, {FIELD_OF.get(k, k): m for k, m in exc.errors.items()}, 422)
    if is_htmx() and _read_in() == read_in:
        return _render(form_values(), {}, saved=True)
    # Without htmx, or when the garage's language or formats changed: the whole page again. The form
    # alone would come back in the new language inside the old page's menu and headings.
    flash(i18n.translated(SAVED), "settings-saved")
    if is_htmx():
        return htmx.client_redirect(url_for("settings.index"))
    return redirect(url_for("settings.index"), code=303)
