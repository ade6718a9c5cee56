"""In a real Chromium against gunicorn: an admin creates a second garage from /garages (htmx, strict
CSP, a refused slug first) and sees both garages on /portfolio, live and in the comparison."""
import pytest
from playwright.sync_api import expect

from garage.extensions import db
from tests.helpers.garages import make_admin

pytestmark = pytest.mark.browser


def test_an_admin_creates_a_second_garage_and_sees_both_on_the_portfolio(live, tablet):
    page = tablet
    problems = []
    page.on("console", lambda m: "Content Security Policy" in m.text and problems.append(m.text))
    page.on("pageerror", lambda e: problems.append(str(e)))
    with live.app.app_context():
        make_admin("root")
        db.session.remove()

    page.goto(f"{live.url}/login?next=/garages")
    page.fill("#username", "root")
    page.fill("#password", "correct horse battery")
    page.click("main button[type=submit]")
    expect(page.locator("h1")).to_have_text("Garages")

    page.fill("#garage-slug", "main")
    page.fill("#garage-name", "Harbour")
    page.fill("#garage-spaces", "40")
    page.fill("#garage-timezone", "Europe/Lisbon")
    page.click(".new-garage button")
    expect(page.locator("#garage-slug-error")).to_have_text("A garage main already exists")
    page.fill("#garage-slug", "harbour")
    page.click(".new-garage button")
    expect(page.locator("#garages .notice")).to_have_text("Created the garage Harbour (harbour).")
    expect(page.locator('#garage-list tr[data-slug="harbour"]')).to_contain_text("Europe/Lisbon")

    page.click("nav.nav >> text=Portfolio")
    expect(page.locator("h1")).to_have_text("Portfolio")
    live_rows = page.locator("#portfolio-live tbody tr")
    expect(live_rows).to_have_count(2)
    expect(page.locator('#portfolio-live tr[data-slug="harbour"] [data-stat="occupied"]')).to_have_text("0 / 40")
    expect(page.locator("#portfolio-table tbody tr")).to_have_count(2)
    expect(page.locator("svg.chart")).to_have_count(2)
    assert problems == []
