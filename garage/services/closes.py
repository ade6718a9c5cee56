"""The end-of-day close (issue 18): a garage's local day (its timezone) summed up, closed by a
manager, kept (daily_closes: the figures as JSON text), and compared with the same figures computed
again later: what changed since is listed as after-close adjustments (garage/domain/closes.py).

Every use case takes the garage's id first and is one transaction. The figures come from the same
statements as the reports (services.reports: summary, breakdowns, inside_at) over the day's UTC
bounds, plus the day's refunds of its own payments and the shifts closed that day (or still open)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ..domain import closes as rules
from ..domain.clock import local_day_bounds, local_today, utcnow
from ..extensions import db
from ..identity import Actor
from ..models import DailyClose, Refund, Shift, Ticket, User
from ..persistence import within
from . import audit, reports, validations
from .settings import get_settings


@dataclass(frozen=True)
class CloseView:
    """A day: its figures now, and, once closed, the figures as closed, who closed it and when, and
    what changed since (after-close adjustments)."""

    day: date
    timezone: str
    live: rules.DayFigures
    over: bool  # the day has ended in the garage's timezone (it may be closed)
    closed_figures: rules.DayFigures | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None
    adjustments: tuple[rules.Adjustment, ...] = ()

    @property
    def closed(self) -> bool:
        return self.closed_figures is not None

    @property
    def figures(self) -> rules.DayFigures:
        """What the day's documents show: the figures as closed, else as they are now."""
        return self.closed_figures or self.live


PAYMENTS_REFUNDED = (
    sa.select(sa.func.coalesce(sa.func.sum(Refund.amount_cents), 0))
    .select_from(Refund).join(Ticket, Ticket.id == Refund.ticket_id))


def _shift_lines(garage_id: int, start: datetime, end: datetime) -> tuple[rules.ShiftLine, ...]:
    """The shifts closed in [start, end), and those opened before `end` that are still open."""
    shifts = db.session.scalars(
        sa.select(Shift).options(joinedload(Shift.opened_by).load_only(User.username))
        .where(Shift.garage_id == garage_id, Shift.opened_at < end,
               sa.or_(within(Shift.closed_at, start, end), Shift.closed_at.is_(None)))
        .order_by(Shift.closed_at.is_(None), Shift.opened_at, Shift.id)).all()
    return tuple(rules.ShiftLine(s.id, s.opened_by.username, s.closed_at is not None, s.expected_cash_cents,
                                 s.counted_cash_cents, s.over_short_cents) for s in shifts)


def _figures(garage_id: int, day: date, tz: str, now: datetime) -> rules.DayFigures:
    start, end = local_day_bounds(day, tz)
    s = reports.summary(garage_id, start, end)
    methods = reports.breakdowns(garage_id, start, end).by_method
    refunded_of_day = db.session.scalar(PAYMENTS_REFUNDED.where(
        Refund.garage_id == garage_id, Ticket.garage_id == garage_id, within(Ticket.exit_time, start, end)))
    inside = reports.inside_at(garage_id, min(end, now), now) if start <= now else 0
    validated = validations.report(garage_id, start, end)
    return rules.DayFigures(
        tickets_issued=s.entries, exits=s.exits, revenue_cents=s.revenue_cents,
        by_method=tuple(rules.MethodLine(m.label, m.exits, m.revenue_cents) for m in methods),
        voids=s.voids, refunds=s.refunds, refunded_cents=s.refunded_cents,
        payments_refunded_cents=int(refunded_of_day or 0), lost_tickets=s.lost_tickets,
        lost_fee_cents=s.lost_fee_cents, cars_inside=max(inside, 0),
        shifts=_shift_lines(garage_id, start, end), validated=sum(f.tickets for f in validated),
        validation_discount_cents=sum(f.value_cents for f in validated))


def day_figures(garage_id: int, day: date, now: datetime | None = None) -> rules.DayFigures:
    """The day's figures as they are now (today's so far; cars inside: now)."""
    return _figures(garage_id, day, get_settings(garage_id).timezone, now or utcnow())


def _kept(garage_id: int, day: date) -> DailyClose | None:
    return db.session.scalar(sa.select(DailyClose).options(joinedload(DailyClose.closed_by).load_only(User.username))
                             .where(DailyClose.garage_id == garage_id, DailyClose.day == day))


def get_close(garage_id: int, day: date, now: datetime | None = None) -> CloseView:
    """The day now, and if closed: as closed, by whom, when, and the after-close adjustments."""
    now = now or utcnow()
    tz = get_settings(garage_id).timezone
    live = _figures(garage_id, day, tz, now)
    over = day < local_today(now, tz)
    kept = _kept(garage_id, day)
    if kept is None:
        return CloseView(day, tz, live, over)
    closed = rules.DayFigures.from_json(kept.figures)
    return CloseView(day, tz, live, over, closed, kept.closed_at, kept.closed_by.username if kept.closed_by else None,
                     tuple(rules.adjustments(closed, live)))


def close_day(garage_id: int, day: date, actor: Actor, now: datetime | None = None) -> CloseView:
    """Close a day that has ended in the garage's timezone (a manager's, checked by the caller): keep
    its figures as they are now, audited ("day.closed"). A day not over yet, or already closed: 409,
    nothing written (the unique index on garage and day is the backstop against two at once)."""
    now = now or utcnow()
    try:
        tz = get_settings(garage_id).timezone
        if day >= local_today(now, tz):
            raise rules.DayNotOver(day)
        if _kept(garage_id, day) is not None:
            raise rules.AlreadyClosed(day)
        figures = _figures(garage_id, day, tz, now)
        kept = DailyClose(garage_id=garage_id, day=day, closed_at=now, closed_by_id=actor.user_id,
                          figures=figures.to_json())
        db.session.add(kept)
        db.session.flush()
        audit.record(actor, "day.closed", "day", day.isoformat(), {
            "revenueCents": figures.revenue_cents, "refundedCents": figures.refunded_cents,
            "exits": figures.exits, "countedCashCents": figures.counted_cash_cents,
            "overShortCents": figures.over_short_cents}, garage_id=garage_id)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise rules.AlreadyClosed(day) from None
    except BaseException:
        db.session.rollback()
        raise
    return get_close(garage_id, day, now)
