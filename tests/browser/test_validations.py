"""Merchant validations in a real Chromium (issue 18), on a touch tablet held either way: a manager
creates a program on the Validations page; at the exit an attendant scans the driver's code into
"Validation code" (a USB scanner types fast, then Enter: the code is applied, nothing is paid, no
other ticket is looked up), sees the discount as its own line and the amount after it, and pays."""
from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from garage.domain.clock import utcnow
from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN
from garage.extensions import db
from garage.models import Ticket
from garage.services import tickets as ticket_service
from tests.helpers.browser import TABLET, TAP_MIN, settled, sign_in_at_desk, signed_in, small_targets

pytestmark = pytest.mark.browser



def test_a_manager_creates_a_program_and_an_attendant_scans_its_code_at_the_exit(live, browser):
    for name, viewport in sorted(TABLET.items()):
        live.reset()
        manager = f"mia{name[0]}"
        live.user(manager, "manager")
        page = signed_in(browser, live, viewport, manager, "/g/main/reports/validations")
        page.locator("#name").fill("Cinema")
        page.locator("#merchant").fill("Odeon")
        page.locator("#kind").select_option("free_minutes")
        page.locator("#value").fill("120")
        page.locator("#codes").fill("CIN-0001, CIN-0002")
        page.locator("button", has_text="Create program").tap()
        row = page.locator("tr[data-program='Cinema']")
        expect(row).to_contain_text("First 120 minutes free")
        expect(row.locator("[data-codes]")).to_have_text("0 of 2")
        expect(page.locator("h1")).to_have_count(1)  # the list swapped in place, not a page in the page
        expect(page.locator("#name")).to_have_value("")  # the form is blank for the next program
        assert small_targets(page, "main") == []
        page.context.close()

        with live.app.app_context():  # a car inside for 3 h 30: 4 started hours, $40
            number = ticket_service.issue_ticket(MAIN, f"MOVIE {name[0]}", "Car",
                                                 now=utcnow() - timedelta(hours=3, minutes=30)).ticket_number
            db.session.remove()
        desk = browser.new_context(viewport=viewport, has_touch=True).new_page()
        sign_in_at_desk(desk, live, f"ann{name[0]}")
        desk.locator("#lookup-q").fill(number)
        desk.locator("#lookup-q").press("Enter")
        expect(desk.locator("#exit [data-amount]")).to_have_text("$40.00")
        settled(desk)
        apply = desk.locator("#exit button", has_text="Apply")
        expect(apply).to_be_visible()
        box = apply.bounding_box()
        assert box is not None and box["height"] >= TAP_MIN, box
        field = desk.locator("#validation-code")
        field.tap()
        desk.keyboard.type("cin-0001", delay=5)  # the scanner: fast keys, then Enter
        desk.keyboard.press("Enter")
        expect(desk.locator("#exit [data-validation]")).to_contain_text("−$20.00")
        expect(desk.locator("#exit [data-validation-name]")).to_have_text("Cinema")
        expect(desk.locator("#exit [data-amount]")).to_have_text("$20.00")
        expect(desk.locator("#exit [data-ticket-number]")).to_contain_text(number)  # the same car
        with live.app.app_context():
            still = db.session.query(Ticket).filter_by(ticket_number=number).one()
            assert (still.status, still.validations) == ("active", 1)  # applied, not paid
            db.session.remove()
        assert small_targets(desk, "#exit") == []
        desk.locator("#exit .choice", has_text="Cash").tap()
        desk.locator("#exit button.btn-confirm", has_text="Confirm $20.00 paid").tap()
        receipt = desk.locator("#exit .receipt-card")
        expect(receipt.locator("[data-amount-paid]")).to_have_text("$20.00")
        expect(receipt.locator("[data-validation]")).to_contain_text("−$20.00")
        desk.context.close()


def test_a_validation_code_scanned_with_no_field_focused_is_applied_not_looked_up(live, browser):
    """The attendant scans the driver's stamp without tapping the field: the code goes into "Validation
    code" and is applied to the car at the barrier; a ticket number scanned so still looks that ticket up."""
    from garage.identity import Actor
    from garage.services import validations

    live.reset()
    with live.app.app_context():
        validations.create_program(MAIN, Actor.system(), name="Cinema", kind="amount_off", value=500,
                                   codes=["CINEMA-77"])
        number = ticket_service.issue_ticket(MAIN, "STAMP 1", "Car",
                                             now=utcnow() - timedelta(minutes=30)).ticket_number
        other = ticket_service.issue_ticket(MAIN, "NEXT 1", "Car").ticket_number
        db.session.remove()
    desk = browser.new_context(viewport=TABLET["landscape"], has_touch=True).new_page()
    sign_in_at_desk(desk, live, "annx")
    desk.locator("#lookup-q").fill(number)
    desk.locator("#lookup-q").press("Enter")
    expect(desk.locator("#exit [data-amount]")).to_have_text("$10.00")
    settled(desk)
    # An unknown code: its message under the field (not a generic error), the next scan replaces it.
    desk.locator("#validation-code").tap()
    desk.keyboard.type("NOPE-123", delay=5)
    desk.keyboard.press("Enter")
    expect(desk.locator("#validation-code-error")).to_have_text("No validation has that code here")
    expect(desk.locator("#validation-code")).to_be_focused()
    settled(desk)
    desk.evaluate("document.activeElement && document.activeElement.blur()")
    desk.keyboard.type("cinema-77", delay=5)
    desk.keyboard.press("Enter")
    expect(desk.locator("#exit [data-amount]")).to_have_text("$5.00")
    expect(desk.locator("#exit [data-ticket-number]")).to_contain_text(number)
    settled(desk)
    desk.evaluate("document.activeElement && document.activeElement.blur()")
    desk.keyboard.type(other, delay=5)
    desk.keyboard.press("Enter")
    expect(desk.locator("#exit [data-ticket-number]")).to_contain_text(other)
    desk.context.close()
