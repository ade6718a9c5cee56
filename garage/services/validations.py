"""Merchant validations (issue 18): programs and their codes (managers), validating a ticket by a
code (the desk, the exit), the fee with its validations, and the report merchants are billed from.
The rules are garage/domain/validations.py.

Validating is one audited transaction of conditional UPDATEs, in the exit's lock order (the ticket
first): the ticket's count of validations (only while it is active, and only from the count read:
a validation racing another, or an exit, lands or is refused), the code's uses (single-use: at most
one, the database checks it) and the program's (its usage cap, checked by the database too). The
exit writes what each validation took off in its own statement and only if the ticket still has the
validations it priced with (garage/persistence: `CLOSE`)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ..domain import pricing, validations as rules
from ..domain.clock import local_today, utcnow
from ..domain.errors import Conflict, InvalidInput, NotFound
from ..domain.tickets import STATUS_ACTIVE, STATUS_COMPLETED
from ..domain.words import _
from ..extensions import db
from ..identity import Actor
from ..models import Garage, Ticket, TicketValidation, ValidationCode, ValidationProgram
from ..persistence import commit_keeping_loaded, store, within
from . import audit, listed

ONLY_INSIDE = _("Only the ticket of a car inside can be validated")
CHANGED_MEANWHILE = _("This ticket changed meanwhile (paid, voided or validated at another desk): look it up again")


class InvalidProgram(InvalidInput):
    """One or more of a program's terms are invalid; ``errors`` maps each field to its message."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__(listed(self.errors.values()), field=next(iter(self.errors)))


TERMS_OF_TICKET = (
    sa.select(TicketValidation.id, TicketValidation.code_id, ValidationProgram.id, ValidationProgram.name,
              ValidationProgram.kind, ValidationProgram.value, ValidationProgram.stacks)
    .join(ValidationProgram, ValidationProgram.id == TicketValidation.program_id)
    .where(TicketValidation.garage_id == sa.bindparam("garage_id"),
           TicketValidation.ticket_id == sa.bindparam("ticket_id"))
    .order_by(TicketValidation.id))


@dataclass(frozen=True)
class OnTicket:
    """A validation on a ticket: its row, the code it was given by, and its program's terms."""

    id: int
    code_id: int
    terms: rules.Terms


def on_ticket(ticket: Ticket) -> list[OnTicket]:
    """The ticket's validations (no statement for a ticket without any: the common case)."""
    if not getattr(ticket, "validations", 0):
        return []
    return [OnTicket(row_id, code_id, rules.Terms(pid, name, kind, value, stacks))
            for row_id, code_id, pid, name, kind, value, stacks in db.session.execute(
                TERMS_OF_TICKET, {"garage_id": ticket.garage_id, "ticket_id": ticket.id})]


def priced(ticket: Ticket, quote: pricing.Quote, now: datetime, tariff: pricing.Tariff,
           extra: Sequence[rules.Terms] = ()) -> tuple[pricing.Quote, tuple[rules.Line, ...], list[OnTicket]]:
    """The quote of an active ticket with its validations (and `extra` ones, a preview) taken off, the
    lines, and the validations on the ticket (the exit records each line on its row)."""
    found = on_ticket(ticket)
    terms = [v.terms for v in found] + list(extra)
    if not terms:
        return quote, (), found
    validated, lines = rules.apply(quote, terms, ticket.entry_time, now, tariff, ticket.vehicle_type)
    return validated, lines, found


PAID_LINES = (
    sa.select(ValidationProgram.id, ValidationProgram.name, TicketValidation.discount_cents, ValidationProgram.kind)
    .join(ValidationProgram, ValidationProgram.id == TicketValidation.program_id)
    .where(TicketValidation.garage_id == sa.bindparam("garage_id"),
           TicketValidation.ticket_id == sa.bindparam("ticket_id"))
    .order_by(TicketValidation.id))


def lines_of(ticket: Any) -> tuple[rules.Line, ...]:
    """A ticket's validation lines as its receipt shows them: what each took off at the payment (0
    while it is not paid yet: see `priced` for a quote)."""
    if not getattr(ticket, "validations", 0):
        return ()
    rows = db.session.execute(PAID_LINES, {"garage_id": ticket.garage_id, "ticket_id": ticket.id}).all()
    # In the order they applied (the quote's): by kind, then program (domain.validations.apply).
    rows.sort(key=lambda row: (rules.KINDS.index(row[3]), row[0]))
    return tuple(rules.Line(pid, name, cents or 0) for pid, name, cents, _ in rows)


# --- programs (managers) ---------------------------------------------------------------------------

def create_program(garage_id: int, actor: Actor, *, name: Any, kind: Any, value: Any, merchant: Any = "",
                   valid_from: date | None = None, valid_until: date | None = None, usage_cap: Any = None,
                   stacks: bool = False, codes: Iterable[Any] = (), reusable: bool = False) -> ValidationProgram:
    """A new program with its codes, in one audited transaction. InvalidProgram (422) for bad terms
    or codes (every problem at once); Conflict (409) for a name or a code the garage has already."""
    errors = rules.check_program(name, kind, value, valid_from, valid_until, usage_cap)
    merchant = merchant.strip() if isinstance(merchant, str) else ""
    if len(merchant) > rules.NAME_MAX or not merchant.isprintable():
        errors["merchant"] = _("The merchant has at most %(num)d printable characters", num=rules.NAME_MAX)
    keys: list[str] = []
    for raw in codes:
        try:
            key = rules.check_code(raw, field="codes")
        except InvalidInput as bad:
            errors["codes"] = _("%(rule)s: %(code)s has not", rule=bad.message, code=repr(str(raw)[:50]))
            break
        if key in keys:
            errors["codes"] = _("The code %(code)s is listed twice", code=key)
            break
        keys.append(key)
    if not keys and "codes" not in errors:
        errors["codes"] = _("Give at least one code the merchant hands out")
    if errors:
        raise InvalidProgram(errors)
    try:
        program = ValidationProgram(garage_id=garage_id, name=name.strip(), merchant=merchant, kind=kind, value=value,
                                    valid_from=valid_from, valid_until=valid_until, usage_cap=usage_cap,
                                    stacks=bool(stacks), active=True, created_at=utcnow())
        db.session.add(program)
        db.session.flush()
        db.session.add_all(ValidationCode(garage_id=garage_id, program_id=program.id, code=key, reusable=reusable)
                           for key in keys)
        db.session.flush()
        audit.record(actor, "validation.program_created", "validation_program", program.id,
                     {"name": program.name, "kind": kind, "value": value, "codes": len(keys),
                      "usageCap": usage_cap, "stacks": bool(stacks)}, garage_id=garage_id)
        commit_keeping_loaded()
    except IntegrityError:
        db.session.rollback()
        taken = db.session.scalars(sa.select(ValidationCode.code).where(ValidationCode.garage_id == garage_id,
                                                                         ValidationCode.code.in_(keys))).all()
        raise Conflict(_("This garage has the code %(code)s already", code=taken[0]) if taken
                       else _("This garage has a program named %(name)s already", name=name.strip()),
                       field="name") from None
    except BaseException:
        db.session.rollback()
        raise
    return program


@dataclass(frozen=True)
class ProgramRow:
    program: ValidationProgram
    codes: int
    codes_used: int


def list_programs(garage_id: int) -> list[ProgramRow]:
    """The garage's programs, newest first, with how many codes each has and how many were used."""
    counts = dict(((pid, (n, used)) for pid, n, used in db.session.execute(
        sa.select(ValidationCode.program_id, sa.func.count(), sa.func.count(sa.case((ValidationCode.used_count > 0, 1))))
        .where(ValidationCode.garage_id == garage_id).group_by(ValidationCode.program_id))))
    programs = db.session.scalars(sa.select(ValidationProgram).where(ValidationProgram.garage_id == garage_id)
                                  .order_by(ValidationProgram.id.desc()))
    return [ProgramRow(p, *counts.get(p.id, (0, 0))) for p in programs]


# --- validating a ticket ---------------------------------------------------------------------------

def _code(garage_id: int, raw: Any) -> tuple[ValidationCode, ValidationProgram]:
    key = rules.find_code(raw)
    row = db.session.execute(
        sa.select(ValidationCode, ValidationProgram)
        .join(ValidationProgram, ValidationProgram.id == ValidationCode.program_id)
        .where(ValidationCode.garage_id == garage_id, ValidationCode.code == key)).first()
    if row is None:
        raise NotFound(rules.NO_SUCH_CODE, field="validationCode")
    return row[0], row[1]


def _usable(garage_id: int, code: ValidationCode, program: ValidationProgram, now: datetime) -> rules.Terms:
    """The program's terms if the code can validate a ticket now (else Conflict, why)."""
    tz = db.session.scalar(sa.select(Garage.timezone).where(Garage.id == garage_id)) or "UTC"
    why = rules.valid_on(local_today(now, tz), program.active, program.valid_from, program.valid_until)
    if why is None and not code.reusable and code.used_count > 0:
        why = rules.CODE_USED
    if why is None and program.usage_cap is not None and program.used_count >= program.usage_cap:
        why = rules.CAP_REACHED
    if why is not None:
        raise Conflict(why, field="validationCode")
    return rules.Terms(program.id, program.name, program.kind, program.value, program.stacks)


def preview(garage_id: int, ticket: Ticket, raw_code: Any, now: datetime | None = None) -> list[rules.Terms]:
    """The terms a code would add to this ticket now (nothing written): [] when the ticket has that
    code's validation already; NotFound / Conflict as validating would answer."""
    code, program = _code(garage_id, raw_code)
    found = on_ticket(ticket)
    if any(v.code_id == code.id for v in found):
        return []
    terms = _usable(garage_id, code, program, now or utcnow())
    rules.may_add([v.terms for v in found], terms)
    return [terms]


def validate_ticket(garage_id: int, ticket: Ticket, raw_code: Any, actor: Actor,
                    now: datetime | None = None) -> Ticket:
    """Validate a car inside by a merchant's code (a stamp on its ticket), once: the same code on the
    same ticket again changes nothing (an exit retried after a timeout). One audited transaction."""
    now = now or utcnow()
    store().transaction()  # several writes: all or none, also inside an autocommit request (an API exit)
    if ticket.status != STATUS_ACTIVE:
        raise Conflict(ONLY_INSIDE, field="validationCode")
    code, program = _code(garage_id, raw_code)
    found = on_ticket(ticket)
    if any(v.code_id == code.id for v in found):
        return ticket
    try:
        terms = _usable(garage_id, code, program, now)
        rules.may_add([v.terms for v in found], terms)
    except Conflict:
        # The ticket was read before another desk's validation of it with this very code committed (the
        # code then reads used, or the cap reached, by that validation): that desk's answer is ours too.
        again = db.session.get(Ticket, ticket.id, populate_existing=True)
        if any(v.code_id == code.id for v in on_ticket(again)):
            return again
        raise
    try:
        # The ticket first (the exit's lock order), only from the count read and while it is inside.
        if db.session.execute(
                sa.update(Ticket).where(Ticket.id == ticket.id, Ticket.status == STATUS_ACTIVE,
                                        Ticket.validations == ticket.validations)
                .values(validations=Ticket.validations + 1, updated_at=now)
                .execution_options(synchronize_session=False)).rowcount != 1:
            raise _ValidatedMeanwhile()
        if db.session.execute(
                sa.update(ValidationCode).where(ValidationCode.id == code.id,
                                                sa.or_(ValidationCode.reusable, ValidationCode.used_count == 0))
                .values(used_count=ValidationCode.used_count + 1)
                .execution_options(synchronize_session=False)).rowcount != 1:
            raise Conflict(rules.CODE_USED, field="validationCode")
        if db.session.execute(
                sa.update(ValidationProgram).where(
                    ValidationProgram.id == program.id, ValidationProgram.active,
                    sa.or_(ValidationProgram.usage_cap.is_(None),
                           ValidationProgram.used_count < ValidationProgram.usage_cap))
                .values(used_count=ValidationProgram.used_count + 1)
                .execution_options(synchronize_session=False)).rowcount != 1:
            raise Conflict(rules.CAP_REACHED, field="validationCode")
        db.session.add(TicketValidation(garage_id=garage_id, ticket_id=ticket.id, program_id=program.id,
                                        code_id=code.id, validated_at=now, validated_by_id=actor.user_id))
        db.session.flush()
        audit.record(actor, "ticket.validated", "ticket", ticket.ticket_number,
                     {"program": program.name, "programId": program.id, "code": code.code}, garage_id=garage_id)
        ticket = db.session.get(Ticket, ticket.id, populate_existing=True)
        commit_keeping_loaded()
    except (IntegrityError, _ValidatedMeanwhile):  # another validation of this ticket landed first
        db.session.rollback()
        again = db.session.get(Ticket, ticket.id, populate_existing=True)
        if any(v.code_id == code.id for v in on_ticket(again)):
            return again  # this very code, given at another desk at the same moment: nothing to change
        raise Conflict(CHANGED_MEANWHILE if again.status == STATUS_ACTIVE else ONLY_INSIDE,
                       field="validationCode") from None
    except BaseException:
        db.session.rollback()
        raise
    return ticket


class _ValidatedMeanwhile(Exception):
    """The ticket's count of validations (or its status) changed since it was read."""


def release(garage_id: int, ticket: Ticket) -> None:
    """Give back the uses of a voided ticket's validations (in the caller's transaction): a car that
    never entered uses up no single-use code and nothing of a program's cap. Its rows stay (the audit
    of what happened); no report counts them (a voided ticket is never paid)."""
    for v in on_ticket(ticket):
        db.session.execute(sa.update(ValidationCode).where(ValidationCode.id == v.code_id, ValidationCode.used_count > 0)
                           .values(used_count=ValidationCode.used_count - 1)
                           .execution_options(synchronize_session=False))
        db.session.execute(sa.update(ValidationProgram)
                           .where(ValidationProgram.id == v.terms.program_id, ValidationProgram.used_count > 0)
                           .values(used_count=ValidationProgram.used_count - 1)
                           .execution_options(synchronize_session=False))


# --- the merchants' report -------------------------------------------------------------------------

@dataclass(frozen=True)
class ProgramFigures:
    program_id: int
    name: str
    merchant: str
    tickets: int
    value_cents: int


def report(garage_id: int, start: datetime, end: datetime) -> list[ProgramFigures]:
    """Per program, the tickets it validated that were paid in [start, end) and what it gave (the
    discounts): what the garage bills each merchant. Every program is listed, unused ones with 0."""
    used = {pid: (n, cents) for pid, n, cents in db.session.execute(
        sa.select(TicketValidation.program_id, sa.func.count(), sa.func.coalesce(sa.func.sum(TicketValidation.discount_cents), 0))
        .join(Ticket, Ticket.id == TicketValidation.ticket_id)
        .where(TicketValidation.garage_id == garage_id, Ticket.garage_id == garage_id,
               Ticket.status == STATUS_COMPLETED, within(Ticket.exit_time, start, end))
        .group_by(TicketValidation.program_id))}
    programs = db.session.execute(sa.select(ValidationProgram.id, ValidationProgram.name, ValidationProgram.merchant)
                                  .where(ValidationProgram.garage_id == garage_id).order_by(ValidationProgram.name))
    return [ProgramFigures(pid, name, merchant, *(int(x) for x in used.get(pid, (0, 0)))) for pid, name, merchant in programs]
