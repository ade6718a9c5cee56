"""Thin views for the desk. Each URL serves a full page (no JS: forms post, then
303 to a result page) and, for htmx, the fragment it swaps; mutations also send
the live panel and the activity list out-of-band so the counters move at once."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import Response, flash, g, make_response, redirect, render_template, request, url_for

from ..domain import permits as permit_rules
from ..domain.clock import format_duration, to_local
from ..domain.errors import (
    AlreadyProcessed, DomainError, FeeTooLarge, InvalidInput, NotFound, QuoteChanged, ScannedTicket,
)
from ..domain.inputs import parse_page, parse_whole
from ..domain.money import MAX_QUOTED_MINOR
from ..domain.pricing import Quote, recorded
from ..domain.shifts import ShiftRequired
from ..domain.tax import included_line
from ..domain.validations import check_code
from ..domain.words import _
from ..domain.tickets import (
    PAYMENT_METHODS, SCANNED_TICKET_PATTERN, STATUS_ACTIVE, STATUS_VOIDED, VEHICLE_TYPES, TicketView,
    appended_scan, format_receipt_number, resent_entry_message,
)
from ..models import Ticket
from ..persistence import unless_unavailable
from ..services import amendments as amendment_service
from ..services import stats as stats_service
from ..services import tickets as ticket_service
from ..services import validations as validation_service
from ..services.settings import get_settings
from .. import htmx, i18n
from ..htmx import is_htmx
from ..identity import current_garage, current_actor, staff_required
from ..web import autocommit, framed_by_desk
from . import bp
from .amendments import DESK_NOTICE, DESK_WARNING
from .codes import qr_svg

ACTIVITY_LIMIT = 10  # rows of recent activity the desk shows (and polls)
ACTIVITY_MORE = 50  # rows after "Show more" (?rows=50, polled as such)
INSIDE_PER_PAGE = 10
DEFAULT_VEHICLE = "Car"
# No payment method is pre-selected: the attendant picks the one the driver uses (issue 15).
CHOOSE_METHOD = _("Choose how the driver pays")
# The client event after this desk's own entry or exit: the cars-inside list reloads on it.
DESK_CHANGED = htmx.DESK_CHANGED
# The live panel's query parameter: the change mark the page last saw (stats.change_mark).
SEEN = "seen"
# Domain errors name API fields; the desk's form fields are snake_case.
FORM_FIELDS = {"licensePlate": "plate", "vehicleType": "vehicle_type", "paymentMethod": "payment_method"}


@dataclass
class EntryState:
    plate: str = ""
    vehicle_type: str = DEFAULT_VEHICLE
    errors: dict[str, str] = field(default_factory=dict)
    ticket: TicketView | None = None  # the ticket just issued
    issued_now: bool = False  # by this request: the card "print every ticket automatically" prints
    # What the attendant is told beside the ticket: (good news, the words). The plate is on a permit (admitted,
    # or why not), or the entry was sent again (the ticket it got).
    note: tuple[bool, str] | None = None


@dataclass
class ExitState:
    query: str = ""
    lost: bool = False
    error: str | None = None  # next to the lookup field
    ticket: Ticket | None = None
    quote: Quote | None = None  # set while the ticket waits for payment
    lines: tuple = ()  # the quote's merchant validations (domain.validations.Line), one line each
    code: str = ""  # the validation code typed or scanned (shown again with its error)
    code_error: str | None = None
    method: str = ""  # none until the attendant picks one
    method_error: str | None = None
    notice: str | None = None  # quote changed, already paid, no shift open
    shift_needed: bool = False  # the garage takes payments only in a shift: the notice links to it
    paid_now: bool = False  # the receipt of a payment taken by this request

    @property
    def receipt(self) -> bool:
        return self.ticket is not None and self.ticket.status != STATUS_ACTIVE


@bp.context_processor
def desk_helpers() -> dict[str, Any]:
    def local_time(moment: datetime | None, form: str = "yMMMd") -> str:
        """A moment in the garage's timezone, in the reader's format locale (garage/i18n.py): "time"
        for the time of day alone, else its date by the CLDR skeleton `form` ("yMMMd": Dec 6, 2026 /
        6. Dez. 2026; "MMMd" without the year) and its time, joined as the locale joins them.
        (Not i18n.format_datetime: CLDR has no skeleton with both a date and a time to the minute.)"""
        # The garage's timezone is looked up only by templates that show a time
        # (the polled live panel shows none: one settings read fewer per poll).
        if not moment:
            return ""
        tz = _timezone()
        if form == "time":
            return i18n.format_time(moment, tz)
        joined = str(i18n.format_locale().datetime_formats["medium"])
        return joined.replace("{1}", i18n.format_date(to_local(moment, tz), form)).replace(
            "{0}", i18n.format_time(moment, tz))

    def charged(ticket: Ticket) -> Quote:
        """What a paid ticket was charged, split into time fee and lost-ticket fee
        (from the amounts recorded at exit, never today's rules)."""
        return recorded(ticket.duration_minutes or 0, ticket.amount_paid or 0, ticket.lost,
                        ticket.lost_fee_cents, ticket.discount_cents or 0, ticket.price_rule,
                        permit=ticket.permit_id is not None, tax_rate_bp=ticket.tax_rate_bp,
                        tax_added=bool(ticket.tax_added))

    def tax_line(ticket: Ticket) -> str | None:
        """"incl. VAT 19 %: $1.60" at the rate recorded when the ticket was paid; None without one."""
        return included_line(ticket.amount_paid or 0, ticket.tax_rate_bp, bool(ticket.tax_added))

    def refunds(ticket: Ticket) -> list[amendment_service.RefundLine]:
        """A paid ticket's refunds (read only for a ticket with some: no statement otherwise)."""
        return amendment_service.refunds_of(current_garage(), ticket.id) if ticket.refunded_cents else []

    return {"local_time": local_time, "duration": format_duration, "qr": qr_svg, "charged": charged,
            "receipt_number": format_receipt_number, "tax_line": tax_line, "refunds_of": refunds,
            "validation_lines": validation_service.lines_of,
            "receipt_garage": lambda: get_settings(current_garage()),
            "VEHICLE_TYPES": VEHICLE_TYPES, "PAYMENT_METHODS": PAYMENT_METHODS,
            "SCANNED_TICKET_PATTERN": SCANNED_TICKET_PATTERN,
            "ACTIVITY_LIMIT": ACTIVITY_LIMIT, "ACTIVITY_MORE": ACTIVITY_MORE,
            "DESK_TIMEOUT_MS": htmx.DESK_TIMEOUT_SECONDS * 1000, "DESK_RECONNECTED": htmx.RECONNECTED}


def _timezone() -> str:
    if "desk_timezone" not in g:
        g.desk_timezone = get_settings(current_garage()).timezone
    return g.desk_timezone


# --- rendering -----------------------------------------------------------------------------

def _inside_context(query: str = "", page: int = 1) -> dict[str, Any]:
    """The cars-inside list; a filter with nothing of a plate in it lists nothing and says so."""
    query = query.strip()[:40]
    try:
        return {"inside": ticket_service.list_active(current_garage(), query, page, INSIDE_PER_PAGE), "inside_q": query,
                "inside_error": None}
    except InvalidInput as exc:
        return {"inside": ticket_service.InsidePage([], 0, 1, INSIDE_PER_PAGE), "inside_q": query,
                "inside_error": exc.message}


def _full_page(status: int = 200, entry: EntryState | None = None, exit: ExitState | None = None,
               focus: str = "plate", inside_q: str = "", inside_page: int = 1) -> Response:
    """The whole desk (without JS, and for a history restore)."""
    inside = _inside_context(inside_q, inside_page)
    if inside["inside_error"] and status == 200:
        status = 422
    garage = current_garage()
    html = render_template(
        "desk/index.html", stats=stats_service.garage_stats(garage), entry=entry or EntryState(),
        exit=exit or ExitState(), focus=focus, activity=ticket_service.recent_activity(garage, ACTIVITY_LIMIT),
        **inside)
    return htmx.vary(make_response(html, status))


def _changed(response: Response) -> Response:
    """After an entry or exit: the live panel and activity out-of-band, and an event
    that makes the cars-inside list reload itself. The entry or payment is committed by now: if the
    database stops answering while these are read, the card still says what was done (the ticket, the
    receipt) and the panels catch up at their next poll; a 503 would have the attendant do it again."""
    garage = current_garage()
    moved = unless_unavailable(lambda: (
        render_template("desk/_live.html", stats=stats_service.garage_stats(garage, as_committed=True), oob=True)
        + render_template("desk/_activity.html", activity=ticket_service.recent_activity(garage, ACTIVITY_LIMIT),
                          oob=True)))
    if moved is not None:
        htmx.out_of_band(response, moved)
    return htmx.trigger(response, DESK_CHANGED)


def _card(fragment: str, status: int, changed: bool, **context: Any) -> Response:
    """The entry or exit card for htmx (plus what moved, after a change), else the whole
    desk (which shows more than the card: its data is read only for the page)."""
    if not is_htmx():
        return _full_page(status, **context)
    response = htmx.fragment(fragment, status, **context)
    return _changed(response) if changed else response


def _entry(state: EntryState, status: int = 200, changed: bool = False) -> Response:
    return _card("desk/_entry.html", status, changed, entry=state, focus="plate")


def _exit(state: ExitState, status: int = 200, changed: bool = False, focus: str = "lookup") -> Response:
    # Focus stays on the lookup field, even with a quote open: the next scan (keys then Enter)
    # looks its ticket up and never confirms the open quote (static/js/desk-pay.js). A refused
    # validation code keeps the focus in its field (`focus="validation"`), for the next scan.
    return _card("desk/_exit.html", status, changed, exit=state, focus=focus)


def _quote(state: ExitState) -> None:
    """The open quote of `state.ticket` with its validation lines (what the payment will charge)."""
    state.quote, state.lines = ticket_service.quote_with_validations(state.ticket, lost=state.lost)


# --- pages and polled fragments --------------------------------------------------------------

@bp.get("")
@staff_required
def index():
    return _full_page()


@bp.get("/live")
@htmx.fragment_of("desk.index")
@autocommit
@staff_required
def live():
    """The live panel alone (polled every few seconds): a counter and one indexed range.
    The panel carries the change mark it shows (sent back as ?seen=): when the garage has
    changed since (an entry or exit at any desk, a settings change), the answer also fires
    GARAGE_CHANGED, and cars inside, activity and rates reload at once (issue 15)."""
    stats = stats_service.garage_stats(current_garage())
    response = make_response(render_template("desk/_live.html", stats=stats, oob=False))
    seen = request.args.get(SEEN)
    if seen is not None and seen != stats.change_mark:
        htmx.trigger(response, htmx.GARAGE_CHANGED)
    return response


@bp.get("/activity")
@htmx.fragment_of("desk.index")
@staff_required
def activity():
    """Recent activity alone (polled): the last 10 events, or up to 50 after "Show more"."""
    rows = parse_whole(request.args.get("rows"), field="rows", minimum=1, maximum=ACTIVITY_MORE,
                       default=ACTIVITY_LIMIT)
    return render_template("desk/_activity.html", activity=ticket_service.recent_activity(current_garage(), rows),
                           oob=False, activity_rows=rows)


@bp.get("/rates")
@htmx.fragment_of("desk.index")
@staff_required
def rates():
    """The "current rates" panel alone (polled: a rule change reaches open desks)."""
    return render_template("desk/_rates.html")


@bp.get("/inside")
@staff_required
@htmx.part_of("desk.index")
def inside():
    query = request.args.get("q", "")
    page = parse_page(request.args.get("page"))  # 422 "page must be a whole number from 1 to ..."
    if is_htmx():
        context = _inside_context(query, page)
        return htmx.fragment("desk/_inside_list.html", 422 if context["inside_error"] else 200, **context)
    return _full_page(inside_q=query, inside_page=page, focus="inside")


# --- entry -----------------------------------------------------------------------------------

@bp.post("/entries")
@staff_required
def enter():
    plate = request.form.get("plate", "")[:40]
    vehicle_type = request.form.get("vehicle_type") or DEFAULT_VEHICLE
    try:
        ticket, resent = ticket_service.enter_at_desk(current_garage(), plate, vehicle_type, current_actor())
    except ScannedTicket as exc:  # a ticket scanned into the plate field, not told apart by the page's script
        return _scanned_at_entry(exc.number, vehicle_type)
    except DomainError as exc:
        error_field = FORM_FIELDS.get(exc.field or "", "plate")
        state = EntryState(plate=plate, vehicle_type=vehicle_type, errors={error_field: exc.message})
        return _entry(state, exc.status)
    # The same entry sent again (a second tap, a resent form): the ticket it got, said so, not printed again.
    note = (True, resent_entry_message(ticket.license_plate, ticket.ticket_number)) if resent else _permit_note(ticket)
    if is_htmx():
        return _entry(EntryState(ticket=ticket, issued_now=not resent, note=note), changed=not resent)
    if note is not None:  # the page after the redirect says it
        flash(i18n.translated(note[1]), DESK_NOTICE if note[0] else DESK_WARNING)
    return redirect(url_for("desk.ticket", number=ticket.ticket_number), code=303)


def _scanned_at_entry(number: str, vehicle_type: str) -> Response:
    """The plate field got the number of one of the garage's tickets (static/js/desk-pay.js tells a scan by
    its keys' pace and looks it up itself; keys slowed down on their way, by a busy tablet, reach here):
    look the ticket up as the exit would, and leave the entry card as it was before the scan (empty plate,
    the vehicle type kept). Without JS: the look-up's page."""
    if not is_htmx():
        return redirect(url_for("desk.lookup", q=number), code=303)
    state = ExitState(query=number, ticket=ticket_service.find_active(current_garage(), number))
    _found(state)
    kept = vehicle_type if vehicle_type in VEHICLE_TYPES else DEFAULT_VEHICLE
    entry = render_template("desk/_entry.html", entry=EntryState(vehicle_type=kept), oob=True, focus=None)
    return htmx.out_of_band(htmx.retarget(_exit(state), "#exit"), entry)


def _permit_note(ticket: TicketView) -> tuple[bool, str] | None:
    """The attendant's words when the plate is on a permit (issue 19): admitted, or why not."""
    match = getattr(ticket, "permit_match", None)
    if match is None:
        return None
    return permit_rules.entry_note(match.facts, match.today, ticket.permit_id is not None)


@bp.get("/tickets/<number>")
@staff_required
def ticket(number: str):
    """The result page of an entry without JS: the desk with the ticket card."""
    return _full_page(entry=EntryState(ticket=ticket_service.find_ticket(current_garage(), number)))


# --- exit ------------------------------------------------------------------------------------

@bp.get("/exit")
@staff_required
def lookup():
    query = request.args.get("q", "")[:40]
    lost = request.args.get("lost") == "1"
    state = ExitState(query=query, lost=lost)
    if not query.strip():
        state.error = _("Enter the plate of the car") if lost else _("Enter a ticket number or a plate")
        return _exit(state, 422)
    try:
        found = (ticket_service.find_inside_by_plate(current_garage(), query) if lost
                 else ticket_service.find_active(current_garage(), query))
    except (NotFound, InvalidInput) as exc:  # nothing found, or nothing of a plate typed
        state.error = exc.message
        return _exit(state, 422)
    state.ticket = found
    if not lost and appended_scan(query) == found.ticket_number:  # a scan after earlier text: the field shows it
        state.query = found.ticket_number
    _found(state)
    return _exit(state)


def _found(state: ExitState) -> None:
    """The ticket looked up: its quote, or (paid or voided) its receipt and why nothing is taken."""
    if state.receipt:
        number = state.ticket.ticket_number
        state.notice = _closed_notice(state.ticket, _("Ticket %(number)s has already been paid.", number=number))
    else:
        _quote(state)


ALREADY_PAID = _("This ticket was already paid. No second payment was taken.")


def _closed_notice(ticket: Ticket, paid: str) -> str:
    """What the exit says of a ticket no longer inside: paid, or voided (nothing to pay)."""
    if ticket.status == STATUS_VOIDED:
        return _("Ticket %(number)s was voided: there is nothing to pay. No payment was taken.",
                 number=ticket.ticket_number)
    return paid


def _expected_amount(raw: str | None) -> int | None:
    """The quoted amount (cents) the exit form carries; None when missing or not a number."""
    try:
        return parse_whole(raw, field="expected_amount", minimum=0, maximum=MAX_QUOTED_MINOR)
    except InvalidInput:
        return None


@bp.post("/tickets/<number>/exit")
@staff_required
def pay(number: str):
    method = request.form.get("payment_method") or ""
    lost = request.form.get("lost") == "1"
    expected = _expected_amount(request.form.get("expected_amount"))
    current = ticket_service.find_ticket(current_garage(), number)  # 404 for an unknown number
    state = ExitState(query=current.ticket_number, lost=lost, ticket=current,
                      method=method if method in PAYMENT_METHODS else "")
    if current.status != STATUS_ACTIVE:  # paid (or voided) meanwhile, perhaps at another booth:
        state.notice = _closed_notice(current, ALREADY_PAID)  # this desk's counters are behind, send them
        return _exit(state, 409, changed=True)
    if not method and expected != 0:  # a car owing nothing (quoted $0.00) is let out without one
        _quote(state)
        state.method_error = CHOOSE_METHOD
        return _exit(state, 422)
    if expected is None:
        _quote(state)
        state.notice = _("Check the amount due and confirm again.")
        return _exit(state, 422)
    try:
        paid = ticket_service.process_exit(current_garage(), number, method or None, current_actor(),
                                           expected_amount_cents=expected, lost=lost)
    except QuoteChanged as exc:
        _quote(state)
        state.notice = _("%(reason)s. Nothing was charged.", reason=exc.message)
        return _exit(state, exc.status)
    except FeeTooLarge as exc:
        _quote(state)
        state.notice = exc.message
        return _exit(state, exc.status)
    except ShiftRequired as exc:
        _quote(state)
        state.notice = _("%(reason)s. Nothing was charged.", reason=exc.message)
        state.shift_needed = True
        return _exit(state, exc.status)
    except AlreadyProcessed:
        state.ticket = ticket_service.find_ticket(current_garage(), number)
        state.notice = _closed_notice(state.ticket, ALREADY_PAID)
        return _exit(state, 409, changed=True)
    except InvalidInput as exc:
        _quote(state)
        state.method_error = exc.message if method else CHOOSE_METHOD
        return _exit(state, exc.status)
    if is_htmx():
        # The receipt says "lost" from the ticket; the lookup form is back to ticket numbers
        # for the next car (a lost ticket is the exception, not a mode to stay in).
        return _exit(ExitState(ticket=paid, paid_now=True), changed=True)
    return redirect(url_for("desk.paid", number=paid.ticket_number), code=303)


@bp.post("/tickets/<number>/validate")
@staff_required
def validate(number: str):
    """A merchant's validation code typed or scanned at the exit: the ticket is validated by it
    (services/validations.py: the same code again changes nothing) and the quote shows its line and
    the amount due after it; the payment form then carries that amount. A refused code: the quote
    again with the message under the field, nothing changed."""
    code = request.form.get("validation_code", "")[:80]
    lost = request.form.get("lost") == "1"
    current = ticket_service.find_ticket(current_garage(), number)  # 404 for an unknown number
    state = ExitState(query=current.license_plate if lost else current.ticket_number, lost=lost, ticket=current,
                      code=code)
    if current.status != STATUS_ACTIVE:
        state.notice = _closed_notice(current, _("Ticket %(number)s has already been paid: it can no longer be "
                                                 "validated.", number=current.ticket_number))
        return _exit(state, 409)
    try:
        check_code(code, field="validation_code")  # nothing of a code in it: 422
        state.ticket = validation_service.validate_ticket(current_garage(), current, code, current_actor())
    except DomainError as exc:
        state.code_error = exc.message
        _quote(state)
        # No such code is the field's error like any other (422: htmx shows it under the field).
        return _exit(state, 422 if isinstance(exc, NotFound) else exc.status, focus="validation")
    if is_htmx():
        state.code = ""
        _quote(state)
        return _exit(state)
    return redirect(url_for("desk.lookup", q=state.query, lost="1" if lost else None), code=303)


@bp.get("/tickets/<number>/paid")
@staff_required
def paid(number: str):
    """The result page of a payment without JS: the desk with the receipt."""
    found = ticket_service.find_ticket(current_garage(), number)
    if found.status == STATUS_ACTIVE:
        return redirect(url_for("desk.lookup", q=found.ticket_number), code=303)
    if found.status == STATUS_VOIDED:  # never paid: its card says VOIDED
        return redirect(url_for("desk.ticket", number=found.ticket_number), code=303)
    return _full_page(exit=ExitState(ticket=found, paid_now=True), focus="lookup")


# --- print -----------------------------------------------------------------------------------

@bp.get("/tickets/<number>/print")
@framed_by_desk
@staff_required
def print_ticket(number: str):
    garage = get_settings(current_garage())
    found = ticket_service.find_ticket(current_garage(), number)
    with i18n.for_the_driver(garage):  # the slip is the driver's: the garage's language
        return render_template("desk/print_ticket.html", ticket=found, garage=garage)


@bp.get("/tickets/<number>/receipt")
@framed_by_desk
@staff_required
def print_receipt(number: str):
    found = ticket_service.find_ticket(current_garage(), number)
    if found.status == STATUS_ACTIVE:
        raise NotFound(_("Ticket %(number)s has not been paid yet: no receipt", number=found.ticket_number))
    if found.status == STATUS_VOIDED:
        raise NotFound(_("Ticket %(number)s was voided: no receipt", number=found.ticket_number))
    garage = get_settings(current_garage())
    with i18n.for_the_driver(garage):  # the receipt is the driver's: the garage's language and formats
        return render_template("desk/print_receipt.html", ticket=found, garage=garage)
