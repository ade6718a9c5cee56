"""The attendant desk (/desk) through the Flask test client, on SQLite and PostgreSQL.

Every flow runs on both paths: a plain form post (no JS: 303 to a result page)
and an htmx request (a fragment, plus the live counters out-of-band)."""
from __future__ import annotations


import pytest
from bs4 import BeautifulSoup

from garage.extensions import db
from garage.i18n import format_time
from garage.models import VehicleRate
from garage.templating import ticket_numbers_whole
from tests.helpers.api import pay
from tests.helpers.db import audit_events, backdate, set_settings, ticket, ticket_count
from tests.helpers.staff import quoted_amount
from tests.helpers.web import HTMX, soup, text
from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN
from garage.domain.tickets import RESENT_ENTRY_SECONDS

def stat(page: BeautifulSoup, name: str) -> str:
    return text(page.select_one(f'#live [data-stat="{name}"]'))


def is_full_page(page: BeautifulSoup) -> bool:
    return page.find("html") is not None and page.select_one("header.topbar") is not None


# --- access --------------------------------------------------------------------------------

def test_signed_out_visitors_are_sent_to_the_login_page(client):
    for url in ("/g/main/desk", "/g/main/desk/inside", "/g/main/desk/exit?q=ABC"):
        r = client.get(url)
        assert r.status_code == 302 and "/login" in r.headers["Location"], url
    r = client.get("/g/main/desk/live", headers=HTMX)
    assert r.status_code == 401 and "/login" in r.headers["HX-Redirect"]


def test_home_sends_signed_in_staff_to_the_desk(desk):
    r = desk.client.get("/")  # through /desk, which knows the person's garages
    assert r.status_code == 302 and desk.client.get("/", follow_redirects=True).request.path == "/g/main/desk"


def test_the_desk_page_has_every_panel_and_focuses_the_plate(desk):
    r = desk.client.get("/g/main/desk")
    page = soup(r)
    assert r.status_code == 200 and is_full_page(page)
    for section in ("live", "entry", "exit", "inside", "activity"):
        assert page.select_one(f"#{section}") is not None, section
    plate = page.select_one("#plate")
    assert plate.has_attr("autofocus") and plate.has_attr("data-autofocus")
    assert page.select_one('input[name="vehicle_type"][value="Car"]').has_attr("checked")
    assert stat(page, "available") == "140" and stat(page, "occupied") == "0"
    live = page.select_one("#live")
    assert live["hx-get"] == "/g/main/desk/live" and "every 5s" in live["hx-trigger"]
    # Every form works without JS: a real action and method.
    for form in page.find_all("form"):
        assert form.get("action") and form.get("method") in ("get", "post"), form
    assert page.select_one('link[href^="/static/css/desk.css?v="]') is not None


# --- entry ---------------------------------------------------------------------------------

def test_entry_without_js_redirects_to_the_ticket_card(desk):
    r = desk.enter(" ab-12 x ", "SUV")
    assert r.status_code == 303, r.get_data(as_text=True)
    number = r.headers["Location"].rsplit("/", 1)[1]
    assert r.headers["Location"].endswith(f"/g/main/desk/tickets/{number}")
    page = soup(desk.client.get(r.headers["Location"]))
    card = page.select_one("#entry .ticket-card")
    assert text(card.select_one("[data-ticket-number]")) == number
    assert "AB-12 X" in text(card) and "SUV" in text(card)
    assert card.find("svg") is not None  # the QR code, drawn server-side
    assert card.find("a", string="Print ticket")["href"].startswith(f"/g/main/desk/tickets/{number}/print")
    assert stat(page, "occupied") == "1" and stat(page, "available") == "139"
    assert page.select_one("#plate")["value"] == ""  # ready for the next car
    assert ticket(number).license_plate == "AB-12 X"


def test_entry_with_htmx_returns_the_panel_and_the_new_counters_out_of_band(desk):
    r = desk.enter("xyz 987", "Van", htmx=True)
    assert r.status_code == 200 and "HX-Request" in r.headers["Vary"]
    assert r.headers["HX-Trigger"] == "desk-changed"
    page = soup(r)
    assert not is_full_page(page)
    entry = page.select_one("section#entry")
    number = text(entry.select_one(".ticket-card [data-ticket-number]"))
    assert number.startswith("PS-") and ticket(number).vehicle_type == "Van"
    assert "XYZ 987" in text(entry.select_one(".ticket-card"))
    plate = entry.select_one("#plate")
    assert plate["value"] == "" and plate.has_attr("data-autofocus")  # scanner flow: type the next plate
    live = page.select_one("#live")
    assert live["hx-swap-oob"] == "true"
    assert stat(page, "occupied") == "1" and stat(page, "available") == "139"
    activity = page.select_one("#activity")
    assert activity["hx-swap-oob"] == "true" and number in text(activity) and "Entry" in text(activity)


@pytest.mark.parametrize("htmx", [False, True])
def test_a_bad_plate_is_refused_next_to_the_field_and_the_form_keeps_it(desk, htmx):
    r = desk.enter("AB$12", "Motorcycle", htmx=htmx)
    assert r.status_code == 422
    page = soup(r)
    assert is_full_page(page) is not htmx
    plate = page.select_one("#plate")
    assert plate["value"] == "AB$12" and plate["aria-invalid"] == "true"
    error = page.select_one("#plate-error")
    assert "digits, spaces, dashes and dots" in text(error)
    assert plate.find_next_sibling("p") is error  # right under the field
    assert page.select_one('input[name="vehicle_type"][value="Motorcycle"]').has_attr("checked")
    assert page.select_one(".ticket-card") is None and page.select_one('#live[hx-swap-oob]') is None
    assert ticket_count() == 0


@pytest.mark.parametrize("htmx", [False, True])
def test_an_empty_plate_or_unknown_vehicle_type_is_refused(desk, htmx):
    r = desk.enter("   ", htmx=htmx)
    assert r.status_code == 422 and "Enter a licence plate" in text(soup(r).select_one("#plate-error"))
    r = desk.enter("ABC1", "Tank", htmx=htmx)
    assert r.status_code == 422
    assert "Vehicle type must be one of" in text(soup(r).select_one("#vehicle-type-error"))
    assert soup(r).select_one("#plate")["value"] == "ABC1"
    assert ticket_count() == 0


@pytest.mark.parametrize("htmx", [False, True])
def test_a_plate_already_inside_is_refused_with_its_ticket_number(desk, htmx):
    number = desk.issue("DUP 1")
    backdate(number, seconds=RESENT_ENTRY_SECONDS + 1)  # not the same entry sent again (below)
    r = desk.enter("dup1", htmx=htmx)
    assert r.status_code == 409
    page = soup(r)
    assert f"already inside on ticket {number}" in text(page.select_one("#plate-error"))
    assert page.select_one("#plate")["value"] == "dup1"
    assert ticket_count() == 1


def _card_and_notes(desk, r, htmx: bool) -> tuple[str, list[str], bool]:
    """The ticket card's number, the notices beside it and whether the card prints by itself, of an
    entry's answer (htmx: the panel; without JS: the page the 303 leads to)."""
    if not htmx:
        assert r.status_code == 303, r.status_code
        r = desk.client.get(r.headers["Location"])
    assert r.status_code == 200, r.status_code
    page = soup(r)
    card = page.select_one(".ticket-card")
    notes = [text(p) for p in page.select("[data-entry-note], [data-desk-notice]")]
    return text(card.select_one("[data-ticket-number]")), notes, card.has_attr("data-issued-now")


@pytest.mark.parametrize("htmx", [False, True])
def test_the_same_entry_sent_again_moments_later_answers_its_ticket(desk, htmx):
    """A second tap, or a browser resending the form whose answer was lost: the plate is inside on the
    ticket this attendant was issued seconds ago. The answer is that ticket, said so, not a red "already
    inside" with the plate left in the field; nothing more is written and it does not print again."""
    number = desk.issue("TWICE 1")
    audited = len(audit_events("ticket.issued"))
    r = desk.enter("twice 1", htmx=htmx)
    shown, notes, prints = _card_and_notes(desk, r, htmx)
    assert shown == number
    assert notes == [f"TWICE 1 was already issued ticket {number} just now: no second ticket."]
    assert not prints
    assert ticket_count() == 1 and len(audit_events("ticket.issued")) == audited
    if htmx:
        assert soup(r).select_one("#plate")["value"] == ""  # ready for the next car


@pytest.mark.parametrize("who, age, vehicle", [("another attendant", 0, "Car"),
                                               ("the same one, later", RESENT_ENTRY_SECONDS + 1, "Car"),
                                               ("the same one, another vehicle type", 0, "SUV")])
def test_an_entry_of_a_plate_inside_is_refused_unless_it_is_the_same_entry_sent_again(actions, who, age, vehicle):
    """Only the same person's entry of the same vehicle type, moments after: a plate another attendant let
    in, or one let in longer ago, is another car with the same plate (or a typo); the same plate as another
    vehicle type is a correction meant (the ticket's menu corrects it): refused as ever, the car named."""
    actions.sign_in("ann", "attendant")
    number = actions.issue("TWICE 2")
    backdate(number, seconds=age)
    if who == "another attendant":
        actions.sign_out()
        actions.sign_in("bob", "attendant")
    r = actions.enter("TWICE 2", vehicle, htmx=True)
    assert r.status_code == 409
    assert f"already inside on ticket {number}" in text(soup(r).select_one("#plate-error"))
    assert ticket_count() == 1


@pytest.mark.parametrize("htmx", [False, True])
def test_a_duplicate_plate_is_named_as_stored_and_its_ticket_number_never_wraps(desk, htmx):
    """Issue 15: the message echoed the plate as typed and broke inside the ticket number."""
    number = desk.issue("HH-AB 102")
    backdate(number, minutes=1)
    r = desk.enter("HH AB.102", htmx=htmx)
    error = soup(r).select_one("#plate-error")
    assert r.status_code == 409
    assert text(error) == f"HH-AB 102 is already inside on ticket {number}"
    assert [text(span) for span in error.select("span.ticket-no")] == [number]
    assert soup(r).select_one("#plate")["value"] == "HH AB.102"  # the field keeps what was typed


@pytest.mark.parametrize("htmx", [False, True])
def test_a_ticket_scanned_into_the_plate_field_is_looked_up_not_issued(desk, htmx):
    """Issue 15: the cursor rests in the plate field; a ticket scanned there is not a new car. The page's
    script tells a scan by its keys' pace and looks it up; keys that reached it too slowly (a busy tablet:
    an outside check saw 2 in 72) were refused as a plate, and the attendant had to scan again. The
    server looks the ticket up itself: the quote goes to the exit card, the entry card is left empty."""
    number = desk.issue("SCAN 1")
    r = desk.enter(number, vehicle_type="SUV", htmx=htmx)
    assert ticket_count() == 1
    if not htmx:
        assert r.status_code == 303 and r.headers["Location"].endswith(f"/g/main/desk/exit?q={number}")
        return
    assert r.status_code == 200
    assert (r.headers["HX-Retarget"], r.headers["HX-Reswap"]) == ("#exit", "outerHTML")
    page = soup(r)
    assert text(page.select_one("#exit .quote [data-ticket-number]")).startswith(number)
    assert page.select_one("#exit [data-amount]") is not None and page.select_one("#lookup-q").has_attr("autofocus")
    entry = page.select_one("#entry")
    assert entry["hx-swap-oob"] == "true" and entry.select_one("#plate").get("value", "") == ""
    assert entry.select_one("#plate-error") is None and not entry.select_one("#plate").has_attr("autofocus")
    assert entry.select_one('input[name="vehicle_type"][value="SUV"]').has_attr("checked")
    paid = desk.pay(number, "Cash", 1000)  # the quote is the ordinary one: paid as ever
    assert paid.status_code == 303 and ticket(number).status == "completed"
    again = desk.enter(number, htmx=True)  # paid: its receipt is shown, nothing issued
    assert again.status_code == 200 and "already been paid" in text(soup(again).select_one("#exit"))
    assert ticket_count() == 1


def test_a_plate_shaped_like_a_ticket_number_is_refused_only_when_that_ticket_exists(desk):
    # Real plates may look alike (Pirmasens: "PS-AB 123"): the shape alone refuses nothing.
    for plate in ("PS-AB 123", "PS-ABC234", "ps-xyz789"):
        desk.issue(plate)
    assert ticket_count() == 3


def test_the_api_refuses_a_ticket_number_as_a_plate_but_tells_a_stranger_nothing(client, staff, desk):
    number = desk.issue("SCAN 2")
    body = {"licensePlate": number, "vehicleType": "Car"}
    assert client.post("/api/tickets", json=body).status_code == 401  # not 409: no oracle for numbers
    r = client.post("/api/tickets", json=body, headers=staff)
    assert r.status_code == 409 and "is a ticket number" in r.get_json()["message"]
    assert ticket_count() == 1


@pytest.mark.parametrize("htmx", [False, True])
def test_a_full_garage_refuses_entries_and_says_so_loudly(desk, htmx):
    set_settings(total_spaces=1)
    desk.issue("FIRST1")
    page = soup(desk.client.get("/g/main/desk"))
    assert page.select_one("#live")["data-state"] == "FULL"
    assert "GARAGE FULL" in text(page.select_one("#live .full-banner"))
    r = desk.enter("SECOND2", htmx=htmx)
    assert r.status_code == 409
    assert "Garage is full" in text(soup(r).select_one("#plate-error"))
    assert soup(r).select_one("#plate")["value"] == "SECOND2"
    assert ticket_count() == 1


def test_entry_time_is_shown_in_the_garage_timezone(desk):
    set_settings(timezone="Asia/Kolkata")  # UTC+05:30, no DST
    number = desk.issue("TZ1")
    t = ticket(number)
    # In the reader's format locale (en_US by default: 3:05 PM; garage/i18n.py).
    local = " ".join(format_time(t.entry_time, "Asia/Kolkata").split())
    page = soup(desk.client.get(f"/g/main/desk/tickets/{number}"))
    assert local in text(page.select_one(".ticket-card"))


# --- exit: lookup and quote ----------------------------------------------------------------

@pytest.mark.parametrize("htmx", [False, True])
def test_lookup_by_ticket_number_in_any_form_or_by_plate_shows_the_amount_due(desk, htmx):
    number = desk.issue("LOOK 1")
    backdate(number, minutes=60, seconds=30)  # 61 minutes once rounded up
    for query in (number, number.lower(), number[3:].lower(), f" {number} ", "look-1", "LOOK1"):
        r = desk.lookup(query, htmx=htmx)
        assert r.status_code == 200, query
        assert "HX-Request" in r.headers["Vary"]
        page = soup(r)
        assert is_full_page(page) is not htmx
        quote = page.select_one("#exit .quote")
        assert text(quote.select_one("[data-ticket-number]")) == number, query
        assert text(quote.select_one("[data-amount]")) == "$20.00"  # 61 min: two started hours
        assert "1 h 01 min" in text(quote.select_one("[data-duration]"))
        assert quoted_amount(page) == 2000
        methods = [i["value"] for i in quote.select('input[name="payment_method"]')]
        assert methods == ["Cash", "Credit Card", "Debit Card", "Mobile Payment"]
        assert quote.select_one("button.btn-confirm") is not None


@pytest.mark.parametrize("htmx", [False, True])
def test_lookup_of_nothing_or_an_unknown_ticket_is_a_message_next_to_the_field(desk, htmx):
    r = desk.lookup("PS-ZZZZZZ", htmx=htmx)
    assert r.status_code == 422
    page = soup(r)
    assert "No ticket or car matches" in text(page.select_one("#lookup-error"))
    assert page.select_one("#lookup-q")["value"] == "PS-ZZZZZZ"
    r = desk.lookup("  ", htmx=htmx)
    assert r.status_code == 422 and "Enter a ticket number or a plate" in text(soup(r).select_one("#lookup-error"))


# --- exit: payment -------------------------------------------------------------------------

def test_payment_without_js_redirects_to_the_receipt(desk):
    number = desk.issue("PAY 1", "Compact Car")
    backdate(number, minutes=124, seconds=30)  # 125 minutes once rounded up
    expected = quoted_amount(soup(desk.lookup(number)))
    assert expected == 3000
    r = desk.pay(number, "Credit Card", expected)
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/g/main/desk/tickets/{number}/paid")
    page = soup(desk.client.get(r.headers["Location"]))
    receipt = page.select_one("#exit .receipt-card")
    assert text(receipt.select_one("[data-ticket-number]")) == number
    for shown in ("PAY 1", "$30.00", "Credit Card", "ann", "2 h 05 min"):
        assert shown in text(receipt), shown
    assert receipt.find("a", string="Print receipt")["href"].startswith(f"/g/main/desk/tickets/{number}/receipt")
    assert page.select_one("#lookup-q").has_attr("autofocus")  # next car
    assert stat(page, "occupied") == "0" and stat(page, "exits") == "1" and stat(page, "revenue") == "$30.00"
    t = ticket(number)
    assert t.status == "completed" and t.amount_paid == 3000 and t.payment_method == "Credit Card"


def test_payment_with_htmx_returns_the_receipt_and_the_counters_out_of_band(desk):
    number = desk.issue("PAY 2")
    r = desk.pay(number, "Mobile Payment", 1000, htmx=True)
    assert r.status_code == 200 and r.headers["HX-Trigger"] == "desk-changed"
    page = soup(r)
    assert not is_full_page(page)
    receipt = page.select_one("section#exit .receipt-card")
    assert "Paid $10.00" in text(receipt.select_one(".paid-banner")) and "Mobile Payment" in text(receipt)
    assert page.select_one("#lookup-q").has_attr("data-autofocus")
    assert page.select_one("#live")["hx-swap-oob"] == "true"
    assert stat(page, "occupied") == "0" and stat(page, "exits") == "1" and stat(page, "revenue") == "$10.00"
    assert "Exit" in text(page.select_one("#activity"))


@pytest.mark.parametrize("htmx", [False, True])
def test_when_the_fee_moves_after_the_quote_nothing_is_charged_and_the_new_amount_is_shown(desk, htmx):
    number = desk.issue("CLOCK 1")
    expected = quoted_amount(soup(desk.lookup(number)))
    assert expected == 1000
    backdate(number, hours=2)  # an hour boundary passes before Confirm
    r = desk.pay(number, "Debit Card", expected, htmx=htmx)
    assert r.status_code == 409
    page = soup(r)
    assert is_full_page(page) is not htmx
    assert "changed from $10.00 to $30.00" in text(page.select_one("#exit .notice"))
    assert text(page.select_one("#exit [data-amount]")) == "$30.00"
    assert quoted_amount(page) == 3000
    assert page.select_one('input[name="payment_method"][value="Debit Card"]').has_attr("checked")
    assert ticket(number).status == "active" and audit_events("ticket.paid", number) == []
    # Confirming the new amount charges it.
    r = desk.pay(number, "Debit Card", quoted_amount(page), htmx=htmx)
    assert r.status_code == (200 if htmx else 303)
    assert ticket(number).amount_paid == 3000 and len(audit_events("ticket.paid", number)) == 1


@pytest.mark.parametrize("htmx", [False, True])
def test_a_fee_above_what_one_payment_records_is_refused_clearly_and_the_ticket_stays_open(desk, client, staff, htmx):
    """A car left ~900 days at the highest hourly rate owes more than a payment records (2,147,483,647
    minor units): the desk and the API say so (409), nothing is charged, no receipt number is drawn, and
    the ticket stays open (a manager can void it); one minor unit less is paid as usual. (An outside
    check: the exit answered 500 and the desk asked to confirm again, for ever.)"""
    set_settings(hourly_rate=100_000)
    big = desk.issue("LEFT 1")
    backdate(big, days=900, minutes=-30)  # 21,600 started hours at $1,000: $21,600,000.00
    expected = quoted_amount(soup(desk.lookup(big)))
    assert expected == 2_160_000_000
    r = desk.pay(big, "Cash", expected, htmx=htmx)
    assert r.status_code == 409
    notice = text(soup(r).select_one("#exit .notice"))
    assert "$21,600,000.00" in notice and "more than one payment can record ($21,474,836.47)" in notice
    assert "nothing was taken" in notice
    api = pay(client, staff, big)
    assert api.status_code == 409 and "more than one payment can record" in api.get_json()["message"]
    stale = pay(client, staff, big, expectedAmount=1000)  # a wrong quote is not asked to be confirmed again
    assert stale.status_code == 409 and "more than one payment can record" in stale.get_json()["message"]
    assert ticket(big).status == "active" and ticket(big).receipt_number is None
    assert audit_events("ticket.paid", big) == []
    set_settings(hourly_rate=2**31 - 1)  # (directly: the settings page allows $1,000 an hour at most)
    edge = desk.issue("EDGE 1")  # its first hour: the largest fee a payment records, to the cent, is paid
    assert pay(client, staff, edge, expectedAmount=2**31 - 1).status_code == 200
    assert ticket(edge).amount_paid == 2**31 - 1
    over = desk.issue("EDGE 2")
    backdate(over, minutes=61)  # two started hours: one minor unit and more over
    assert pay(client, staff, over).status_code == 409 and ticket(over).status == "active"


def test_a_ticket_paid_at_another_booth_is_refused_with_this_booths_counters_brought_up_to_date(desk, client, staff):
    """Booth A has the quote open; booth B (here the API) takes the payment; A's Confirm is refused
    (409, nothing charged) and A's live panel, activity and cars-inside list follow at once, not at the
    next poll: the refusal says the garage changed under this booth."""
    number = desk.issue("OTHER 1")
    assert quoted_amount(soup(desk.lookup(number, htmx=True))) == 1000
    assert pay(client, staff, number).status_code == 200  # booth B
    r = desk.pay(number, "Cash", 1000, htmx=True)
    assert r.status_code == 409 and r.headers["HX-Trigger"] == "desk-changed"
    page = soup(r)
    assert "already paid. No second payment was taken" in text(page.select_one("#exit .notice"))
    assert page.select_one("#live")["hx-swap-oob"] == "true"
    assert stat(page, "occupied") == "0" and stat(page, "exits") == "1" and stat(page, "revenue") == "$10.00"
    assert number in text(page.select_one("#activity"))
    assert ticket(number).amount_paid == 1000 and len(audit_events("ticket.paid", number)) == 1


@pytest.mark.postgres_only
@pytest.mark.parametrize("htmx", [True, False])
def test_a_refusal_answered_while_another_booth_pays_shows_the_cars_inside_as_committed(app, desk, monkeypatch, htmx):
    """Seen by this stop's outside check (2 refusals in 48 Confirms at two booths at once): the refused
    booth's answer counted the other booth's exit but still showed that car inside, because the request
    had loaded the garage's counters before the payment committed. Here the other booth pays, on its own
    connection, right after this request loaded them."""
    import threading

    from garage.desk import routes as desk_routes
    from garage.identity import Actor

    number = desk.issue("RACE 1")
    desk.issue("RACE 2")
    real = desk_routes.ticket_service.find_ticket

    def other_booth_pays_first(garage_id, ticket_number):
        def booth_b() -> None:
            with app.app_context():
                desk_routes.ticket_service.process_exit(garage_id, ticket_number, "Cash", Actor.system("booth B"))
                db.session.remove()

        monkeypatch.setattr(desk_routes.ticket_service, "find_ticket", real)
        thread = threading.Thread(target=booth_b)
        thread.start()
        thread.join()
        return real(garage_id, ticket_number)

    monkeypatch.setattr(desk_routes.ticket_service, "find_ticket", other_booth_pays_first)
    r = desk.pay(number, "Cash", 1000, htmx=htmx)  # with htmx the counters out-of-band, without the whole desk
    assert r.status_code == 409
    page = soup(r)
    assert is_full_page(page) is not htmx
    assert "already paid" in text(page.select_one("#exit .notice"))
    assert (stat(page, "occupied"), stat(page, "exits"), stat(page, "revenue")) == ("1", "1", "$10.00")
    assert ticket(number).amount_paid == 1000 and len(audit_events("ticket.paid", number)) == 1


@pytest.mark.parametrize("htmx", [False, True])
def test_a_double_submit_never_charges_twice(desk, htmx):
    number = desk.issue("TWICE 1")
    assert desk.pay(number, "Cash", 1000, htmx=htmx).status_code == (200 if htmx else 303)
    backdate(number, hours=3)  # even if the fee would now be different
    r = desk.pay(number, "Credit Card", 1000, htmx=htmx)
    assert r.status_code == 409
    page = soup(r)
    assert "already paid. No second payment was taken" in text(page.select_one("#exit .notice"))
    receipt = page.select_one("#exit .receipt-card")
    assert "$10.00" in text(receipt) and "Cash" in text(receipt)
    t = ticket(number)
    assert t.amount_paid == 1000 and t.payment_method == "Cash"
    assert len(audit_events("ticket.paid", number)) == 1
    assert stat(soup(desk.client.get("/g/main/desk")), "revenue") == "$10.00"


@pytest.mark.parametrize("htmx", [False, True])
def test_payment_needs_a_method_and_the_quoted_amount(desk, htmx):
    number = desk.issue("METHOD 1")
    r = desk.pay(number, "Cheque", 1000, htmx=htmx)
    assert r.status_code == 422
    assert "Payment method must be one of" in text(soup(r).select_one("#exit .quote .error"))
    r = desk.pay(number, "Cash", "ten dollars", htmx=htmx)
    assert r.status_code == 422 and "confirm again" in text(soup(r).select_one("#exit .notice"))
    assert quoted_amount(soup(r)) == 1000
    assert ticket(number).status == "active" and audit_events("ticket.paid", number) == []


@pytest.mark.parametrize("htmx", [False, True])
def test_no_method_is_pre_selected_and_confirming_without_one_charges_nothing(desk, htmx):
    """Issue 15: a scan's Enter on a pre-selected Cash took payments nobody confirmed."""
    number = desk.issue("CHOOSE 1")
    page = soup(desk.lookup(number, htmx=htmx))
    methods = page.select('#exit .quote input[name="payment_method"]')
    assert len(methods) == 4 and not any(m.has_attr("checked") or m.has_attr("autofocus") for m in methods)
    assert page.select_one("#lookup-q").has_attr("data-autofocus")  # the next scan goes to the lookup
    for sent in (None, ""):
        r = desk.pay(number, sent, quoted_amount(page), htmx=htmx)
        assert r.status_code == 422
        answer = soup(r)
        assert is_full_page(answer) is not htmx
        error = answer.select_one("#exit .quote fieldset.methods + .error")  # right under the methods
        assert text(error) == "Choose how the driver pays"
        assert text(answer.select_one("#exit [data-ticket-number]")) == number and quoted_amount(answer) == 1000
        assert not any(m.has_attr("checked") for m in answer.select('input[name="payment_method"]'))
        assert answer.select_one('input[name="payment_method"]')["aria-describedby"] == "method-error"
    assert ticket(number).status == "active" and ticket(number).amount_paid is None
    assert audit_events("ticket.paid", number) == []


def test_looking_up_a_paid_ticket_shows_its_receipt_not_a_charge(desk):
    number = desk.issue("DONE 1")
    desk.pay(number, "Cash", 1000)
    page = soup(desk.lookup(number))
    assert "already been paid" in text(page.select_one("#exit .notice"))
    assert page.select_one("#exit .receipt-card") is not None
    assert page.select_one("#exit .quote") is None


def test_paying_an_unknown_ticket_is_a_404_not_a_500(desk):
    r = desk.pay("PS-ZZZZZZ", "Cash", 1000)
    assert r.status_code == 404 and "Ticket not found" in r.get_data(as_text=True)


# --- lost ticket ---------------------------------------------------------------------------

@pytest.mark.parametrize("htmx", [False, True])
def test_a_lost_ticket_is_found_by_plate_and_closed_the_same_way(desk, htmx):
    number = desk.issue("LOST 42")
    backdate(number, minutes=30)
    r = desk.lookup("lost42", lost=True, htmx=htmx)
    assert r.status_code == 200
    page = soup(r)
    assert text(page.select_one("#exit [data-ticket-number]")).startswith(number)
    assert "lost ticket" in text(page.select_one("#exit .quote"))
    assert page.select_one('#exit input[name="lost"]')["value"] == "1"
    assert page.select_one('#exit input[name="lost"][type="checkbox"]').has_attr("checked")
    # In lost mode only plates count: the ticket number is not accepted.
    r = desk.lookup(number, lost=True, htmx=htmx)
    assert r.status_code == 422 and "No car inside has that plate" in text(soup(r).select_one("#lookup-error"))
    r = desk.pay(number, "Cash", quoted_amount(page), lost=True, htmx=htmx)
    assert r.status_code == (200 if htmx else 303)
    events = audit_events("ticket.paid", number)
    assert len(events) == 1 and events[0].details["lost"] is True
    assert ticket(number).status == "completed"


# --- cars inside ---------------------------------------------------------------------------

def test_cars_inside_is_paginated_longest_parked_first_with_the_fee_so_far(desk):
    numbers = [desk.issue(f"CAR {i:02d}") for i in range(12)]
    for i, number in enumerate(numbers):
        backdate(number, minutes=(12 - i) * 30 - 1)  # CAR 00 parked longest (5 h 59 min)
    page = soup(desk.client.get("/g/main/desk"))
    rows = page.select("#inside-list tbody tr")
    assert len(rows) == 10
    assert "CAR 00" in text(rows[0]) and "$60.00" in text(rows[0])
    assert "12 cars inside" in text(page.select_one("#inside-list .list-summary"))
    next_link = page.select_one('#inside-list a[rel="next"]')
    r = desk.client.get(next_link["href"])
    assert r.status_code == 200 and is_full_page(soup(r))
    r = desk.client.get(next_link["hx-get"], headers=HTMX)
    assert r.status_code == 200 and "HX-Request" in r.headers["Vary"]
    fragment = soup(r)
    assert not is_full_page(fragment)
    rows = fragment.select("#inside-list tbody tr")
    assert [text(r.select_one(".plate")).split()[0:2] for r in rows] == [["CAR", "10"], ["CAR", "11"]]
    assert "Page 2 of 2" in text(fragment) and fragment.select_one('a[rel="prev"]') is not None
    # A row opens the exit flow for its ticket.
    exit_link = rows[0].select_one("a.btn-row")
    assert exit_link["hx-target"] == "#exit"
    quote = soup(desk.client.get(exit_link["href"], headers=HTMX))
    assert text(quote.select_one("[data-ticket-number]")) == numbers[10]


def test_cars_inside_shows_each_cars_fee_at_its_own_vehicle_rate(desk):
    """The fee so far in the list is what the exit will charge: a motorcycle with
    its own rate is not shown at the default car rate."""
    db.session.add(VehicleRate(garage_id=MAIN, vehicle_type="Motorcycle", hourly_rate=400))
    db.session.commit()
    moto, car = desk.issue("MOTO 1", "Motorcycle"), desk.issue("CAR 1", "Car")
    backdate(moto, hours=2, minutes=10)  # 3 started hours
    backdate(car, hours=1, minutes=50)  # 2 started hours
    listed = {text(r.select_one(".plate")): text(r)
              for r in soup(desk.client.get("/g/main/desk")).select("#inside-list tbody tr")}
    assert "$12.00" in listed["MOTO 1"] and "$30.00" not in listed["MOTO 1"]
    assert "$20.00" in listed["CAR 1"]
    quote = soup(desk.lookup(moto, htmx=True))
    assert "$12.00" in text(quote.select_one("#exit"))


def test_cars_inside_filters_by_plate_or_ticket_number_as_you_type(desk):
    a = desk.issue("ABC 111")
    b = desk.issue("XYZ 222")
    paid = desk.issue("ABC 999")
    desk.pay(paid, "Cash", 1000)  # gone: never listed
    search = soup(desk.client.get("/g/main/desk")).select_one("#inside-q")
    assert "input changed delay:300ms" in search["hx-trigger"] and "search" in search["hx-trigger"]

    def listed(query: str) -> str:
        r = desk.client.get("/g/main/desk/inside", query_string={"q": query}, headers=HTMX)
        assert r.status_code == 200
        return text(soup(r).select_one("#inside-list"))

    assert a in listed("abc") and b not in listed("abc") and paid not in listed("abc")
    assert b in listed("z 22") and a not in listed("z 22")
    assert a in listed(a.lower()) and b not in listed(a.lower())
    assert a in listed(a[3:7]) and b not in listed(a[3:7])
    assert "0 matches" in listed("NOPE")
    assert a in listed("") and b in listed("")
    # Without JS the same URL serves the whole desk with the filter applied.
    page = soup(desk.client.get("/g/main/desk/inside", query_string={"q": "xyz"}))
    assert is_full_page(page) and page.select_one("#inside-q")["value"] == "xyz"
    assert b in text(page.select_one("#inside-list")) and a not in text(page.select_one("#inside-list"))


def test_a_page_past_the_last_shows_the_last_and_a_silly_one_is_refused(desk):
    desk.issue("ONE 1")
    r = desk.client.get("/g/main/desk/inside", query_string={"page": "7"}, headers=HTMX)
    assert r.status_code == 200 and "ONE 1" in text(soup(r))
    for page_no in ("0", "-3", "abc", "999999999999", "²"):  # issue 14: a clear 422, not a guess
        r = desk.client.get("/g/main/desk/inside", query_string={"page": page_no}, headers=HTMX)
        assert r.status_code == 422 and "page must be a whole number from 1 to 100000" in text(soup(r)), page_no


# --- live panel and activity ---------------------------------------------------------------

def test_the_polled_live_panel_is_a_fragment_with_todays_figures(desk):
    number = desk.issue("LIVE 1")
    backdate(number, minutes=89, seconds=30)  # 90 minutes once rounded up
    desk.pay(number, "Cash", 2000)
    desk.issue("LIVE 2")
    r = desk.client.get("/g/main/desk/live", headers=HTMX)
    page = soup(r)
    assert r.status_code == 200 and not is_full_page(page)
    live = page.select_one("section#live")
    assert not live.has_attr("hx-swap-oob")
    assert stat(page, "occupied") == "1" and stat(page, "available") == "139"
    assert stat(page, "occupied-percent") == "0%" and stat(page, "available-percent") == "100% of 140"
    assert stat(page, "revenue") == "$20.00" and stat(page, "exits") == "1"
    assert stat(page, "average-stay") == "1 h 30 min"


def test_almost_full_is_flagged(desk):
    set_settings(total_spaces=2, almost_full_percent=50)
    desk.issue("HALF 1")
    live = soup(desk.client.get("/g/main/desk/live", headers=HTMX)).select_one("#live")
    assert live["data-state"] == "ALMOST FULL" and "1 space left" in text(live)


def test_recent_activity_lists_entries_and_exits_newest_first(desk):
    first = desk.issue("ACT 1")
    second = desk.issue("ACT 2")
    desk.pay(first, "Cash", 1000)
    r = desk.client.get("/g/main/desk/activity", headers=HTMX)
    rows = soup(r).select("#activity tbody tr")
    assert r.status_code == 200 and "every 10s" in soup(r).select_one("#activity")["hx-trigger"]
    assert first in text(rows[0]) and "Exit" in text(rows[0]) and "$10.00" in text(rows[0])
    assert second in text(rows[1]) and "Entry" in text(rows[1])


# --- print pages ---------------------------------------------------------------------------

def test_the_print_ticket_page_has_the_number_and_a_qr_code(desk):
    number = desk.issue("PRINT 1", "SUV")
    r = desk.client.get(f"/g/main/desk/tickets/{number}/print")
    page = soup(r)
    assert r.status_code == 200 and page.select_one("header.topbar") is None
    slip = page.select_one(".slip")
    assert text(slip.select_one(".slip-number")) == number
    assert slip.select_one(".slip-qr svg") is not None
    assert "PRINT 1" in text(slip) and "SUV" in text(slip)
    assert page.select_one('script[src^="/static/js/desk-print.js?v="]') is not None
    assert not slip.has_attr("data-autoprint")
    auto = soup(desk.client.get(f"/g/main/desk/tickets/{number}/print?auto=1")).select_one(".slip")
    assert auto.has_attr("data-autoprint")


def test_the_print_receipt_page_exists_only_once_paid(desk):
    number = desk.issue("PRINT 2")
    r = desk.client.get(f"/g/main/desk/tickets/{number}/receipt")
    assert r.status_code == 404 and "has not been paid yet" in r.get_data(as_text=True)
    desk.pay(number, "Debit Card", 1000)
    page = soup(desk.client.get(f"/g/main/desk/tickets/{number}/receipt"))
    slip = page.select_one(".slip")
    assert text(slip.select_one(".slip-number")) == number
    for shown in ("PRINT 2", "Debit Card", "$10.00", "ann"):
        assert shown in text(slip), shown


def test_unknown_ticket_pages_are_404(desk):
    for url in ("/g/main/desk/tickets/PS-ZZZZZZ", "/g/main/desk/tickets/PS-ZZZZZZ/print",
                "/g/main/desk/tickets/nonsense/receipt", "/g/main/desk/tickets/PS-ZZZZZZ/paid"):
        assert desk.client.get(url).status_code == 404, url


def test_desk_forms_need_the_csrf_token(desk):
    r = desk.client.post("/g/main/desk/entries", data={"plate": "NOCSRF1", "vehicle_type": "Car"})
    assert r.status_code == 400 and ticket_count() == 0


def test_a_message_keeps_ticket_numbers_whole_and_escapes_the_rest():
    assert (str(ticket_numbers_whole("<b> on ticket PS-ABC234, not XPS-ABC234"))
            == '&lt;b&gt; on ticket <span class="ticket-no">PS-ABC234</span>, not XPS-ABC234')
