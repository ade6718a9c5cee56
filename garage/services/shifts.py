"""Shifts and the cash drawer (issue 18): an attendant opens a shift with a float, every payment
they take is recorded in it (the exit's own statement: garage/persistence), the X report shows the
totals by method so far, the close records the counted cash against the expected cash
(garage/domain/shifts.py) and is kept, never adjusted silently: a manager's reopening or
adjustment needs a reason and is audited with the figures before and after.

Every use case takes the garage's id first and is one audited transaction. Who may see or close a
shift: the person who opened it, or a manager at that garage (`manager`, from the caller's role);
anyone else is told there is no such shift (404)."""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Mapping

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ..domain import shifts as rules
from ..domain.clock import utcnow
from ..domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from ..domain.tickets import PAYMENT_METHODS
from ..domain.words import _
from ..extensions import db
from ..identity import Actor
from ..models import PermitPayment, Refund, Shift, Ticket, User
from . import audit

NO_SHIFT = _("No such shift")
NO_OPEN_SHIFT = _("You have no open shift at this garage")


@dataclass(frozen=True)
class MethodTotal:
    method: str
    payments: int
    cents: int


@dataclass(frozen=True)
class Adjustment:
    """A manager's recount of a closed shift, from its audit row: the count before and after."""

    at: datetime
    by: str | None
    reason: str
    before_cents: int | None
    after_cents: int | None


@dataclass(frozen=True)
class ShiftReport:
    """A shift with its payments by method (every method listed, in PAYMENT_METHODS' order):
    the X report of an open shift, the close-out of a closed one."""

    shift: Shift
    totals: tuple[MethodTotal, ...]
    cash_refunds_cents: int = 0  # cash given back in the shift (refunds taken in it)
    adjustments: tuple[Adjustment, ...] = ()  # since its last close, oldest first (get_shift only)

    @property
    def cash_payments_cents(self) -> int:
        return next(t.cents for t in self.totals if t.method == rules.CASH)

    @property
    def total_cents(self) -> int:
        return sum(t.cents for t in self.totals)

    @property
    def payments(self) -> int:
        return sum(t.payments for t in self.totals)

    @property
    def expected_cash_cents(self) -> int:
        """The close's recorded figure once closed; so far, while open."""
        if self.shift.expected_cash_cents is not None:
            return self.shift.expected_cash_cents
        return rules.expected_cash(self.shift.float_cents, self.cash_payments_cents, self.cash_refunds_cents)

    @property
    def counted(self) -> dict[int, int] | None:
        raw = self.shift.counted_by_denomination
        return None if raw is None else {int(k): v for k, v in json.loads(raw).items()}


# A shift's payments: its tickets' and the permits sold or renewed in it (issue 19: money in the same drawer).
_IN_SHIFT = sa.union_all(
    sa.select(Ticket.payment_method.label("method"), Ticket.amount_paid.label("cents"))
    .where(Ticket.garage_id == sa.bindparam("garage_id"), Ticket.shift_id == sa.bindparam("shift_id")),
    sa.select(PermitPayment.payment_method, PermitPayment.amount_cents)
    .where(PermitPayment.garage_id == sa.bindparam("garage_id"), PermitPayment.shift_id == sa.bindparam("shift_id")),
).subquery()
SHIFT_PAYMENTS = (sa.select(_IN_SHIFT.c.method, sa.func.count(), sa.func.coalesce(sa.func.sum(_IN_SHIFT.c.cents), 0))
                  .group_by(_IN_SHIFT.c.method))
CASH_PAID = sa.select(sa.func.coalesce(sa.func.sum(_IN_SHIFT.c.cents), 0)).where(_IN_SHIFT.c.method == rules.CASH)
CASH_REFUNDED = (
    sa.select(sa.func.coalesce(sa.func.sum(Refund.amount_cents), 0))
    .where(Refund.garage_id == sa.bindparam("garage_id"), Refund.shift_id == sa.bindparam("shift_id"),
           Refund.payment_method == rules.CASH))
SHIFT_WITH_PEOPLE = (sa.select(Shift).options(joinedload(Shift.opened_by).load_only(User.username),
                                              joinedload(Shift.closed_by).load_only(User.username)))


def _person(actor: Actor) -> int:
    if actor.user_id is None:
        raise Forbidden(_("A shift belongs to a person: sign in or use a person's token"))
    return actor.user_id


def _report(garage_id: int, shift: Shift) -> ShiftReport:
    found = {method: (count, cents) for method, count, cents in
             db.session.execute(SHIFT_PAYMENTS, {"garage_id": garage_id, "shift_id": shift.id})}
    methods = list(PAYMENT_METHODS) + sorted(m for m in found if m not in PAYMENT_METHODS)
    refunded = db.session.scalar(CASH_REFUNDED, {"garage_id": garage_id, "shift_id": shift.id}) or 0
    return ShiftReport(shift, tuple(MethodTotal(m, *found.get(m, (0, 0))) for m in methods), int(refunded))


def _visible(garage_id: int, shift_id: Any, actor: Actor, manager: bool) -> Shift:
    """The garage's shift, if the caller may see it (its opener, or a manager there)."""
    shift = (db.session.scalar(SHIFT_WITH_PEOPLE.where(Shift.garage_id == garage_id, Shift.id == shift_id)
                               .execution_options(populate_existing=True))
             if isinstance(shift_id, int) and 0 < shift_id < 2 ** 31 else None)
    if shift is None or not (manager or shift.opened_by_id == actor.user_id):
        raise NotFound(NO_SHIFT)
    return shift


def _counted(counted_cents: Any, by_denomination: Mapping[Any, Any] | None) -> tuple[int, str | None]:
    """A counted total, or a count per denomination (its total, and the count kept as JSON text)."""
    if (counted_cents is None) == (by_denomination is None):
        raise InvalidInput(_("Give the counted cash: a total or a count per denomination (one of the two)"),
                           field="countedCashCents")
    if by_denomination is None:
        return rules.check_counted(counted_cents), None
    pieces, total = rules.count_denominations(by_denomination)
    return total, json.dumps({str(d): n for d, n in pieces.items()})


def _figures(shift: Shift) -> dict[str, Any]:
    """A shift's recorded figures, for the audit's before/after."""
    return {"closedAt": shift.closed_at.isoformat() if shift.closed_at else None,
            "countedCashCents": shift.counted_cash_cents, "expectedCashCents": shift.expected_cash_cents,
            "overShortCents": shift.over_short_cents,
            "countedByDenomination": json.loads(shift.counted_by_denomination)
            if shift.counted_by_denomination else None}


def _done(garage_id: int, shift_id: int) -> ShiftReport:
    db.session.commit()
    return _report(garage_id, _visible(garage_id, shift_id, Actor(), True))


def open_shift(garage_id: int, actor: Actor, float_cents: Any, now: datetime | None = None) -> ShiftReport:
    """Open the caller's shift at the garage with a starting float (one open shift per person per
    garage: the partial unique index; a second is refused, 409)."""
    float_cents = rules.check_float(float_cents)
    user_id = _person(actor)
    now = now or utcnow()
    try:
        shift = Shift(garage_id=garage_id, opened_by_id=user_id, opened_at=now, float_cents=float_cents)
        db.session.add(shift)
        db.session.flush()
        audit.record(actor, "shift.opened", "shift", shift.id, {"floatCents": float_cents}, garage_id=garage_id)
        shift_id = shift.id
        return _done(garage_id, shift_id)
    except IntegrityError:
        db.session.rollback()
        raise rules.ShiftAlreadyOpen() from None
    except BaseException:
        db.session.rollback()
        raise


def current_shift(garage_id: int, actor: Actor) -> ShiftReport:
    """The caller's open shift at the garage with its X report (NotFound: none open)."""
    shift = (db.session.scalar(SHIFT_WITH_PEOPLE.where(Shift.garage_id == garage_id, Shift.opened_by_id == actor.user_id,
                                                       Shift.closed_at.is_(None)))
             if actor.user_id is not None else None)
    if shift is None:
        raise NotFound(NO_OPEN_SHIFT)
    return _report(garage_id, shift)


def get_shift(garage_id: int, shift_id: Any, actor: Actor, manager: bool = False) -> ShiftReport:
    """A shift with its totals by method (its opener's, or any for a manager) and, once closed, the
    adjustments of its count since that close (the audit keeps them: the shift's row holds only the
    latest count)."""
    shift = _visible(garage_id, shift_id, actor, manager)
    report = _report(garage_id, shift)
    return replace(report, adjustments=_adjustments(garage_id, shift)) if shift.closed_at else report


def _adjustments(garage_id: int, shift: Shift) -> tuple[Adjustment, ...]:
    found = []
    for event in audit.history(garage_id, "shift.adjusted", "shift", shift.id, since=shift.closed_at):
        details = event.details if isinstance(event.details, Mapping) else {}
        before, after = details.get("before") or {}, details.get("after") or {}
        found.append(Adjustment(event.at, event.username, str(details.get("reason") or ""),
                                before.get("countedCashCents"), after.get("countedCashCents")))
    return tuple(found)


def list_shifts(garage_id: int, limit: int = 50) -> list[ShiftReport]:
    """The garage's shifts, open ones first, then the latest opened (managers)."""
    shifts = db.session.scalars(SHIFT_WITH_PEOPLE.where(Shift.garage_id == garage_id)
                                .order_by(Shift.closed_at.is_not(None), Shift.opened_at.desc(), Shift.id.desc())
                                .limit(limit)).unique().all()
    return [_report(garage_id, shift) for shift in shifts]


def _record_count(garage_id: int, shift_id: int, counted: int) -> rules.CloseOut:
    """Set the count on the shift (its row locked by that UPDATE: see close_shift), then sum its cash
    payments and cash refunds in statements of their own and record expected and over/short."""
    at = {"garage_id": garage_id, "shift_id": shift_id}
    cash = db.session.scalar(CASH_PAID, at) or 0
    refunded = db.session.scalar(CASH_REFUNDED, at) or 0
    shift = db.session.get(Shift, shift_id, populate_existing=True)
    out = rules.CloseOut(shift.float_cents, cash, int(refunded), counted)
    db.session.execute(sa.update(Shift).where(Shift.id == shift_id)
                       .values(expected_cash_cents=out.expected_cents, over_short_cents=out.over_short_cents)
                       .execution_options(synchronize_session=False))
    return out


def close_shift(garage_id: int, shift_id: Any, actor: Actor, counted_cents: Any = None,
                counted_by_denomination: Mapping[Any, Any] | None = None, manager: bool = False,
                now: datetime | None = None) -> ShiftReport:
    """Close an open shift with the counted cash: expected = float + cash payments − cash refunds,
    over/short = counted − expected, both recorded (never adjusted here). A closed shift takes no
    more payments.

    Against a payment racing it: the first statement is the conditional UPDATE that closes the row
    (`closed_at IS NULL`): it waits for every payment that holds the row FOR SHARE (the exit's
    statement) to commit, and any payment after it finds the shift closed. The cash is summed by
    a later statement, which (READ COMMITTED) sees every payment committed before, so the expected
    cash counts exactly the payments recorded in the shift. SQLite: the UPDATE takes the database's
    write lock first, with the same effect."""
    counted, denominations = _counted(counted_cents, counted_by_denomination)
    shift = _visible(garage_id, shift_id, actor, manager)
    if shift.closed_at is not None:
        raise rules.ShiftClosed()
    now = now or utcnow()
    try:
        closed = db.session.execute(
            sa.update(Shift).where(Shift.id == shift.id, Shift.closed_at.is_(None))
            .values(closed_at=now, closed_by_id=actor.user_id, counted_cash_cents=counted,
                    counted_by_denomination=denominations)
            .execution_options(synchronize_session=False)).rowcount
        if closed != 1:
            raise rules.ShiftClosed()  # closed meanwhile
        out = _record_count(garage_id, shift.id, counted)
        audit.record(actor, "shift.closed", "shift", shift.id, {
            "floatCents": out.float_cents, "cashPaymentsCents": out.cash_payments_cents,
            "cashRefundsCents": out.cash_refunds_cents, "expectedCashCents": out.expected_cents,
            "countedCashCents": counted, "overShortCents": out.over_short_cents,
            **({"countedByDenomination": json.loads(denominations)} if denominations else {})},
            garage_id=garage_id)
        return _done(garage_id, shift.id)
    except BaseException:
        db.session.rollback()
        raise


def reopen_shift(garage_id: int, shift_id: Any, actor: Actor, reason: Any) -> ShiftReport:
    """A manager reopens a closed shift (its opener takes payments in it again; its count is
    cleared until it is closed again): reason mandatory, audited with the figures before and after.
    Refused while its opener has another shift open there (one open shift per person)."""
    reason = rules.check_reason(reason)
    return _amend(garage_id, shift_id, actor, "shift.reopened", reason, dict(
        closed_at=None, closed_by_id=None, counted_cash_cents=None, counted_by_denomination=None,
        expected_cash_cents=None, over_short_cents=None))


def adjust_shift(garage_id: int, shift_id: Any, actor: Actor, reason: Any, counted_cents: Any = None,
                 counted_by_denomination: Mapping[Any, Any] | None = None) -> ShiftReport:
    """A manager corrects a closed shift's count (a recount): the expected cash and over/short are
    computed again; reason mandatory, audited with the figures before and after."""
    reason = rules.check_reason(reason)
    counted, denominations = _counted(counted_cents, counted_by_denomination)
    return _amend(garage_id, shift_id, actor, "shift.adjusted", reason,
                  dict(counted_cash_cents=counted, counted_by_denomination=denominations), recount=counted)


def _amend(garage_id: int, shift_id: Any, actor: Actor, action: str, reason: str, values: dict[str, Any],
           recount: int | None = None) -> ShiftReport:
    """Change a closed shift (a manager's, with a reason): the audit row keeps its figures before and
    after. `recount`: the new counted cash, against which expected and over/short are computed again."""
    shift = _visible(garage_id, shift_id, actor, True)
    if shift.closed_at is None:
        raise Conflict(rules.NOT_CLOSED_MESSAGE, field="shift")
    before, opener = _figures(shift), shift.opened_by.username
    try:
        changed = db.session.execute(
            sa.update(Shift).where(Shift.id == shift.id, Shift.closed_at.is_not(None)).values(**values)
            .execution_options(synchronize_session=False)).rowcount
        if changed != 1:
            raise Conflict(rules.NOT_CLOSED_MESSAGE, field="shift")  # reopened meanwhile
        if recount is not None:
            _record_count(garage_id, shift.id, recount)
        after = _figures(db.session.get(Shift, shift.id, populate_existing=True))
        audit.record(actor, action, "shift", shift.id, {"reason": reason, "before": before, "after": after},
                     garage_id=garage_id)
        return _done(garage_id, shift.id)
    except IntegrityError:  # reopening: one open shift per person per garage
        db.session.rollback()
        raise Conflict(_("%(name)s has another shift open at this garage: close it first", name=opener),
                       field="shift") from None
    except BaseException:
        db.session.rollback()
        raise
