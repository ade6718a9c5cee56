"""The reports page in Chromium against gunicorn + PostgreSQL: htmx swaps the
report and pushes a bookmarkable URL, charts render, the CSP is never violated.
Set SCREENSHOTS=1 to refresh docs/screenshots/reports.png."""
from __future__ import annotations

import os
import random
import re
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from garage.domain.clock import local_today, utcnow
from garage.domain.tickets import PAYMENT_METHODS, VEHICLE_TYPES
from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN
from garage.extensions import db
from tests.helpers.browser import signed_in
from tests.helpers.garages import PASSWORD

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]

def seed(live, tickets: int = 4000) -> None:
    """Five weeks of traffic ending now: busier by day, stays of 10 min to ~6 h;
    one ticket in 20 lost with a $50 fee (instead of the time fee, or added to it)."""
    from garage.models import Ticket, User

    rng = random.Random(6)
    now = utcnow()
    with live.app.app_context():
        users = [db.session.scalar(sa.select(User.id).where(User.username == name)) for name in ("carol", "boss")]
        rows = []
        for g in range(tickets):
            day = now.replace(hour=16, minute=0, second=0, microsecond=0) - timedelta(days=rng.randrange(35))
            entry = day + timedelta(hours=rng.gauss(-2, 3), minutes=rng.randrange(60))  # ~09:00 New York
            stay = rng.randrange(10, 360)
            leave = entry + timedelta(minutes=stay)
            if leave >= now:
                continue
            time_fee, lost = 1000 * -(-stay // 60), g % 20 == 0
            rows.append(dict(
                garage_id=MAIN, ticket_number=f"PS-W{g}", license_plate=f"WEB {g}", plate_key=f"WEB{g}",
                vehicle_type=rng.choice(VEHICLE_TYPES), entry_time=entry, exit_time=leave,
                duration_minutes=stay, status="completed", lost=lost, lost_fee_cents=5000 if lost else None,
                amount_paid=(5000 + (time_fee if g % 40 == 0 else 0)) if lost else time_fee,
                payment_method=rng.choice(PAYMENT_METHODS), last_event_at=leave,
                closed_by_id=None if g % 9 == 0 else users[g % 2]))
        db.session.execute(sa.insert(Ticket), rows)
        db.session.execute(sa.text("UPDATE garages SET timezone = 'America/New_York', total_spaces = 60"))
        db.session.commit()
        db.session.remove()


def test_reports_page_in_chromium(live, browser):
    password = live.user("boss", "manager")
    live.user("carol", "attendant")
    seed(live)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    missing: list[str] = []
    # The 422 of the invalid range is expected (the browser logs any 4xx); CSP reports are not.
    page.on("console", lambda m: problems.append(m.text)
            if m.type == "error" and "status of 422" not in m.text and "status of 404" not in m.text else None)
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    try:
        page.goto(f"{live.url}/login?next=/reports")
        page.fill("#username", "boss")
        page.fill("#password", password)
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r"/g/main/reports$"))
        assert page.locator("figure.chart-card svg").count() == 4
        assert page.locator(".presets a[aria-current]").first.inner_text() in ("Last 30 days", "This month")
        revenue = page.locator(".figure[data-figure=revenue_cents] .value").inner_text()
        assert revenue.startswith("$") and revenue != "$0.00"
        lost = int(page.locator(".figure[data-figure=lost_tickets] .value").inner_text())
        assert lost > 0
        assert page.locator(".figure[data-figure=lost_fee_cents] .value").inner_text() == f"${lost * 50:,}.00"

        page.evaluate("window.__sameDocument = true")  # survives only an htmx swap
        page.click(".presets a:has-text('Yesterday')")
        yesterday = local_today(utcnow(), "America/New_York") - timedelta(days=1)
        page.wait_for_url(re.compile(rf"from={yesterday}&to={yesterday}"))
        page.wait_for_selector(".presets a[aria-current]:has-text('Yesterday')")
        assert page.evaluate("window.__sameDocument") is True
        assert page.locator("#chart-revenue svg > title").text_content() == "Revenue per hour"
        if os.environ.get("SCREENSHOTS"):
            page.screenshot(path=str(ROOT / "docs" / "screenshots" / "reports-day.png"), full_page=True,
                            caret="initial")  # "hide" injects a style the CSP refuses

        page.fill("#report-from", "2026-03-09")
        page.fill("#report-to", "2026-03-01")
        page.click("button:has-text('Show report')")
        page.wait_for_selector("#report-error")
        assert "on or before" in page.locator("#report-error").inner_text()
        assert page.evaluate("window.__sameDocument") is True

        page.go_back()
        page.wait_for_selector(".presets a[aria-current]:has-text('Yesterday')")
        page.goto(f"{live.url}/reports")
        page.locator("#chart-occupancy details summary").click()
        assert page.locator("#chart-occupancy details table tbody tr").count() > 24 * 20
        if os.environ.get("SCREENSHOTS"):
            page.locator("#chart-occupancy details summary").click()
            out = ROOT / "docs" / "screenshots" / "reports.png"
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out), full_page=True, caret="initial")  # "hide" injects a style the CSP refuses
        assert not problems, problems
        assert [u for u in missing if not u.endswith("/favicon.ico")] == []
    finally:
        context.close()


# --- a year's report on every screen, in English and German (an outside browser pass) ------------

WIDTHS = (768, 1024, 1280, 1920)
SHOTS = os.environ.get("REPORT_SHOTS")  # a folder: screenshots of each width and language go there


def seed_a_year(live, tickets: int = 40_000) -> None:
    """A year ending today: 40,000 paid exits of $249 each ($9,960,000.00; each method's and
    attendant's ~10,000 exits and ~$2,490,000.00 on a breakdown row), spread over the year's days."""
    from garage.models import Ticket

    rng = random.Random(7)
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    live.user("carol", "attendant")
    live.user("dave", "attendant")
    with live.app.app_context():
        from garage.models import User
        users = [db.session.scalar(sa.select(User.id).where(User.username == n)) for n in ("carol", "dave", "boss")]
        rows = []
        for g in range(tickets):
            leave = now - timedelta(days=1 + g % 364, hours=rng.randrange(12))
            rows.append(dict(
                garage_id=MAIN, ticket_number=f"PS-Y{g}", license_plate=f"Y {g}", plate_key=f"Y{g}",
                vehicle_type=VEHICLE_TYPES[g % len(VEHICLE_TYPES)], entry_time=leave - timedelta(hours=2),
                exit_time=leave, duration_minutes=120, status="completed", lost=False, lost_fee_cents=None,
                amount_paid=24_900, payment_method=PAYMENT_METHODS[g % len(PAYMENT_METHODS)],
                last_event_at=leave, closed_by_id=users[g % 4] if g % 4 < 3 else None))
        for chunk in range(0, len(rows), 5000):
            db.session.execute(sa.insert(Ticket), rows[chunk:chunk + 5000])
        db.session.commit()
        db.session.remove()


FIT = """() => {
    // Anything wider than the screen; any card whose content is wider than its inside (a table, a
    // figure); a table sticking out of its card's padding (a table in a scroll box scrolls there).
    const over = [];
    for (const card of document.querySelectorAll('#report .card')) {
        const name = (card.querySelector('h2, dt') || card).textContent.trim().slice(0, 40);
        if (card.scrollWidth > card.clientWidth) over.push([name, card.scrollWidth - card.clientWidth]);
        const box = card.getBoundingClientRect(), pad = parseFloat(getComputedStyle(card).paddingRight);
        for (const table of card.querySelectorAll('table')) {
            const shown = table.closest('.table-scroll') || table;
            if (!shown.getClientRects().length || table.closest('details:not([open])')) continue;
            const right = shown.getBoundingClientRect().right;
            if (right > box.right - pad + 0.5) over.push([name, Math.round(right - (box.right - pad))]);
        }
    }
    return {page: document.documentElement.scrollWidth, screen: innerWidth, over};
}"""


@pytest.mark.parametrize("language", ["en", "de"])
def test_a_years_report_fits_every_screen_in_english_and_german(live, browser, language):
    """A manager reading German with de_DE formats: at 768 px the page was 824 px wide (Umsatz cut);
    at 1280 and 1920 the breakdown tables were 434 px wide in 404-px cards. Nothing wider than the
    screen at any width; every table inside its card; the days say their year (the year holds two
    "Sat, Dec 6"); exits grouped like the figures ("10,000")."""
    live.user("boss", "manager", PASSWORD)
    seed_a_year(live)
    if language == "de":
        with live.app.app_context():
            db.session.execute(sa.text("UPDATE users SET language = 'de', locale = 'de_DE' WHERE username = 'boss'"))
            db.session.commit()
            db.session.remove()
    today = local_today(utcnow(), "UTC")
    first = today - timedelta(days=365)
    page = signed_in(browser, live, {"width": 1920, "height": 1080}, "boss", "/g/main/reports")
    context = page.context
    try:
        page.goto(f"{live.url}/g/main/reports?from={first}&to={today}&group=day")
        revenue = page.locator(".figure[data-figure=revenue_cents] .value").inner_text()
        assert revenue.replace("\xa0", " ") == ("9.960.000,00 $" if language == "de" else "$9,960,000.00")
        exits = page.locator(".breakdown").first.locator("tbody td").first.inner_text()
        assert exits == ("10.000" if language == "de" else "10,000")  # was "10000"
        wide = {}
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 1024 if width == 768 else 800})
            fit = page.evaluate(FIT)
            if fit["page"] > fit["screen"] or fit["over"]:
                wide[width] = fit
            if SHOTS:
                Path(SHOTS).mkdir(parents=True, exist_ok=True)
                page.screenshot(path=f"{SHOTS}/year-{language}-{width}-top.png", caret="initial")
                page.locator(".breakdowns").screenshot(path=f"{SHOTS}/year-{language}-{width}-breakdowns.png",
                                                       caret="initial")
        assert wide == {}, wide

        if SHOTS:
            page.locator("#chart-revenue").screenshot(path=f"{SHOTS}/year-{language}-revenue-chart.png", caret="initial")
        # The days of a year's report say their year: two "Sat, Dec 6" were one under the other.
        page.locator("#chart-revenue details summary").click()
        days = page.locator("#chart-revenue details tbody th").all_inner_texts()
        assert len(days) == 366 and len(set(days)) == 366
        assert str(first.year) in days[0] and str(today.year) in days[-1], (days[0], days[-1])
        assert days[0] != days[-1].replace(str(today.year), str(first.year))

        # "Yesterday" leaves Rows per on Hour; a From typed a year back then shows the year by day
        # (it was a 422: "Per-hour rows are available for up to 31 days").
        page.set_viewport_size({"width": 1280, "height": 800})
        page.click(".presets a >> nth=1")
        page.wait_for_url(re.compile(r"group=hour"))
        assert page.locator("#report-group").input_value() == "hour"
        page.fill("#report-from", first.isoformat())
        page.click(".period-fields button[type=submit]")
        page.wait_for_url(re.compile(rf"from={first}"))
        note = page.locator("#report-group-note")
        note.wait_for()
        assert ("31 Tage" if language == "de" else "31 days") in note.inner_text()
        assert page.locator("#report-group").input_value() == "day"
        assert page.locator("#chart-revenue svg > title").text_content() == (
            "Umsatz pro Tag" if language == "de" else "Revenue per day")
    finally:
        context.close()


def test_the_reports_pages_links_are_finger_sized_on_a_tablet(live, browser):
    """A manager on a tablet: "Day close", "Validations" and each chart's "Open as SVG image" were 18-21 px
    high text links (an outside check); every link and control on the page is at least 44 px."""
    from tests.helpers.browser import TABLET, small_targets
    live.user("boss", "manager")
    seed(live)
    page = signed_in(browser, live, TABLET["landscape"], "boss", "/g/main/reports")
    try:
        for link in ("Day close", "Validations", "Open as SVG image"):
            box = page.locator("main a", has_text=link).first.bounding_box()
            assert box and box["height"] >= 44, (link, box)
        assert small_targets(page, "main") == []
    finally:
        page.context.close()
