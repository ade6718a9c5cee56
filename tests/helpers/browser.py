"""Steps shared by the browser tests (Playwright pages)."""
from __future__ import annotations

from playwright.sync_api import expect

# A tablet's tap targets are at least 44 x 44 CSS px (issue 15; the stylesheet's --tap is 48).
TAP_MIN = 44

# While any of these is on the page, htmx is still answering, swapping or settling; it moves the
# focus to the new content's [autofocus] field when it settles (about 20 ms after the swap).
BUSY = ".htmx-request, .htmx-settling, .htmx-swapping"


def settled(page) -> None:
    """The last swap has settled: htmx has put the focus where the answer asked. Keys typed before
    that may land in the field it is about to focus (a person or a scan comes later than 20 ms)."""
    expect(page.locator(BUSY)).to_have_count(0)


def signed_in(browser, live, viewport: dict, username: str, path: str):
    """A fresh touch tablet at `viewport`, `username` (password tests.helpers.garages.PASSWORD)
    signed in and on `path`."""
    from tests.helpers.garages import PASSWORD

    page = browser.new_context(viewport=viewport, has_touch=True).new_page()
    page.goto(f"{live.url}/login?next={path}")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"**{path}")
    return page


# A tablet held either way (the desk's two shapes): the `held` fixture (tests/browser/conftest.py).
TABLET = {"portrait": {"width": 768, "height": 1024}, "landscape": {"width": 1024, "height": 768}}

def sign_in_at_desk(page, garage, username: str = "ann") -> None:
    """A new attendant `username` signs in on `page` (a touch context) and lands on the desk."""
    password = garage.user(username, "attendant")
    page.goto(garage.url + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.locator("button[type=submit]", has_text="Sign in").tap()
    page.wait_for_url("**/desk")


SMALL_TARGETS = """([min, within]) => {
    // Every control a finger can reach on the page: links, buttons, fields, checkboxes and radio
    // buttons (a radio of the desk is drawn by its label: the input covers the label).
    const small = [];
    const controls = 'a[href], button, input:not([type=hidden]), select, textarea, summary';
    for (const e of [...document.querySelectorAll(within)].flatMap(part => [...part.querySelectorAll(controls)])) {
        const style = getComputedStyle(e);
        if (style.display === 'none' || style.visibility === 'hidden' || e.closest('[hidden], .sr-only')) continue;
        const r = e.getBoundingClientRect();
        if (!r.width && !r.height) continue;
        if (r.width < min || r.height < min)
            small.push(`${e.tagName.toLowerCase()}${e.type ? '[' + e.type + ']' : ''} "${(e.textContent || e.name || e.id).trim().slice(0, 30)}": `
                       + `${Math.round(r.width)}x${Math.round(r.height)}`);
    }
    return small;
}"""


def small_targets(page, within: str = "body") -> list[str]:
    """The controls on `page` (inside `within`) smaller than a finger (TAP_MIN either way), described.
    Measured once the page's stylesheets have loaded: a page's own stylesheet (desk.css after app.css)
    still loading when its DOM was already there measured the shift page's unstyled "Count by
    denomination" summary at 25 px (a loaded CI host)."""
    page.wait_for_load_state("load")
    return page.evaluate(SMALL_TARGETS, [TAP_MIN, within])
