"""The desk in a real Chromium at tablet size, against gunicorn on PostgreSQL.

Also takes the desk's screenshots (docs/desk.md, README) (UPDATE_SCREENSHOTS=1 writes them to docs/screenshots/)."""
from __future__ import annotations

import os
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from garage.domain.clock import utcnow
from garage.domain.clock import local_day_bounds, local_today
from garage.extensions import db
from garage.services.settings import get_settings
from garage.models import Garage, Ticket
from garage.services import tickets as ticket_service
from tests.helpers.browser import settled, sign_in_at_desk
from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN

pytestmark = pytest.mark.browser

# The screenshots in docs/ are rewritten only when asked (UPDATE_SCREENSHOTS=1), so an ordinary
# test run leaves the working tree clean; otherwise they go to a scratch directory.
SHOTS = (Path(__file__).resolve().parents[2] / "docs" / "screenshots"
         if os.environ.get("UPDATE_SCREENSHOTS") == "1"
         else Path(tempfile.gettempdir()) / "garage-screenshots")


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    # caret="initial": Playwright's default caret hiding leaves style="" on every input, which
    # htmx's attribute settling then copies (a CSP violation that only the test would cause).
    page.screenshot(path=str(SHOTS / name), full_page=True, caret="initial")


def watch_console(page: Page) -> list[str]:
    """Console errors (CSP violations, script errors, failed requests) collected for the test."""
    errors: list[str] = []
    def on_console(message) -> None:
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            errors.append(f"{message.text} @ {message.location}")

    page.on("console", on_console)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def sign_in(page: Page, live, username: str = "ann") -> None:
    sign_in_at_desk(page, live, username)


def seed_a_morning(live) -> None:
    """A few cars inside and a few paid exits today, so the screenshots look like a real shift."""
    now = utcnow()
    with live.app.app_context():
        tz = get_settings(MAIN).timezone
        today_began = local_day_bounds(local_today(now, tz), tz)[0]  # the exits stay today's just after midnight
        for i, (plate, kind, minutes) in enumerate([
            ("KA 5531", "Car", 200), ("B-MW 720", "SUV", 170), ("TX 88 LQ", "Van", 140),
            ("EV 2024", "Compact Car", 95), ("MOTO 7", "Motorcycle", 50), ("GR 1104", "Car", 20),
            ("NY 4471", "Car", 185), ("CA 9902", "Standard Vehicle", 130),
        ]):
            t = ticket_service.issue_ticket(MAIN, plate, kind, now=now - timedelta(minutes=minutes))
            if i >= 6:
                ticket_service.process_exit(MAIN, t.ticket_number, "Credit Card" if i % 2 else "Cash",
                                            now=max(now - timedelta(minutes=5 * i), today_began + timedelta(seconds=i)))
        db.session.remove()


def stat(page: Page, name: str):
    return page.locator(f'#live [data-stat="{name}"]')


def test_issue_look_up_pay_and_the_counters_follow_without_a_reload(live, tablet):
    errors = watch_console(tablet)
    seed_a_morning(live)
    sign_in(tablet, live)
    expect(stat(tablet, "occupied")).to_have_text("6")
    expect(tablet.locator("#plate")).to_be_focused()
    shot(tablet, "desk.png")
    tablet.evaluate("window.__sameDocument = true")  # gone if the page reloads

    # Entry: the plate is upper-cased as typed, SUV chosen with a tap, one tap to issue.
    tablet.locator("#plate").type("ab 123")
    assert tablet.locator("#plate").evaluate("e => getComputedStyle(e).textTransform") == "uppercase"
    tablet.locator("label.choice", has_text="SUV").tap()
    tablet.locator("button", has_text="Issue ticket").tap()
    card = tablet.locator("#entry .ticket-card")
    expect(card).to_contain_text("AB 123")
    expect(card.locator("svg")).to_be_visible()
    number = card.locator("[data-ticket-number]").inner_text().strip()
    assert number.startswith("PS-")
    expect(stat(tablet, "occupied")).to_have_text("7")
    expect(stat(tablet, "available")).to_have_text("133")
    expect(tablet.locator("#activity")).to_contain_text(number)
    expect(tablet.locator("#inside-list")).to_contain_text(number)  # reloaded by the HX-Trigger event
    expect(tablet.locator("#plate")).to_be_focused()  # scanner flow: ready for the next car
    expect(tablet.locator("#plate")).to_have_value("")
    shot(tablet, "desk-ticket.png")

    # Print ticket prints on the desk, through a hidden frame: the number and the QR code, no new tab
    # (tests/browser/test_desk_layout.py counts the print() calls).
    card.locator("a", has_text="Print ticket").tap()
    printed = tablet.frame_locator("#print-frame")
    expect(printed.locator(".slip-number")).to_have_text(number)
    expect(printed.locator(".slip-qr svg")).to_have_count(1)
    assert len(tablet.context.pages) == 1

    # Cars inside filters as you type (no Enter needed).
    tablet.locator("#inside-q").type("ab 1")
    expect(tablet.locator("#inside-list tbody tr")).to_have_count(1)
    expect(tablet.locator("#inside-list")).to_contain_text(number)
    tablet.locator("#inside-q").fill("")
    expect(tablet.locator("#inside-list tbody tr")).to_have_count(7)

    # Exit: typed as a scanner would (lower case, no PS-), Enter looks it up.
    tablet.locator("#lookup-q").fill(number[3:].lower())
    tablet.locator("#lookup-q").press("Enter")
    quote = tablet.locator("#exit .quote")
    expect(quote.locator("[data-amount]")).to_have_text("$10.00")
    expect(quote.locator("[data-ticket-number]")).to_have_text(number)
    expect(tablet.locator("#lookup-q")).to_be_focused()  # the next scan looks its ticket up
    expect(tablet.locator('input[name="payment_method"]:checked')).to_have_count(0)  # nothing pre-selected
    tablet.locator("label.choice", has_text="Credit Card").tap()
    shot(tablet, "desk-exit-quote.png")
    # The confirm button is reachable from the keyboard; Space activates it (and Enter, below).
    tablet.keyboard.press("Tab")
    expect(tablet.locator("button.btn-confirm")).to_be_focused()
    tablet.keyboard.press("Space")
    receipt = tablet.locator("#exit .receipt-card")
    expect(receipt).to_contain_text("Paid $10.00")
    expect(receipt).to_contain_text("Credit Card")
    expect(receipt).to_contain_text("ann")
    expect(stat(tablet, "occupied")).to_have_text("6")
    expect(stat(tablet, "exits")).to_have_text("3")
    expect(tablet.locator("#lookup-q")).to_be_focused()
    shot(tablet, "desk-receipt.png")

    # Another attendant's entry reaches this desk by polling.
    with live.app.app_context():
        ticket_service.issue_ticket(MAIN, "OTHER 1", "Car")
        db.session.remove()
    expect(stat(tablet, "occupied")).to_have_text("7", timeout=12_000)
    expect(tablet.locator("#activity")).to_contain_text("OTHER 1", timeout=15_000)

    assert tablet.evaluate("window.__sameDocument") is True
    assert errors == [], errors


def _status(live, number: str) -> str:
    with live.app.app_context():
        status = ticket_service.find_ticket(MAIN, number).status
        db.session.remove()
    return status


def _settled(page: Page) -> None:
    """The last swap has settled (htmx has moved the focus): a real scan comes seconds later."""
    settled(page)
    expect(page.locator("#lookup-q")).to_be_focused()


def test_a_scan_while_a_quote_is_open_looks_the_new_ticket_up_and_pays_nothing(live, tablet):
    """Issue 15: focus sat on the pre-selected Cash, and the next scan's Enter paid the open quote.
    A keyboard-wedge scanner is keys then Enter, typed into whatever has focus."""
    errors = watch_console(tablet)
    live.reset()
    with live.app.app_context():
        first, second = (ticket_service.issue_ticket(MAIN, p, "Car").ticket_number for p in ("SCAN 1", "SCAN 2"))
        db.session.remove()
    sign_in(tablet, live)
    quote = tablet.locator("#exit .quote")
    tablet.locator("#lookup-q").click()
    tablet.keyboard.type(first)
    tablet.keyboard.press("Enter")
    expect(quote.locator("[data-ticket-number]")).to_have_text(first)
    _settled(tablet)

    # The next car's scan, with the focus wherever the lookup left it.
    tablet.keyboard.type(second)
    tablet.keyboard.press("Enter")
    expect(quote.locator("[data-ticket-number]")).to_have_text(second)
    _settled(tablet)
    assert _status(live, first) == "active"

    # The attendant tapped a method (the focus is on it), then a scan comes in.
    tablet.locator("label.choice", has_text="Cash").tap()
    expect(tablet.locator('input[name="payment_method"][value="Cash"]')).to_be_focused()
    tablet.keyboard.type(first.lower())
    tablet.keyboard.press("Enter")
    expect(quote.locator("[data-ticket-number]")).to_have_text(first)
    expect(tablet.locator('input[name="payment_method"]:checked')).to_have_count(0)
    _settled(tablet)
    assert _status(live, second) == "active"

    # A scan with the focus on Confirm itself (a method picked) pays nothing either: it looks its ticket up.
    tablet.locator("label.choice", has_text="Debit Card").tap()
    tablet.locator("button.btn-confirm").focus()
    tablet.keyboard.type(second)
    tablet.keyboard.press("Enter")
    expect(quote.locator("[data-ticket-number]")).to_have_text(second)
    _settled(tablet)
    assert (_status(live, first), _status(live, second)) == ("active", "active")

    # A merchant's code with a space in it ("CIN 0002") scanned on Confirm: the space presses nothing (it paid
    # the open quote once), the code is tried as a validation (this garage has none: refused).
    tablet.locator("label.choice", has_text="Debit Card").tap()
    tablet.locator("button.btn-confirm").focus()
    tablet.keyboard.type("CIN 0002")
    tablet.keyboard.press("Enter")
    expect(tablet.locator("#validation-code-error")).to_be_visible()
    expect(quote.locator("[data-ticket-number]")).to_have_text(second)
    assert (_status(live, first), _status(live, second)) == ("active", "active")
    assert len(errors) == 1 and "422" in errors[0] and "/validate" in errors[0], errors  # that refusal, logged
    errors.clear()
    # ... and one that STARTS with a space (a code printed with a leading blank): that first space pressed
    # Confirm (nothing was typed before it). A Space on Confirm waits a moment for a next key now.
    tablet.locator("label.choice", has_text="Debit Card").tap()
    tablet.locator("button.btn-confirm").focus()
    tablet.keyboard.type(" CIN 0002", delay=3)
    tablet.keyboard.press("Enter")
    expect(tablet.locator("#validation-code-error")).to_be_visible()
    tablet.wait_for_timeout(500)
    expect(tablet.locator("#exit .receipt-card")).to_have_count(0)
    assert (_status(live, first), _status(live, second)) == ("active", "active")
    assert len(errors) == 1 and "422" in errors[0] and "/validate" in errors[0], errors
    errors.clear()

    # Keys on Confirm whose Enter comes late (a stalled scanner, stray typing) never pay either.
    tablet.locator("label.choice", has_text="Debit Card").tap()
    tablet.locator("button.btn-confirm").focus()
    tablet.keyboard.type("AB")
    tablet.wait_for_timeout(1_300)
    tablet.keyboard.press("Enter")
    tablet.wait_for_timeout(500)
    expect(tablet.locator("#exit .receipt-card")).to_have_count(0)
    assert (_status(live, first), _status(live, second)) == ("active", "active")

    # Enter alone on the focused Confirm is the keyboard's way to press it: it pays, as a tap does.
    tablet.locator("button.btn-confirm").blur()
    tablet.locator("button.btn-confirm").focus()
    tablet.keyboard.press("Enter")
    expect(tablet.locator("#exit .receipt-card")).to_contain_text("Debit Card")
    assert (_status(live, first), _status(live, second)) == ("active", "completed")
    # A second Enter (a held key, a double press) lands in the empty look-up field: it sends nothing, the
    # receipt stays on screen.
    expect(tablet.locator("#lookup-q")).to_be_focused()
    tablet.keyboard.press("Enter")
    tablet.wait_for_timeout(500)
    expect(tablet.locator("#exit .receipt-card")).to_contain_text("Debit Card")
    expect(tablet.locator("#lookup-error")).to_have_count(0)
    # A Space and then Enter there (a thumb on the bar, a held Space): a blank look-up sends nothing either.
    tablet.keyboard.press("Space")
    tablet.keyboard.press("Enter")
    tablet.wait_for_timeout(500)
    expect(tablet.locator("#exit .receipt-card")).to_contain_text("Debit Card")
    expect(tablet.locator("#lookup-error")).to_have_count(0)
    assert errors == [], errors


def _ticket_count(live) -> int:
    with live.app.app_context():
        count = db.session.scalar(sa.select(sa.func.count()).select_from(Ticket))
        db.session.remove()
    return count


def test_a_ticket_scanned_into_the_plate_field_is_looked_up_not_issued(live, tablet):
    """Issue 15: the cursor rests in the plate field after every entry, and a ticket scanned there
    was issued as a new car "PS-EAYJPM". A scanner's burst of a ticket number is looked up instead;
    the same text typed by hand (a plate that merely looks alike) is still an entry."""
    errors = watch_console(tablet)
    live.reset()
    with live.app.app_context():
        number = ticket_service.issue_ticket(MAIN, "SCAN 3", "Car").ticket_number
        stalled = ticket_service.issue_ticket(MAIN, "SCAN 4", "Car").ticket_number
        db.session.remove()
    sign_in(tablet, live)
    plate = tablet.locator("#plate")
    plate.focus()
    tablet.keyboard.type(number)  # a scanner: the keys as fast as they come
    tablet.keyboard.press("Enter")
    expect(tablet.locator("#exit .quote [data-ticket-number]")).to_have_text(number)
    expect(plate).to_have_value("")
    expect(tablet.locator("#entry .ticket-card")).to_have_count(0)
    assert _ticket_count(live) == 2

    # A scanner that stalls once mid-code (a USB hiccup, a busy tablet) is still a scan.
    settled(tablet)
    plate.focus()
    tablet.keyboard.type(stalled[:4])
    tablet.wait_for_timeout(150)
    tablet.keyboard.type(stalled[4:])
    tablet.keyboard.press("Enter")
    expect(tablet.locator("#exit .quote [data-ticket-number]")).to_have_text(stalled)
    expect(plate).to_have_value("")
    assert _ticket_count(live) == 2

    settled(tablet)  # htmx has focused the lookup field for the next scan: the person starts after that
    plate.focus()
    tablet.keyboard.type("PS-ABC234", delay=120)  # a person, not a scanner
    tablet.keyboard.press("Enter")
    expect(tablet.locator("#entry [data-ticket-number]")).to_have_count(1)
    assert _ticket_count(live) == 3
    assert errors == [], errors


def test_a_ticket_typed_too_slowly_for_a_scan_into_the_plate_field_is_still_looked_up(live, tablet):
    """Keys of a scan that reach the page slowly (a busy tablet: an outside check saw it 2 times in 72 right
    after sign-in) are not told apart as a scan by the page: the server sees a ticket number as the plate
    and looks the ticket up itself. The quote shows under Exit & payment, the plate field is empty again,
    the look-up field has the focus for the next scan; nothing is issued."""
    errors = watch_console(tablet)
    number = _one_car_then_sign_in(live, tablet, "SLOW 1")
    settled(tablet)
    tablet.locator("#plate").focus()
    tablet.keyboard.type(number, delay=120)  # far slower than a scanner: typed by hand, as the page sees it
    tablet.keyboard.press("Enter")
    expect(tablet.locator("#exit .quote [data-ticket-number]")).to_have_text(number)
    expect(tablet.locator("#plate")).to_have_value("")
    expect(tablet.locator("#lookup-q")).to_be_focused()
    expect(tablet.locator("#entry [role=alert]")).to_have_count(0)
    assert _ticket_count(live) == 1
    tablet.locator("#exit label:has(input[value=Cash])").tap()
    tablet.locator("#exit button.btn-confirm").tap()
    expect(tablet.locator("#exit .paid-banner")).to_contain_text("Paid $10.00")
    assert errors == [], errors


def _one_car_then_sign_in(live, tablet, plate: str) -> str:
    """An empty garage with one car inside (its ticket number returned), the attendant at the desk."""
    live.reset()
    with live.app.app_context():
        number = ticket_service.issue_ticket(MAIN, plate, "Car").ticket_number
        db.session.remove()
    sign_in(tablet, live)
    return number


def test_a_ticket_scanned_after_a_half_typed_plate_is_looked_up_and_the_plate_kept(live, tablet):
    """An outside check typed "AB" by hand, then scanned a ticket without a pause: a car "ABPS-GA4TEB"
    was issued. The scanned end is looked up and the field keeps the letters typed by hand."""
    errors = watch_console(tablet)
    number = _one_car_then_sign_in(live, tablet, "SCAN 6")
    settled(tablet)
    plate = tablet.locator("#plate")
    plate.focus()
    tablet.keyboard.type("AB", delay=150)  # a person
    tablet.keyboard.type(number)  # then a scanner, at once
    tablet.keyboard.press("Enter")
    expect(tablet.locator("#exit .quote [data-ticket-number]")).to_have_text(number)
    expect(plate).to_have_value("AB")
    expect(tablet.locator("#entry .ticket-card")).to_have_count(0)
    assert _ticket_count(live) == 1
    assert errors == [], errors


@pytest.mark.parametrize("focused", ["nothing", "a vehicle type"])
def test_a_ticket_scanned_with_no_field_focused_is_looked_up_not_issued(live, tablet, focused):
    """A scanner types wherever the focus is: with nothing focused (the attendant tapped the page) or a
    vehicle type just tapped, its keys go to the plate field, and a ticket number scanned so was
    refused there as a plate ("is a ticket number"), its first key missed by the scan's detector.
    It is looked up, as when scanned into the plate field itself."""
    errors = watch_console(tablet)
    number = _one_car_then_sign_in(live, tablet, "SCAN 5")
    settled(tablet)
    if focused == "nothing":
        tablet.evaluate("document.activeElement && document.activeElement.blur()")
        assert tablet.evaluate("document.activeElement === document.body")
    else:
        tablet.locator('#entry input[name="vehicle_type"][value="SUV"]').click(force=True)
        expect(tablet.locator('#entry input[name="vehicle_type"][value="SUV"]')).to_be_focused()
    tablet.keyboard.type(number)  # a scanner: the keys as fast as they come, then Enter
    tablet.keyboard.press("Enter")
    expect(tablet.locator("#exit .quote [data-ticket-number]")).to_have_text(number)
    expect(tablet.locator("#plate")).to_have_value("")
    expect(tablet.locator("#entry .ticket-card")).to_have_count(0)
    expect(tablet.locator("#entry [role=alert]")).to_have_count(0)
    assert _ticket_count(live) == 1
    assert errors == [], errors


def test_a_full_garage_is_unmissable_and_refuses_the_next_car(live, tablet):
    errors = watch_console(tablet)
    live.reset(total_spaces=1)
    sign_in(tablet, live)
    tablet.locator("#plate").fill("FIRST 1")
    tablet.locator("button", has_text="Issue ticket").tap()
    expect(tablet.locator("#live .full-banner")).to_contain_text("GARAGE FULL")
    expect(tablet.locator("#live")).to_have_attribute("data-state", "FULL")
    tablet.locator("#plate").fill("SECOND 2")
    tablet.locator("button", has_text="Issue ticket").tap()
    expect(tablet.locator("#plate-error")).to_have_text("Garage is full")
    expect(tablet.locator("#plate")).to_have_value("SECOND 2")
    shot(tablet, "desk-full.png")
    assert errors == [] or all("409" in e for e in errors)


def test_a_bad_plate_shows_the_error_next_to_the_field(live, tablet):
    errors = watch_console(tablet)
    sign_in(tablet, live)
    tablet.locator("#plate").fill("AB$12")
    tablet.locator("button", has_text="Issue ticket").tap()
    expect(tablet.locator("#plate-error")).to_contain_text("digits, spaces, dashes and dots")
    expect(tablet.locator("#plate")).to_have_value("AB$12")
    expect(tablet.locator("#plate")).to_have_attribute("aria-invalid", "true")
    expect(stat(tablet, "occupied")).to_have_text("0")
    shot(tablet, "desk-error.png")
    assert errors == [] or all("422" in e for e in errors)


def test_portrait_tablet_has_no_sideways_scrolling_and_big_targets(live, browser):
    seed_a_morning(live)
    context = browser.new_context(viewport={"width": 768, "height": 1024}, has_touch=True)
    page = context.new_page()
    try:
        sign_in(page, live)
        expect(stat(page, "occupied")).to_have_text("6")
        shot(page, "desk-portrait.png")
        assert page.evaluate("document.documentElement.scrollWidth") <= 768
        for selector in ("button.btn-big", "label.choice", "#plate", "#lookup-q", "a.btn-row"):
            box = page.locator(selector).first.bounding_box()
            assert box and box["height"] >= 44, selector
    finally:
        context.close()


def test_a_fee_too_large_to_record_is_refused_with_its_reason_and_stays_on_a_portrait_screen(live, browser):
    """A car left ~900 days at $1,000 an hour: the quote ($21,600,000.00) fits the portrait screen (the amount
    takes a line of its own), and Confirm is refused with the reason; the ticket stays open. (An outside check:
    the exit answered 500, the desk asked to confirm again for ever, and the amount ran off the screen.)"""
    with live.app.app_context():
        db.session.execute(sa.update(Garage).values(hourly_rate=100_000))
        db.session.commit()
        left = ticket_service.issue_ticket(MAIN, "LEFT 900", "Car", now=utcnow() - timedelta(days=900, minutes=-30))
        number = left.ticket_number
        db.session.remove()
    context = browser.new_context(viewport={"width": 768, "height": 1024}, has_touch=True)
    page = context.new_page()
    try:
        errors = watch_console(page)
        sign_in(page, live)
        page.locator("#lookup-q").fill(number)
        page.locator("#lookup-q").press("Enter")
        expect(page.locator("#exit [data-amount]")).to_have_text("$21,600,000.00")
        page.locator("#exit label:has(input[value=Cash])").first.tap()
        page.locator("#exit button[type=submit]", has_text="Confirm").tap()
        expect(page.locator("#exit .notice")).to_contain_text("more than one payment can record ($21,474,836.47)")
        box = page.locator("#exit [data-amount]").bounding_box()
        assert box and box["x"] + box["width"] <= 768
        # Confirm's words and amount stay inside the button (on one line they ran past it)
        width = "b => [b.scrollWidth, b.clientWidth]"
        scrolled, inside = page.locator("#exit button.btn-confirm").evaluate(width)
        assert scrolled <= inside, (scrolled, inside)
        assert page.evaluate("document.documentElement.scrollWidth") <= 768
        assert errors == [] or all("409" in e for e in errors)
    finally:
        context.close()
    with live.app.app_context():
        assert db.session.scalar(sa.select(Ticket.status).where(Ticket.ticket_number == number)) == "active"
        db.session.remove()


@pytest.mark.parametrize("tapped", ["vehicle type", "ticket menu", "lost-ticket switch"])
def test_a_scan_after_tapping_a_control_lands_in_its_field(live, tablet, tapped):
    """A keyboard-wedge scanner types wherever the focus is. After the attendant taps a vehicle type or opens
    the ticket card's ⋯ menu, a plate scanned then issues that car's ticket (the letters were lost, Enter sent an
    empty plate, or nothing happened under the open menu); after ticking "Lost ticket", a scanned
    car's plate is looked up as lost (its space had un-ticked the switch and its letters were lost)."""
    errors = watch_console(tablet)
    waiting = _one_car_then_sign_in(live, tablet, "WAIT 1")
    if tapped == "lost-ticket switch":
        settled(tablet)
        tablet.locator('#exit input[type=checkbox][name="lost"]').click()
        expect(tablet.locator('#exit input[type=checkbox][name="lost"]')).to_be_checked()
        tablet.keyboard.type("WAIT 1")  # the car's plate, as fast as a scanner types
        tablet.keyboard.press("Enter")
        expect(tablet.locator("#exit .quote")).to_contain_text(waiting)  # found by its plate, as lost
        expect(tablet.locator("#exit .quote")).to_contain_text("lost ticket")
        expect(tablet.locator('#exit input[type=checkbox][name="lost"]')).to_be_checked()
        assert errors == [], errors
        return
    if tapped == "vehicle type":
        settled(tablet)
        tablet.locator('#entry input[name="vehicle_type"][value="SUV"]').click(force=True)
        expect(tablet.locator('#entry input[name="vehicle_type"][value="SUV"]')).to_be_focused()
    else:
        tablet.locator("#plate").fill("FIRST 1")
        tablet.locator("#plate").press("Enter")
        expect(tablet.locator("#entry .ticket-card")).to_contain_text("FIRST 1")
        settled(tablet)
        tablet.locator("#entry .ticket-more summary").click()
        expect(tablet.locator("#entry details.ticket-more")).to_have_attribute("open", "")
    tablet.keyboard.type("G768 5")  # a scanner: the keys as fast as they come, then Enter
    tablet.keyboard.press("Enter")
    card = tablet.locator("#entry .ticket-card")
    expect(card).to_contain_text("G768 5")
    if tapped == "vehicle type":
        expect(card).to_contain_text("SUV")
    else:
        expect(tablet.locator("#entry details.ticket-more[open]")).to_have_count(0)
    assert errors == [], errors
