"""The end-of-day close (issue 18): a garage's local day summed up as figures (integer cents and
counts), kept as they stood when a manager closed the day; later corrections to that day (a refund
of one of its payments, a shift recounted or reopened, ...) are shown against them as after-close
adjustments, figure by figure, never written into the kept figures.

Plain Python: the service (garage/services/closes.py) computes the figures, the close keeps them as
JSON text (`to_json`), and `adjustments` compares the kept ones with the figures now."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Mapping

from .errors import Conflict
from .words import N_, _

VERSION = 1  # of the kept JSON: a figure added later reads as 0 from an older close


class DayNotOver(Conflict):
    def __init__(self, day: date) -> None:
        super().__init__(_("%(day)s has not ended yet in the garage's timezone: a day can be closed once "
                           "it is over", day=day.isoformat()), field="day")


class AlreadyClosed(Conflict):
    def __init__(self, day: date) -> None:
        super().__init__(_("%(day)s is already closed", day=day.isoformat()), field="day")


@dataclass(frozen=True)
class MethodLine:
    """Paid exits and revenue of one payment method."""

    method: str
    exits: int
    revenue_cents: int


@dataclass(frozen=True)
class ShiftLine:
    """A shift closed that day (its drawer's figures), or one still open when the figures were taken."""

    id: int
    opened_by: str
    closed: bool
    expected_cash_cents: int | None = None  # None while open
    counted_cash_cents: int | None = None
    over_short_cents: int | None = None


@dataclass(frozen=True)
class DayFigures:
    """One local day of a garage. Refunds given that day are its money going out (what the shifts'
    drawers reconcile with); `payments_refunded_cents` is how much of the day's own payments has been
    given back so far, whenever: the figure a later refund of that day's ticket changes."""

    tickets_issued: int = 0
    exits: int = 0  # paid exits (a voided ticket is never one)
    revenue_cents: int = 0
    by_method: tuple[MethodLine, ...] = ()
    voids: int = 0
    refunds: int = 0  # refunds given that day
    refunded_cents: int = 0
    payments_refunded_cents: int = 0  # refunded so far of that day's payments
    lost_tickets: int = 0
    lost_fee_cents: int = 0
    cars_inside: int = 0  # at the end of the day (now, for a day not over)
    shifts: tuple[ShiftLine, ...] = field(default=())
    validated: int = 0  # merchant validations on the day's paid tickets (one per program per ticket)
    validation_discount_cents: int = 0  # what the validations took off their fees (billed to the merchants)

    @property
    def net_revenue_cents(self) -> int:
        return self.revenue_cents - self.refunded_cents

    @property
    def closed_shifts(self) -> tuple[ShiftLine, ...]:
        return tuple(s for s in self.shifts if s.closed)

    @property
    def open_shifts(self) -> tuple[ShiftLine, ...]:
        return tuple(s for s in self.shifts if not s.closed)

    @property
    def expected_cash_cents(self) -> int:
        return sum(s.expected_cash_cents or 0 for s in self.closed_shifts)

    @property
    def counted_cash_cents(self) -> int:
        return sum(s.counted_cash_cents or 0 for s in self.closed_shifts)

    @property
    def over_short_cents(self) -> int:
        """Counted − expected over the closed shifts: negative is short."""
        return self.counted_cash_cents - self.expected_cash_cents

    # --- kept as JSON ------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """camelCase, integer cents (also the API's shape)."""
        return {
            "version": VERSION, "ticketsIssued": self.tickets_issued, "exits": self.exits,
            "revenueCents": self.revenue_cents,
            "byMethod": [{"paymentMethod": m.method, "exits": m.exits, "revenueCents": m.revenue_cents}
                         for m in self.by_method],
            "voids": self.voids, "refunds": self.refunds, "refundedCents": self.refunded_cents,
            "netRevenueCents": self.net_revenue_cents, "paymentsRefundedCents": self.payments_refunded_cents,
            "lostTickets": self.lost_tickets, "lostFeeCents": self.lost_fee_cents, "carsInside": self.cars_inside,
            "validatedTickets": self.validated, "validationDiscountCents": self.validation_discount_cents,
            "shiftsClosed": len(self.closed_shifts), "expectedCashCents": self.expected_cash_cents,
            "countedCashCents": self.counted_cash_cents, "overShortCents": self.over_short_cents,
            "shifts": [{"id": s.id, "openedBy": s.opened_by, "status": "closed" if s.closed else "open",
                        "expectedCashCents": s.expected_cash_cents, "countedCashCents": s.counted_cash_cents,
                        "overShortCents": s.over_short_cents} for s in self.shifts],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "DayFigures":
        def n(key: str) -> int:
            return int(data.get(key) or 0)

        def maybe(value: Any) -> int | None:
            return None if value is None else int(value)

        return cls(
            tickets_issued=n("ticketsIssued"), exits=n("exits"), revenue_cents=n("revenueCents"),
            by_method=tuple(MethodLine(str(m["paymentMethod"]), int(m["exits"]), int(m["revenueCents"]))
                            for m in data.get("byMethod") or ()),
            voids=n("voids"), refunds=n("refunds"), refunded_cents=n("refundedCents"),
            payments_refunded_cents=n("paymentsRefundedCents"), lost_tickets=n("lostTickets"),
            lost_fee_cents=n("lostFeeCents"), cars_inside=n("carsInside"), validated=n("validatedTickets"),
            validation_discount_cents=n("validationDiscountCents"),
            shifts=tuple(ShiftLine(int(s["id"]), str(s["openedBy"]), s.get("status") == "closed",
                                   maybe(s.get("expectedCashCents")), maybe(s.get("countedCashCents")),
                                   maybe(s.get("overShortCents")))
                         for s in data.get("shifts") or ()),
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "DayFigures":
        return cls.from_dict(json.loads(text))


# The figures an after-close adjustment is about, in the order they are listed: (key, label, money).
# Which shifts were still open is the state at the close, not a figure of the day: not compared.
COMPARED: tuple[tuple[str, str, bool], ...] = (
    ("tickets_issued", N_("Tickets issued"), False),
    ("exits", N_("Exits (paid)"), False),
    ("revenue_cents", N_("Revenue"), True),
    ("voids", N_("Voids"), False),
    ("refunds", N_("Refunds given"), False),
    ("refunded_cents", N_("Refunded"), True),
    ("net_revenue_cents", N_("Net revenue"), True),
    ("payments_refunded_cents", N_("Refunded of this day's payments"), True),
    ("lost_tickets", N_("Lost tickets"), False),
    ("lost_fee_cents", N_("Lost-ticket fees"), True),
    ("validated", N_("Validations given"), False),
    ("validation_discount_cents", N_("Validation discounts"), True),
    ("cars_inside", N_("Cars inside at close"), False),
    ("shifts_closed", N_("Shifts closed"), False),
    ("expected_cash_cents", N_("Cash expected"), True),
    ("counted_cash_cents", N_("Cash counted"), True),
    ("over_short_cents", N_("Over / short"), True),
)


@dataclass(frozen=True)
class Adjustment:
    """One figure that changed since the close."""

    figure: str  # a key of COMPARED, or "revenue_cents:<method>" / "exits:<method>"
    label: str
    before: int
    after: int
    money: bool

    @property
    def difference(self) -> int:
        return self.after - self.before


@dataclass(frozen=True)
class Line:
    """One figure of a day: its key, how it reads, its value (cents when `money`)."""

    figure: str  # a key of COMPARED, or "exits:<method>" / "revenue_cents:<method>"
    label: str
    value: int
    money: bool


def lines(figures: DayFigures, methods: list[str] | None = None) -> list[Line]:
    """The day's figures in the order they are listed (the page, the print, the CSV): COMPARED, then
    each payment method's exits and revenue (`methods`: these, in this order, 0 where none)."""
    values = {"shifts_closed": len(figures.closed_shifts)}
    out = [Line(key, _(label), values[key] if key in values else int(getattr(figures, key)), money)
           for key, label, money in COMPARED]
    paid = {m.method: m for m in figures.by_method}
    for method in (list(paid) if methods is None else methods):
        line = paid.get(method)
        # the method is a stored English key (a payment method's label): shown translated too
        out.append(Line(f"exits:{method}", _("Exits paid by %(method)s", method=_(method)),
                        line.exits if line else 0, False))
        out.append(Line(f"revenue_cents:{method}", _("Revenue by %(method)s", method=_(method)),
                        line.revenue_cents if line else 0, True))
    return out


def methods_of(*days: DayFigures) -> list[str]:
    """The payment methods seen in any of the days, in the order first seen."""
    return list(dict.fromkeys(m.method for day in days for m in day.by_method))


def adjustments(closed: DayFigures, now: DayFigures) -> list[Adjustment]:
    """Every figure that differs between the day as closed and the day now: the figures of COMPARED,
    then each payment method's exits and revenue (a method seen in either)."""
    methods = methods_of(closed, now)
    return [Adjustment(was.figure, was.label, was.value, is_.value, was.money)
            for was, is_ in zip(lines(closed, methods), lines(now, methods)) if was.value != is_.value]
