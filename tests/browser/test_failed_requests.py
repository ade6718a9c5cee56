"""A manager's form sent by htmx that gets no usable answer says so under the form (static/js/app.js):
the settings page stayed silent while the database was down (a 503), and a manager could believe the
change was saved (seen in this stop's outside check with a stopped PostgreSQL)."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.helpers.browser import TABLET, signed_in

pytestmark = pytest.mark.browser

DOWN = ('<p class="error" role="alert">The garage\'s database is not answering. '
        'Please try again in a few seconds.</p>')


def test_a_settings_save_refused_or_unanswered_says_so_under_the_form(live, browser):
    live.reset()
    live.user("meg", "manager", password="a-long-password-1")
    page = browser.new_context(viewport=TABLET["landscape"], has_touch=True).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{live.url}/login?next=/g/main/settings")
    page.fill("#username", "meg")
    page.fill("#password", "a-long-password-1")
    page.click("main button[type=submit]")
    page.wait_for_url("**/g/main/settings")
    form = page.locator("#settings-form")
    save = page.get_by_role("button", name="Save settings")

    # The database down: the server's own words under the form, nothing swapped.
    page.route("**/g/main/settings", lambda route: route.fulfill(status=503, body=DOWN, content_type="text/html")
               if route.request.method == "POST" else route.continue_())
    page.fill("#garage_name", "Down Name")
    save.click()
    expect(form.locator("[data-request-failed]")).to_have_text(
        "The garage's database is not answering. Please try again in a few seconds.")
    expect(page.locator("#garage_name")).to_have_value("Down Name")  # what was typed stays

    # A whole error page (a 404 without htmx's fragment): its message, not its menu.
    page.unroute("**/g/main/settings")
    page.route("**/g/main/settings", lambda route: route.fulfill(status=404, content_type="text/html", body=(
        "<html><body><nav><a href='/'>Desk</a> <a href='/'>Reports</a></nav><main><h1>Page not found</h1>"
        "<p>No such garage</p></main></body></html>")) if route.request.method == "POST" else route.continue_())
    save.click()
    expect(form.locator("[data-request-failed]")).to_have_text("No such garage")

    # No answer at all: the page's own words (sent again, the old note goes first).
    page.unroute("**/g/main/settings")
    page.route("**/g/main/settings", lambda route: route.abort() if route.request.method == "POST"
               else route.continue_())
    save.click()
    expect(form.locator("[data-request-failed]")).to_have_count(1)
    expect(form.locator("[data-request-failed]")).to_have_text(
        "No answer from the server: check whether it was saved before sending it again.")

    # Back: the save goes through and the note is gone with the old form.
    page.unroute("**/g/main/settings")
    save.click()
    expect(page.locator(".saved")).to_contain_text("Saved")
    expect(page.locator("[data-request-failed]")).to_have_count(0)
    assert errors == []
