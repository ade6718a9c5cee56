"""Fixtures for the browser tests: Playwright driving Debian's Chromium (CHROMIUM_PATH)."""
from __future__ import annotations

import os

import pytest

from tests.helpers.browser import TABLET
from tests.helpers.postgres import IN_CI

# --- a real browser: Playwright driving Debian's Chromium ---------------------------------

CHROMIUM = os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if IN_CI:
            pytest.fail(message + "; under CI=true the browser tests must run.", pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import expect, sync_playwright

    # An assertion waits up to 10 s for what it expects (it passes the moment it holds): the suite runs in
    # several processes on two cores, where 5 s (Playwright's default) was once too short for a page to
    # answer. A test that bounds how soon something must happen says so with its own timeout=.
    expect.set_options(timeout=10_000)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


@pytest.fixture(params=sorted(TABLET))
def held(request, browser):
    """A touch tablet held as the parameter says."""
    context = browser.new_context(viewport=TABLET[request.param], has_touch=True)
    yield context.new_page()
    context.close()


@pytest.fixture
def tablet(browser):
    """A fresh browser context at a tablet viewport (landscape 1024x768, touch)."""
    context = browser.new_context(viewport={"width": 1024, "height": 768}, has_touch=True)
    page = context.new_page()
    yield page
    context.close()
