"""Thin views: parse the form (dollars → cents), call the settings service, render.

One template pair serves both paths: the full page (no JS: 303 to itself
after saving, with a "Saved" notice) and the form fragment htmx swaps in
(422/409 with each message next to its field, the typed values kept)."""
from __future__ import annotations

from typing import Any, Mapping

from flask import flash, get_flashed_messages, redirect, request, url_for

from ..domain import garage_settings as rules
from ..domain.errors import Conflict
from ..domain.inputs import parse_integer
from ..domain.money import cents_to_decimal, parse_dollars
from ..domain.permits import POLICY_REFUSE, POLICY_VISITOR
from ..domain.pricing import LOST_ADD, LOST_REPLACE
from ..domain.tax import parse_percent, percent_text
from ..domain.tickets import VEHICLE_TYPES
from ..services import settings as settings_service
from .. import htmx
from ..htmx import is_htmx
from ..identity import current_garage, current_actor, manager_required
from . import bp

SAVED = "Saved. New rules apply to exits from now on; tickets already paid keep their amount."


def rate_field(kind: str) -> str:
    """Form field of a vehicle type's rate: "Standard Vehicle" → rate_standard_vehicle."""
    return "rate_" + kind.lower().replace(" ", "_")


FIELDS = ("garage_name", "total_spaces", "timezone", "almost_full_percent", "hourly_rate",
          *(rate_field(kind) for kind in VEHICLE_TYPES), "grace_minutes", "daily_max",
          "lost_ticket_fee", "lost_ticket_mode", "garage_address", "tax_rate", "tax_id", "void_window_minutes",
          "payments_require_shift", "reserved_spaces", "permit_policy")
CHECKED = "1"  # a ticked checkbox's value
# Setting (service keyword / check() key) → form field, where they differ.
FIELD_OF = {"daily_max_cents": "daily_max", "lost_ticket_fee_cents": "lost_ticket_fee", "tax_rate_bp": "tax_rate",
            **{f"vehicle_rates.{kind}": rate_field(kind) for kind in VEHICLE_TYPES}}


def form_values() -> dict[str, str]:
    """The saved settings as the form shows them (money in dollars)."""
    s = settings_service.get_settings(current_garage())
    tariff = settings_service.current_tariff(current_garage())
    own = dict(tariff.vehicle_rates)
    return {
        "total_spaces": str(s.total_spaces), "hourly_rate": cents_to_decimal(s.hourly_rate),
        **{rate_field(kind): cents_to_decimal(own.get(kind)) for kind in VEHICLE_TYPES},
        "grace_minutes": str(tariff.grace_minutes), "daily_max": cents_to_decimal(tariff.daily_max_cents),
        "lost_ticket_fee": cents_to_decimal(tariff.lost_ticket_fee_cents or None),
        "lost_ticket_mode": tariff.lost_ticket_mode, "garage_name": s.garage_name,
        "timezone": s.timezone, "almost_full_percent": str(s.almost_full_percent),
        "garage_address": s.garage_address, "tax_rate": percent_text(s.tax_rate_bp), "tax_id": s.tax_id,
        "void_window_minutes": str(s.void_window_minutes),
        "payments_require_shift": CHECKED if s.payments_require_shift else "",
        "reserved_spaces": str(s.reserved_spaces), "permit_policy": s.permit_policy,
    }


def parse_form(form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """(changes for the service, errors by form field). Blank optional money
    fields mean "none": default rate, no maximum, no lost-ticket fee."""
    changes: dict[str, Any] = {}
    errors: dict[str, str] = {}

    def text(name: str) -> str:
        return (form.get(name) or "").strip()

    def whole(name: str, setting: str, label: str, blank: int | None = None) -> None:
        raw = text(name)
        if raw == "" and blank is not None:
            changes[setting] = blank
        else:
            number = parse_integer(raw)  # -5 is a whole number: rules.check says its limits
            if number is None:
                errors[name] = f"Enter {label} as a whole number"
            else:
                changes[setting] = number

    def money(name: str, label: str, required: bool = False) -> int | None:
        raw = text(name)
        if raw == "":
            if required:
                errors[name] = f"Enter {label} in dollars, e.g. 10 or 10.50"
            return None
        try:
            return parse_dollars(raw)
        except ValueError:
            errors[name] = f"Enter {label} in dollars and cents, e.g. 10 or 10.50"
            return None

    whole("total_spaces", "total_spaces", "the total spaces")
    rate = money("hourly_rate", "the hourly rate", required=True)
    if rate is not None:
        changes["hourly_rate"] = rate
    changes["vehicle_rates"] = {kind: money(rate_field(kind), f"the {kind} rate") for kind in VEHICLE_TYPES}
    whole("grace_minutes", "grace_minutes", "the grace period in minutes", blank=0)
    daily_max = money("daily_max", "the daily maximum")
    if "daily_max" not in errors:
        changes["daily_max_cents"] = daily_max
    lost_fee = money("lost_ticket_fee", "the lost-ticket fee")
    if "lost_ticket_fee" not in errors:
        changes["lost_ticket_fee_cents"] = lost_fee or 0
    changes["lost_ticket_mode"] = text("lost_ticket_mode")
    changes["garage_name"] = text("garage_name")
    changes["timezone"] = text("timezone")
    whole("almost_full_percent", "almost_full_percent", "the ALMOST FULL threshold")
    changes["garage_address"] = form.get("garage_address") or ""  # lines: the service tidies them
    try:
        changes["tax_rate_bp"] = parse_percent(text("tax_rate"))
    except ValueError:
        errors["tax_rate"] = "Enter the tax rate as a percentage with at most two decimals, e.g. 19 or 7.25"
    changes["tax_id"] = text("tax_id")
    whole("void_window_minutes", "void_window_minutes", "the void window in minutes")
    changes["payments_require_shift"] = text("payments_require_shift") == CHECKED  # unticked: not sent
    if "reserved_spaces" in form:  # a form from before these fields (a page left open) leaves them as they are
        whole("reserved_spaces", "reserved_spaces", "the reserved spaces", blank=0)
    if "permit_policy" in form:
        changes["permit_policy"] = text("permit_policy")
    for setting, message in rules.check(changes).items():
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
        modes=((LOST_REPLACE, "Instead of the time fee"), (LOST_ADD, "On top of the time fee")),
        permit_policies=((POLICY_VISITOR, "Let it in as a visitor (charged as one)"),
                         (POLICY_REFUSE, "Do not let it in")))


@bp.get("/settings")
@manager_required
def index():
    saved = bool(get_flashed_messages(category_filter=["settings-saved"]))
    return _render(form_values(), {}, saved=saved)


@bp.post("/settings")
@manager_required
def save():
    changes, errors = parse_form(request.form)
    values = {name: request.form.get(name, "") for name in FIELDS}
    if errors:
        return _render(values, errors, 422)
    try:
        settings_service.update_settings(current_garage(), current_actor(), **changes)
    except Conflict as exc:  # total spaces below the cars inside (checked atomically)
        return _render(values, {FIELD_OF.get(exc.field or "", exc.field or "form"): exc.message}, 409)
    except rules.InvalidSettings as exc:  # parse_form already checked; kept for safety
        return _render(values, {FIELD_OF.get(k, k): m for k, m in exc.errors.items()}, 422)
    if is_htmx():
        return _render(form_values(), {}, saved=True)
    flash(SAVED, "settings-saved")
    return redirect(url_for("settings.index"), code=303)
