"""Steps shared by the browser tests (Playwright pages)."""
from __future__ import annotations


def sign_in_at_desk(page, garage, username: str = "ann") -> None:
    """A new attendant `username` signs in on `page` (a touch context) and lands on the desk."""
    password = garage.user(username, "attendant")
    page.goto(garage.url + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.locator("button[type=submit]", has_text="Sign in").tap()
    page.wait_for_url("**/desk")
