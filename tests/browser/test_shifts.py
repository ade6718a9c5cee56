"""The shift pages (issue 18) in Chromium at a tablet's size in both orientations, against gunicorn on
PostgreSQL, by touch: open a shift from the menu, take a payment at the desk, close the shift counted
by denomination, read the close-out; nothing is wider than the screen, every target is big enough for a
finger, and no console error (CSP) on the way."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_desk import shot, sign_in, watch_console
from tests.browser.test_desk_layout import ORIENTATIONS, desk_at  # noqa: F401 (a fixture)
from garage.extensions import db
from tests.helpers.browser import settled, signed_in, small_targets
from tests.helpers.db import set_settings

pytestmark = pytest.mark.browser

WIDER_THAN_THE_SCREEN = "document.documentElement.scrollWidth > innerWidth"


def enter(page, plate: str) -> str:
    """A car enters at the desk; its ticket number."""
    settled(page)
    page.locator("#plate").fill(plate)
    page.locator("#plate").press("Enter")
    expect(page.locator("#entry .ticket-card")).to_be_visible()
    return page.locator("#entry .ticket-card .ticket-number").first.inner_text().strip()


def pay_cash(page, number: str) -> None:
    """Look the ticket up at the desk and confirm its payment in cash."""
    settled(page)
    page.locator("#lookup-q").fill(number)
    # The look-up's answer replaces the exit panel: a method tapped on the panel before it (the same ticket
    # may be on it already) is gone with it, and the payment then asks how the driver pays.
    with page.expect_response(lambda response: f"q={number}" in response.url):
        page.locator("#lookup-q").press("Enter")
    settled(page)
    page.locator("#exit label.choice", has_text="Cash").tap()
    page.locator("#exit button.btn-confirm").tap()


@ORIENTATIONS
def test_open_pay_and_close_a_shift_by_touch(live, desk_at, viewport):  # noqa: F811
    page = desk_at(viewport)
    errors = watch_console(page)
    sign_in(page, live)
    page.locator("nav.nav a", has_text="Shift").first.tap()
    page.wait_for_url("**/desk/shift")
    page.locator("#float").fill("100")
    page.locator("main button[type=submit]", has_text="Open shift").tap()
    expect(page.locator("#x-title")).to_have_text("X report")
    assert small_targets(page) == [] and not page.evaluate(WIDER_THAN_THE_SCREEN)

    page.locator("nav.nav a", has_text="Desk").tap()  # a payment at the desk lands in the shift
    page.wait_for_url("**/desk")
    pay_cash(page, enter(page, "SHIFT 1"))
    expect(page.locator("#exit .receipt-card")).to_be_visible()

    page.locator("nav.nav a", has_text="Shift").first.tap()
    page.wait_for_url("**/desk/shift")
    expect(page.locator("[data-expected]")).to_have_text("$110.00")
    page.locator("details.pieces summary").tap()
    page.locator("#count-5000").fill("2")
    page.locator("#count-500").fill("1")
    page.locator("#count-25").fill("4")
    expect(page.locator("[data-pieces-total]")).to_have_text("$106.00")  # the running total, before closing
    page.locator("#count-25").fill("4x")
    expect(page.locator("[data-pieces-total]")).to_have_text("check the counts")
    page.locator("#count-25").fill("4")
    assert small_targets(page) == [] and not page.evaluate(WIDER_THAN_THE_SCREEN)
    shot(page, f"shift-close-{viewport['width']}.png")
    page.locator("main button[type=submit]", has_text="Close shift").tap()
    page.wait_for_url("**/desk/shifts/*")
    expect(page.locator("[data-over-short]")).to_have_text("short by $4.00")
    expect(page.locator("[data-counted]")).to_have_text("$106.00")
    assert not page.evaluate(WIDER_THAN_THE_SCREEN)
    shot(page, f"shift-closeout-{viewport['width']}.png")
    assert errors == []


PRINT_WIDTH = 302  # 80 mm at 96 px per inch: the receipt printer's page


def test_the_80mm_close_out_slip_fits_the_paper_like_the_receipt(live, desk_at):  # noqa: F811
    page = desk_at({"width": 1024, "height": 768})
    sign_in(page, live)
    page.goto(live.url + "/g/main/desk/shift")
    page.locator("#float").fill("10000")  # the widest amounts a drawer holds
    page.locator("main button[type=submit]", has_text="Open shift").tap()
    page.locator("details.pieces summary").tap()
    page.locator("#count-10000").fill("999")
    page.locator("#count-1").fill("99")
    page.locator("main button[type=submit]", has_text="Close shift").tap()
    page.wait_for_url("**/desk/shifts/*")
    page.set_viewport_size({"width": PRINT_WIDTH, "height": 1000})
    page.emulate_media(media="print")
    page.goto(page.url + "/print")
    expect(page.locator(".slip [data-over-short]")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PRINT_WIDTH
    amounts = page.evaluate("""[...document.querySelectorAll('.slip td, .slip th, .slip dd')]
        .filter(e => e.getBoundingClientRect().right > document.querySelector('.slip').getBoundingClientRect().right + 0.5)
        .map(e => e.textContent.trim())""")
    assert amounts == []  # nothing runs past the slip's edge (its rules)
    shot(page, "shift-slip-80mm.png")


@ORIENTATIONS
def test_a_payment_refused_for_want_of_a_shift_opens_one_and_comes_back_to_the_ticket(live, desk_at, viewport):  # noqa: F811
    with live.app.app_context():
        set_settings(payments_require_shift=True)
        db.session.remove()
    page = desk_at(viewport)
    sign_in(page, live)
    number = enter(page, "NO SHIFT 1")
    pay_cash(page, number)
    notice = page.locator("#exit .notice")
    expect(notice).to_contain_text("Open a shift before taking payments")
    assert small_targets(page, "#exit .notice") == []
    notice.locator("a", has_text="Open a shift").tap()
    page.wait_for_url(re.compile(r"/desk/shift\?next="))
    page.locator("#float").fill("50")
    page.locator("main button[type=submit]", has_text="Open shift").tap()
    page.wait_for_url(re.compile(r"/desk/exit\?q="))  # back at the ticket they were paying, its amount due shown
    expect(page.locator("#exit [data-ticket-number]")).to_contain_text(number)
    pay_cash(page, number)
    expect(page.locator("#exit .receipt-card")).to_be_visible()


@ORIENTATIONS
def test_the_shifts_list_and_the_refusal_pages_have_finger_sized_targets(browser, live, viewport):
    live.user("boss", "manager")
    page = signed_in(browser, live, viewport, "boss", "/g/main/desk/shift")
    page.locator("#float").fill("10")
    page.locator("main button[type=submit]", has_text="Open shift").tap()
    expect(page.locator("#x-title")).to_have_text("X report")
    page.goto(live.url + "/g/main/desk/shifts")
    expect(page.locator("tr[data-shift] a")).to_have_count(1)
    assert small_targets(page, "main") == []
    page.goto(live.url + "/g/main/desk/shifts/999")  # no such shift: the 404 page
    expect(page.locator("main a", has_text="Back to the start")).to_be_visible()
    assert small_targets(page, "main") == []
    page.context.close()
