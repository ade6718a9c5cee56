"""Ticket rules: plates, vehicle types, payment methods, ticket and receipt numbers."""
from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Protocol

from .errors import InvalidInput

VEHICLE_TYPES: tuple[str, ...] = ("Car", "Standard Vehicle", "Compact Car", "SUV", "Motorcycle", "Van")
PAYMENT_METHODS: tuple[str, ...] = ("Cash", "Credit Card", "Debit Card", "Mobile Payment")
STATUS_ACTIVE = "active"
STATUS_COMPLETED = "completed"

PLATE_MAX = 12  # letters and digits: the plate's key
PLATE_TYPED_MAX = 40  # characters as typed, spaces and dashes included (the desk's field, the API's maxLength)
# The whole rule for a plate as typed: ASCII letters and digits, 1 to PLATE_MAX of them, with spaces and
# dashes anywhere. One expression in the dialect Python and JSON Schema (ECMA-262) share, so the API's
# schema publishes exactly this (garage/api/schemas.py); match it whole (fullmatch).
PLATE_PATTERN = rf"^[ -]*(?:[A-Za-z0-9][ -]*){{1,{PLATE_MAX}}}$"
_PLATE_CHARS = re.compile(r"[A-Za-z0-9 -]+")

# No 0/O, 1/I/L: a ticket read aloud or typed from paper cannot be mistaken.
TICKET_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
TICKET_PREFIX = "PS-"
TICKET_CODE_LENGTH = 6  # 31**6 ≈ 887 million codes; collisions are retried
_TICKET_RE = re.compile(rf"^{TICKET_PREFIX}[{TICKET_ALPHABET}]{{4,12}}$")


def clean_plate(raw: str | None) -> tuple[str, str]:
    """Return (plate as typed but trimmed, normalised key) or raise InvalidInput."""
    if raw is None or not raw.strip():
        raise InvalidInput("Enter a licence plate", field="licensePlate")
    if len(raw) > PLATE_TYPED_MAX:
        raise InvalidInput(f"A licence plate is at most {PLATE_TYPED_MAX} characters long", field="licensePlate")
    if not _PLATE_CHARS.fullmatch(raw):
        raise InvalidInput(
            "A licence plate may contain only letters, digits, spaces and dashes",
            field="licensePlate",
        )
    typed = " ".join(raw.split())
    key = re.sub(r"[^A-Za-z0-9]", "", typed).upper()
    if not key:
        raise InvalidInput("A licence plate needs at least one letter or digit", field="licensePlate")
    if len(key) > PLATE_MAX:
        raise InvalidInput(
            f"A licence plate has at most {PLATE_MAX} letters and digits", field="licensePlate"
        )
    return typed.upper(), key


def plate_key(raw: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", raw or "").upper()


def check_vehicle_type(value: str | None) -> str:
    if value not in VEHICLE_TYPES:
        raise InvalidInput(
            "Vehicle type must be one of: " + ", ".join(VEHICLE_TYPES), field="vehicleType"
        )
    return value


def check_payment_method(value: str | None) -> str:
    if value not in PAYMENT_METHODS:
        raise InvalidInput(
            "Payment method must be one of: " + ", ".join(PAYMENT_METHODS), field="paymentMethod"
        )
    return value


def new_ticket_number(length: int = TICKET_CODE_LENGTH) -> str:
    return TICKET_PREFIX + "".join(secrets.choice(TICKET_ALPHABET) for _ in range(length))


def normalise_ticket_number(raw: str | None) -> str | None:
    """Canonical ticket number for what was typed or scanned, or None.

    Accepts any case, surrounding spaces, and the number with or without
    the ``PS-`` prefix (scanners and people drop it).
    """
    if raw is None:
        return None
    text = raw.strip().upper().replace(" ", "")
    code = text[len(TICKET_PREFIX):] if text.startswith(TICKET_PREFIX) else text
    candidate = TICKET_PREFIX + code
    return candidate if _TICKET_RE.match(candidate) else None


# Receipt numbers: gap-free and sequential per garage, drawn when a ticket is paid, in the
# exit's own statement (garage/persistence: the settings row's receipt_seq). Shown R-000123.
RECEIPT_PREFIX = "R-"
RECEIPT_DIGITS = 6  # zero-padded to six digits; longer numbers simply grow


def format_receipt_number(number: int | None) -> str | None:
    """123 → "R-000123"; None (not paid, or paid before receipt numbers) → None."""
    return None if number is None else f"{RECEIPT_PREFIX}{number:0{RECEIPT_DIGITS}d}"


class TicketView(Protocol):
    """What pages and the API read of a ticket. The ORM row (garage.models.Ticket)
    and the entry's plain record (garage.persistence.IssuedTicket) both are one."""

    id: int
    ticket_number: str
    license_plate: str
    vehicle_type: str
    entry_time: datetime
    exit_time: datetime | None
    duration_minutes: int | None
    amount_paid: int | None
    status: str
    payment_method: str | None
    lost: bool
    lost_fee_cents: int | None
    receipt_number: int | None
