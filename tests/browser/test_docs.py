"""In a real Chromium against gunicorn: /docs (Swagger UI) works under the same strict CSP as every
other page, without 'unsafe-inline' styles: it lists every operation, runs one, opens the
Authorize dialog and a schema, and the browser reports no CSP violation."""
import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

# Every violation the browser reports, recorded before any page script runs.
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation",
  e => window.cspViolations.push(e.violatedDirective + " " + e.blockedURI + " " + e.sample));
"""


def test_swagger_ui_renders_and_runs_under_the_strict_csp(live, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    console = []
    page.on("console", lambda m: "Content Security Policy" in m.text and console.append(m.text))
    page.on("pageerror", lambda e: console.append(str(e)))
    page.add_init_script(RECORD_VIOLATIONS)
    password = live.user("reader", "attendant")
    page.goto(f"{live.url}/login?next=/docs")
    page.fill("#username", "reader")
    page.fill("#password", password)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live.url}/docs")

    response = page.reload()
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    spec = page.request.get(f"{live.url}/openapi.json").json()
    operations = sum(1 for path in spec["paths"].values() for method in path if method in (
        "get", "put", "post", "delete", "patch"))
    assert operations >= 10
    expect(page.locator(".opblock")).to_have_count(operations)  # every documented operation is shown
    status = page.locator("#operations-default-status")
    status.locator(".opblock-summary").click()
    status.locator("button.try-out__btn").click()
    status.locator("button.execute").click()
    expect(status.locator(".live-responses-table")).to_contain_text('"status": "ok"')
    page.locator("button.authorize").first.click()
    expect(page.locator(".dialog-ux")).to_contain_text("bearerAuth")
    page.locator(".dialog-ux button.close-modal").click()
    schemas = page.locator("section.models")
    if schemas.locator("button.models-control").get_attribute("aria-expanded") != "true":
        schemas.locator("button.models-control").click()
    create = schemas.locator("article[data-json-schema-level='0']", has_text="TicketCreate")
    create.locator("button.json-schema-2020-12-expand-deep-button").first.click()
    expect(create).to_contain_text("licensePlate")
    expect(create).to_contain_text("\\x00-\\x1F")  # the plate's pattern (no control characters), as published

    # The recorder works: an inline style added now is reported (and nothing before it was).
    assert page.evaluate("window.cspViolations") == [] and console == []
    page.evaluate("document.body.setAttribute('style', 'color: red')")
    page.wait_for_function("window.cspViolations.length > 0")
    assert page.evaluate("window.cspViolations")[0].startswith("style-src")
    context.close()
