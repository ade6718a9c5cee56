"""Steps shared by the browser tests (Playwright pages)."""
from __future__ import annotations

from playwright.sync_api import expect

# While any of these is on the page, htmx is still answering, swapping or settling; it moves the
# focus to the new content's [autofocus] field when it settles (about 20 ms after the swap).
BUSY = ".htmx-request, .htmx-settling, .htmx-swapping"


def settled(page) -> None:
    """The last swap has settled: htmx has put the focus where the answer asked. Keys typed before
    that may land in the field it is about to focus (a person or a scan comes later than 20 ms)."""
    expect(page.locator(BUSY)).to_have_count(0)


def sign_in_at_desk(page, garage, username: str = "ann") -> None:
    """A new attendant `username` signs in on `page` (a touch context) and lands on the desk."""
    password = garage.user(username, "attendant")
    page.goto(garage.url + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.locator("button[type=submit]", has_text="Sign in").tap()
    page.wait_for_url("**/desk")
