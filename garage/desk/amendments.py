"""The desk's amendment pages (issue 18): correct a ticket's plate or vehicle type, void a ticket
issued by mistake, refund all or part of a payment (managers). One small full page each: GET shows
the form, POST does it and answers 303 to the ticket's desk view with a short notice; bad input is
the form again with the field's message (422), a refusal (403: an attendant past the void window;
409: the ticket changed, or the action does not apply) the form again with the message. Thin
views: the rules are garage/domain/amendments.py, the use cases garage/services/amendments.py."""
from __future__ import annotations

from typing import Any, Callable

from flask import flash, make_response, redirect, render_template, request, url_for

from ..domain import amendments as rules
from ..domain.errors import DomainError, InvalidInput
from ..domain.money import minor_to_decimal, format_money, parse_money
from ..domain.roles import ROLE_MANAGER
from ..domain.tickets import STATUS_ACTIVE, STATUS_COMPLETED, VEHICLE_TYPES
from ..domain.words import _
from .. import i18n
from ..identity import caller_role, current_actor, current_garage, manager_required, staff_required
from ..models import Ticket
from ..services import amendments as amendment_service
from ..services import tickets as ticket_service
from . import bp

DESK_NOTICE = "desk"  # the flash category the desk page shows once (templates/desk/index.html)
DESK_WARNING = "desk-warning"  # the same, as a warning (a permit that did not admit the car)
# Form fields of the domain's (API) field names; anything else is said above the form.
FIELDS = {"licensePlate": "plate", "vehicleType": "vehicle_type", "reason": "reason", "amountCents": "amount"}
AMOUNT_MESSAGE = _("Type the amount to refund in dollars, e.g. 5 or 5.50")
TYPED_MAX = 500  # characters of a typed field kept for the form shown again


def _manager() -> bool:
    return caller_role() == ROLE_MANAGER


def _typed() -> dict[str, str]:
    return {k: v[:TYPED_MAX] for k, v in request.form.items() if k != "csrf_token"}


def _errors(exc: DomainError) -> dict[str, str]:
    return {FIELDS.get(exc.field or "", "form"): exc.message}


def desk_view(ticket: Ticket) -> str:
    """Where the desk shows this ticket: a paid one's receipt, else its card (inside, or voided)."""
    if ticket.status == STATUS_COMPLETED:
        return url_for("desk.paid", number=ticket.ticket_number)
    return url_for("desk.ticket", number=ticket.ticket_number)


def _page(template: str, ticket: Ticket, status: int = 200, **context: Any):
    context.setdefault("errors", {})
    context.setdefault("typed", {})
    return make_response(render_template(template, ticket=ticket, back=desk_view(ticket), **context), status)


def _amend(number: str, show: Callable[..., Any], change: Callable[[int, Ticket], tuple[Ticket, str]]):
    """POST: `change` the ticket (the service call: the changed ticket and the desk's notice), then 303
    to its desk view; refused (422, 403, 409), `show` its page again with the message and what was typed."""
    garage = current_garage()
    ticket = ticket_service.find_ticket(garage, number)  # 404 for a number not of this garage
    try:
        changed, notice = change(garage, ticket)
    except DomainError as exc:
        return show(ticket_service.find_ticket(garage, number), exc.status, errors=_errors(exc), typed=_typed())
    flash(i18n.translated(notice), DESK_NOTICE)
    return redirect(desk_view(changed), code=303)


# --- correct ---------------------------------------------------------------------------------

def _correct_page(ticket: Ticket, status: int = 200, **context: Any):
    refusal = rules.CORRECT_VOIDED if ticket.status not in (STATUS_ACTIVE, STATUS_COMPLETED) else None
    return _page("desk/correct.html", ticket, status, refusal=refusal, VEHICLE_TYPES=VEHICLE_TYPES,
                 type_editable=ticket.status == STATUS_ACTIVE, **context)


@bp.get("/tickets/<number>/correct")
@staff_required
def correct_page(number: str):
    return _correct_page(ticket_service.find_ticket(current_garage(), number))


@bp.post("/tickets/<number>/correct")
@staff_required
def correct(number: str):
    def change(garage: int, ticket: Ticket) -> tuple[Ticket, str]:
        kind = request.form.get("vehicle_type") if ticket.status == STATUS_ACTIVE else None
        fixed = amendment_service.correct_ticket(garage, ticket.ticket_number, current_actor(),
                                                 license_plate=request.form.get("plate", "")[:40],
                                                 vehicle_type=kind or None, reason=request.form.get("reason"))
        return fixed, _("Ticket %(number)s corrected: %(plate)s · %(vehicle_type)s.", number=fixed.ticket_number,
                        plate=fixed.license_plate, vehicle_type=_(fixed.vehicle_type))

    return _amend(number, _correct_page, change)


# --- void ------------------------------------------------------------------------------------

def _void_page(ticket: Ticket, status: int = 200, **context: Any):
    # Said before a reason is typed: a ticket not inside, or an attendant past the garage's void window.
    refusal = context.pop("refusal", None) or amendment_service.void_refusal(current_garage(), ticket,
                                                                             manager=_manager())
    return _page("desk/void.html", ticket, status, refusal=refusal, **context)


@bp.get("/tickets/<number>/void")
@staff_required
def void_page(number: str):
    return _void_page(ticket_service.find_ticket(current_garage(), number))


@bp.post("/tickets/<number>/void")
@staff_required
def void(number: str):
    def change(garage: int, ticket: Ticket) -> tuple[Ticket, str]:
        voided = amendment_service.void_ticket(garage, ticket.ticket_number, current_actor(),
                                               request.form.get("reason"), manager=_manager())
        return voided, _("Ticket %(number)s voided: its space is free again.", number=voided.ticket_number)

    return _amend(number, _void_page, change)


# --- refund (managers) -----------------------------------------------------------------------

def _refund_page(ticket: Ticket, status: int = 200, **context: Any):
    left = rules.refundable(ticket.amount_paid, ticket.refunded_cents)
    refusal = (rules.REFUND_ONLY_PAID if ticket.status != STATUS_COMPLETED or ticket.amount_paid is None
               else rules.NOTHING_LEFT if left == 0 else None)
    context.setdefault("typed", {"amount": minor_to_decimal(left)})
    return _page("desk/refund.html", ticket, status, refusal=refusal, left=left,
                 refunds=amendment_service.refunds_of(current_garage(), ticket.id), **context)


def _amount(raw: str | None) -> int:
    """The amount typed in dollars, in cents. A negative amount is told as such; a huge one reaches the
    rule (which says how much is left); anything else that is not dollars and cents: AMOUNT_MESSAGE."""
    text = (raw or "").strip()
    if text.startswith("-") or text.startswith("−"):
        raise InvalidInput(_("Type the amount to refund as a positive amount, e.g. 5.50"), field="amountCents")
    try:
        return parse_money(text)
    except ValueError:
        raise InvalidInput(AMOUNT_MESSAGE, field="amountCents") from None


@bp.get("/tickets/<number>/refund")
@manager_required
def refund_page(number: str):
    return _refund_page(ticket_service.find_ticket(current_garage(), number))


@bp.post("/tickets/<number>/refund")
@manager_required
def refund(number: str):
    def change(garage: int, ticket: Ticket) -> tuple[Ticket, str]:
        done = amendment_service.refund_ticket(garage, ticket.ticket_number, current_actor(),
                                               _amount(request.form.get("amount")), request.form.get("reason"))
        return done.ticket, _("Refunded %(amount)s of ticket %(number)s (%(method)s).",
                              amount=format_money(done.refund.amount_cents), number=done.ticket.ticket_number,
                              method=_(done.refund.payment_method))

    return _amend(number, _refund_page, change)
