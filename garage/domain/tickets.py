"""Ticket rules: plates, vehicle types, payment methods, ticket and receipt numbers."""
from __future__ import annotations

import re
import secrets
import unicodedata
from datetime import datetime
from typing import Protocol

from .errors import InvalidInput
from .words import N_, Text, _

# The stored values are these English keys; a page shows them translated ({{ _(vehicle_type) }}).
VEHICLE_TYPES: tuple[str, ...] = (N_("Car"), N_("Standard Vehicle"), N_("Compact Car"), N_("SUV"),
                                  N_("Motorcycle"), N_("Van"))
PAYMENT_METHODS: tuple[str, ...] = (N_("Cash"), N_("Credit Card"), N_("Debit Card"), N_("Mobile Payment"))
# Recorded, never chosen: a car with nothing to pay (inside the grace period, validated to zero) is let
# out with no payment, so no drawer or card total counts it (a permit car's is permits.PERMIT_METHOD).
NO_CHARGE_METHOD = N_("No charge")
STATUS_ACTIVE = "active"
STATUS_COMPLETED = "completed"
STATUS_VOIDED = "voided"  # issued by mistake, the car never entered (garage/domain/amendments.py)
STATUSES: tuple[str, ...] = (STATUS_ACTIVE, STATUS_COMPLETED, STATUS_VOIDED)

PLATE_MAX = 12  # letters and digits: the plate's key (characters, not bytes: the column is VARCHAR(12))
PLATE_TYPED_MAX = 40  # characters as typed and as stored, separators included (the desk's field, the API's maxLength)
# What the API's schema publishes (garage/api/schemas.py): a superset of the rule below, in the dialect
# Python and JSON Schema (ECMA-262) share: no control characters. Everything clean_plate accepts matches
# it and everything it refuses the rule refuses too; the rule itself (Unicode normalisation, scripts,
# look-alikes) is more than a regular expression can say, so the API answers its refusals with 422 and
# the rule's own message.
PLATE_PATTERN = r"^[^\x00-\x1F\x7F-\x9F]+$"

# Plate normalisation (docs/desk.md, "Plates"): NFKC (full-width and compatibility forms become the
# ordinary letter or digit), then each letter to its one capital. Allowed: digits 0-9 and capital
# letters of the Latin script, with their diacritics (Ä, Ø, Å, Č, Ł, Ş, ...): distinct letters stay
# distinct (MÜ is not MU). Letters of other scripts are refused by name: a Cyrillic А or a Greek Α looks
# like the Latin A, and one plate typed both ways would give two keys for one car.
# Separators (dropped from the key, kept in the plate as shown): spaces, dashes and dots.
# Same-looking capitals within the Latin script fold to one letter, and a letter whose capital is two
# letters keeps one: ß and ẞ are ẞ (not SS), the Turkish İ is I (no plate tells İ from I), Ð (eth) and
# Ɖ (African D) are Đ.
_FOLD = {"ß": "ẞ", "İ": "I", "Ð": "Đ", "Ɖ": "Đ"}
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212"  # what keyboards and phones make of "-"
_SEPARATORS = " ." + _DASHES
PLATE_LETTERS_MESSAGE = _("A licence plate may contain only letters, digits, spaces, dashes and dots "
                          "(Latin letters A-Z, also with accents such as Ä, Ø or Č)")
NOTHING_TO_FIND = _("Type letters or digits of the plate")
# The scripts a refused letter is most likely from, named in the reader's language (others: in English).
# German reads "А ist ein kyrillischer Buchstabe": the names are translated as the adjective that fits there.
SCRIPT_NAMES = {"Cyrillic": N_("Cyrillic"), "Greek": N_("Greek"), "Arabic": N_("Arabic"), "Hebrew": N_("Hebrew"),
                "Armenian": N_("Armenian"), "Georgian": N_("Georgian")}


def _plate_char(ch: str) -> str | None:
    """The key character of one NFKC character: a digit 0-9 or a Latin capital letter; None otherwise."""
    if "0" <= ch <= "9":
        return ch
    capital = ch.upper() if ch not in _FOLD else _FOLD[ch]
    capital = _FOLD.get(capital, capital)
    if len(capital) != 1 or unicodedata.category(capital) != "Lu":
        return None
    return capital if unicodedata.name(capital, "").startswith("LATIN CAPITAL ") else None


def _script(ch: str) -> str | None:
    """"Cyrillic", "Greek", ... for a letter of another script than Latin, else None."""
    if not unicodedata.category(ch).startswith("L"):
        return None
    word = unicodedata.name(ch, "").split(" ")[0]
    return word.title() if word and word != "LATIN" else None


def clean_plate(raw: str | None) -> tuple[str, str]:
    """Return (plate as shown: normalised, separators kept; normalised key) or raise InvalidInput."""
    if raw is None or not raw.strip():
        raise InvalidInput(_("Enter a licence plate"), field="licensePlate")
    if len(raw) > PLATE_TYPED_MAX:
        raise InvalidInput(_too_long(), field="licensePlate")
    shown: list[str] = []
    for ch in unicodedata.normalize("NFKC", raw):
        if ch.isspace() and ch.isprintable() or ch == " ":
            shown.append(" ")
        elif ch in _SEPARATORS:
            shown.append("-" if ch in _DASHES else ch)
        elif (capital := _plate_char(ch)) is not None:
            shown.append(capital)
        elif (script := _script(ch)) is not None:
            raise InvalidInput(_("Type the plate in Latin letters: %(letter)s is a %(script)s letter",
                                 letter=ch, script=Text(SCRIPT_NAMES.get(script, script))), field="licensePlate")
        else:
            raise InvalidInput(PLATE_LETTERS_MESSAGE, field="licensePlate")
    typed = " ".join("".join(shown).split())
    key = "".join(ch for ch in typed if ch not in _SEPARATORS)
    if not key:
        raise InvalidInput(_("A licence plate needs at least one letter or digit"), field="licensePlate")
    if len(key) > PLATE_MAX:
        raise InvalidInput(_("A licence plate has at most %(max)d letters and digits", max=PLATE_MAX),
                           field="licensePlate")
    if len(typed) > PLATE_TYPED_MAX:
        raise InvalidInput(_too_long(), field="licensePlate")
    return typed, key


def _too_long() -> Text:
    return _("A licence plate is at most %(max)d characters long", max=PLATE_TYPED_MAX)


def plate_key(raw: str | None) -> str:
    """The key of a plate for a search: what clean_plate would make of its letters and digits,
    everything else left out. Empty when nothing of it can be part of a plate (NOTHING_TO_FIND)."""
    return "".join(ch for ch in map(_plate_char, unicodedata.normalize("NFKC", raw or "")) if ch is not None)


# No 0/O, 1/I/L: a ticket read aloud or typed from paper cannot be mistaken.
TICKET_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
TICKET_PREFIX = "PS-"
TICKET_CODE_LENGTH = 6  # 31**6 ≈ 887 million codes; collisions are retried
_TICKET_RE = re.compile(rf"^{TICKET_PREFIX}[{TICKET_ALPHABET}]{{4,12}}$")
# A ticket number inside a message ("... already inside on ticket PS-9EB9RV"): kept on one line when shown.
TICKET_NUMBER_IN_TEXT = re.compile(rf"\b{TICKET_PREFIX}[{TICKET_ALPHABET}]{{4,12}}\b")
# Exactly what a scanner types from a printed ticket: the plate field is where the cursor rests, so a
# ticket scanned there arrives as a "plate" of this shape (issue 15). Real plates can look alike
# (German "PS-AB 123"): the shape alone never refuses a plate, only together with an existing ticket.
# Also the desk's plate field's data-scanned-ticket (static/js/desk-pay.js): the same rule in the browser.
SCANNED_TICKET_PATTERN = rf"^{TICKET_PREFIX}[{TICKET_ALPHABET}]{{{TICKET_CODE_LENGTH}}}$"
_SCANNED_TICKET_RE = re.compile(SCANNED_TICKET_PATTERN)


def check_vehicle_type(value: str | None) -> str:
    if value not in VEHICLE_TYPES:
        raise InvalidInput(_("Vehicle type must be one of: %(types)s", types=", ".join(VEHICLE_TYPES)),
                           field="vehicleType")
    return value


def check_payment_method(value: str | None) -> str:
    if value not in PAYMENT_METHODS:
        raise InvalidInput(_("Payment method must be one of: %(methods)s", methods=", ".join(PAYMENT_METHODS)),
                           field="paymentMethod")
    return value


def recorded_method(sent: str | None, amount_cents: int, permit_method: str | None) -> str:
    """The payment method an exit records: nothing to pay → no payment was taken, whatever was sent
    (`permit_method` for a permit car, else NO_CHARGE_METHOD); something to pay → the method sent,
    one of PAYMENT_METHODS (InvalidInput otherwise, none sent included)."""
    if amount_cents == 0:
        return permit_method or NO_CHARGE_METHOD
    return check_payment_method(sent)


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


# A scan typed after text already in the look-up field (the attendant tapped into it, so the caret sat at
# the end instead of the text being selected): the printed number the text ends with.
_APPENDED_SCAN_RE = re.compile(rf"(?<=.){TICKET_PREFIX}[{TICKET_ALPHABET}]{{{TICKET_CODE_LENGTH}}}$")


def appended_scan(typed: str | None) -> str | None:
    """The ticket number a scanner typed after other text (``"PS-7XK2MPPS-9EB9RV"`` → ``"PS-9EB9RV"``);
    None when the text does not end with one after something else. Tried only when the text as typed
    finds nothing (services.tickets.find_active): a plate or number that exists always wins."""
    match = _APPENDED_SCAN_RE.search((typed or "").strip().upper())
    return match.group(0) if match else None


def looks_like_ticket_number(typed: str) -> bool:
    """True when a plate (as clean_plate shows it) has exactly the shape of a printed ticket number."""
    return _SCANNED_TICKET_RE.match(typed) is not None


def scanned_ticket_message(number: str) -> Text:
    return _("%(number)s is a ticket number: look it up under Exit & payment", number=number)


# An entry sent again: the same person's entry of a plate already inside on the ticket they issued it
# moments ago (a second tap, a browser resending a form post whose answer was lost) is that entry, not a
# second car: the desk shows the ticket it got instead of refusing it (the API has Idempotency-Key).
RESENT_ENTRY_SECONDS = 30


def is_resent_entry(inside: TicketView, user_id: int | None, vehicle_type: str, now: datetime) -> bool:
    """`inside`, the active ticket an entry of its plate (and `vehicle_type`) was refused for: issued by
    `user_id` for the same vehicle type at most RESENT_ENTRY_SECONDS before `now` (not later: a clock step
    back is no resend). Another vehicle type is not the same entry: the attendant is told the car is
    inside (and corrects its ticket), rather than shown a ticket of the type they did not pick."""
    if user_id is None or getattr(inside, "issued_by_id", None) != user_id or inside.status != STATUS_ACTIVE:
        return False
    if inside.vehicle_type != vehicle_type:
        return False
    return 0 <= (now - inside.entry_time).total_seconds() <= RESENT_ENTRY_SECONDS


def resent_entry_message(plate: str, number: str) -> Text:
    return _("%(plate)s was already issued ticket %(number)s just now: no second ticket.", plate=plate, number=number)


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
    refunded_cents: int
    void_reason: str | None
