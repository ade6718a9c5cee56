"""Voids and refunds at the desk (issue 18) in a real Chromium, by touch, on a tablet held either way
(portrait 768x1024, landscape 1024x768): an attendant voids a ticket issued by mistake and the free
spaces go back up; a manager refunds part of a paid ticket. The action buttons are visible and
finger-sized (at least 44 px tall)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from garage.domain.clock import utcnow
from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN
from garage.extensions import db
from garage.services import tickets as ticket_service
from tests.helpers.browser import TAP_MIN, sign_in_at_desk, small_targets

pytestmark = pytest.mark.browser



def free(page: Page):
    return page.locator('#live [data-stat="available"]')


def tap_sized(page: Page, button) -> None:
    """`button` is on screen and a finger's size."""
    expect(button).to_be_visible()
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    assert box is not None and box["height"] >= TAP_MIN, box


def test_an_attendant_voids_a_ticket_issued_by_mistake_and_the_space_is_free_again(live, held):
    sign_in_at_desk(held, live, "ann")
    expect(free(held)).to_have_text("140")
    held.locator("#plate").type("oops 1")
    held.locator("button", has_text="Issue ticket").tap()
    card = held.locator("#entry .ticket-card")
    expect(card).to_contain_text("OOPS 1")
    expect(free(held)).to_have_text("139")
    number = card.locator("[data-ticket-number]").inner_text().strip()
    more = card.locator("summary", has_text="Correct or void this ticket")  # folded: the card stays one row
    tap_sized(held, more)
    more.tap()
    void = card.locator(".ticket-actions a", has_text="Void ticket")
    tap_sized(held, void)
    tap_sized(held, card.locator(".ticket-actions a", has_text="Correct plate / type"))
    void.tap()
    held.wait_for_url(f"**/desk/tickets/{number}/void")
    confirm = held.locator("main button[type=submit]", has_text="Void ticket")
    tap_sized(held, confirm)
    assert small_targets(held, "main") == []
    confirm.tap()  # no reason: the form says so, nothing voided
    expect(held.locator("#reason")).to_be_focused()  # the browser's own check: the field is required
    # A ticket scanned while the cursor rests in Reason (fast keys, then Enter) voids nothing.
    held.keyboard.type("PS-7QX2MN", delay=5)
    held.keyboard.press("Enter")
    held.wait_for_timeout(300)
    assert held.url.endswith(f"/desk/tickets/{number}/void")
    with live.app.app_context():
        assert ticket_service.find_ticket(MAIN, number).status == "active"
        db.session.remove()
    held.locator("#reason").fill("Driver turned round at the barrier")
    confirm.tap()
    held.wait_for_url(f"**/desk/tickets/{number}")
    expect(held.locator("[data-desk-notice]")).to_contain_text("voided")
    voided = held.locator(".voided-card")
    expect(voided).to_contain_text("VOIDED")
    expect(voided.locator("[data-voided-by]")).to_have_text("ann")
    expect(voided.locator("[data-void-reason]")).to_have_text("Driver turned round at the barrier")
    expect(free(held)).to_have_text("140")  # the space is free again
    # Looked up at the exit, it has nothing to pay.
    held.locator("#lookup-q").fill(number)
    held.locator("#lookup-q").press("Enter")
    expect(held.locator("#exit .voided-card")).to_be_visible()
    expect(held.locator("#exit")).to_contain_text("nothing to pay")
    expect(held.locator("#exit button.btn-confirm")).to_have_count(0)


def test_a_manager_refunds_part_of_a_paid_ticket(live, held):
    with live.app.app_context():
        now = utcnow()
        number = ticket_service.issue_ticket(MAIN, "REF 42", "Car", now=now - timedelta(hours=2, minutes=5)).ticket_number
        ticket_service.process_exit(MAIN, number, "Credit Card", now=now)  # 3 started hours at $10
        db.session.remove()
    sign_in_at_desk(held, live, "ann")  # an attendant: no refund offered
    held.locator("#lookup-q").fill(number)
    held.locator("#lookup-q").press("Enter")
    receipt = held.locator("#exit .receipt-card")
    expect(receipt.locator("[data-amount-paid]")).to_have_text("$30.00")
    expect(receipt.locator(".ticket-actions a", has_text="Correct plate")).to_be_visible()
    expect(receipt.locator(".ticket-actions a", has_text="Refund")).to_have_count(0)
    held.context.clear_cookies()

    live.user("boss", "manager")
    held.goto(live.url + "/login")
    held.fill("#username", "boss")
    held.fill("#password", "correct horse battery")
    held.locator("button[type=submit]", has_text="Sign in").tap()
    held.wait_for_url("**/desk")
    held.locator("#lookup-q").fill(number)
    held.locator("#lookup-q").press("Enter")
    refund = receipt.locator(".ticket-actions a", has_text="Refund")
    tap_sized(held, refund)
    refund.tap()
    held.wait_for_url(f"**/desk/tickets/{number}/refund")
    expect(held.locator("#amount")).to_have_value("30.00")  # what is left to refund
    held.locator("#amount").fill("12.50")
    held.locator("#reason").fill("Barrier broken, driver waited")
    button = held.locator("main button[type=submit]", has_text="Refund")
    tap_sized(held, button)
    assert small_targets(held, "main") == []
    button.tap()
    held.wait_for_url(f"**/desk/tickets/{number}/paid")
    expect(held.locator("[data-desk-notice]")).to_contain_text("Refunded $12.50")
    line = held.locator("#exit [data-refund]")
    expect(line).to_have_count(1)
    expect(line).to_contain_text("$12.50")
    expect(line).to_contain_text("boss")
    expect(line).to_contain_text("Barrier broken, driver waited")
    expect(held.locator("#exit [data-refunded-total]")).to_contain_text("$12.50 of $30.00")
    tap_sized(held, held.locator("#exit .ticket-actions a", has_text="Refund"))  # $17.50 is still refundable
