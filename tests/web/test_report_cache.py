"""The report page kept rendered while nothing it shows changes (garage/reports/cache.py, issue 21).

The rule: a kept report is never shown once a write changed what it shows. So for every kind of write
that changes a report (an entry, an exit, a lost ticket, a void, a refund, a permit sale and renewal, a
settings change, a timezone change), the report asked again after it equals a report drawn from scratch
at the same moment, and differs from the one kept before it (the write shows). And the same report asked
twice with nothing written in between is not computed again. (A correction changes nothing a report
shows, the plate, or the type of a car still inside: it moves the revision all the same.)"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from garage.domain.clock import utcnow
from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN
from garage.extensions import db
from garage.models import User
from garage.identity import Actor
from garage.reports import cache, routes as report_routes
from garage.services import amendments, permits, settings, tickets
from tests.helpers.db import counting
from tests.helpers.web import HTMX, soup

STAFF = Actor.system()
FIGURES = re.compile(r"\b(FROM|JOIN)\s+(report_\w+|tickets|refunds|permit_payments)\b")  # what a report reads


@pytest.fixture
def frozen(monkeypatch):
    """The report page's clock held 30 s ahead of the writes' (all of them before it), and the period
    around it: yesterday and today, so a write just before midnight is still in it."""
    now = utcnow().replace(microsecond=0) + timedelta(seconds=30)
    monkeypatch.setattr(report_routes, "utcnow", lambda: now)
    return {"from": (now.date() - timedelta(days=1)).isoformat(), "to": now.date().isoformat()}


def report(client, period, **more) -> str:
    page = client.get("/g/main/reports", query_string={**period, **more})
    assert page.status_code == 200
    return str(soup(page).select_one("#report"))


def drawn_afresh(app, client, period) -> str:
    app.extensions.pop(cache.EXTENSION, None)
    return report(client, period)


def _car_inside(plate="KEPT 1") -> str:
    return tickets.issue_ticket(MAIN, plate, "Car", STAFF).ticket_number


def _paid(plate="KEPT 2", lost=False) -> str:
    number = _car_inside(plate)
    tickets.process_exit(MAIN, number, "Credit Card", STAFF, lost=lost)
    return number


def _permit():
    today = utcnow().date()
    return permits.create_permit(MAIN, STAFF, holder="Kept Holder", plates=["KEPT P"], valid_from=today,
                                 valid_until=today + timedelta(days=29), price_cents=9900)


def _settings(**values):
    return lambda _: settings.update_settings(MAIN, STAFF, **values)


# (what is there before, the write) — each write changes something the report shows
WRITES = {
    "an entry": (lambda: None, lambda _: _car_inside("NEW 1")),
    "an exit": (lambda: _car_inside("OUT 1"), lambda number: tickets.process_exit(MAIN, number, "Cash", STAFF)),
    "a lost ticket's exit": (lambda: _car_inside("LOST 1"),
                             lambda number: tickets.process_exit(MAIN, number, "Cash", STAFF, lost=True)),
    "a void": (lambda: _car_inside("VOID 1"),
               lambda number: amendments.void_ticket(MAIN, number, STAFF, "pressed twice", manager=True)),
    "a refund": (lambda: _paid("BACK 1"),
                 lambda number: amendments.refund_ticket(MAIN, number, STAFF, 500, "goodwill")),
    "a permit sale": (lambda: None, lambda _: _permit()),
    "a permit renewal": (lambda: _permit().id,
                         lambda permit_id: permits.renew_permit(MAIN, permit_id, STAFF, price_cents=4200)),
    "fewer spaces": (lambda: None, _settings(total_spaces=7)),
    "another timezone": (lambda: _paid("ZONE 1"), _settings(timezone="Pacific/Kiritimati")),
}


@pytest.mark.parametrize("write", list(WRITES))
def test_a_write_that_changes_the_report_is_shown_at_once(app, manager_client, frozen, write):
    before, change = WRITES[write]
    _paid("THERE 1")  # a report with something in it
    given = before()
    kept = report(manager_client, frozen)
    assert report(manager_client, frozen) == kept  # kept (next test: not computed again)
    change(given)
    after = report(manager_client, frozen)
    assert after != kept, f"{write}: the report kept before it is still shown"
    assert after == drawn_afresh(app, manager_client, frozen), f"{write}: not what the report says afresh"


def test_the_same_report_again_is_not_computed_again(app, manager_client, frozen):
    _paid("ONCE 1")
    first = report(manager_client, frozen)
    with counting() as statements:
        again = report(manager_client, frozen)
    assert again == first
    read = [s for s in statements if FIGURES.search(s)]
    assert read == [], read
    # another period, language or rows-per is another report
    with counting() as statements:
        report(manager_client, frozen, group="hour")
    assert any(FIGURES.search(s) for s in statements)


def test_a_kept_report_lasts_until_the_minute_turns(app, manager_client, monkeypatch, frozen):
    """The current hour's average occupancy changes with the clock alone: a kept report is at most a
    minute behind it, and drawn again in the next minute."""
    _car_inside("TIME 1")
    report(manager_client, frozen)
    now = report_routes.utcnow()
    for seconds, computed in ((59 - now.second, False), (60 - now.second, True)):
        monkeypatch.setattr(report_routes, "utcnow", lambda s=seconds: now + timedelta(seconds=s))
        with counting() as statements:
            report(manager_client, frozen)
        assert any(FIGURES.search(s) for s in statements) is computed, seconds


def test_the_reader_s_language_is_another_report(app, manager_client, frozen):
    _paid("LANG 1")
    english = report(manager_client, frozen)
    db.session.execute(sa.update(User).where(User.username == "boss").values(language="de"))
    db.session.commit()
    german = report(manager_client, frozen)
    assert "Open as SVG image" in english and "Als SVG-Bild öffnen" in german and "Open as SVG image" not in german


def test_a_report_read_from_a_replica_is_not_kept(app, manager_client, monkeypatch, frozen):
    from garage.persistence import replica
    from garage.persistence.replica import DataAge

    calls = []

    def from_a_replica(use_case, *args, **kwargs):
        calls.append(1)
        return use_case(*args, **kwargs), DataAge(as_of=utcnow() - timedelta(seconds=2), behind=2.0)

    monkeypatch.setattr(replica, "read", from_a_replica)
    report(manager_client, frozen)
    report(manager_client, frozen)
    assert len(calls) == 2


def test_kept_pages_hold_at_most_their_size_least_recently_used_out():
    pages = cache.KeptPages(2)
    pages.put("a", "A")
    pages.put("b", "B")
    assert pages.get("a") == "A"  # used: "b" is now the oldest
    pages.put("c", "C")
    assert (pages.get("a"), pages.get("b"), pages.get("c")) == ("A", None, "C") and len(pages) == 2
    nothing = cache.KeptPages(0)
    nothing.put("a", "A")
    assert nothing.get("a") is None


def test_the_htmx_swap_and_the_whole_page_carry_the_same_kept_report(app, manager_client, frozen):
    _paid("SWAP 1")
    whole = report(manager_client, frozen)
    with counting() as statements:
        swapped = manager_client.get("/g/main/reports", query_string=frozen, headers=HTMX)
    assert swapped.status_code == 200 and "<html" not in swapped.get_data(as_text=True)
    assert str(soup(swapped).select_one("#report")) == whole
    assert not any(FIGURES.search(s) for s in statements)
    assert "HX-Request" in swapped.headers.get("Vary", "")


def test_a_refused_period_is_drawn_with_what_was_typed_and_keeps_nothing(app, manager_client, frozen):
    _paid("BAD 1")
    good = report(manager_client, frozen)
    refused = manager_client.get("/g/main/reports", query_string={**frozen, "to": "2026-02-30"})
    assert refused.status_code == 422
    page = soup(refused)
    assert page.select_one("#report-error") is not None and page.select_one("#report-to")["value"] == "2026-02-30"
    assert page.select_one(".figures") is None
    assert report(manager_client, frozen) == good
