"""Pricing details a driver sees on the receipt (garage/domain/pricing.py): a lost ticket in
"replace" mode bills no hours, a paid ticket's breakdown keeps its stay, a part second counts."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from garage.domain.pricing import Tariff, duration_seconds, quote, recorded

ENTRY = datetime(2026, 3, 8, 9, 0, tzinfo=timezone.utc)


def test_a_lost_ticket_in_replace_mode_bills_no_hours_only_the_fee():
    q = quote(ENTRY, ENTRY + timedelta(hours=3), Tariff(lost_ticket_fee_cents=2500), lost=True)
    assert (q.billable_hours, q.time_fee_cents, q.lost_fee_cents, q.amount_cents, q.lost) == (0, 0, 2500, 2500, True)


def test_a_paid_ticket_s_breakdown_keeps_its_stay_and_whether_it_was_lost():
    paid = recorded(95, 2000)
    assert (paid.duration_minutes, paid.billable_hours, paid.time_fee_cents, paid.lost) == (95, 2, 2000, False)
    lost = recorded(95, 4500, lost=True, lost_fee_cents=2500)
    assert (lost.duration_minutes, lost.time_fee_cents, lost.lost_fee_cents, lost.lost) == (95, 2000, 2500, True)
    replaced = recorded(95, 2500, lost=True, lost_fee_cents=2500)
    assert (replaced.billable_hours, replaced.time_fee_cents) == (0, 0)


def test_a_part_second_counts_as_a_whole_one():
    assert duration_seconds(ENTRY, ENTRY + timedelta(seconds=90, microseconds=500_000)) == 91
    assert duration_seconds(ENTRY, ENTRY + timedelta(seconds=90)) == 90
