"""Correcting, voiding and refunding tickets at the desk (issue 18), through the pages: each action
is a small page of its own (GET the form, POST it: 303 back to the ticket's desk view with a notice;
bad input 422 with the field's message and nothing changed; a refusal 403/409 with the message),
and the desk shows what happened (VOIDED, who, when, why; the refunds)."""
from __future__ import annotations

from garage.extensions import db
from garage.models import Garage
from tests.helpers.db import audit_events, backdate, set_settings, ticket
from tests.helpers.staff import StaffActions
from tests.helpers.web import soup, text


def page_of(actions: StaffActions, path: str):
    r = actions.client.get(actions.url(path))
    assert r.status_code == 200, text(r)
    return soup(r)


def submit(actions: StaffActions, path: str, data: dict):
    """Post the form of the page at `path` as a browser would (its action, its CSRF token)."""
    page = page_of(actions, path)
    form = page.select_one("main form[method=post]")
    assert form is not None, f"no form on {path}"
    token = form.select_one('input[name="csrf_token"]')["value"]
    return actions.client.post(form["action"], data={**data, "csrf_token": token})


def error_of(page, name: str) -> str:
    return text(page.find(id=f"{name}-error"))


def action_links(page) -> dict[str, str]:
    return {text(a): a["href"] for a in page.select(".ticket-actions a")}


def paid_ticket(actions: StaffActions, plate: str = "PAID1", hours: int = 2) -> str:
    number = actions.issue(plate)
    backdate(number, hours=hours, minutes=5)
    assert actions.pay(number, "Credit Card", expected=actions.quote(number)).status_code == 303
    return number


def occupied() -> int:
    db.session.expire_all()
    return db.session.get(Garage, 1).occupied


# --- correct ---------------------------------------------------------------------------------

def test_an_attendant_corrects_the_plate_and_type_of_a_car_inside(desk):
    number = desk.issue("AB123", "Car")
    card = page_of(desk, f"/desk/tickets/{number}")
    links = action_links(card)
    assert set(links) == {"Correct plate / type", "Void ticket"}  # no refund for a car inside
    r = submit(desk, links["Correct plate / type"].removeprefix("/g/main"),
               {"plate": "AB 128", "vehicle_type": "SUV", "reason": "typo at the entry"})
    assert r.status_code == 303 and r.headers["Location"] == f"/g/main/desk/tickets/{number}"
    shown = desk.client.get(r.headers["Location"])
    assert "corrected" in text(soup(shown).select_one("[data-desk-notice]"))
    assert "AB 128 · SUV" in text(soup(shown).select_one(".ticket-card"))
    stored = ticket(number)
    assert (stored.license_plate, stored.vehicle_type) == ("AB 128", "SUV")
    (event,) = audit_events("ticket.corrected", number)
    assert event.details["reason"] == "typo at the entry" and event.details["before"]["plate"] == "AB123"


def test_a_correction_without_a_reason_or_with_no_plate_is_422_and_changes_nothing(desk):
    number = desk.issue("AB123")
    for data, field, words in (({"plate": "AB128", "vehicle_type": "Car", "reason": " "}, "reason", "reason"),
                               ({"plate": "", "vehicle_type": "Car", "reason": "typo"}, "plate", "plate"),
                               ({"plate": "AB123", "vehicle_type": "Car", "reason": "typo"}, "plate", "nothing")):
        r = submit(desk, f"/desk/tickets/{number}/correct", data)
        assert r.status_code == 422, data
        page = soup(r)
        assert words in error_of(page, field).lower(), data
        assert page.select_one("#plate")["value"] == data["plate"]  # what was typed stays
    assert ticket(number).license_plate == "AB123" and audit_events("ticket.corrected") == []


def test_a_paid_ticket_offers_only_its_plate_to_correct(desk):
    number = paid_ticket(desk)
    receipt = page_of(desk, f"/desk/tickets/{number}/paid")
    assert set(action_links(receipt)) == {"Correct plate"}  # an attendant: no refund
    form = page_of(desk, f"/desk/tickets/{number}/correct")
    assert form.select_one("#plate") is not None and form.select('input[name="vehicle_type"]') == []
    r = submit(desk, f"/desk/tickets/{number}/correct", {"plate": "PAID7", "reason": "misread"})
    assert r.status_code == 303 and r.headers["Location"] == f"/g/main/desk/tickets/{number}/paid"
    assert ticket(number).license_plate == "PAID7"


def test_a_correction_to_a_plate_already_inside_is_409_with_the_message(desk):
    desk.issue("TAKEN1")
    number = desk.issue("AB123")
    r = submit(desk, f"/desk/tickets/{number}/correct", {"plate": "TAKEN1", "vehicle_type": "Car", "reason": "x"})
    assert r.status_code == 409 and "already inside" in text(soup(r).select_one("main"))
    assert ticket(number).license_plate == "AB123"


# --- void ------------------------------------------------------------------------------------

def test_an_attendant_voids_a_ticket_issued_by_mistake_and_its_space_is_free(desk):
    number = desk.issue("OOPS1")
    assert occupied() == 1
    r = submit(desk, f"/desk/tickets/{number}/void", {"reason": "car turned round at the barrier"})
    assert r.status_code == 303 and r.headers["Location"] == f"/g/main/desk/tickets/{number}"
    assert occupied() == 0 and ticket(number).status == "voided"
    page = soup(desk.client.get(r.headers["Location"]))
    assert "voided" in text(page.select_one("[data-desk-notice]"))
    voided = page.select_one(".voided-card")
    assert "VOIDED" in text(voided) and "OOPS1" in text(voided)
    assert text(voided.select_one("[data-voided-by]")) == "ann"
    assert text(voided.select_one("[data-void-reason]")) == "car turned round at the barrier"
    assert text(voided.select_one("[data-voided-at]"))
    assert page.select(".ticket-actions a") == []  # nothing left to do to it
    (row,) = [tr for tr in page.select("#activity tbody tr") if number in text(tr)]
    assert "Voided" in text(row) and "Exit" not in text(row)  # never an exit: the car never came in
    # The exit finds it voided: nothing to pay, no payment form; paying it anyway takes nothing.
    found = soup(desk.lookup(number))
    assert "nothing to pay" in text(found.select_one("#exit")).lower()
    assert found.select_one("#exit .voided-card") is not None and found.select_one(".pay-form") is None
    r = desk.pay(number, "Cash", expected=0)
    assert r.status_code == 409 and "voided" in text(soup(r).select_one("#exit"))
    assert ticket(number).status == "voided" and ticket(number).receipt_number is None
    assert desk.client.get(desk.url(f"/desk/tickets/{number}/receipt")).status_code == 404


def test_a_void_without_a_reason_is_422_and_the_car_stays_inside(desk):
    number = desk.issue("OOPS1")
    r = submit(desk, f"/desk/tickets/{number}/void", {"reason": ""})
    assert r.status_code == 422 and error_of(soup(r), "reason")
    assert ticket(number).status == "active" and occupied() == 1


def test_an_attendant_past_the_void_window_is_refused_and_a_manager_may(desk, make_user, app):
    set_settings(void_window_minutes=10)
    number = desk.issue("LATE1")
    backdate(number, minutes=11)
    # Said up front, before a reason is typed: no form to fill in for nothing.
    page = page_of(desk, f"/desk/tickets/{number}/void")
    assert "Only a manager can void a ticket issued more than 10 minutes ago" in text(page.select_one("main"))
    assert page.select_one("main form[method=post]") is None
    r = desk.client.post(desk.url(f"/desk/tickets/{number}/void"),
                         data={"reason": "never came in", "csrf_token": desk.token})
    assert r.status_code == 403  # the rule holds without the page too
    assert "Only a manager can void" in text(soup(r).select_one("main"))
    assert ticket(number).status == "active" and occupied() == 1
    boss = StaffActions(app.test_client(), make_user)
    boss.sign_in("boss", "manager")
    assert submit(boss, f"/desk/tickets/{number}/void", {"reason": "never came in"}).status_code == 303
    assert ticket(number).status == "voided" and occupied() == 0


def test_a_paid_ticket_cannot_be_voided(desk):
    number = paid_ticket(desk)
    page = page_of(desk, f"/desk/tickets/{number}/void")
    assert "refunded instead" in text(page.select_one("main")) and page.select_one("main form[method=post]") is None
    r = desk.client.post(desk.url(f"/desk/tickets/{number}/void"), data={"reason": "x", "csrf_token": desk.token})
    assert r.status_code == 409 and ticket(number).status == "completed"


def test_voiding_twice_says_it_is_already_voided(desk):
    number = desk.issue("OOPS1")
    path = f"/desk/tickets/{number}/void"
    token = soup(desk.client.get(desk.url(path))).select_one('main input[name="csrf_token"]')["value"]
    assert desk.client.post(desk.url(path), data={"reason": "x", "csrf_token": token}).status_code == 303
    r = desk.client.post(desk.url(path), data={"reason": "x", "csrf_token": token})
    assert r.status_code == 409 and "already voided" in text(soup(r).select_one("main"))
    assert occupied() == 0  # one space freed, not two


# --- refund ----------------------------------------------------------------------------------

def test_a_manager_refunds_part_of_a_payment_and_the_receipt_shows_it(actions):
    actions.sign_in("boss", "manager")
    number = paid_ticket(actions)  # 3 hours at $10: $30.00
    assert ticket(number).amount_paid == 3000
    receipt = page_of(actions, f"/desk/tickets/{number}/paid")
    assert set(action_links(receipt)) == {"Correct plate", "Refund"}
    form = page_of(actions, f"/desk/tickets/{number}/refund")
    assert form.select_one("#amount")["value"] == "30.00"  # prefilled with what is left
    r = submit(actions, f"/desk/tickets/{number}/refund", {"amount": "12.5", "reason": "barrier broken"})
    assert r.status_code == 303 and r.headers["Location"] == f"/g/main/desk/tickets/{number}/paid"
    page = soup(actions.client.get(r.headers["Location"]))
    assert "Refunded $12.50" in text(page.select_one("[data-desk-notice]"))
    (row,) = page.select("#exit [data-refund]")
    assert "$12.50" in text(row) and "boss" in text(row) and "barrier broken" in text(row)
    assert "$12.50 of $30.00" in text(page.select_one("#exit [data-refunded-total]"))
    assert ticket(number).refunded_cents == 1250
    assert page_of(actions, f"/desk/tickets/{number}/refund").select_one("#amount")["value"] == "17.50"
    slip = page_of(actions, f"/desk/tickets/{number}/receipt")
    assert "-$12.50" in text(slip.select_one("[data-refunded-total]")) and "$17.50" in text(slip)


def test_a_refund_of_more_than_is_left_or_of_no_amount_is_422_and_refunds_nothing(actions):
    actions.sign_in("boss", "manager")
    number = paid_ticket(actions)
    for data, field, words in (({"amount": "30.01", "reason": "x"}, "amount", "at most $30.00"),
                               ({"amount": "ten", "reason": "x"}, "amount", "dollars"),
                               ({"amount": "0", "reason": "x"}, "amount", "at least"),
                               ({"amount": "5", "reason": ""}, "reason", "reason")):
        r = submit(actions, f"/desk/tickets/{number}/refund", data)
        assert r.status_code == 422, data
        page = soup(r)
        assert words in error_of(page, field).lower(), (data, error_of(page, field))
        assert page.select_one("#amount")["value"] == data["amount"]
    assert ticket(number).refunded_cents == 0 and audit_events("ticket.refunded") == []


def test_a_payment_refunded_in_full_offers_no_more_refund(actions):
    actions.sign_in("boss", "manager")
    number = paid_ticket(actions)
    assert submit(actions, f"/desk/tickets/{number}/refund", {"amount": "30", "reason": "goodwill"}).status_code == 303
    assert "Refund" not in action_links(page_of(actions, f"/desk/tickets/{number}/paid"))
    page = page_of(actions, f"/desk/tickets/{number}/refund")
    assert "refunded in full" in text(page.select_one("main")) and page.select_one("main form[method=post]") is None


def test_refunds_are_for_managers_only(desk):
    number = paid_ticket(desk)
    assert desk.client.get(desk.url(f"/desk/tickets/{number}/refund")).status_code == 403
    r = desk.client.post(desk.url(f"/desk/tickets/{number}/refund"),
                         data={"amount": "1", "reason": "x", "csrf_token": desk.token})
    assert r.status_code == 403 and ticket(number).refunded_cents == 0


def test_a_car_inside_cannot_be_refunded(actions):
    actions.sign_in("boss", "manager")
    number = actions.issue("IN1")
    page = page_of(actions, f"/desk/tickets/{number}/refund")
    assert "Only a paid ticket" in text(page.select_one("main"))
    r = actions.client.post(actions.url(f"/desk/tickets/{number}/refund"),
                            data={"amount": "1", "reason": "x", "csrf_token": actions.token})
    assert r.status_code == 409 and "Only a paid ticket" in text(soup(r).select_one("main"))


def test_an_unknown_ticket_is_404_on_every_page(desk):
    for action in ("correct", "void"):
        assert desk.client.get(desk.url(f"/desk/tickets/PS-NOPE/{action}")).status_code == 404
