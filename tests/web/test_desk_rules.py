"""Issue 15 at the desk, on SQLite and PostgreSQL: international plates and their one-car key,
a filter or lookup with nothing of a plate in it, a departed car found by its plate, and the
recent-activity list (payment method, attendant, lost ticket, more than ten rows)."""
from __future__ import annotations

import pytest

from garage.domain.tickets import NOTHING_TO_FIND
from tests.helpers.db import backdate, ticket, ticket_count
from tests.helpers.web import HTMX, soup, text


# --- plates --------------------------------------------------------------------------------------

@pytest.mark.parametrize("typed, shown", [("mü-ab 12", "MÜ-AB 12"), ("ab 12 æøå", "AB 12 ÆØÅ"),
                                          ("ÄÖÜÄÖÜÄÖÜÄÖÜ", "ÄÖÜÄÖÜÄÖÜÄÖÜ")])
def test_plates_with_letters_beyond_a_to_z_get_a_ticket(desk, typed, shown):
    number = desk.issue(typed)  # 303: the twelve-letter key fits the column on PostgreSQL too
    assert ticket(number).license_plate == shown


def test_one_car_per_plate_sees_the_same_key_however_the_plate_is_typed(desk):
    number = desk.issue("MÜ AB 1")
    backdate(number, minutes=1)  # not the same entry sent again (answered with its ticket: test_desk.py)
    for again in ("mü-ab-1", "MÜ.AB.1", "ｍü ａｂ １"):  # the partial unique index sees one key
        r = desk.enter(again)
        assert r.status_code == 409 and number in text(soup(r).select_one("#plate-error")), again
    other = desk.issue("MU AB 1")  # a different letter: a different car
    assert other != number and ticket_count() == 2


def test_a_look_alike_from_another_script_is_refused_by_name(desk):
    desk.issue("AB 1")
    r = desk.enter("АВ 1")  # Cyrillic А and В
    assert r.status_code == 422
    assert "Type the plate in Latin letters: А is a Cyrillic letter" in text(soup(r).select_one("#plate-error"))
    assert ticket_count() == 1


@pytest.mark.parametrize("htmx", [False, True])
def test_a_filter_with_nothing_of_a_plate_says_so_and_lists_nothing(desk, htmx):
    desk.issue("FILT 1")
    desk.issue("FILT 2")
    r = desk.client.get("/g/main/desk/inside", query_string={"q": "🚗🚙💥"}, headers=HTMX if htmx else {})
    assert r.status_code == 422
    page = soup(r)
    assert text(page.select_one("#inside-list .list-summary")) == NOTHING_TO_FIND
    assert page.select("#inside-list tbody tr") == [] and "FILT" not in text(page.select_one("#inside-list"))
    r = desk.client.get("/g/main/desk/inside", query_string={"q": "fïlt"}, headers=HTMX)  # ï: not an I
    assert r.status_code == 200 and "0 matches" in text(soup(r).select_one(".list-summary"))
    r = desk.client.get("/g/main/desk/inside", query_string={"q": "filt-1"}, headers=HTMX)
    assert r.status_code == 200 and "1 match " in text(soup(r).select_one(".list-summary"))


@pytest.mark.parametrize("lost", [False, True])
def test_a_lookup_with_nothing_of_a_plate_says_so(desk, lost):
    desk.issue("LOOK 9")
    r = desk.lookup("🚗🚙💥", lost=lost, htmx=True)
    assert r.status_code == 422 and text(soup(r).select_one("#lookup-error")) == NOTHING_TO_FIND
    assert soup(r).select_one("#exit .quote") is None


# --- a departed car, found by its plate ----------------------------------------------------------

def test_a_departed_car_is_found_by_plate_with_its_receipt(desk):
    number = desk.issue("GONE 1")
    desk.pay(number, "Debit Card", 1000)
    for query in ("gone-1", "GONE 1"):
        r = desk.lookup(query, htmx=True)
        assert r.status_code == 200, query
        receipt = soup(r).select_one("#exit .receipt-card")
        assert text(receipt.select_one("[data-ticket-number]")) == number
        assert "already been paid" in text(receipt) and soup(r).select_one("#exit .quote") is None
        reprint = receipt.find("a", string="Reprint receipt")
        assert reprint["href"].startswith(f"/g/main/desk/tickets/{number}/receipt")
    assert desk.client.get(reprint["href"]).status_code == 200


def test_lookup_by_plate_finds_the_latest_ticket_and_a_car_inside_first(desk):
    first = desk.issue("BACK 1")
    desk.pay(first, "Cash", 1000)
    second = desk.issue("BACK 1")
    desk.pay(second, "Cash", 1000)
    r = desk.lookup("back1")
    assert text(soup(r).select_one("#exit [data-ticket-number]")) == second  # the latest paid one
    inside = desk.issue("BACK 1")
    r = desk.lookup("back1")
    assert r.status_code == 200
    quote = soup(r).select_one("#exit .quote")  # the car inside wins: a quote, not a receipt
    assert quote is not None and text(quote.select_one("[data-ticket-number]")) == inside


# --- recent activity ---------------------------------------------------------------------------

def test_recent_activity_shows_payment_attendant_and_lost_ticket(desk, make_user):
    number = desk.issue("ACT 9")
    kept = desk.issue("ACT 8")
    desk.pay(number, "Mobile Payment", 1000, lost=True)  # no lost-ticket fee set: the time fee
    r = desk.client.get("/g/main/desk/activity", headers=HTMX)
    rows = soup(r).select("#activity tbody tr")
    assert number in text(rows[0]) and "Exit" in text(rows[0])
    assert text(rows[0].select_one("[data-method]")) == "Mobile Payment"
    assert text(rows[0].select_one("[data-attendant]")) == "ann"
    assert rows[0].select_one("[data-lost]") is not None
    assert kept in text(rows[1]) and text(rows[1].select_one("[data-attendant]")) == "ann"
    assert rows[1].select_one("[data-lost]") is None and text(rows[1].select_one("[data-method]")) == ""


def test_recent_activity_shows_more_than_ten_rows_on_request(desk):
    numbers = [desk.issue(f"MANY {i}") for i in range(12)]
    first = soup(desk.client.get("/g/main/desk/activity", headers=HTMX))
    assert len(first.select("#activity tbody tr")) == 10
    more = first.find("a", string="Show more")
    r = desk.client.get(more["hx-get"], headers=HTMX)
    page = soup(r)
    assert r.status_code == 200 and len(page.select("#activity tbody tr")) == 12
    assert numbers[0] in text(page.select_one("#activity"))
    assert "rows=50" in page.select_one("#activity")["hx-get"]  # the poll keeps the longer list
    assert page.find("a", string="Show fewer") is not None
    r = desk.client.get("/g/main/desk/activity?rows=51", headers=HTMX)
    assert r.status_code == 422 and "rows must be a whole number from 1 to 50" in r.get_data(as_text=True)


# --- nothing to pay --------------------------------------------------------------------------------

@pytest.mark.parametrize("htmx", [False, True])
def test_a_car_owing_nothing_is_let_out_with_one_tap_and_no_payment_is_recorded(desk, htmx):
    """Inside the grace period the quote is $0.00: the attendant lets the car out (no method to pick,
    which recorded a $0.00 "Cash" payment), the ticket is completed with "No charge", and the shift's
    cash counts no payment for it. A car whose grace ended meanwhile is told the new amount."""
    from tests.helpers.db import set_settings
    set_settings(grace_minutes=10)
    number = desk.issue("FREE 1")
    quote = soup(desk.lookup(number, htmx=htmx))
    assert quote.select_one("[data-amount]").get_text(strip=True) == "$0.00"
    assert quote.select_one("[data-let-out]").get_text(strip=True) == "Let out: no charge"
    assert quote.find("input", attrs={"name": "payment_method"}) is None
    r = desk.pay(number, method=None, expected=0, htmx=htmx)
    assert r.status_code == (200 if htmx else 303)
    if htmx:
        assert soup(r).find(class_="paid-banner").get_text(strip=True) == "Let out · no charge"
    done = ticket(number)
    assert (done.status, done.amount_paid, done.payment_method) == ("completed", 0, "No charge")

    # Quoted $0.00, the grace period over by the time of the tap: told, nothing recorded.
    late = desk.issue("LATE 1")
    backdate(late, minutes=11)
    refused = desk.pay(late, method=None, expected=0, htmx=True)
    assert refused.status_code == 409 and "$10.00" in text(soup(refused).select_one("#exit .notice"))
    assert ticket(late).status == "active"
    assert soup(refused).find("input", attrs={"name": "payment_method"}) is not None  # now a method to pick


# --- a scan after text already in the look-up field --------------------------------------------------

@pytest.mark.parametrize("before", ["PS-", "KA 55", "PS-2345", "x"])
def test_a_scan_typed_after_text_in_the_look_up_field_finds_the_scanned_ticket(desk, before):
    """The attendant tapped into the field (the caret at the end, its text no longer selected), then
    scanned: the field sent "<earlier text>PS-XXXXXX". The scanned ticket is quoted, and the field shows
    its number; a plate or number that exists as typed still wins."""
    number = desk.issue("SCAN 1")
    page = soup(desk.lookup(before + number, htmx=True))
    assert page.select_one("#exit .quote [data-ticket-number]").get_text(strip=True).startswith(number)
    assert page.select_one("#lookup-q")["value"] == number
    # lower case, as some scanners type it
    assert soup(desk.lookup(before + number.lower(), htmx=True)).select_one("#exit .quote") is not None


def test_text_ending_like_a_ticket_number_finds_nothing_when_no_such_ticket_exists(desk):
    r = desk.lookup("KA 55PS-ZZZZZZ", htmx=True)
    assert r.status_code == 422 and "No ticket or car matches" in text(soup(r).select_one("#lookup-error"))
