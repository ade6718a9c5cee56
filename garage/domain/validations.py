"""Merchant validations (issue 18): a program a garage runs with a merchant ("Cinema": the first
3 hours free), the codes the merchant hands out, and what a validation takes off a fee. Pure Python.

A program's **kind** and **value**:

- ``free_minutes``: the first N minutes are free: the time fee is that of the stay less N minutes
  (the grace period and the daily maximum apply to what is left, as to any stay);
- ``flat_price``: the time fee is at most V cents;
- ``amount_off``: V cents off the time fee;
- ``percent_off``: V % off the time fee (rounded to the nearest cent, halves up).

Validations take off the **time fee** only (a lost ticket's fee is never validated away) and never
below zero. A ticket has one validation unless every program on it stacks; stacked, they apply in
the order above (free minutes, then a flat price, then amounts, then percentages), each to what the
previous left. The discount is its own line on the quote and the receipt; the quote still equals
the charge (the exit computes it with the same function).

Validity: a program is valid from ``valid_from`` to ``valid_until`` (local dates of the garage,
inclusive; either may be open), while active, and until its usage cap is reached. A code is
single-use or reusable; the database counts uses with conditional UPDATEs (services/validations.py).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, Sequence

from . import pricing
from .errors import Conflict, InvalidInput, NotFound
from .money import format_money
from .words import N_, Text, _, n_

FREE_MINUTES, FLAT_PRICE, AMOUNT_OFF, PERCENT_OFF = "free_minutes", "flat_price", "amount_off", "percent_off"
KINDS: tuple[str, ...] = (FREE_MINUTES, FLAT_PRICE, AMOUNT_OFF, PERCENT_OFF)  # also the order they apply in
KIND_LABELS = {FREE_MINUTES: N_("First minutes free"), FLAT_PRICE: N_("Flat price"), AMOUNT_OFF: N_("Amount off"),
               PERCENT_OFF: N_("Percent off")}  # shown translated: {{ _(kinds[kind]) }}
MAX_VALUE = {FREE_MINUTES: 7 * 24 * 60, FLAT_PRICE: 1_000_000, AMOUNT_OFF: 1_000_000, PERCENT_OFF: 100}
NAME_MAX = 80
CODE_MIN, CODE_MAX = 3, 40
MAX_CAP = 10_000_000

NO_SUCH_CODE = _("No validation has that code here")
CODE_USED = _("This validation code has been used already (it is single-use)")
CAP_REACHED = _("This validation program has validated as many tickets as it may")
NOT_STACKING = _("This ticket is validated already (one validation per ticket unless both programs stack)")
VALIDATED_ALREADY = _("This ticket is validated by that program already")


@dataclass(frozen=True)
class Terms:
    """What a program gives: its name (the quote's line), kind and value."""

    program_id: int
    name: str
    kind: str
    value: int
    stacks: bool = False


def code_key(raw: Any) -> str:
    """A code as stored and matched: its ASCII letters and digits, upper case; anything else typed or
    scanned around them is ignored ("cin-2026 ab" → "CIN2026AB")."""
    return "".join(ch for ch in raw if ch.isascii() and ch.isalnum()).upper() if isinstance(raw, str) else ""


def check_code(raw: Any, field: str = "code") -> str:
    key = code_key(raw)
    if not CODE_MIN <= len(key) <= CODE_MAX:
        raise InvalidInput(_("A validation code has %(min)d to %(max)d letters and digits (A–Z, 0–9)",
                             min=CODE_MIN, max=CODE_MAX), field=field)
    return key


def find_code(raw: Any, field: str = "validationCode") -> str:
    """A code typed or scanned at the exit: its key, or NotFound (nothing of a code in it)."""
    key = code_key(raw)
    if not CODE_MIN <= len(key) <= CODE_MAX:
        raise NotFound(NO_SUCH_CODE, field=field)
    return key


def check_program(name: Any, kind: Any, value: Any, valid_from: date | None, valid_until: date | None,
                  usage_cap: Any) -> dict[str, Text]:
    """Problems with a program's terms (empty: none), keyed by field."""
    errors: dict[str, Text] = {}
    if not isinstance(name, str) or not name.strip():
        errors["name"] = _("Give the program a name (e.g. Cinema)")
    elif len(name.strip()) > NAME_MAX or not name.strip().isprintable():
        errors["name"] = _("The name has at most %(max)d printable characters", max=NAME_MAX)
    if kind not in KINDS:
        errors["kind"] = _("Choose what the validation gives: first minutes free, flat price, amount off, percent off")
    elif isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_VALUE[kind]:
        errors["value"] = _value_range(kind)
    if valid_from and valid_until and valid_until < valid_from:
        errors["valid_until"] = _("The last valid day is before the first")
    if usage_cap is not None and (isinstance(usage_cap, bool) or not isinstance(usage_cap, int)
                                  or not 1 <= usage_cap <= MAX_CAP):
        errors["usage_cap"] = _("The usage cap: a whole number of tickets from 1 to %(max)s (or none)",
                                max=format(MAX_CAP, ","))
    return errors


def _value_range(kind: str) -> Text:
    """What a program's value may be, for its kind."""
    if kind == FREE_MINUTES:
        return _("Free minutes: a whole number from 1 to %(max)d", max=MAX_VALUE[FREE_MINUTES])
    if kind == FLAT_PRICE:
        return _("The flat price: from %(min)s to %(max)s", min=format_money(1),
                 max=format_money(MAX_VALUE[FLAT_PRICE]))
    if kind == AMOUNT_OFF:
        return _("The amount off: from %(min)s to %(max)s", min=format_money(1),
                 max=format_money(MAX_VALUE[AMOUNT_OFF]))
    return _("The percentage off: a whole number from 1 to %(max)d", max=MAX_VALUE[PERCENT_OFF])


def valid_on(day: date, active: bool, valid_from: date | None, valid_until: date | None) -> Text | None:
    """Why a program cannot validate on this local day (None: it can)."""
    if not active:
        return _("This validation program has ended")
    if valid_from and day < valid_from:
        return _("This validation program starts on %(day)s", day=valid_from.isoformat())
    if valid_until and day > valid_until:
        return _("This validation program ended on %(day)s", day=valid_until.isoformat())
    return None


def may_add(existing: Sequence[Terms], new: Terms) -> None:
    """Refuse a second validation of a ticket unless both (every one on it) stack."""
    if any(t.program_id == new.program_id for t in existing):
        raise Conflict(VALIDATED_ALREADY, field="validationCode")
    if existing and not (new.stacks and all(t.stacks for t in existing)):
        raise Conflict(NOT_STACKING, field="validationCode")


def _percent(cents: int, percent: int) -> int:
    return (cents * percent * 2 + 100) // 200  # nearest cent, halves up


@dataclass(frozen=True)
class Line:
    """A validation's line on a quote or receipt: its program's name and what it took off."""

    program_id: int
    name: str
    discount_cents: int


def apply(base: pricing.Quote, terms: Sequence[Terms], entry: datetime, exit: datetime,
          tariff: pricing.Tariff, vehicle_type: str | None = None) -> tuple[pricing.Quote, tuple[Line, ...]]:
    """The quote with the validations taken off its time fee (in KINDS' order), and a line each."""
    fee = base.time_fee_cents
    lines = []
    for t in sorted(terms, key=lambda t: (KINDS.index(t.kind), t.program_id)):
        if t.kind == FREE_MINUTES:
            later = entry + timedelta(minutes=t.value)
            shorter = pricing.quote(later, exit, tariff, vehicle_type).time_fee_cents if exit > later else 0
            left = min(fee, shorter)
        elif t.kind == FLAT_PRICE:
            left = min(fee, t.value)
        elif t.kind == AMOUNT_OFF:
            left = max(0, fee - t.value)
        else:
            left = fee - _percent(fee, t.value)
        lines.append(Line(t.program_id, t.name, fee - left))
        fee = left
    discount = base.time_fee_cents - fee
    return replace(base, amount_cents=base.amount_cents - discount, discount_cents=discount), tuple(lines)


def describe(kind: str, value: int) -> Text:
    """A program's terms in words: "First 180 minutes free", "$5.00 off", "Pays $8.00", "20% off"."""
    if kind == FREE_MINUTES:
        return n_("First %(num)d minute free", "First %(num)d minutes free", value)
    if kind == FLAT_PRICE:
        return _("Pays %(amount)s", amount=format_money(value))
    if kind == AMOUNT_OFF:
        return _("%(amount)s off", amount=format_money(value))
    return _("%(percent)d%% off", percent=value)
