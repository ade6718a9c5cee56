"""The reports page in Chromium against gunicorn + PostgreSQL: htmx swaps the
report and pushes a bookmarkable URL, charts render, the CSP is never violated.
Set SCREENSHOTS=1 to refresh docs/screenshots/reports.png."""
from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from garage.domain.clock import local_today, utcnow
from garage.extensions import db

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parent.parent

# Five weeks of traffic ending now: busier around 08:00-18:00, stays of 10 min to ~6 h.
SEED = """
INSERT INTO tickets (ticket_number, license_plate, plate_key, vehicle_type, entry_time, exit_time,
                     duration_minutes, amount_paid, status, payment_method, last_event_at,
                     issued_by_id, closed_by_id, created_at, updated_at)
SELECT 'PS-W' || g, 'WEB ' || g, 'WEB' || g,
       (ARRAY['Car','Standard Vehicle','Compact Car','SUV','Motorcycle','Van'])[1 + g % 6],
       e, e + make_interval(mins => m), m, 1000 * GREATEST(1, CEIL(m / 60.0)), 'completed',
       (ARRAY['Cash','Credit Card','Debit Card','Mobile Payment'])[1 + (g / 3) % 4],
       e + make_interval(mins => m), :att, CASE WHEN g % 9 = 0 THEN NULL WHEN g % 2 = 0 THEN :att ELSE :boss END,
       e, e
FROM generate_series(1, 4000) AS g
CROSS JOIN LATERAL (SELECT date_trunc('day', now()) - interval '35 days'
                           + make_interval(days => g % 35)
                           + make_interval(hours => 7 + (g * 7) % 12 + ((g * 13) % 5) * ((g % 3) - 1))
                           + make_interval(mins => (g * 17) % 60) AS e,
                           10 + (g * 37) % 350 AS m) AS x
WHERE e + make_interval(mins => m) < now()
"""


def seed(live) -> None:
    from garage.models import User

    with live.app.app_context():
        att = db.session.scalar(sa.select(User.id).where(User.username == "carol"))
        boss = db.session.scalar(sa.select(User.id).where(User.username == "boss"))
        db.session.execute(sa.text(SEED), {"att": att, "boss": boss})
        db.session.execute(sa.text("UPDATE garage_settings SET timezone = 'America/New_York', total_spaces = 60"))
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
        page.wait_for_url(re.compile(r"/reports$"))
        assert page.locator("figure.chart-card svg").count() == 4
        assert page.locator(".presets a[aria-current]").first.inner_text() in ("Last 30 days", "This month")
        revenue = page.locator(".figure[data-figure=revenue_cents] .value").inner_text()
        assert revenue.startswith("$") and revenue != "$0.00"

        page.evaluate("window.__sameDocument = true")  # survives only an htmx swap
        page.click(".presets a:has-text('Yesterday')")
        yesterday = local_today(utcnow(), "America/New_York") - timedelta(days=1)
        page.wait_for_url(re.compile(rf"from={yesterday}&to={yesterday}"))
        page.wait_for_selector(".presets a[aria-current]:has-text('Yesterday')")
        assert page.evaluate("window.__sameDocument") is True
        assert page.locator("#chart-revenue svg > title").text_content() == "Revenue per hour"
        if os.environ.get("SCREENSHOTS"):
            page.screenshot(path="/tmp/reports-prof/day.png", full_page=True, caret="initial")  # "hide" injects a style the CSP refuses

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
