"""The report page kept rendered while nothing it shows changes (garage/reports/cache.py, issue 21).

The rule: a kept report is never shown once a write changed what it shows. So for every kind of write
that changes a report (an entry, an exit, a lost ticket, a void, a refund, a permit sale and renewal, a
settings change, a timezone change), the report asked again after it equals a report drawn from scratch
at the same moment, and differs from the one kept before it (the write shows). And the same report asked
twice with nothing written in between is not computed again. (A correction changes nothing a report
shows, the plate, or the type of a car still inside: it moves the revision all the same.)"""
from __future__ import annotations

import re
import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from garage.domain.clock import utcnow
from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN
from garage.extensions import db
from garage.models import KeptReport, User
from garage.identity import Actor
from garage.persistence import kept_reports
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


def forget_kept(app) -> None:
    """Every report kept, in this worker and in the database, forgotten."""
    app.extensions.pop(cache.EXTENSION, None)
    db.session.execute(sa.delete(KeptReport))
    db.session.commit()


def another_worker(app) -> None:
    """This worker's kept reports forgotten: the next request is served as another worker's would be
    (the database's kept reports are every worker's)."""
    app.extensions.pop(cache.EXTENSION, None)


def drawn_afresh(app, client, period) -> str:
    forget_kept(app)
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
    another_worker(app)  # one that kept the report before the write: it reads the database's
    assert report(manager_client, frozen) == after, f"{write}: another worker shows something else"
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


# --- kept in the database: every worker's (persistence/kept_reports.py) ------------------------------

KEPT = re.compile(r"\bkept_reports\b")


def kept_rows() -> list[tuple]:
    return [tuple(r) for r in db.session.execute(sa.select(KeptReport.garage_id, KeptReport.minute)).all()]


def test_another_worker_reads_the_kept_report_instead_of_drawing_it(app, manager_client, frozen):
    _paid("SHARED 1")
    first = report(manager_client, frozen)
    another_worker(app)
    with counting() as statements:
        again = report(manager_client, frozen)
    assert again == first
    assert not any(FIGURES.search(s) for s in statements), statements
    assert len([s for s in statements if KEPT.search(s)]) == 1  # ONE statement: the drawing kept
    with counting() as statements:  # and now this worker's own
        assert report(manager_client, frozen) == first
    assert not any(KEPT.search(s) or FIGURES.search(s) for s in statements)


def test_the_database_holds_only_the_current_minute_of_a_garage(app, manager_client, monkeypatch, frozen):
    _paid("MINUTE 1")
    report(manager_client, frozen)
    report(manager_client, frozen, group="hour")
    now = report_routes.utcnow()
    minute = int(now.timestamp()) // 60
    assert sorted(kept_rows()) == [(MAIN, minute), (MAIN, minute)]
    monkeypatch.setattr(report_routes, "utcnow", lambda: now + timedelta(minutes=1))
    report(manager_client, frozen)
    assert kept_rows() == [(MAIN, minute + 1)]


def test_nothing_is_kept_anywhere_when_the_cache_is_off(app, manager_client, frozen, monkeypatch):
    monkeypatch.setitem(app.config, "REPORT_CACHE_ENTRIES", 0)
    _paid("OFF 1")
    report(manager_client, frozen)
    with counting() as statements:
        report(manager_client, frozen)
    assert any(FIGURES.search(s) for s in statements) and not any(KEPT.search(s) for s in statements)
    assert kept_rows() == []


def _the_key(app, client, period) -> tuple[int, str]:
    """The (minute, digest) the report of `period` is kept under, then forgotten everywhere."""
    report(client, period)
    minute, digest = db.session.execute(sa.select(KeptReport.minute, KeptReport.digest)).one()
    forget_kept(app)
    return minute, digest


def _drawing_elsewhere(app, digest: str, minute: int, hold: float, body: str | None, started: threading.Event):
    """Another worker: takes the key's turn to draw, holds it `hold` seconds, then keeps `body` (None:
    gives its turn up without keeping anything)."""
    with app.app_context():
        try:
            with kept_reports.turn(MAIN, digest) as kept:
                assert kept is None  # its turn
                started.set()
                time.sleep(hold)
                if body is not None:
                    kept_reports.keep(MAIN, digest, minute, body)
        finally:
            db.session.remove()


@pytest.mark.postgres_only
def test_a_worker_waits_for_the_report_another_is_drawing_and_shows_that(app, manager_client, frozen):
    minute, digest = _the_key(app, manager_client, frozen)
    elsewhere = '<section id="report">drawn by another worker</section>'
    started = threading.Event()
    other = threading.Thread(target=_drawing_elsewhere, args=(app, digest, minute, 0.5, elsewhere, started))
    other.start()
    assert started.wait(10)
    began = time.monotonic()
    with counting() as statements:
        shown = report(manager_client, frozen)
    other.join(10)
    assert shown == elsewhere  # its drawing, not one of its own
    assert time.monotonic() - began >= 0.3  # it waited for it
    assert not any(FIGURES.search(s) for s in statements if "kept_reports" not in s), statements


@pytest.mark.postgres_only
def test_a_worker_draws_the_report_itself_when_the_other_drawing_never_comes(app, manager_client, frozen,
                                                                           monkeypatch):
    monkeypatch.setattr(kept_reports, "WAIT_SECONDS", 0.3)
    minute, digest = _the_key(app, manager_client, frozen)
    started = threading.Event()
    other = threading.Thread(target=_drawing_elsewhere, args=(app, digest, minute, 2.0, None, started))
    other.start()
    assert started.wait(10)
    began = time.monotonic()
    shown = report(manager_client, frozen)
    waited = time.monotonic() - began
    other.join(10)
    assert 0.3 <= waited < 2.0  # gave up waiting, did not wait for the other's end
    assert shown == drawn_afresh(app, manager_client, frozen)


@pytest.mark.postgres_only
def test_workers_asked_for_one_report_at_once_draw_it_once(app, manager_client, frozen, monkeypatch):
    """Five workers (threads, each its own session and connection) asked for the same report at the same
    moment: one draws it, the others show its drawing."""
    _paid("HERD 1")
    cookies = {c.key: c.value for c in manager_client._cookies.values()}
    real, drawings = report_routes.reports.build_report, []

    def slow_build(*args, **kwargs):
        drawings.append(1)
        time.sleep(0.3)  # a report at 10M tickets: long enough for every other worker to ask meanwhile
        return real(*args, **kwargs)

    monkeypatch.setattr(report_routes.reports, "build_report", slow_build)
    start, shown = threading.Barrier(5), []

    def worker():
        with app.app_context():
            client = app.test_client()
            for name, value in cookies.items():
                client.set_cookie(name, value)
            start.wait(10)
            try:
                shown.append(report(client, frozen))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(shown) == 5 and len(set(shown)) == 1
    assert len(drawings) == 1, f"drawn {len(drawings)} times"

