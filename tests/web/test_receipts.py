"""Receipts (issue 15): what a customer or an accountant needs, on the printed 80 mm slip and
on the desk's receipt card, and the receipt number's sequence, on SQLite and PostgreSQL."""
from __future__ import annotations

import sqlalchemy as sa

from garage.domain.clock import to_local
from garage.i18n import format_date, format_time
from garage.extensions import db
from garage.models import Ticket
from tests.helpers.db import audit_events, backdate, set_settings, ticket
from tests.helpers.staff import quoted_amount
from tests.helpers.web import soup, text

RECEIPT_SETTINGS = dict(garage_name="Main Street Garage", garage_address="12 Main Street\nSpringfield IL 62701",
                        tax_rate_bp=1900, tax_id="DE123456789", timezone="Europe/Berlin")


def local(moment) -> str:
    # As the desk shows it in the default format locale (en_US: "Dec 6, 2026, 2:05 PM"; desk local_time).
    shown = f'{format_date(to_local(moment, "Europe/Berlin"), "yMMMd")}, {format_time(moment, "Europe/Berlin")}'
    return " ".join(shown.split())  # as text() reads it (the narrow space before PM is a space)


def facts(node) -> dict[str, str]:
    """A receipt's <dl> as {label: value}."""
    return {text(dt): text(dt.find_next_sibling("dd")) for dt in node.select("dt")}


def paid_ticket(desk, plate: str = "REC 1", method: str = "Credit Card", minutes: int = 125) -> str:
    number = desk.issue(plate, "SUV")
    backdate(number, minutes=minutes - 1, seconds=30)
    assert desk.pay(number, method, quoted_amount(soup(desk.lookup(number)))).status_code == 303
    return number


def test_the_printed_receipt_has_what_a_customer_and_an_accountant_need(desk):
    set_settings(**RECEIPT_SETTINGS)
    number = paid_ticket(desk)
    slip = soup(desk.client.get(f"/g/main/desk/tickets/{number}/receipt")).select_one(".slip")
    assert text(slip.select_one(".slip-garage")) == "Main Street Garage"
    assert [text(p) for p in slip.select(".slip-address")] == ["12 Main Street", "Springfield IL 62701"]
    assert text(slip.select_one("[data-receipt-number]")) == "Receipt R-000001"
    assert text(slip.select_one(".slip-number")) == number
    t = ticket(number)
    assert facts(slip) == {"Plate": "REC 1", "Vehicle": "SUV", "Entered": local(t.entry_time),
                           "Left": local(t.exit_time), "Duration": "2 h 05 min", "Hours billed": "3", "Price": "Standard rate",
                           "Method": "Credit Card", "Attendant": "ann"}
    assert text(slip.select_one(".slip-total")) == "Total paid $30.00"
    # 19 % included in $30.00: 3000 × 19 / 119 = 478.99 cents → $4.79
    assert text(slip.select_one("[data-tax-line]")) == "incl. VAT 19 %: $4.79"
    assert text(slip.select_one("[data-tax-id]")) == "Tax/VAT id: DE123456789"


def test_the_desk_receipt_card_shows_the_same(desk):
    set_settings(**RECEIPT_SETTINGS)
    number = desk.issue("REC 2", "Van")
    backdate(number, minutes=61)
    page = soup(desk.pay(number, "Cash", 2000, htmx=True))
    card = page.select_one("#exit .receipt-card")
    assert text(card.select_one("[data-receipt-garage]")) == \
        "Main Street Garage · 12 Main Street · Springfield IL 62701 · Tax/VAT id DE123456789"
    shown = facts(card)
    assert shown["Receipt"] == "R-000001" and shown["Ticket"] == number and shown["Plate"] == "REC 2 · Van"
    assert shown["Hours billed"] == "2" and shown["Amount"] == "$20.00"
    assert shown["Tax"] == "incl. VAT 19 %: $3.19"  # 319.33 cents
    assert shown["Entered"] == local(ticket(number).entry_time) and shown["Attendant"] == "ann"
    # the same card when the paid ticket is looked up again
    again = soup(desk.lookup(number)).select_one("#exit .receipt-card")
    assert facts(again)["Receipt"] == "R-000001" and facts(again)["Tax"] == "incl. VAT 19 %: $3.19"


def test_without_tax_settings_there_is_no_tax_line_no_tax_id_and_no_address(desk):
    number = paid_ticket(desk)
    slip = soup(desk.client.get(f"/g/main/desk/tickets/{number}/receipt")).select_one(".slip")
    assert text(slip.select_one(".slip-garage")) == "Main garage"
    assert slip.select(".slip-address") == [] and slip.select("[data-tax-line], [data-tax-id]") == []
    assert "VAT" not in text(slip)
    card = soup(desk.lookup(number)).select_one("#exit .receipt-card")
    assert text(card.select_one("[data-receipt-garage]")) == "Main garage" and "Tax" not in facts(card)
    assert ticket(number).tax_rate_bp == 0


def test_a_receipt_keeps_the_tax_rate_of_the_day_it_was_paid(desk):
    set_settings(tax_rate_bp=1900)
    number = paid_ticket(desk)
    set_settings(tax_rate_bp=700)  # the rate changes afterwards
    slip = soup(desk.client.get(f"/g/main/desk/tickets/{number}/receipt")).select_one(".slip")
    assert text(slip.select_one("[data-tax-line]")) == "incl. VAT 19 %: $4.79"
    later = paid_ticket(desk, "REC 9")
    assert text(soup(desk.client.get(f"/g/main/desk/tickets/{later}/receipt")).select_one("[data-tax-line]")) == \
        "incl. VAT 7 %: $1.96"  # 196.26 cents


def test_a_lost_ticket_receipt_shows_its_breakdown_and_the_hours_billed(desk):
    set_settings(lost_ticket_fee_cents=2500, lost_ticket_mode="add", tax_rate_bp=2000)
    number = desk.issue("LOST 1")
    backdate(number, minutes=90)
    amount = quoted_amount(soup(desk.lookup("LOST 1", lost=True)))
    assert amount == 4500
    assert desk.pay(number, "Cash", amount, lost=True).status_code == 303
    slip = soup(desk.client.get(f"/g/main/desk/tickets/{number}/receipt")).select_one(".slip")
    shown = facts(slip)
    assert shown["Hours billed"] == "2" and shown["Time fee"] == "$20.00 (2 h)" and shown["Lost-ticket fee"] == "$25.00"
    assert text(slip.select_one("[data-tax-line]")) == "incl. VAT 20 %: $7.50"


def test_receipt_numbers_follow_the_payments_and_a_refused_payment_draws_none(desk):
    first = paid_ticket(desk, "SEQ 1")
    # refused payments in between: the fee moved since the quote, a second payment, no method chosen
    moved = desk.issue("SEQ 2")
    assert desk.pay(moved, "Cash", 1000).status_code == 303
    assert desk.pay(moved, "Cash", 1000).status_code == 409  # already paid
    late = desk.issue("SEQ 3")
    backdate(late, hours=2)
    assert desk.pay(late, "Cash", 1000).status_code == 409  # the fee changed since the quote
    assert desk.pay(late, None, 3000).status_code == 422  # no payment method
    assert desk.pay(late, "Cash", 3000).status_code == 303
    numbers = [ticket(n).receipt_number for n in (first, moved, late)]
    assert numbers == [1, 2, 3]
    assert [e.details["receiptNumber"] for e in audit_events("ticket.paid")] == [1, 2, 3]
    assert ticket(desk.issue("SEQ 4")).receipt_number is None  # none while inside


def test_a_ticket_paid_before_receipt_numbers_prints_without_one(desk):
    number = paid_ticket(desk)
    db.session.execute(sa.update(Ticket).where(Ticket.ticket_number == number)
                       .values(receipt_number=None, tax_rate_bp=None))
    db.session.commit()
    set_settings(tax_rate_bp=1900)
    slip = soup(desk.client.get(f"/g/main/desk/tickets/{number}/receipt")).select_one(".slip")
    assert slip.select("[data-receipt-number], [data-tax-line]") == [] and "R-0" not in text(slip)
    assert text(slip.select_one(".slip-total")) == "Total paid $30.00"
