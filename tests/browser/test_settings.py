"""The settings page in Chromium against gunicorn: htmx swaps field errors in
place, saving updates the rates panel, it works without JavaScript, and the
strict CSP is never violated."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture
def screenshots(tmp_path) -> Path:
    """docs/screenshots with UPDATE_SCREENSHOTS=1, else a throw-away folder
    (a normal test run leaves the repository untouched)."""
    folder = DOCS_SCREENSHOTS if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def sign_in(page, live, next_path="/g/main/settings"):
    password = live.user("boss", "manager")
    page.goto(live.url + next_path)
    page.fill("#username", "boss")
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(live.url + next_path)


@pytest.fixture
def csp_violations(tablet):
    seen: list[str] = []
    tablet.on("console", lambda m: seen.append(m.text) if "Content Security Policy" in m.text else None)
    return seen


def test_settings_with_htmx(live, tablet, csp_violations, screenshots):
    page = tablet
    sign_in(page, live)
    loads = []
    page.on("load", lambda: loads.append(page.url))

    page.fill("#hourly_rate", "ten")
    page.fill("#total_spaces", "0")
    page.click("text=Save settings")
    page.wait_for_selector("#hourly_rate-error")
    assert "dollars and cents" in page.inner_text("#hourly_rate-error")
    assert "Total spaces must be at least 1" in page.inner_text("#total_spaces-error")
    assert page.input_value("#hourly_rate") == "ten"              # what was typed is kept
    assert loads == []                                           # swapped in place, no reload
    page.screenshot(path=str(screenshots / "settings-errors.png"), caret="initial")

    page.fill("#hourly_rate", "12.50")
    page.fill("#total_spaces", "200")
    page.fill("#grace_minutes", "10")
    page.fill("#daily_max", "40")
    page.fill("#rate_motorcycle", "6")
    page.fill("#lost_ticket_fee", "50")
    page.fill("#garage_name", "Main Street Garage")
    page.fill("#timezone", "America/New_York")
    page.click("text=Save settings")
    page.wait_for_selector(".saved")
    rates = page.inner_text("#current-rates")                    # the panel updated out of band
    assert "$12.50 per started hour" in rates and "Daily maximum $40.00 per 24 hours" in rates
    assert "Lost ticket: $50.00 instead of the time fee" in rates
    assert page.query_selector("#hourly_rate-error") is None and loads == []
    page.screenshot(path=str(screenshots / "settings.png"), full_page=True, caret="initial")
    assert csp_violations == []


def test_settings_without_javascript(live, browser):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1024, "height": 768})
    page = context.new_page()
    try:
        sign_in(page, live)
        page.fill("#daily_max", "0")
        page.click("text=Save settings")
        assert "daily maximum must be" in page.inner_text("#daily_max-error")
        page.fill("#daily_max", "35.50")
        page.click("text=Save settings")
        page.wait_for_selector(".saved")
        assert page.url == live.url + "/g/main/settings"                # 303 back to the page
        assert "Daily maximum $35.50 per 24 hours" in page.inner_text("#current-rates")
    finally:
        context.close()


def test_rate_periods_with_htmx(live, tablet, csp_violations, screenshots):
    """Add a night rate: a bad time is swapped in under its field, the saved period reads in words, the
    preview prices stays, nothing is smaller than a finger and nothing scrolls sideways on a tablet."""
    from tests.helpers.browser import small_targets

    page = tablet
    sign_in(page, live)
    page.click("text=Add a rate period")
    page.wait_for_selector("#period-form")
    for field, typed in {"name": "Night rate", "price": "8", "enter_from": "18:00", "enter_until": "3 am",
                         "leave_by": "08:00"}.items():
        page.fill(f"#{field}", typed)
    page.click("text=Save the period")
    page.wait_for_selector("#enter_until-error")
    assert "local time such as 18:00" in page.inner_text("#enter_until-error")
    assert page.input_value("#name") == "Night rate"
    page.screenshot(path=str(screenshots / "settings-period-errors.png"), full_page=True, caret="initial")
    # Radios and checkboxes: their labels (.choice, a finger high) are the targets, as on the settings form.
    assert [t for t in small_targets(page, "#period-form") if "[radio]" not in t and "[checkbox]" not in t] == []
    page.fill("#enter_until", "03:00")
    page.click("text=Save the period")
    page.wait_for_selector("#rate-periods [data-period]")
    assert page.inner_text("#rate-periods [data-period]") == (
        "Night rate: $8.00 for entering 18:00–03:00 (any day) and leaving by 08:00")
    assert "Night rate" in page.inner_text("#current-rates")
    assert len(page.query_selector_all("#rate-periods [data-preview]")) == 5
    assert small_targets(page, "#rate-periods") == []
    page.locator("#rate-periods").screenshot(path=str(screenshots / "settings-rate-periods.png"), caret="initial")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    assert csp_violations == []
