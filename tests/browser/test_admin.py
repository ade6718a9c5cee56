"""In a real Chromium against gunicorn: a manager adds an attendant and resets their password
with htmx under the strict CSP; the attendant is forced to choose a password and is refused
the Staff page."""
import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def sign_in(page, base: str, username: str, password: str, next_path: str = "") -> None:
    page.goto(f"{base}/login" + (f"?next={next_path}" if next_path else ""))
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("main button[type=submit]")


def test_manager_adds_and_resets_an_attendant_who_cannot_open_staff(live, tablet):
    page = tablet
    problems = []
    page.on("console", lambda m: "Content Security Policy" in m.text and problems.append(m.text))
    page.on("pageerror", lambda e: problems.append(str(e)))
    password = live.user("boss", "manager")

    page.goto(f"{live.url}/admin/users")
    expect(page).to_have_url(f"{live.url}/login?next=/admin/users")
    sign_in(page, live.url, "boss", password, "/g/main/admin/users")
    expect(page.locator("h1")).to_have_text("Staff")

    # A refused add keeps the page and shows the message by the field (htmx, 422).
    page.fill("#new-username", "dana")
    page.fill("#new-password", "short")
    page.click(".add-user button")
    expect(page.locator("#new-password-error")).to_have_text("Use at least 10 characters")
    page.fill("#new-password", "dana first password")
    page.click(".add-user button")
    expect(page.locator('tr[data-username="dana"]')).to_contain_text("must change password")
    expect(page.locator("#new-username")).to_have_value("")

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator('tr[data-username="dana"] button', has_text="Reset password").click()
    temporary = page.locator("[data-temp-password]")
    expect(temporary).to_be_visible()
    temporary_password = temporary.inner_text().strip()
    page.click(".signout button")

    sign_in(page, live.url, "dana", temporary_password)
    expect(page.locator("h1")).to_have_text("Change your password")
    expect(page.locator("#current_password")).to_have_count(0)  # typed seconds ago: not asked again
    page.fill("#new_password", "dana own password")
    page.fill("#confirm_password", "dana own password")
    page.click("main button[type=submit]")
    expect(page.locator("nav.nav")).not_to_contain_text("Staff")
    page.goto(f"{live.url}/admin/users")
    expect(page.locator("h1")).to_have_text("Not allowed")
    assert problems == []


LONG = "a" * 30 + "." + "b" * 33  # 64 characters, no space to break at


def test_long_usernames_stay_inside_the_staff_and_audit_pages_at_tablet_width(live, tablet):
    page = tablet
    password = live.user("boss", "manager")
    live.user(LONG, "attendant")
    sign_in(page, live.url, "boss", password, "/g/main/admin/users")
    expect(page.locator("h1")).to_have_text("Staff")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(f'tr[data-username="{LONG}"] button', has_text="Reset password").click()
    expect(page.locator("[data-temp-password]")).to_be_visible()
    for path, table in (("/g/main/admin/users", ".staff-list table"), ("/g/main/admin/audit", ".audit-table")):
        page.goto(live.url + path)
        expect(page.locator(table)).to_contain_text(LONG[:20])
        page.screenshot(path=f"/tmp/garage-long-names{path.replace('/', '-')}.png", full_page=True)
        widths = page.evaluate(f"""() => ({{page: document.documentElement.scrollWidth,
            table: document.querySelector('{table}').getBoundingClientRect().right}})""")
        assert widths["page"] <= 1024 and widths["table"] <= 1024, (path, widths)
