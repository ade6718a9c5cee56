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
