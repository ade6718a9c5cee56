"""Permit cars at the desk (issue 19) in a real Chromium, on a tablet held either way, by touch and by a
keyboard-wedge scanner (the plate typed fast, then Enter): a permit car enters on its permit and leaves
paying $0.00; an expired permit is told in words and the car pays as a visitor; with reserved spaces a
visitor is told the garage is full for visitors while a permit holder still enters, and the lobby shows
FULL with the permit holders' spaces."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from garage.domain.clock import utcnow
from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN
from garage.extensions import db
from garage.identity import Actor
from garage.services import permits
from tests.helpers.browser import sign_in_at_desk

pytestmark = pytest.mark.browser



def sell(live, plate: str, days_left: int, holder: str = "Jane Doe") -> int:
    today = utcnow().date()
    with live.app.app_context():
        permit = permits.create_permit(MAIN, Actor.system(), holder=holder, plates=[plate],
                                       valid_from=today - timedelta(days=40),
                                       valid_until=today + timedelta(days=days_left), price_cents=9000).id
        db.session.remove()
    return permit


def scan_plate(page: Page, plate: str) -> None:
    """A keyboard-wedge scanner (or a fast typist): the keys, then Enter, in the focused plate field.
    Once the desk has finished its last answer's swaps and follow-up refreshes (a scan started inside
    them lost its keys about once in three full-suite runs; the cause is not found yet)."""
    expect(page.locator(".htmx-request, .htmx-swapping, .htmx-settling")).to_have_count(0)
    page.locator("#plate").focus()
    page.keyboard.type(plate, delay=5)
    page.keyboard.press("Enter")


def test_a_permit_car_in_and_out_and_an_expired_permit_charged_as_a_visitor(live, held):
    permit = sell(live, "PERM 1", days_left=20)
    sell(live, "OLD 1", days_left=-1, holder="Old Holder")
    sign_in_at_desk(held, live, "ann")
    scan_plate(held, "perm1")
    note = held.locator("[data-entry-note]")
    expect(note).to_contain_text(f"Permit P-{permit:05d} · Jane Doe: no charge while it is valid")
    card = held.locator("#entry .ticket-card")
    expect(card.locator("[data-permit]")).to_have_text(f"P-{permit:05d}")
    number = card.locator("[data-ticket-number]").inner_text().strip()
    # At the exit: the ticket scanned into the lookup, $0.00 with the permit said, paid with a tap.
    held.locator("#lookup-q").focus()
    held.keyboard.type(number, delay=5)
    held.keyboard.press("Enter")
    quote = held.locator("#exit .quote")
    expect(quote.locator("[data-amount]")).to_have_text("$0.00")
    expect(quote.locator("[data-permit-fee]")).to_have_text(f"P-{permit:05d}: no charge, the permit covers the stay")
    quote.locator("button", has_text="Let out: permit, no charge").tap()  # nothing to pay: no method to pick
    expect(held.locator("#exit .paid-banner")).to_have_text(f"Let out · permit P-{permit:05d}, no charge")
    expect(held.locator("#lookup-q")).to_be_focused()  # the desk is ready for the next scan
    # An expired permit: the attendant is told in words; the car pays a visitor's fee.
    scan_plate(held, "OLD 1")
    # the new card first (a loaded machine may take longer than the default 5 s for the entry's answer)
    expect(held.locator("#entry .ticket-card")).to_contain_text("OLD 1", timeout=15_000)
    warning = held.locator("[data-entry-note]")
    expect(warning).to_contain_text("The permit of Old Holder expired on")
    expect(warning).to_contain_text("charged as a visitor")
    expect(warning).to_have_attribute("role", "alert")
    old = held.locator("#entry .ticket-card [data-ticket-number]").inner_text().strip()
    held.locator("#lookup-q").fill(old)
    held.locator("#lookup-q").press("Enter")
    expect(held.locator("#exit .quote [data-amount]")).to_have_text("$10.00")


def test_visitors_see_full_while_a_permit_holder_still_enters(live, held):
    live.reset(total_spaces=2)
    with live.app.app_context():
        db.session.execute(sa.text("UPDATE garages SET reserved_spaces = 1"))
        db.session.commit()
        db.session.remove()
    sell(live, "PERM 2", days_left=20)
    sign_in_at_desk(held, live, "ann")
    scan_plate(held, "VIS 1")
    expect(held.locator("#entry .ticket-card")).to_contain_text("VIS 1")
    scan_plate(held, "VIS 2")
    expect(held.locator("#plate-error")).to_have_text(
        "Full for visitors: the 1 free space is reserved for permit holders")
    # The desk refocuses the plate with its text selected once the answer has settled: the next scan replaces it.
    expect(held.locator("#plate")).to_be_focused()
    held.keyboard.type("PERM 2", delay=5)
    held.keyboard.press("Enter")
    expect(held.locator("[data-entry-note]")).to_contain_text("no charge while it is valid")
    lobby = held.context.new_page()
    lobby.goto(f"{live.url}/g/main/lobby")
    expect(lobby.locator("#lobby-state")).to_have_text("FULL")
    expect(lobby.locator("#lobby-permit")).to_have_text("Permit holders: 0 spaces free")


@pytest.mark.parametrize("size", [{"width": 1920, "height": 1080}, {"width": 1024, "height": 768},
                                  {"width": 768, "height": 1024}])
def test_the_lobby_lines_with_reserved_spaces_never_overlap(live, browser, size):
    live.reset(total_spaces=4)
    with live.app.app_context():
        db.session.execute(sa.text("UPDATE garages SET reserved_spaces = 2"))
        db.session.commit()
        db.session.remove()
    context = browser.new_context(viewport=size)
    screen = context.new_page()
    screen.goto(f"{live.url}/g/main/lobby")
    permit, counts = screen.locator("#lobby-permit"), screen.locator("#lobby-counts")
    expect(permit).to_have_text("Permit holders: 4 spaces free")
    a, b = permit.bounding_box(), counts.bounding_box()
    assert a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"], (a, b)  # one above the other
    assert screen.evaluate("document.scrollingElement.scrollWidth <= innerWidth")
    context.close()


def test_the_permits_report_fits_a_tablet_held_upright(live, browser):
    sell(live, "REP 1", days_left=20)
    password = live.user("boss", "manager")
    context = browser.new_context(viewport={"width": 768, "height": 1024}, has_touch=True)
    page = context.new_page()
    page.goto(live.url + "/login")
    page.fill("#username", "boss")
    page.fill("#password", password)
    page.locator("button[type=submit]", has_text="Sign in").tap()
    page.wait_for_url("**/desk")
    page.goto(f"{live.url}/g/main/permits/report")
    expect(page.locator("h3", has_text="Permit holders and visitors inside")).to_be_visible()
    assert page.evaluate("document.scrollingElement.scrollWidth <= innerWidth")  # the chart scales down
    context.close()
