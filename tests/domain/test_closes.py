"""The end-of-day close's rules (plain Python): the kept figures survive their JSON, and the
after-close adjustments list exactly the figures that changed."""
from __future__ import annotations

from dataclasses import replace

from garage.domain.closes import DayFigures, MethodLine, ShiftLine, adjustments

DAY = DayFigures(tickets_issued=5, exits=4, revenue_cents=16500,
                 by_method=(MethodLine("Cash", 3, 14000), MethodLine("Credit Card", 1, 2500)),
                 voids=1, refunds=1, refunded_cents=300, payments_refunded_cents=300, lost_tickets=1,
                 lost_fee_cents=2500, cars_inside=1,
                 shifts=(ShiftLine(1, "ann", True, 19000, 18950, -50), ShiftLine(2, "bob", False)))


def test_figures_survive_their_json_in_integer_cents():
    text = DAY.to_json()
    assert DayFigures.from_json(text) == DAY
    data = DAY.to_dict()
    assert data["netRevenueCents"] == 16200 and data["overShortCents"] == -50 and data["shiftsClosed"] == 1
    assert all(isinstance(v, int) for k, v in data.items() if k.endswith("Cents"))


def test_a_figure_added_later_reads_as_zero_from_an_older_close():
    data = DAY.to_dict()
    del data["paymentsRefundedCents"], data["lostTickets"]
    old = DayFigures.from_dict(data)
    assert (old.payments_refunded_cents, old.lost_tickets) == (0, 0)


def test_only_changed_figures_are_adjustments():
    assert adjustments(DAY, DAY) == []
    later = replace(DAY, payments_refunded_cents=500)
    [a] = adjustments(DAY, later)
    assert (a.figure, a.before, a.after, a.difference, a.money) == ("payments_refunded_cents", 300, 500, 200, True)


def test_a_recount_changes_counted_and_over_short_and_a_new_method_is_listed():
    later = replace(DAY, shifts=(ShiftLine(1, "ann", True, 19000, 19000, 0),),
                    by_method=DAY.by_method + (MethodLine("Mobile Payment", 1, 700),), revenue_cents=17200, exits=5)
    found = {a.figure: (a.before, a.after) for a in adjustments(DAY, later)}
    assert found == {"exits": (4, 5), "revenue_cents": (16500, 17200), "net_revenue_cents": (16200, 16900),
                     "counted_cash_cents": (18950, 19000), "over_short_cents": (-50, 0),
                     "exits:Mobile Payment": (0, 1), "revenue_cents:Mobile Payment": (0, 700)}
