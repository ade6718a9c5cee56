"""Thin views: each one's @operation declares (and enforces) who may call it and
what it takes; the view calls a service and serialises the answer."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import g, jsonify, request

from ..domain.clock import local_today, utcnow
from ..domain.periods import parse_date, parse_period
from ..domain import permits as permit_rules
from ..domain.validations import describe as describe_validation
from ..domain.errors import DomainError, InvalidInput, NotFound, Unauthenticated
from ..domain.inputs import parse_whole
from ..domain.money import minor_to_major
from ..domain.periods import parse_date
from ..domain.pricing import describe
from ..domain import rate_periods
from ..domain.roles import ROLE_MANAGER
from ..domain.tickets import STATUS_ACTIVE, TicketView, format_receipt_number
from ..domain.words import _
from ..identity import ADMINS, ANY_ACCOUNT, caller_role, current_garage, MANAGERS, STAFF
from ..persistence import store
from ..services import garages as garage_service, settings as settings_service, stats as stats_service
from ..services import amendments as amendment_service, shifts as shift_service, tickets as ticket_service
from ..services import validations as validation_service
from ..services import closes as close_service, permits as permit_service
from ..web import RETRY_AFTER_SECONDS, autocommit, log_failure
from . import bp, route
from .idempotency import (
    KEY_CONFLICT, KEY_MALFORMED, KEY_OUTAGE, KEY_PARAMETER, KEY_REUSED, caller as keyed_caller, idempotent, keeper,
)
from .operation import ApiError, client_message, operation
from .schemas import (
    ActivityResponse, CloseResponse, ExitRequest, GarageCreate, GarageResponse, GarageStatsResponse, MethodTotalResponse,
    OccupancyResponse, PermitCreate, PermitMatchResponse, PermitRenew, PermitResponse, PermitUpdate, ProgramCreate, ProgramFiguresResponse, ProgramResponse, QuoteResponse, RefundCreate,
    RefundResponse, SettingsResponse, SettingsUpdate, ShiftClose, ShiftOpen, ShiftResponse, StatusResponse,
    TicketCorrection, TicketCreate, TicketResponse, TicketVoid, ValidateRequest, ValidationLineResponse,
)


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    response = jsonify(message=client_message(exc.message))
    response.status_code = exc.status
    return response


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError):
    response = jsonify(message=client_message(exc.message))
    response.status_code = exc.status
    if isinstance(exc, Unauthenticated):
        response.headers["WWW-Authenticate"] = 'Bearer realm="garage"'
    return response


def garage_currency(garage_id: int | None) -> str | None:
    """The currency of the garage a ticket is at (its row is the request's, or the exit's SELECT's
    in the session), None where the ticket says no garage (the entry's plain record: no amount yet)."""
    return settings_service.get_settings(garage_id).currency if garage_id is not None else None


def ticket_json(t: TicketView) -> dict[str, Any]:
    return TicketResponse(
        currency=garage_currency(getattr(t, "garage_id", None)),
        id=t.id, ticketNumber=t.ticket_number, licensePlate=t.license_plate,
        vehicleType=t.vehicle_type, entryTime=t.entry_time, exitTime=t.exit_time,
        durationMinutes=t.duration_minutes, amountPaid=t.amount_paid, status=t.status,
        paymentMethod=t.payment_method, lost=bool(t.lost), lostFee=t.lost_fee_cents,
        receiptNumber=format_receipt_number(t.receipt_number), refundedCents=t.refunded_cents or 0,
        voidReason=t.void_reason, priceRule=getattr(t, "price_rule", None), permitId=getattr(t, "permit_id", None),
        permit=permit_match_json(getattr(t, "permit_match", None), getattr(t, "permit_id", None)),
    ).model_dump(mode="json")


def permit_match_json(match, admitted_id) -> PermitMatchResponse | None:
    """On an entry: the permit the plate is on and whether it let the car in as a permit holder."""
    if match is None:
        return None
    facts = match.facts
    admitted = admitted_id is not None
    return PermitMatchResponse(permitId=facts.id, number=permit_rules.number_of(facts.id), holder=facts.holder,
                               state=permit_rules.STATE_VALID if admitted else permit_rules.state_on(facts, match.today),
                               admitted=admitted,
                               message=None if admitted else permit_rules.refusal(facts, match.today))


@bp.get("/status")
@operation("Health check (also checks the database)",
           responses={200: ("OK", StatusResponse), 503: ("Database unreachable", None)})
def status():
    try:
        store().ping()
    except sa.exc.SQLAlchemyError as exc:
        log_failure(exc, 503)
        return jsonify(status="error", message="Database unreachable"), 503, {"Retry-After": str(RETRY_AFTER_SECONDS)}
    return jsonify(status="ok")


def garage_json(garage: stats_service.GarageOccupancy) -> dict[str, Any]:
    return GarageResponse(slug=garage.slug, name=garage.name, timezone=garage.timezone,
                          totalSpaces=garage.occupancy.total, occupied=garage.occupancy.occupied,
                          available=garage.occupancy.available, state=garage.state).model_dump()


@bp.get("/garages")
@autocommit
@operation("The garages the caller may see, with live occupancy: an admin's token every garage, "
           "anyone else's the garages of its scope where its owner holds a grant",
           roles=ANY_ACCOUNT, operator=True, responses={200: ("Garages, in the order they were created",
                                                               [GarageResponse])})
def list_garages():
    holder = g.holder
    board = (stats_service.garages_occupancy() if holder.admin else
             stats_service.garages_occupancy(holder.token_id, holder.actor.user_id))
    return jsonify([garage_json(garage) for garage in board])


@bp.post("/garages")
@operation("Create a garage with the default prices and rules (admins; audited)", roles=ADMINS, operator=True,
           body=GarageCreate,
           responses={201: ("The garage", GarageResponse), 409: ("A garage with this slug exists", None),
                      422: ("Bad slug, name, spaces or timezone", None)})
def create_garage(body: GarageCreate):
    created = garage_service.create_garage(g.actor, body.slug, body.name, body.totalSpaces, body.timezone)
    return jsonify(garage_json(stats_service.GarageOccupancy.of(created))), 201


@route("/garage/stats", "GET")
@autocommit
@operation("Garage statistics (today = the garage's local day)", roles=STAFF,
           responses={200: ("Statistics", GarageStatsResponse)})
def garage_stats():
    s = stats_service.garage_stats(current_garage())
    return jsonify(GarageStatsResponse(
        totalSpaces=s.occupancy.total, occupiedSpaces=s.occupancy.occupied,
        availableSpaces=s.occupancy.available,
        occupiedSpacesPercentage=s.occupancy.occupied_percent,
        availableSpacesPercentage=s.occupancy.available_percent,
        hourlyRate=minor_to_major(s.hourly_rate_cents), todaysRevenue=minor_to_major(s.today.revenue_cents),
        vehiclesProcessedToday=s.today.exits, averageStayTime=s.average_stay_hours,
    ).model_dump())


@route("/garage/occupancy", "GET")
@autocommit
@operation("Public occupancy for signage: no revenue, no plates. Without a token: the default garage; with one, "
           "on a path naming no garage: the token's garage",
           token_picks_garage=True,
           responses={200: ("Occupancy", OccupancyResponse)})
def garage_occupancy():
    public = stats_service.public_occupancy(current_garage())  # the same figures and state as the lobby screen
    occupancy = public.occupancy
    return jsonify(OccupancyResponse(
        total=occupancy.total, occupied=occupancy.occupied, available=occupancy.available,
        state=public.state, updatedAt=utcnow(), reservedSpaces=occupancy.reserved,
        permitOccupied=occupancy.permit_inside, permitAvailable=occupancy.permit_available,
    ).model_dump(mode="json"))


@route("/tickets", "POST")
@autocommit
@operation("Issue a ticket for an entering vehicle", body=TicketCreate, roles=STAFF, token_in_statement=True,
           params=[KEY_PARAMETER],
           responses={201: ("Ticket issued", TicketResponse),
                      400: (f"Malformed body: not JSON; {KEY_MALFORMED}", None),
                      409: (f"Garage full, or the plate is already inside; {KEY_CONFLICT}", None),
                      422: (f"Invalid field; {KEY_REUSED}", None), 503: (KEY_OUTAGE, None)})
@idempotent
def create_ticket(body: TicketCreate):
    """The busiest endpoint: the token is checked by the entry's own statement (without an Idempotency-Key)."""
    garage_id, caller = keyed_caller()
    ticket = ticket_service.issue_ticket(garage_id, body.licensePlate, body.vehicleType, caller,
                                         keep=keeper(201, ticket_json))
    return jsonify(ticket_json(ticket)), 201


@route("/tickets/<ticket_number>", "GET")
@autocommit
@operation("Look a ticket up by number (any case, with or without PS-)", roles=STAFF,
           responses={200: ("Ticket", TicketResponse), 404: ("No ticket with this number", None)})
def get_ticket(ticket_number: str):
    return jsonify(ticket_json(ticket_service.find_ticket(current_garage(), ticket_number)))


@route("/tickets/<ticket_number>/quote", "GET")
@autocommit
@operation("What an exit now would charge (same function as the charge)", roles=STAFF,
           params=[{"name": "lost", "in": "query", "required": False,
                    "schema": {"type": "boolean", "default": False},
                    "description": "quote a lost ticket (the lost-ticket fee applies)"},
                   {"name": "validationCode", "in": "query", "required": False,
                    "schema": {"type": "string", "maxLength": 64},
                    "description": "quote as if this merchant's code were given (nothing is written)"}],
           responses={200: ("Quote", QuoteResponse), 404: ("No ticket with this number, or no such code", None),
                      409: ("Already processed; a code that cannot validate it now", None),
                      422: ("Bad lost flag", None)})
def quote_ticket(ticket_number: str):
    lost = _flag("lost")
    ticket = ticket_service.find_ticket(current_garage(), ticket_number)
    if ticket.status != STATUS_ACTIVE:
        raise ApiError(409, _("Ticket has already been processed"))
    q, lines = ticket_service.quote_with_validations(ticket, lost=lost, code=request.args.get("validationCode"))
    return jsonify(quote_json(ticket.ticket_number, q, lines))


def quote_json(number: str, q, lines) -> dict[str, Any]:
    return QuoteResponse(ticketNumber=number, durationMinutes=q.duration_minutes, billableHours=q.billable_hours,
                         amountDue=q.amount_cents, timeFee=q.time_fee_cents, lostFee=q.lost_fee_cents, lost=q.lost,
                         discount=q.discount_cents,
                         validations=[ValidationLineResponse(program=line.name, discount=line.discount_cents)
                                      for line in lines], priceRule=q.rule).model_dump()


def _flag(name: str) -> bool:
    raw = request.args.get(name, "false").strip().lower()
    if raw in ("true", "1", "yes"):
        return True
    if raw in ("false", "0", "no", ""):
        return False
    raise ApiError(422, _("%(name)s must be true or false", name=name))


@route("/tickets/<ticket_number>/exit", "PUT")
@autocommit
@operation("Charge and close a ticket (exactly once)", body=ExitRequest, roles=STAFF, token_in_statement=True,
           params=[KEY_PARAMETER],
           responses={200: ("Completed ticket", TicketResponse), 404: ("No ticket with this number", None),
                      400: (f"Malformed body: not JSON; a path segment holds a control character; {KEY_MALFORMED}",
                            None),
                      409: ("Already processed, the quoted amount changed, or the garage takes payments only in an "
                            "open shift and the caller has none (\"Open a shift before taking payments\"); "
                            f"{KEY_CONFLICT}", None),
                      422: (f"Invalid field; {KEY_REUSED}", None), 503: (KEY_OUTAGE, None)})
@idempotent
def process_exit(ticket_number: str, body: ExitRequest):
    """The token is checked by the exit's own SELECT (without an Idempotency-Key)."""
    garage_id, caller = keyed_caller()
    ticket = ticket_service.process_exit(garage_id, ticket_number, body.paymentMethod, caller,
                                         expected_amount_cents=body.expectedAmount, lost=body.lost,
                                         validation_code=body.validationCode, keep=keeper(200, ticket_json))
    return jsonify(ticket_json(ticket))


@route("/tickets/<ticket_number>/validations", "POST")
@operation("Validate a car inside by a merchant's code (one validation per ticket unless the programs stack; the "
           "same code again changes nothing) → the quote with the discount", body=ValidateRequest, roles=STAFF,
           responses={201: ("The ticket's quote with its validations", QuoteResponse),
                      404: ("No ticket with this number, or no such code", None),
                      409: ("Not inside; the code is used, the program's cap reached or it is not valid today; "
                            "validated already", None)})
def validate_ticket(ticket_number: str, body: ValidateRequest):
    ticket = ticket_service.find_ticket(current_garage(), ticket_number)
    ticket = validation_service.validate_ticket(current_garage(), ticket, body.validationCode, g.actor)
    q, lines = ticket_service.quote_with_validations(ticket)
    return jsonify(quote_json(ticket.ticket_number, q, lines)), 201


def program_json(row: validation_service.ProgramRow) -> dict[str, Any]:
    p = row.program
    return ProgramResponse(
        id=p.id, name=p.name, merchant=p.merchant, kind=p.kind, value=p.value, terms=describe_validation(p.kind, p.value),
        validFrom=p.valid_from.isoformat() if p.valid_from else None,
        validUntil=p.valid_until.isoformat() if p.valid_until else None, usageCap=p.usage_cap, usedCount=p.used_count,
        stacks=p.stacks, active=p.active, codes=row.codes, codesUsed=row.codes_used).model_dump()


@route("/validations", "GET")
@operation("The garage's validation programs (managers)", roles=MANAGERS,
           responses={200: ("Programs, newest first", [ProgramResponse])})
def list_validations():
    return jsonify([program_json(row) for row in validation_service.list_programs(current_garage())])


@route("/validations", "POST")
@operation("Create a validation program with its codes (managers)", body=ProgramCreate, roles=MANAGERS,
           responses={201: ("The program", ProgramResponse), 409: ("A program of that name or a code exists", None),
                      422: ("Bad terms, dates or codes", None)})
def create_validation(body: ProgramCreate):
    program = validation_service.create_program(
        current_garage(), g.actor, name=body.name, merchant=body.merchant, kind=body.kind, value=body.value,
        valid_from=parse_date(body.validFrom, "validFrom") if body.validFrom else None,
        valid_until=parse_date(body.validUntil, "validUntil") if body.validUntil else None,
        usage_cap=body.usageCap, stacks=body.stacks, codes=body.codes, reusable=body.reusable)
    return jsonify(program_json(validation_service.ProgramRow(program, len(body.codes), 0))), 201


@route("/validations/report", "GET")
@operation("Per program: validated tickets paid in the period and the value given (what each merchant is billed)",
           roles=MANAGERS,
           params=[{"name": name, "in": "query", "required": False,
                    "schema": {"type": "string", "pattern": "^([0-9]{4}-[0-9]{2}-[0-9]{2})?$"},
                    "description": f"{name} local date, YYYY-MM-DD (blank or left out: the last 30 days)"}
                   for name in ("from", "to")],
           responses={200: ("Figures per program", [ProgramFiguresResponse]), 422: ("Bad dates", None)})
def validation_report():
    tz = settings_service.get_settings(current_garage()).timezone
    period = parse_period(request.args, local_today(utcnow(), tz))
    start, end = period.bounds(tz)
    return jsonify([ProgramFiguresResponse(programId=f.program_id, name=f.name, merchant=f.merchant, tickets=f.tickets,
                                           valueGiven=f.value_cents).model_dump()
                    for f in validation_service.report(current_garage(), start, end)])


@route("/tickets/<ticket_number>", "PATCH")
@operation("Correct a ticket's plate or vehicle type (typed wrong at the entry), with a reason: audited before/after. "
           "A car inside: either; a paid ticket: the plate only; a voided ticket: nothing", body=TicketCorrection,
           roles=STAFF,
           responses={200: ("The corrected ticket", TicketResponse), 404: ("No ticket with this number", None),
                      409: ("The plate is inside on another ticket, the ticket is voided or paid (vehicle type), "
                            "or it changed meanwhile", None), 422: ("Bad plate, type or reason; nothing to change", None)})
def correct_ticket(ticket_number: str, body: TicketCorrection):
    return jsonify(ticket_json(amendment_service.correct_ticket(
        current_garage(), ticket_number, g.actor, license_plate=body.licensePlate, vehicle_type=body.vehicleType,
        reason=body.reason)))


@route("/tickets/<ticket_number>/void", "POST")
@operation("Void a ticket issued by mistake (the car never entered): its space is freed, it is never revenue. "
           "Only a car inside; an attendant only within the garage's void window after the entry, later a manager",
           body=TicketVoid, roles=STAFF,
           responses={200: ("The voided ticket", TicketResponse), 403: ("Past the attendant's void window", None),
                      404: ("No ticket with this number", None), 409: ("Not active (paid or voided)", None),
                      422: ("No reason", None)})
def void_ticket(ticket_number: str, body: TicketVoid):
    return jsonify(ticket_json(amendment_service.void_ticket(
        current_garage(), ticket_number, g.actor, body.reason, manager=caller_role() == ROLE_MANAGER)))


@route("/tickets/<ticket_number>/refund", "POST")
@operation("Refund all or part of a ticket's payment in its own method (managers), with a reason; taken in the "
           "refunder's open shift, if any (a cash refund leaves that drawer)", body=RefundCreate, roles=MANAGERS,
           responses={201: ("The refund", RefundResponse), 404: ("No ticket with this number", None),
                      409: ("Not paid, refunded in full or meanwhile, or a cash refund without the shift the "
                            "garage requires", None), 422: ("Bad amount (more than is left) or no reason", None)})
def refund_ticket(ticket_number: str, body: RefundCreate):
    done = amendment_service.refund_ticket(current_garage(), ticket_number, g.actor, body.amountCents, body.reason)
    r, t = done.refund, done.ticket
    return jsonify(RefundResponse(
        id=r.id, ticketNumber=t.ticket_number, amountCents=r.amount_cents, paymentMethod=r.payment_method,
        reason=r.reason, refundedBy=g.actor.username, refundedAt=r.refunded_at, shiftId=r.shift_id,
        refundedTotalCents=t.refunded_cents, amountPaid=t.amount_paid or 0).model_dump(mode="json")), 201


@route("/activities", "GET")
@autocommit
@operation("Most recent entries and exits, newest first", roles=STAFF,
           params=[{"name": "limit", "in": "query", "required": False,
                    "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 10}}],
           responses={200: ("Activities", [ActivityResponse]), 422: ("Bad limit", None)})
def activities():
    raw = request.args.get("limit")  # absent: the default; present, it must be a number (blank too)
    limit = 10 if raw is None else parse_whole(raw, field="limit", minimum=1, maximum=100)
    rows = ticket_service.recent_activity(current_garage(), limit)
    return jsonify([ActivityResponse(
        id=t.id, ticketNumber=t.ticket_number, licensePlate=t.license_plate, entryTime=t.entry_time,
        exitTime=t.exit_time, durationMinutes=t.duration_minutes,
        amount=minor_to_major(t.amount_paid), status=t.status,
    ).model_dump(mode="json") for t in rows])


# API field → service keyword (the service validates every value).
SETTINGS_FIELDS = {"totalSpaces": "total_spaces", "hourlyRate": "hourly_rate", "vehicleRates": "vehicle_rates",
                   "graceMinutes": "grace_minutes", "dailyMaximum": "daily_max_cents",
                   "lostTicketFee": "lost_ticket_fee_cents", "lostTicketMode": "lost_ticket_mode",
                   "garageName": "garage_name", "timezone": "timezone",
                   "almostFullPercent": "almost_full_percent", "garageAddress": "garage_address",
                   "taxRateBasisPoints": "tax_rate_bp", "taxId": "tax_id",
                   "voidWindowMinutes": "void_window_minutes", "paymentsRequireShift": "payments_require_shift",
                   "reservedSpaces": "reserved_spaces", "permitPolicy": "permit_policy",
                   "permitMaxPlates": "permit_max_plates",
                   "ratePeriods": "rate_periods", "pricingChoice": "pricing_choice",
                   "currency": "currency", "locale": "locale", "language": "language",
                   "lobbyLanguage": "lobby_language", "legalName": "legal_name", "taxAdded": "tax_added"}


def settings_json() -> dict[str, Any]:
    s = settings_service.get_settings(current_garage())
    tariff = settings_service.current_tariff(current_garage())
    return SettingsResponse(
        totalSpaces=s.total_spaces, hourlyRate=s.hourly_rate, occupiedSpaces=s.occupied,
        timezone=s.timezone, vehicleRates=dict(tariff.vehicle_rates), graceMinutes=tariff.grace_minutes,
        dailyMaximum=tariff.daily_max_cents, lostTicketFee=tariff.lost_ticket_fee_cents,
        lostTicketMode=tariff.lost_ticket_mode, garageName=s.garage_name,
        almostFullPercent=s.almost_full_percent, garageAddress=s.garage_address,
        taxRateBasisPoints=s.tax_rate_bp, taxId=s.tax_id, rates=describe(tariff),
        voidWindowMinutes=s.void_window_minutes, paymentsRequireShift=s.payments_require_shift,
        reservedSpaces=s.reserved_spaces, permitPolicy=s.permit_policy, permitMaxPlates=s.permit_max_plates,
        ratePeriods=rate_periods.to_json_list(tariff.periods), pricingChoice=tariff.choice,
        currency=s.currency, locale=s.locale, language=s.language, lobbyLanguage=s.lobby_language,
        legalName=s.legal_name, taxAdded=s.tax_added,
    ).model_dump()


@route("/garage/settings", "GET")
@operation("Garage settings", roles=MANAGERS, responses={200: ("Settings", SettingsResponse)})
def get_garage_settings():
    return jsonify(settings_json())


@route("/garage/settings", "PUT")
@operation("Change settings and pricing rules (only the fields sent); applies to later exits",
           body=SettingsUpdate, roles=MANAGERS,
           responses={200: ("Settings", SettingsResponse),
                      409: ("Below the cars inside, or a new currency where payments are recorded", None)})
def put_garage_settings(body: SettingsUpdate):
    changes = {SETTINGS_FIELDS[name]: getattr(body, name) for name in body.model_fields_set}
    if "rate_periods" in changes:  # the domain checks the objects (and says which period is wrong)
        changes["rate_periods"] = [period.model_dump() for period in changes["rate_periods"]]
    settings_service.update_settings(current_garage(), g.actor, **changes)
    return jsonify(settings_json())


def shift_json(report: shift_service.ShiftReport) -> dict[str, Any]:
    shift = report.shift
    counted = report.counted
    return ShiftResponse(
        id=shift.id, status="open" if shift.closed_at is None else "closed", openedBy=shift.opened_by.username,
        openedAt=shift.opened_at, floatCents=shift.float_cents, closedAt=shift.closed_at,
        closedBy=shift.closed_by.username if shift.closed_by else None,
        totals=[MethodTotalResponse(paymentMethod=t.method, payments=t.payments, amountCents=t.cents)
                for t in report.totals],
        totalCents=report.total_cents, cashPaymentsCents=report.cash_payments_cents,
        cashRefundsCents=report.cash_refunds_cents, expectedCashCents=report.expected_cash_cents,
        countedCashCents=shift.counted_cash_cents,
        countedByDenomination=None if counted is None else {str(d): n for d, n in counted.items()},
        overShortCents=shift.over_short_cents,
    ).model_dump(mode="json")


def _shift_id(raw: str) -> int | None:
    """A shift's (or a permit's) id in a path: digits, else no such row at all (404 from the service)."""
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 10 else None


@route("/shifts", "POST")
@operation("Open the caller's shift at the garage with a starting float (one open shift per person per garage)",
           body=ShiftOpen, roles=STAFF,
           responses={201: ("The shift, open", ShiftResponse), 409: ("You already have an open shift here", None)})
def open_shift(body: ShiftOpen):
    return jsonify(shift_json(shift_service.open_shift(current_garage(), g.actor, body.floatCents))), 201


@route("/shifts/current", "GET")
@autocommit
@operation("The caller's open shift at the garage with its totals by method so far (the X report)", roles=STAFF,
           responses={200: ("The open shift", ShiftResponse), 404: ("You have no open shift here", None)})
def current_shift():
    return jsonify(shift_json(shift_service.current_shift(current_garage(), g.actor)))


@route("/shifts/<shift_id>", "GET")
@autocommit
@operation("A shift with its totals by method (its opener's, or any for a manager)", roles=STAFF,
           responses={200: ("The shift", ShiftResponse), 404: ("No such shift", None)})
def get_shift(shift_id: str):
    return jsonify(shift_json(shift_service.get_shift(current_garage(), _shift_id(shift_id), g.actor,
                                                      manager=caller_role() == ROLE_MANAGER)))


@route("/shifts/<shift_id>/close", "POST")
@operation("Close an open shift with the counted cash (a total, or per denomination): the expected cash "
           "(float + cash payments − cash refunds), the count and the over/short are recorded; later payments "
           "of its opener need a new shift", body=ShiftClose, roles=STAFF,
           responses={200: ("The shift, closed", ShiftResponse), 404: ("No such shift", None),
                      409: ("Already closed", None), 422: ("Bad count", None)})
def close_shift(shift_id: str, body: ShiftClose):
    return jsonify(shift_json(shift_service.close_shift(
        current_garage(), _shift_id(shift_id), g.actor, body.countedCashCents, body.countedByDenomination,
        manager=caller_role() == ROLE_MANAGER)))


def _camel(key: str) -> str:
    """A figure's key as the API names it: payments_refunded_cents → paymentsRefundedCents (a
    method after the colon kept as it is: revenue_cents:Cash → revenueCents:Cash)."""
    name, colon, method = key.partition(":")
    first, *rest = name.split("_")
    return first + "".join(part.capitalize() for part in rest) + colon + method


def close_json(view: close_service.CloseView) -> dict[str, Any]:
    return CloseResponse(
        date=view.day.isoformat(), timezone=view.timezone, closed=view.closed, closable=view.over and not view.closed,
        closedAt=view.closed_at, closedBy=view.closed_by, figures=view.figures.to_dict(),
        currentFigures=view.live.to_dict(),
        adjustments=[{"figure": _camel(a.figure), "label": a.label, "before": a.before, "after": a.after,
                      "difference": a.difference} for a in view.adjustments],
    ).model_dump(mode="json")


def _day(raw: str):
    """A date in a path (YYYY-MM-DD): anything else names no day (404, as any other path parameter)."""
    try:
        return parse_date(raw, "date")
    except InvalidInput as exc:
        raise NotFound(exc.message) from None


@route("/closes/<date>", "GET")
@autocommit
@operation("The end-of-day close of a local day of the garage (its timezone): the figures as closed, who "
           "closed it and when, and the after-close adjustments since; a day not closed yet: its figures now, "
           "closed=false", roles=MANAGERS,
           responses={200: ("The day", CloseResponse), 404: ("Not a date (YYYY-MM-DD, 2000-2100)", None)})
def get_close(date: str):
    return jsonify(close_json(close_service.get_close(current_garage(), _day(date))))


@route("/closes/<date>", "POST")
@operation("Close a local day of the garage that is over (its timezone): its figures are kept as they are "
           "now; later corrections to that day are shown as after-close adjustments", roles=MANAGERS,
           responses={201: ("The day, closed", CloseResponse), 404: ("Not a date (YYYY-MM-DD, 2000-2100)", None),
                      409: ("The day has not ended yet in the garage's timezone, or is closed already", None)})
def close_day(date: str):
    return jsonify(close_json(close_service.close_day(current_garage(), _day(date), g.actor))), 201


# --- monthly permits (issue 19) ------------------------------------------------------------------

def permit_json(row: permit_service.PermitRow) -> dict[str, Any]:
    p = row.permit
    return PermitResponse(id=p.id, number=permit_rules.number_of(p.id), holder=p.holder, contact=p.contact,
                          plates=[plate.license_plate for plate in p.plates], status=p.status, state=row.state,
                          validFrom=p.valid_from.isoformat(), validUntil=p.valid_until.isoformat(),
                          price=p.price_cents, carInside=row.inside).model_dump()


def _permit_row(permit_id: Any) -> permit_service.PermitRow:
    return permit_service.permit_row(current_garage(), _shift_id(permit_id) if isinstance(permit_id, str) else permit_id)


@route("/permits", "GET")
@operation("The garage's monthly permits (managers), by holder; search by holder, contact or plate",
           roles=MANAGERS,
           params=[{"name": "q", "in": "query", "required": False, "schema": {"type": "string", "maxLength": 80},
                    "description": "words of the holder or contact, or part of a plate"},
                   {"name": "status", "in": "query", "required": False,
                    "schema": {"type": "string", "enum": list(permit_service.FILTERS)},
                    "description": "all (default), valid today, expired, suspended, due (ending within 14 days)"},
                   {"name": "page", "in": "query", "required": False,
                    "schema": {"type": "integer", "minimum": 1, "maximum": 100000}}],
           responses={200: ("Permits", [PermitResponse]), 422: ("Bad status or page", None)})
def list_permits():
    page = parse_whole(request.args.get("page"), field="page", minimum=1, maximum=100_000, default=1, label="The page")
    found = permit_service.search_permits(current_garage(), request.args.get("q"),
                                          request.args.get("status", "all"), page)
    return jsonify([permit_json(row) for row in found.rows])


@route("/permits", "POST")
@operation("Sell a monthly permit (managers): its plates, period and price (revenue, with the payment method, in "
           "the seller's open shift if any; audited)", body=PermitCreate, roles=MANAGERS,
           responses={201: ("The permit", PermitResponse), 409: ("A plate is already on another permit", None),
                      422: ("Bad holder, plates, dates or price", None)})
def create_permit(body: PermitCreate):
    permit = permit_service.create_permit(
        current_garage(), g.actor, holder=body.holder, contact=body.contact, plates=body.plates,
        valid_from=parse_date(body.validFrom, "validFrom"), valid_until=parse_date(body.validUntil, "validUntil"),
        price_cents=body.price, payment_method=body.paymentMethod)
    return jsonify(permit_json(_permit_row(permit.id))), 201


@route("/permits/<permit_id>", "GET")
@operation("One permit (managers)", roles=MANAGERS,
           responses={200: ("The permit", PermitResponse), 404: ("No such permit at this garage", None)})
def get_permit(permit_id: str):
    return jsonify(permit_json(_permit_row(permit_id)))


@route("/permits/<permit_id>", "PATCH")
@operation("Change a permit's holder, contact, plates or status (suspend / reactivate), or correct its period "
           "(managers; audited before/after)", body=PermitUpdate, roles=MANAGERS,
           responses={200: ("The permit", PermitResponse), 404: ("No such permit at this garage", None),
                      409: ("A plate is already on another permit", None), 422: ("Bad field", None)})
def update_permit(permit_id: str, body: PermitUpdate):
    sent = body.model_dump(exclude_unset=True)
    names = {"holder": "holder", "contact": "contact", "plates": "plates", "status": "status",
             "validFrom": "valid_from", "validUntil": "valid_until"}
    changes = {names[k]: (parse_date(v, k) if k in ("validFrom", "validUntil") else v) for k, v in sent.items()}
    permit_service.update_permit(current_garage(), _shift_id(permit_id), g.actor, changes)
    return jsonify(permit_json(_permit_row(permit_id)))


@route("/permits/<permit_id>/renew", "POST")
@operation("Renew a permit (managers): from the day after its end (today if it has ended) for `months`, or to "
           "`validUntil`; paid (revenue, the seller's open shift) and audited", body=PermitRenew, roles=MANAGERS,
           responses={200: ("The permit", PermitResponse), 404: ("No such permit at this garage", None),
                      409: ("Renewed or changed meanwhile", None), 422: ("Bad months, date or price", None)})
def renew_permit(permit_id: str, body: PermitRenew):
    permit_service.renew_permit(
        current_garage(), _shift_id(permit_id), g.actor, price_cents=body.price, months=body.months,
        valid_until=parse_date(body.validUntil, "validUntil") if body.validUntil else None,
        payment_method=body.paymentMethod)
    return jsonify(permit_json(_permit_row(permit_id)))
