"""The desk in a real shift (issue 15), in Chromium at a tablet's size in both orientations, against
gunicorn on PostgreSQL: the entry controls stay on the first screen, nothing wraps or is cut off in
portrait, every target is big enough for a finger, and printing never leaves the desk.

The viewports are the tablet's screen less the ~80 px its browser's bars take."""
from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from garage.domain.clock import utcnow
from garage.extensions import db
from garage.models import Garage, Ticket
from garage.services import tickets as ticket_service
from tests.browser.test_desk import seed_a_morning, sign_in, watch_console
from tests.helpers.browser import TABLET, settled, small_targets
from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN

pytestmark = pytest.mark.browser

LANDSCAPE = {"width": 1024, "height": 768 - 80}
PORTRAIT = {"width": 768, "height": 1024 - 80}
ORIENTATIONS = pytest.mark.parametrize("viewport", [LANDSCAPE, PORTRAIT], ids=["landscape", "portrait"])
ENTRY_CONTROLS = ("#plate", "#entry .vehicle-types", "#entry button[type=submit]")

# window.print counted in the desk and in every frame it loads (the init script runs in each).
COUNT_PRINTS = """
window.print = function () {
  var top = window.top;
  (top.__prints = top.__prints || []).push(location.pathname + location.search);
};
"""


@pytest.fixture
def desk_at(browser):
    """desk_at(viewport): a fresh tablet (its own storage) at that size; closed after the test."""
    contexts = []

    def open_(viewport: dict, **options) -> Page:
        context = browser.new_context(viewport=viewport, has_touch=True, **options)
        contexts.append(context)
        page = context.new_page()
        page.add_init_script(COUNT_PRINTS)
        return page

    yield open_
    for context in contexts:
        context.close()


def off_screen(page: Page, *selectors: str) -> list[str]:
    """The selectors whose element is not wholly on the first screen (the page unscrolled)."""
    return page.evaluate("""selectors => {
        const problems = [];
        if (scrollX || scrollY) problems.push(`page scrolled to ${scrollX},${scrollY}`);
        for (const s of selectors) {
            const e = document.querySelector(s);
            if (!e) { problems.push(`${s}: missing`); continue; }
            const r = e.getBoundingClientRect();
            if (r.top < 0 || r.left < 0 || r.bottom > innerHeight || r.right > innerWidth)
                problems.push(`${s}: ${Math.round(r.left)},${Math.round(r.top)} to ${Math.round(r.right)},${Math.round(r.bottom)}`
                              + ` in ${innerWidth}x${innerHeight}`);
        }
        return problems;
    }""", list(selectors))


def issue_by_keyboard(page: Page, plate: str) -> None:
    """Type the plate and press Enter (a scanner's way): nothing scrolls the page for us. Waits for
    the last swap to settle first (htmx then moves the focus; a real car comes seconds later)."""
    settled(page)
    page.locator("#plate").fill(plate)
    page.locator("#plate").press("Enter")


@ORIENTATIONS
def test_entry_controls_stay_on_the_first_screen_before_and_after_a_ticket_and_after_an_error(live, desk_at,
                                                                                             viewport):
    seed_a_morning(live)
    page = desk_at(viewport)
    errors = watch_console(page)
    sign_in(page, live)
    assert off_screen(page, *ENTRY_CONTROLS) == []

    issue_by_keyboard(page, "FIRST 1")
    card = page.locator("#entry .ticket-card")
    expect(card).to_contain_text("FIRST 1")
    expect(page.locator("#plate")).to_be_focused()
    assert off_screen(page, "#entry .ticket-card", *ENTRY_CONTROLS) == []

    issue_by_keyboard(page, "SECOND 2")  # the next ticket replaces the card: nothing piles up
    expect(card).to_contain_text("SECOND 2")
    expect(page.locator("#entry .ticket-card")).to_have_count(1)
    assert off_screen(page, "#entry .ticket-card", *ENTRY_CONTROLS) == []

    issue_by_keyboard(page, "AB$12")
    expect(page.locator("#plate-error")).to_contain_text("only letters, digits")
    expect(page.locator("#plate")).to_be_focused()
    assert off_screen(page, "#plate-error", *ENTRY_CONTROLS) == []
    assert errors == [] or all("422" in e for e in errors), errors


@ORIENTATIONS
def test_the_almost_full_banner_leaves_the_entry_controls_on_the_first_screen(live, desk_at, viewport):
    live.reset(total_spaces=12)
    seed_a_morning(live)  # 6 cars inside
    with live.app.app_context():
        for i in range(4):
            ticket_service.issue_ticket(MAIN, f"BUSY {i}", "Car")
        db.session.remove()
    page = desk_at(viewport)
    sign_in(page, live)
    issue_by_keyboard(page, "ELEVEN 1")
    expect(page.locator("#live")).to_have_attribute("data-state", "ALMOST FULL")
    expect(page.locator("#entry .ticket-card")).to_contain_text("ELEVEN 1")
    assert off_screen(page, "#live .almost-banner", "#entry .ticket-card", *ENTRY_CONTROLS) == []


@ORIENTATIONS
def test_a_person_of_two_garages_has_the_entry_controls_on_the_first_screen_too(live, desk_at, viewport):
    """Someone who works at two garages has a "Switch garage" button on the desk: as a row of its own it
    pushed Issue ticket 2 px below a landscape tablet's screen after an entry (an outside check)."""
    from tests.helpers.garages import add_garage, grant
    seed_a_morning(live)
    page = desk_at(viewport)
    sign_in(page, live)
    with live.app.app_context():
        grant("ann", add_garage("north"))
        db.session.remove()
    page.reload()
    expect(page.locator(".switch-garage a")).to_be_visible()
    assert off_screen(page, *ENTRY_CONTROLS) == []
    issue_by_keyboard(page, "TWO 1")
    expect(page.locator("#entry .ticket-card")).to_contain_text("TWO 1")
    assert off_screen(page, "#entry .ticket-card", *ENTRY_CONTROLS) == []


ONE_LINE = """el => {
    // Every text fragment of the element on one line, inside the element and inside the viewport.
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    const box = el.getBoundingClientRect(), tops = [], outside = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const range = document.createRange();
        range.selectNodeContents(node);
        for (const r of range.getClientRects()) {
            if (!r.width) continue;
            if (!tops.some(t => Math.abs(t - r.top) < 6)) tops.push(r.top);
            if (r.left < box.left - 0.5 || r.right > box.right + 0.5 || r.left < 0 || r.right > innerWidth)
                outside.push([Math.round(r.left), Math.round(r.right)]);
        }
    }
    return {lines: tops.length, outside, overflows: el.scrollWidth > el.clientWidth + 1, text: el.textContent.trim()};
}"""


def assert_one_line(page: Page, selector: str) -> None:
    shown = page.locator(selector).evaluate(ONE_LINE)
    assert shown["lines"] == 1 and shown["outside"] == [] and not shown["overflows"], (selector, shown)


def test_portrait_ticket_number_print_and_confirm_stay_on_one_line_inside_the_screen(live, desk_at):
    with live.app.app_context():  # a month-long stay: the longest amount a desk shows
        long_stay = ticket_service.issue_ticket(MAIN, "MONTH 1", "Standard Vehicle",
                                                now=utcnow() - timedelta(days=30, minutes=7)).ticket_number
        db.session.remove()
    page = desk_at({"width": 768, "height": 1024})
    sign_in(page, live)
    issue_by_keyboard(page, "PORTRAIT 1")
    expect(page.locator("#entry .ticket-card")).to_contain_text("PORTRAIT 1")
    for selector in ("#entry .ticket-card [data-ticket-number]", "#entry .ticket-card a.ticket-print"):
        assert_one_line(page, selector)

    page.locator("#lookup-q").fill(long_stay)
    page.locator("#lookup-q").press("Enter")
    confirm = page.locator("#exit button.btn-confirm")
    expect(confirm).to_contain_text("$7,")  # 721 started hours at $10
    assert_one_line(page, "#exit button.btn-confirm")
    assert_one_line(page, "#exit .quote [data-ticket-number]")
    page.locator("label.choice", has_text="Mobile Payment").tap()
    confirm.tap()
    expect(page.locator("#exit .receipt-card")).to_contain_text("Mobile Payment")
    assert_one_line(page, "#exit .receipt-card a[data-print-frame]")
    assert page.evaluate("document.documentElement.scrollWidth") <= 768


@ORIENTATIONS
def test_every_target_on_the_desk_and_its_menu_is_at_least_44_px(live, desk_at, viewport):
    seed_a_morning(live)
    with live.app.app_context():  # more than a page of cars inside: the pager shows
        for i in range(8):
            ticket_service.issue_ticket(MAIN, f"PAGE {i}", "Car")
        db.session.remove()
    page = desk_at(viewport)
    sign_in(page, live)
    expect(page.locator("#inside-list .pager a")).to_have_count(1)
    issue_by_keyboard(page, "TAP 1")  # the ticket card and its Print
    expect(page.locator("#entry .ticket-card")).to_be_visible()
    page.locator("#inside-list a.btn-row").first.tap()  # a quote: the payment methods and Confirm
    expect(page.locator("#exit button.btn-confirm")).to_be_visible()
    measured = page.evaluate("document.querySelectorAll('a[href], button, input, summary').length")
    assert measured > 30
    assert small_targets(page) == []
    expect(page.locator("#entry .autoprint input")).to_be_visible()  # measured with the rest
    # The lost-ticket checkbox itself, not only its label, and Sign out (issue 15: 26 px and 36 px).
    for selector in ('#exit input[name="lost"]', ".signout button"):
        box = page.locator(selector).bounding_box()
        assert box["width"] >= 44 and box["height"] >= 44, (selector, box)


def prints(page: Page) -> list[str]:
    return page.evaluate("window.__prints || []")


def test_print_ticket_and_receipt_print_on_the_desk_without_a_new_tab(live, desk_at):
    page = desk_at(LANDSCAPE)
    errors = watch_console(page)
    sign_in(page, live)
    page.evaluate("window.__sameDocument = true")
    issue_by_keyboard(page, "PRINT 1")
    card = page.locator("#entry .ticket-card")
    number = card.locator("[data-ticket-number]").inner_text().strip()
    assert prints(page) == []  # auto-print is off by default

    card.locator("a", has_text="Print ticket").tap()
    page.wait_for_function("() => (window.__prints || []).length === 1")
    assert prints(page) == [f"/g/main/desk/tickets/{number}/print?auto=1"]
    frame = page.frame_locator("#print-frame")
    expect(frame.locator(".slip-number")).to_have_text(number)  # the ticket itself was laid out
    expect(page.locator("#plate")).to_be_focused()  # the next car's plate goes in straight away
    assert len(page.context.pages) == 1 and page.url.endswith("/g/main/desk")

    page.locator("#lookup-q").fill(number)
    page.locator("#lookup-q").press("Enter")
    page.locator("label.choice", has_text="Cash").tap()
    page.locator("button.btn-confirm").tap()
    receipt = page.locator("#exit .receipt-card")
    expect(receipt).to_contain_text("Paid $")
    receipt.locator("a", has_text="Print receipt").tap()
    page.wait_for_function("() => (window.__prints || []).length === 2")
    assert prints(page)[1] == f"/g/main/desk/tickets/{number}/receipt?auto=1"
    expect(page.frame_locator("#print-frame").locator(".slip-number")).to_have_text(number)
    expect(page.locator("#print-frame")).to_have_count(1)  # one frame, reused
    expect(page.locator("#lookup-q")).to_be_focused()
    assert len(page.context.pages) == 1
    assert page.evaluate("window.__sameDocument") is True
    assert errors == [], errors


def test_print_every_ticket_automatically_prints_each_new_ticket_once_and_nothing_else(live, desk_at):
    with live.app.app_context():
        inside = ticket_service.issue_ticket(MAIN, "INSIDE 1", "Car").ticket_number
        db.session.remove()
    page = desk_at(LANDSCAPE)
    sign_in(page, live)
    toggle = page.get_by_label("Print every ticket automatically")
    expect(toggle).to_be_visible()
    expect(toggle).not_to_be_checked()  # off on a tablet that never set it
    toggle.tap()
    expect(toggle).to_be_checked()

    issue_by_keyboard(page, "AUTO 1")
    first = page.locator("#entry .ticket-card [data-ticket-number]").inner_text().strip()
    page.wait_for_function("() => (window.__prints || []).length === 1")
    assert prints(page) == [f"/g/main/desk/tickets/{first}/print?auto=1"]
    expect(page.get_by_label("Print every ticket automatically")).to_be_checked()  # the new card keeps it

    # The same card again (a re-render) and the polls that follow print nothing more.
    page.evaluate("""() => { const entry = document.getElementById('entry');
        entry.dispatchEvent(new CustomEvent('htmx:load', {bubbles: true, detail: {elt: entry}})); }""")
    for panel, url in (("#live", "/g/main/desk/live"), ("#activity", "/g/main/desk/activity")):  # as their polls do
        page.evaluate("([panel, url]) => htmx.ajax('GET', url, {target: panel, swap: 'outerHTML'})", [panel, url])
    issue_by_keyboard(page, "AB$1")  # a refused entry
    expect(page.locator("#plate-error")).to_be_visible()
    # Settled: the panels' reloads triggered above have landed, and htmx has moved the focus to the
    # plate; keys typed before that could land in the plate instead of the lookup (a person is slower).
    settled(page)
    expect(page.locator("#plate")).to_be_focused()
    page.locator("#lookup-q").fill(inside)  # a payment: its receipt prints only when asked
    page.locator("#lookup-q").press("Enter")
    expect(page.locator("label.choice", has_text="Cash")).to_be_visible()
    page.locator("label.choice", has_text="Cash").tap()
    page.locator("button.btn-confirm").tap()
    expect(page.locator("#exit .receipt-card")).to_contain_text("Paid $")
    page.wait_for_timeout(300)
    assert prints(page) == [f"/g/main/desk/tickets/{first}/print?auto=1"]

    # The setting belongs to this tablet: it survives a reload, which prints nothing.
    page.reload()
    expect(page.get_by_label("Print every ticket automatically")).to_be_checked()
    issue_by_keyboard(page, "AUTO 2")
    second = page.locator("#entry .ticket-card [data-ticket-number]").inner_text().strip()
    page.wait_for_function("() => (window.__prints || []).length === 1")  # counted since the reload
    assert prints(page) == [f"/g/main/desk/tickets/{second}/print?auto=1"]

    page.get_by_label("Print every ticket automatically").tap()  # off again
    issue_by_keyboard(page, "AUTO 3")
    expect(page.locator("#entry .ticket-card")).to_contain_text("AUTO 3")
    page.wait_for_timeout(300)
    assert len(prints(page)) == 1

    other = desk_at(LANDSCAPE)  # another tablet: its own setting, off
    sign_in(other, live, "bob")
    expect(other.get_by_label("Print every ticket automatically")).not_to_be_checked()


def test_without_javascript_print_opens_the_print_page_in_the_same_tab_with_a_way_back(live, desk_at):
    page = desk_at(LANDSCAPE, java_script_enabled=False)
    sign_in(page, live)
    expect(page.locator("#entry .autoprint")).to_be_hidden()  # a setting only a script can keep
    page.locator("#plate").fill("NOJS 1")
    page.locator("button", has_text="Issue ticket").click()
    page.wait_for_url("**/desk/tickets/*")
    number = page.locator("#entry .ticket-card [data-ticket-number]").inner_text().strip()
    page.locator("#entry .ticket-card a", has_text="Print ticket").click()
    page.wait_for_url(f"**/desk/tickets/{number}/print?auto=1")
    expect(page.locator(".slip-number")).to_have_text(number)
    assert len(page.context.pages) == 1
    page.locator("a", has_text="Back to the desk").click()
    page.wait_for_url("**/desk")


# --- a long day's figures (an outside browser pass: "REVENUE TODAY $4,63…", "2 Std. 4…") ----------

# The widest a tile must show whole: "$99,999.00" / "99.999,00 €" taken today, "23 h 59 min" /
# "23 Std. 59 Min." the average stay.
LONG_DAY_CENTS = 9_999_900
LONGEST_STAY_MINUTES = 23 * 60 + 59
SHOTS = Path(tempfile.gettempdir()) / "desk-fit"
SHOWN = {"en": ("$99,999.00", "23 h 59 min"), "de": ("99.999,00 €", "23 Std. 59 Min.")}
LANGUAGES = pytest.mark.parametrize("language", ["en", "de"])
HELD = pytest.mark.parametrize("way", ["landscape", "portrait"])  # the whole screen: tests.helpers.browser.TABLET


def seed_a_long_day(live, language: str) -> str:
    """Two cars out today after 23 h 59 min each and the day's takings at $99,999.00 (in euros, the
    German formats and words for "de"); a car inside since 75 min ago ("2 h billed"): its number."""
    now = utcnow()
    with live.app.app_context():
        if language == "de":
            db.session.execute(sa.update(Garage).where(Garage.id == MAIN)
                               .values(currency="EUR", locale="de_DE", language="de"))
        out = []
        for i in range(2):
            ticket = ticket_service.issue_ticket(MAIN, f"LONG {i}", "Car", now=now - timedelta(minutes=LONGEST_STAY_MINUTES))
            ticket_service.process_exit(MAIN, ticket.ticket_number, "Cash", now=now)
            out.append(ticket.ticket_number)
        # A busy day's takings in two stays: what the live panel sums, set straight in their rows.
        db.session.execute(sa.update(Ticket).where(Ticket.ticket_number.in_(out))
                           .values(amount_paid=LONG_DAY_CENTS // len(out)))
        db.session.commit()
        inside = ticket_service.issue_ticket(MAIN, "B-ZX 3471", "Standard Vehicle",
                                             now=now - timedelta(minutes=75)).ticket_number
        db.session.remove()
    return inside


CLIPPED = """selector => [...document.querySelectorAll(selector)]
    .filter(e => e.scrollWidth > e.clientWidth + 0.5 || getComputedStyle(e).textOverflow === 'ellipsis')
    .map(e => `"${e.textContent.trim()}" ${e.scrollWidth} > ${e.clientWidth} px, ${getComputedStyle(e).textOverflow}`)"""


def clipped(page: Page, selector: str) -> list[str]:
    """The elements matching `selector` whose text is wider than their box, or that would end in "…"."""
    return page.evaluate(CLIPPED, selector)


@HELD
@LANGUAGES
def test_tiles_and_the_ticket_card_show_a_long_day_whole_and_confirm_stays_on_the_screen(live, desk_at, way,
                                                                                          language):
    inside = seed_a_long_day(live, language)
    page = desk_at(TABLET[way])
    sign_in(page, live)
    shown = [page.locator(f'#live [data-stat="{name}"]').inner_text().replace("\xa0", " ") for name in ("revenue", "average-stay")]
    assert shown == list(SHOWN[language])
    assert clipped(page, "#live .tile > *") == []  # values, labels and the lines under them

    # The card: "TICKET ISSUED · 4:30 PM" over "B-ZX 3472 · Standard Vehicle" (German: longer words).
    page.locator("#entry label.choice:has(input[value='Standard Vehicle'])").tap()
    issue_by_keyboard(page, "B-ZX 3472")
    card = page.locator("#entry .ticket-card")
    expect(card.locator(".ticket-line")).to_contain_text("B-ZX 3472")
    expect(card.locator(".ticket-line")).to_contain_text("Standard")
    assert clipped(page, "#entry .ticket-card p") == []
    assert off_screen(page, "#entry .ticket-card", *ENTRY_CONTROLS) == []

    # A scanned ticket: its quote, the payment methods and Confirm on the screen, the look-up field
    # still where the next scan goes. Portrait in German is a line from the bottom edge: not asserted.
    settled(page)
    page.locator("#lookup-q").fill(inside)
    page.locator("#lookup-q").press("Enter")
    expect(page.locator("#exit .quote [data-ticket-number]")).to_have_text(inside)
    settled(page)
    expect(page.locator("#lookup-q")).to_be_focused()
    if way == "landscape" or language == "en":
        assert off_screen(page, "#exit .amount-due", "#exit .methods", "#exit button.btn-confirm") == []
    assert clipped(page, "#live .tile > *") == []
    SHOTS.mkdir(exist_ok=True)  # to look at (a scratch directory)
    page.screenshot(path=str(SHOTS / f"desk-long-day-{language}-{way}.png"), caret="initial")


IN_VIEW = """selectors => selectors.map(s => {
    const e = document.querySelector(s);
    if (!e) return `${s}: missing`;
    const r = e.getBoundingClientRect();
    return (r.top < -0.5 || r.left < -0.5 || r.bottom > innerHeight + 0.5 || r.right > innerWidth + 0.5)
        ? `${s}: ${Math.round(r.left)},${Math.round(r.top)} to ${Math.round(r.right)},${Math.round(r.bottom)} in ${innerWidth}x${innerHeight}`
        : null;
}).filter(Boolean)"""


@ORIENTATIONS
@LANGUAGES
def test_after_a_scan_confirm_is_on_the_screen_under_the_browsers_bars_in_either_language(live, desk_at, viewport,
                                                                                            language):
    """A tablet's screen less its browser's bars: in portrait, in German (longer words: the lost-ticket
    box, the label and Confirm take two lines each), the quote's Confirm ended ~80 px below the screen's
    edge. After a scan the page brings it just into view, with the amount and the look-up field (where
    the next scan goes) still on the screen; where it already fits, nothing moves."""
    inside = seed_a_long_day(live, language)
    page = desk_at(viewport)
    errors = watch_console(page)
    sign_in(page, live)
    settled(page)
    page.keyboard.type(inside, delay=3)  # a scanner's burst with nothing focused, then Enter
    page.keyboard.press("Enter")
    expect(page.locator("#exit .quote [data-ticket-number]")).to_have_text(inside)
    settled(page)
    expect(page.locator("#lookup-q")).to_be_focused()
    assert page.evaluate(IN_VIEW, ["#exit .amount-due", "#exit .methods", "#exit button.btn-confirm",
                                   "#lookup-q"]) == []
    if viewport == LANDSCAPE and language == "en":  # it fits there: the page stays where it was
        assert page.evaluate("scrollY") == 0
    page.locator("#exit label:has(input[value=Cash])").tap()
    page.locator("#exit button.btn-confirm").tap()
    expect(page.locator("#exit")).to_contain_text("R-")
    assert errors == [], errors


LONG_PROGRAM = "Einkaufszentrumsparkermäßigung"  # one word, 30 letters (names may have 80 characters)


@ORIENTATIONS
def test_a_validation_with_a_long_name_leaves_the_quote_readable(live, desk_at, viewport):
    """An outside check: a program named "Einkaufszentrumsparkermäßigung" took the whole width of the
    quote's facts as their label column, its values were 0 px wide (one letter a line, the quote 2,489 px
    tall) and the page scrolled sideways in portrait. The label wraps instead; every value keeps room."""
    from garage.identity import Actor
    from garage.services import validations as validation_service
    inside = seed_a_long_day(live, "de")
    with live.app.app_context():
        validation_service.create_program(MAIN, Actor.system(), name=LONG_PROGRAM, kind="amount_off", value=50,
                                          codes=["EKZ-1"], reusable=True)
        db.session.remove()
    page = desk_at(viewport)
    errors = watch_console(page)
    sign_in(page, live)
    page.locator("#lookup-q").fill(inside)
    page.locator("#lookup-q").press("Enter")
    expect(page.locator("#exit .quote [data-ticket-number]")).to_have_text(inside)
    settled(page)
    page.locator("#validation-code").fill("EKZ-1")
    page.locator("#validation-code").press("Enter")
    expect(page.locator("#exit [data-validation-name]")).to_have_text(LONG_PROGRAM)
    settled(page)
    widths = page.locator("#exit .quote .facts dd").evaluate_all("dds => dds.map(d => d.clientWidth)")
    assert min(widths) >= 100, widths
    assert clipped(page, "#exit .quote .facts dd") == []
    height = page.locator("#exit .quote .facts").evaluate("e => e.getBoundingClientRect().height")
    assert height < viewport["height"] / 2, height
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    assert page.evaluate(IN_VIEW, ["#exit .amount-due", "#exit button.btn-confirm"]) == []
    assert errors == [], errors
