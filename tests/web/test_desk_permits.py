"""The desk with permits and reserved spaces (issue 19), on both databases: a permit car's entry says so
(with htmx and without JS), its quote and receipt show the permit and $0.00, an expired permit is told in
words and the car is charged as a visitor, a refusing garage keeps it out, visitors are told the garage
is full for them while permit holders still enter."""
from __future__ import annotations

from datetime import timedelta

from garage.domain.clock import utcnow
from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN
from garage.extensions import db
from garage.identity import Actor
from garage.models import Garage
from garage.services import permits, tickets as ticket_service
from tests.helpers.staff import quoted_amount
from tests.helpers.web import soup

TODAY = utcnow().date()


def sell(plates=("PERM 1",), start=None, end=None, holder="Jane Doe") -> int:
    return permits.create_permit(MAIN, Actor.system(), holder=holder, plates=list(plates),
                                 valid_from=start or TODAY - timedelta(days=2),
                                 valid_until=end or TODAY + timedelta(days=28), price_cents=9000).id


def garage(**values) -> None:
    db.session.execute(db.update(Garage).where(Garage.id == MAIN).values(**values))
    db.session.commit()


def test_a_permit_car_is_admitted_and_told_then_pays_nothing(actions):
    permit = sell()
    actions.sign_in()
    r = actions.enter("perm-1", htmx=True)
    assert r.status_code == 200
    page = soup(r)
    note = page.find(attrs={"data-entry-note": True})
    assert note is not None and "ok" in note["class"]
    assert note.get_text(strip=True).startswith(f"Permit P-{permit:05d} · Jane Doe: no charge while it is valid")
    assert page.find(attrs={"data-permit": True}).get_text(strip=True) == f"P-{permit:05d}"  # the card's kicker
    number = page.find(attrs={"data-ticket-number": True}).get_text(strip=True)
    quote = soup(actions.lookup(number))
    assert quoted_amount(quote) == 0
    assert quote.find(attrs={"data-permit-fee": True}).get_text() == \
        f"P-{permit:05d}: no charge, the permit covers the stay"
    assert quote.find(attrs={"data-let-out": True}).get_text(strip=True) == "Let out: permit, no charge"
    assert quote.find("input", attrs={"name": "payment_method"}) is None  # nothing to pay, no method to choose
    paid = actions.pay(number, method=None, expected=0, htmx=True)
    assert paid.status_code == 200
    assert soup(paid).find(class_="paid-banner").get_text(strip=True) == f"Let out · permit P-{permit:05d}, no charge"
    receipt = soup(actions.client.get(actions.url(f"/desk/tickets/{number}/receipt")))
    assert f"P-{permit:05d}: no charge, the permit covers the stay" in receipt.get_text()
    assert ticket_service.find_ticket(MAIN, number).payment_method == "Permit"


def test_a_permit_car_that_owes_money_chooses_a_method_like_anyone(actions):
    sell(end=TODAY - timedelta(days=1), start=TODAY - timedelta(days=31))  # expired: a visitor's ticket
    permit = sell(plates=("OWE 1",))
    actions.sign_in()
    number = actions.issue("OWE 1")
    db.session.execute(db.update(Garage).where(Garage.id == MAIN).values(reserved_spaces=0))
    from garage.models import Permit, Ticket
    db.session.execute(db.update(Ticket).where(Ticket.ticket_number == number)
                       .values(entry_time=utcnow() - timedelta(days=3)))
    db.session.execute(db.update(Permit).where(Permit.id == permit).values(
        valid_from=TODAY - timedelta(days=30), valid_until=TODAY - timedelta(days=1)))
    db.session.commit()
    owed = actions.quote(number)
    assert owed > 0  # past its permit's end: a visitor's fee from then
    refused = actions.pay(number, method=None, expected=owed, htmx=True)
    assert refused.status_code == 422
    assert soup(refused).find(id="method-error").get_text(strip=True) == "Choose how the driver pays"
    assert actions.pay(number, method="Cash", expected=owed).status_code == 303


def test_without_js_the_permit_words_come_after_the_redirect(actions):
    sell(end=TODAY - timedelta(days=1), start=TODAY - timedelta(days=31))
    actions.sign_in()
    r = actions.enter("PERM 1")
    assert r.status_code == 303
    page = soup(actions.client.get(r.location))
    notices = [n.get_text(strip=True) for n in page.find_all(attrs={"data-desk-notice": True})]
    assert any("expired on" in n and "charged as a visitor" in n for n in notices), notices
    assert page.find(attrs={"data-permit": True}) is None  # a visitor's ticket


def test_an_expired_permit_is_told_and_the_car_is_charged_as_a_visitor(actions):
    sell(end=TODAY - timedelta(days=1), start=TODAY - timedelta(days=31))
    actions.sign_in()
    page = soup(actions.enter("PERM 1", htmx=True))
    note = page.find(attrs={"data-entry-note": True})
    assert "ok" not in note["class"] and note["role"] == "alert"
    assert f"expired on {(TODAY - timedelta(days=1)).isoformat()}" in note.get_text()
    number = page.find(attrs={"data-ticket-number": True}).get_text(strip=True)
    assert quoted_amount(soup(actions.lookup(number))) == 1000


def test_a_refusing_garage_keeps_the_car_out_with_the_reason_at_the_plate(actions):
    permit = sell()
    permits.update_permit(MAIN, permit, Actor.system(), {"status": "suspended"})
    garage(permit_policy="refuse")
    actions.sign_in()
    r = actions.enter("PERM 1", htmx=True)
    assert r.status_code == 409
    error = soup(r).find(id="plate-error").get_text(strip=True)
    assert "is suspended" in error and "not let in" in error


def test_visitors_see_full_while_permit_holders_still_enter(actions):
    garage(total_spaces=2, reserved_spaces=1)
    sell()
    actions.sign_in()
    actions.issue("VIS 1")
    r = actions.enter("VIS 2", htmx=True)
    assert r.status_code == 409
    assert soup(r).find(id="plate-error").get_text(strip=True) == \
        "Full for visitors: the 1 free space is reserved for permit holders"
    desk = soup(actions.client.get("/g/main/desk"))
    banner = desk.select_one("#live .full-banner").get_text(" ", strip=True)
    assert banner == "FULL FOR VISITORS 1 of 2 spaces taken: permit holders only (1 reserved space free)"
    assert desk.select_one('#live [data-stat="available"]').get_text(strip=True) == "0"
    assert desk.select_one('#live [data-stat="available-percent"]').get_text(strip=True) == "for visitors · 1 for permits"
    assert actions.enter("PERM 1", htmx=True).status_code == 200
    banner = soup(actions.client.get("/g/main/desk")).select_one("#live .full-banner").get_text(" ", strip=True)
    assert banner.startswith("GARAGE FULL 2 of 2 spaces taken: no entries")
    lobby = soup(actions.client.get("/g/main/lobby"))
    assert "FULL" in lobby.get_text()


def test_the_lobby_shows_visitor_spaces_and_permit_holders_spaces_and_changes_its_etag(client):
    garage(total_spaces=10, reserved_spaces=3, occupied=7, occupied_permit=0)  # 7 visitors: theirs are full
    first = client.get("/g/main/lobby/panel", headers={"HX-Request": "true"})
    page = soup(first)
    assert page.find(id="lobby-state").get_text(strip=True) == "FULL"
    assert page.find(id="lobby-free").get_text(strip=True) == "0"
    assert page.find(id="lobby-permit").get_text(strip=True) == "Permit holders: 3 spaces free"
    garage(occupied=8, occupied_permit=1)  # a permit car came in: a visitor sees no change, the permit line does
    second = client.get("/g/main/lobby/panel", headers={"HX-Request": "true", "If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200
    assert soup(second).find(id="lobby-permit").get_text(strip=True) == "Permit holders: 2 spaces free"
    garage(reserved_spaces=0)
    assert soup(client.get("/g/main/lobby/panel", headers={"HX-Request": "true"})).find(id="lobby-permit") is None
