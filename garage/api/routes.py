"""Thin views: parse and validate, call a service, serialise."""
from __future__ import annotations

from functools import wraps
from typing import Any, Callable, TypeVar

import sqlalchemy as sa
from flask import current_app, g, jsonify, request
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import RequestEntityTooLarge

from ..domain.clock import utcnow
from ..domain.errors import DomainError, InvalidInput, Unauthenticated
from ..domain.pricing import describe
from ..extensions import db
from ..models import Ticket
from ..services import accounts, settings as settings_service, stats as stats_service
from ..services import tickets as ticket_service
from ..services.audit import TokenCaller
from ..web import autocommit, client_ip
from . import bp
from .openapi import document
from .schemas import (
    ActivityResponse, ExitRequest, GarageStatsResponse, OccupancyResponse, QuoteResponse,
    SettingsResponse, SettingsUpdate, StatusResponse, TicketCreate, TicketResponse,
)

STAFF = ("attendant", "manager")
MANAGER = ("manager",)
M = TypeVar("M", bound=BaseModel)


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    response = jsonify(message=exc.message)
    response.status_code = exc.status
    return response


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError):
    response = jsonify(message=exc.message)
    response.status_code = exc.status
    if isinstance(exc, Unauthenticated):
        response.headers["WWW-Authenticate"] = 'Bearer realm="garage"'
    return response


def caller(*roles: str) -> TokenCaller:
    """Who sends this request, as far as the request itself tells (no lookup yet)."""
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    hashed = accounts.token_hash(secret.strip()) if scheme.lower() == "bearer" else None
    return TokenCaller(hashed, roles, client_ip())


def require_token(*roles: str) -> Callable:
    """Bearer-token authentication; the token acts with its owner's role
    (401 without a live token, 403 for a role the endpoint does not admit)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any):
            g.actor = accounts.actor_for(caller(*roles))
            return view(*args, **kwargs)

        return wrapped

    return decorator


# What a request can be refused for before its caller is known; the entry and the exit
# check their token inside their own statement, so on these a stranger is told 401/403 first.
BODY_ERRORS = (ApiError, RequestEntityTooLarge)


def parse(model: type[M]) -> M:
    data = request.get_json(silent=True)
    if data is None:
        raise ApiError(400, "The request body must be a JSON object")
    if not isinstance(data, dict):
        raise ApiError(422, "The request body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ApiError(422, "; ".join(_describe(e) for e in exc.errors())) from None


def _describe(error: dict[str, Any]) -> str:
    where = ".".join(str(p) for p in error["loc"]) or "body"
    if error["type"] == "extra_forbidden":
        return f"{where}: unknown field"
    if error["type"] == "missing":
        return f"{where}: field required"
    return f"{where}: {error['msg']}"


def ticket_json(t: Ticket | ticket_service.IssuedTicket) -> dict[str, Any]:
    return TicketResponse(
        id=t.id, ticketNumber=t.ticket_number, licensePlate=t.license_plate,
        vehicleType=t.vehicle_type, entryTime=t.entry_time, exitTime=t.exit_time,
        durationMinutes=t.duration_minutes, amountPaid=t.amount_paid, status=t.status,
        paymentMethod=t.payment_method, lost=bool(t.lost), lostFee=t.lost_fee_cents,
    ).model_dump(mode="json")


@bp.get("/status")
@document("Health check (also checks the database)",
          responses={200: ("OK", StatusResponse), 503: ("Database unreachable", None)})
def status():
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        current_app.logger.exception("status: database check failed")
        return jsonify(status="error", message="Database unreachable"), 503
    return jsonify(status="ok")


@bp.get("/garage/stats")
@autocommit
@require_token(*STAFF)
@document("Garage statistics (today = the garage's local day)", roles=STAFF,
          responses={200: ("Statistics", GarageStatsResponse), 401: ("No credentials", None),
                     403: ("Wrong role", None)})
def garage_stats():
    s = stats_service.garage_stats()
    return jsonify(GarageStatsResponse(
        totalSpaces=s.occupancy.total, occupiedSpaces=s.occupancy.occupied,
        availableSpaces=s.occupancy.available,
        occupiedSpacesPercentage=s.occupancy.occupied_percent,
        availableSpacesPercentage=s.occupancy.available_percent,
        hourlyRate=s.hourly_rate_cents / 100, todaysRevenue=s.today.revenue_cents / 100,
        vehiclesProcessedToday=s.today.exits, averageStayTime=s.average_stay_hours,
    ).model_dump())


@bp.get("/garage/occupancy")
@autocommit
@document("Public occupancy for signage: no revenue, no plates",
          responses={200: ("Occupancy", OccupancyResponse)})
def garage_occupancy():
    public = stats_service.public_occupancy()  # the same figures and state as the lobby screen
    occupancy = public.occupancy
    return jsonify(OccupancyResponse(
        total=occupancy.total, occupied=occupancy.occupied, available=occupancy.available,
        state=public.state, updatedAt=utcnow(),
    ).model_dump(mode="json"))


@bp.post("/tickets")
@autocommit
@document("Issue a ticket for an entering vehicle", body=TicketCreate, roles=STAFF,
          responses={201: ("Ticket issued", TicketResponse), 400: ("Malformed body", None),
                     409: ("Garage full, or the plate is already inside", None),
                     422: ("Invalid field", None)})
def create_ticket():
    """The busiest endpoint: the token is checked by the entry's own statement
    (issue_ticket with a TokenCaller), not by require_token's extra query."""
    who = caller(*STAFF)
    try:
        body = parse(TicketCreate)
        ticket = ticket_service.issue_ticket(body.licensePlate, body.vehicleType, who)
    except (*BODY_ERRORS, InvalidInput):
        accounts.actor_for(who)  # a stranger gets 401/403, never the rules of the body or its fields
        raise
    return jsonify(ticket_json(ticket)), 201


@bp.get("/tickets/<ticket_number>")
@autocommit
@require_token(*STAFF)
@document("Look a ticket up by number (any case, with or without PS-)", roles=STAFF,
          responses={200: ("Ticket", TicketResponse), 404: ("Not found", None)})
def get_ticket(ticket_number: str):
    return jsonify(ticket_json(ticket_service.find_ticket(ticket_number)))


@bp.get("/tickets/<ticket_number>/quote")
@autocommit
@require_token(*STAFF)
@document("What an exit now would charge (same function as the charge)", roles=STAFF,
          params=[{"name": "lost", "in": "query", "required": False,
                   "schema": {"type": "boolean", "default": False},
                   "description": "quote a lost ticket (the lost-ticket fee applies)"}],
          responses={200: ("Quote", QuoteResponse), 404: ("Not found", None),
                     409: ("Already processed", None), 422: ("Bad lost flag", None)})
def quote_ticket(ticket_number: str):
    lost = _flag("lost")
    ticket = ticket_service.find_ticket(ticket_number)
    if ticket.status != "active":
        raise ApiError(409, "Ticket has already been processed")
    q = ticket_service.quote_for(ticket, lost=lost)
    return jsonify(QuoteResponse(ticketNumber=ticket.ticket_number, durationMinutes=q.duration_minutes,
                                 billableHours=q.billable_hours, amountDue=q.amount_cents,
                                 timeFee=q.time_fee_cents, lostFee=q.lost_fee_cents,
                                 lost=q.lost).model_dump())


def _flag(name: str) -> bool:
    raw = request.args.get(name, "false").strip().lower()
    if raw in ("true", "1", "yes"):
        return True
    if raw in ("false", "0", "no", ""):
        return False
    raise ApiError(422, f"{name} must be true or false")


@bp.put("/tickets/<ticket_number>/exit")
@autocommit
@document("Charge and close a ticket (exactly once)", body=ExitRequest, roles=STAFF,
          responses={200: ("Completed ticket", TicketResponse), 400: ("Malformed body", None),
                     404: ("Not found", None),
                     409: ("Already processed, or the quoted amount changed", None),
                     422: ("Invalid field", None)})
def process_exit(ticket_number: str):
    """The token is checked by the exit's own SELECT (process_exit with a
    TokenCaller), not by require_token's extra query."""
    who = caller(*STAFF)
    try:
        body = parse(ExitRequest)
    except BODY_ERRORS:
        accounts.actor_for(who)  # a stranger gets 401/403, never the rules (or size) of the body
        raise
    ticket = ticket_service.process_exit(ticket_number, body.paymentMethod, who,
                                         expected_amount_cents=body.expectedAmount, lost=body.lost)
    return jsonify(ticket_json(ticket))


@bp.get("/activities")
@autocommit
@require_token(*STAFF)
@document("Most recent entries and exits, newest first", roles=STAFF,
          params=[{"name": "limit", "in": "query", "required": False,
                   "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 10}}],
          responses={200: ("Activities", [ActivityResponse]), 422: ("Bad limit", None)})
def activities():
    raw = request.args.get("limit", "10")
    try:
        limit = int(raw)
    except ValueError:
        raise ApiError(422, "limit must be a whole number from 1 to 100") from None
    if not 1 <= limit <= 100:
        raise ApiError(422, "limit must be a whole number from 1 to 100")
    rows = ticket_service.recent_activity(limit)
    return jsonify([ActivityResponse(
        id=t.id, ticketNumber=t.ticket_number, licensePlate=t.license_plate, entryTime=t.entry_time,
        exitTime=t.exit_time, durationMinutes=t.duration_minutes,
        amount=None if t.amount_paid is None else t.amount_paid / 100, status=t.status,
    ).model_dump(mode="json") for t in rows])


# API field → service keyword (the service validates every value).
SETTINGS_FIELDS = {"totalSpaces": "total_spaces", "hourlyRate": "hourly_rate", "vehicleRates": "vehicle_rates",
                   "graceMinutes": "grace_minutes", "dailyMaximum": "daily_max_cents",
                   "lostTicketFee": "lost_ticket_fee_cents", "lostTicketMode": "lost_ticket_mode",
                   "garageName": "garage_name", "timezone": "timezone",
                   "almostFullPercent": "almost_full_percent"}


def settings_json() -> dict[str, Any]:
    s = settings_service.get_settings()
    tariff = settings_service.current_tariff()
    return SettingsResponse(
        totalSpaces=s.total_spaces, hourlyRate=s.hourly_rate, occupiedSpaces=s.occupied,
        timezone=s.timezone, vehicleRates=dict(tariff.vehicle_rates), graceMinutes=tariff.grace_minutes,
        dailyMaximum=tariff.daily_max_cents, lostTicketFee=tariff.lost_ticket_fee_cents,
        lostTicketMode=tariff.lost_ticket_mode, garageName=s.garage_name,
        almostFullPercent=s.almost_full_percent, rates=describe(tariff),
    ).model_dump()


@bp.get("/garage/settings")
@require_token(*MANAGER)
@document("Garage settings", roles=MANAGER, responses={200: ("Settings", SettingsResponse)})
def get_garage_settings():
    return jsonify(settings_json())


@bp.put("/garage/settings")
@require_token(*MANAGER)
@document("Change settings and pricing rules (only the fields sent); applies to later exits",
          body=SettingsUpdate, roles=MANAGER,
          responses={200: ("Settings", SettingsResponse), 409: ("Below the cars inside", None),
                     422: ("Invalid field", None)})
def put_garage_settings():
    body = parse(SettingsUpdate)
    changes = {SETTINGS_FIELDS[name]: getattr(body, name) for name in body.model_fields_set}
    settings_service.update_settings(g.actor, **changes)
    return jsonify(settings_json())
