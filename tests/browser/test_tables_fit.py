"""The manager's tables on a tablet (issue 15), in Chromium against gunicorn on PostgreSQL: the
reports page's breakdowns ("By attendant" overflowed its card) and the audit log (six columns
overflowed in portrait) fit the screen, with the longest names and the largest figures they show."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page

from garage.domain.clock import utcnow
from garage.extensions import db
from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN

pytestmark = pytest.mark.browser

LONG = "a" * 30 + "." + "b" * 33  # 64 characters, no space to break at


def manager_page(live, browser, width: int, path: str) -> Page:
    password = live.user("boss", "manager")
    context = browser.new_context(viewport={"width": width, "height": 1024}, has_touch=True)
    page = context.new_page()
    page.goto(f"{live.url}/login?next={path}")
    page.fill("#username", "boss")
    page.fill("#password", password)
    page.click("main button[type=submit]")
    page.wait_for_url(f"**{path}")
    return page


def page_width(page: Page) -> dict:
    return page.evaluate("({page: document.documentElement.scrollWidth, screen: innerWidth})")


def seed_a_busy_month(live) -> None:
    """1,200 paid exits by an attendant with a 64-character name: $123,468.00 on one row."""
    from garage.models import Ticket, User

    live.user(LONG, "attendant")
    now = utcnow()
    with live.app.app_context():
        closed_by = db.session.scalar(sa.select(User.id).where(User.username == LONG))
        db.session.execute(sa.insert(Ticket), [dict(
            garage_id=MAIN, ticket_number=f"PS-M{i}", license_plate=f"M {i}", plate_key=f"M{i}",
            vehicle_type="Standard Vehicle",
            entry_time=now - timedelta(days=i % 28, hours=11), exit_time=now - timedelta(days=i % 28, hours=1),
            duration_minutes=600, status="completed", lost=False, lost_fee_cents=None, amount_paid=10289,
            payment_method="Mobile Payment", last_event_at=now - timedelta(days=i % 28, hours=1),
            closed_by_id=closed_by) for i in range(1200)])
        db.session.commit()
        db.session.remove()


@pytest.mark.parametrize("width", [768, 1024])
def test_the_reports_breakdowns_stay_inside_their_cards(live, browser, width):
    seed_a_busy_month(live)
    page = manager_page(live, browser, width, "/g/main/reports")
    try:
        by_attendant = page.locator(".breakdown", has_text="By attendant")
        assert "$123,468.00" in by_attendant.inner_text() and LONG[:20] in by_attendant.inner_text()
        overflowing = page.evaluate("""() => [...document.querySelectorAll('.breakdown')].map(card => {
            const box = card.getBoundingClientRect(), pad = parseFloat(getComputedStyle(card).paddingRight);
            const table = card.querySelector('table').getBoundingClientRect();
            return [card.querySelector('h2').textContent, Math.round(table.right - (box.right - pad))];
        }).filter(([, over]) => over > 0)""")
        assert overflowing == []
        shown = page_width(page)
        assert shown["page"] <= shown["screen"], shown
    finally:
        page.context.close()


def test_the_audit_log_fits_a_portrait_tablet(live, browser):
    from garage.identity import Actor
    from garage.services import accounts, settings
    from garage.services import tickets as ticket_service

    with live.app.app_context():  # the widest rows the log has: IPv6, long names, many changes
        boss = Actor(username="boss", ip="2001:0db8:85a3:0000:0000:8a2e:0370:7334")
        accounts.create_user(LONG, "correct horse battery", "attendant", boss)
        settings.update_settings(MAIN, boss, total_spaces=150, hourly_rate=1250, almost_full_percent=85,
                                 garage_name="Harbour Street Multi-Storey Car Park", daily_max_cents=4500,
                                 grace_minutes=15, vehicle_rates={"SUV": 1500, "Motorcycle": 500})
        attendant = Actor(username=LONG, ip="10.0.0.1")
        number = ticket_service.issue_ticket(MAIN, "LONGPLATE-123", "Standard Vehicle", attendant).ticket_number
        ticket_service.process_exit(MAIN, number, "Mobile Payment", attendant, lost=True)
        db.session.remove()
    page = manager_page(live, browser, 768, "/g/main/admin/audit")
    try:
        assert page.locator(".audit-table tbody tr").count() >= 5
        fit = page.evaluate("""() => { const box = document.querySelector('.audit-results');
            return {scroll: box.scrollWidth, width: box.clientWidth,
                    table: document.querySelector('.audit-table').getBoundingClientRect().right,
                    right: box.getBoundingClientRect().right}; }""")
        assert fit["scroll"] <= fit["width"] and fit["table"] <= fit["right"] + 0.5, fit  # no sideways scroll
        shown = page_width(page)
        assert shown["page"] <= shown["screen"], shown
        # Each event still reads as one: its details under its own When/Who/What.
        row = page.locator('.audit-table tr[data-action="settings.changed"]')
        assert "Harbour Street Multi-Storey Car Park" in row.inner_text()
    finally:
        page.context.close()


@pytest.mark.parametrize("width", [768, 1024])
def test_the_day_close_fits_a_tablet_with_its_shifts(live, browser, width):
    """A day with a shift closed by a long-named attendant and large figures: every column of the
    shifts table (Counted, Over / short) is on screen, the page never scrolls sideways."""
    from datetime import date, datetime, time, timezone

    from garage.identity import Actor
    from garage.services import shifts

    live.user(LONG, "attendant")
    day = date(2026, 4, 10)
    opened = datetime.combine(day, time(8), timezone.utc)
    with live.app.app_context():
        from garage.models import User
        who = Actor(db.session.scalar(sa.select(User.id).where(User.username == LONG)), LONG)
        shift = shifts.open_shift(MAIN, who, 1_000_000, now=opened).shift.id
        shifts.close_shift(MAIN, shift, who, 99_999_999, now=opened + timedelta(hours=9))
        db.session.remove()
    page = manager_page(live, browser, width, f"/g/main/reports/close?day={day.isoformat()}")
    try:
        shifts_card = page.locator(".close-shifts")
        assert "$999,999.99" in shifts_card.inner_text()
        fit = page.evaluate("""() => { const card = document.querySelector('.close-shifts');
            const table = card.querySelector('table').getBoundingClientRect();
            return {table: table.right, card: card.getBoundingClientRect().right}; }""")
        assert fit["table"] <= fit["card"] + 0.5, fit
        shown = page_width(page)
        assert shown["page"] <= shown["screen"], shown
    finally:
        page.context.close()
