"""Rollups built while other transactions write (issue 21), PostgreSQL only (SQLite has one writer at a
time): catch-ups racing each other and back-dated writes into the days they build, the interleavings
forced at the two moments that matter (a write before the catch-up claims its day and marked after it
committed; a write into a day a catch-up has claimed and not yet replaced), a timezone change while a
catch-up builds. Afterwards every figure is the recount from the rows."""
from __future__ import annotations

import random
import threading
import time
from datetime import date, datetime, timedelta, timezone

import pytest

from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN
from garage.extensions import db
from garage.identity import Actor
from garage.models import Garage
from garage.persistence import rollups as table
from garage.services import amendments, rollups, settings
from garage.services.tickets import issue_ticket, process_exit
from tests.probe_rollups.harness import built_days, differences, first_lines, local, window_periods

pytestmark = pytest.mark.postgres_only

TZ = "Europe/Berlin"
FIRST, LAST = date(2026, 10, 22), date(2026, 10, 28)  # the DST change of the 25th inside
DAYS = [FIRST + timedelta(days=i) for i in range((LAST - FIRST).days + 1)]
STAFF = Actor.system("probe")
BOSS = Actor.system("boss")
AFTER = datetime(2026, 11, 5, tzinfo=timezone.utc)  # the catch-ups' clock: every day of the window settled


@pytest.fixture
def garage(app):
    """The default garage in Berlin with a few cars a day over the window, every day rolled up."""
    db.session.get(Garage, MAIN).timezone = TZ
    db.session.commit()
    rng = random.Random(7)
    for n, day in enumerate(d for d in DAYS for _ in range(3)):
        entered = local(day, rng.uniform(0, 23), TZ)
        number = issue_ticket(MAIN, f"C{n}", "Car", STAFF, now=entered).ticket_number
        process_exit(MAIN, number, "Cash", STAFF, now=entered + timedelta(minutes=rng.randint(5, 300)))
    rollups.catch_up(MAIN, TZ, now=AFTER)
    assert set(DAYS) <= set(built_days(MAIN))
    db.session.commit()
    return MAIN


def in_thread(app, errors: list, target, *args, name: str | None = None, **kwargs) -> threading.Thread:
    def run() -> None:
        try:
            with app.app_context():
                try:
                    target(*args, **kwargs)
                finally:
                    db.session.remove()
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    thread = threading.Thread(target=run, name=name)
    thread.start()
    return thread


def paused_build(app, monkeypatch, errors: list, garage_id: int, day: date) -> tuple[threading.Thread, threading.Event]:
    """A catch-up of `day` in a thread of its own, held after its claim (the day's row locked) until the
    event returned is set."""
    claimed, go = threading.Event(), threading.Event()
    real = table.source_days

    def held(*args):
        claimed.set()
        assert go.wait(30)
        return real(*args)

    monkeypatch.setattr(table, "source_days", held)
    builder = in_thread(app, errors, rollups.build, garage_id, TZ, [day], AFTER)
    assert claimed.wait(30)
    monkeypatch.setattr(table, "source_days", real)  # (read by the thread already)
    return builder, go


def late_write(garage_id: int, day: date, plate: str, rng: random.Random) -> None:
    """A car's entry, exit and refund back-dated into `day` (each its own transaction)."""
    entered = local(day, rng.uniform(0, 20), TZ)
    number = issue_ticket(garage_id, plate, "Car", STAFF, now=entered).ticket_number
    paid = process_exit(garage_id, number, "Cash", STAFF, now=entered + timedelta(minutes=rng.randint(1, 200)))
    if paid.amount_paid:
        amendments.refund_ticket(garage_id, number, BOSS, 1, "late", now=entered + timedelta(hours=3))


def check(app, monkeypatch, garage_id: int) -> None:
    diffs = differences(app, monkeypatch, garage_id, window_periods(FIRST, LAST))
    assert not diffs, first_lines(diffs)


def test_catch_ups_racing_back_dated_writes(app, monkeypatch, garage):
    """Rounds of two builders (random sets of days, over and over) and a writer of back-dated cars into
    those days, all at once; then every figure."""
    for round_ in range(6):
        rng = random.Random(round_)
        errors: list[BaseException] = []
        barrier = threading.Barrier(3)

        def builder(seed: int) -> None:
            r = random.Random(seed)
            barrier.wait()
            for _ in range(6):
                rollups.build(garage, TZ, sorted(r.sample(DAYS, r.randint(1, len(DAYS)))), now=AFTER)

        def writer() -> None:
            barrier.wait()
            for k in range(5):
                late_write(garage, rng.choice(DAYS), f"R{round_}W{k}", rng)

        threads = [in_thread(app, errors, builder, round_ * 10 + 1), in_thread(app, errors, builder, round_ * 10 + 2),
                   in_thread(app, errors, writer)]
        for thread in threads:
            thread.join(60)
        assert not errors, errors
        check(app, monkeypatch, garage)


def test_two_whole_catch_ups_and_a_writer(app, monkeypatch, garage):
    """Two `flask rollups --rebuild`-like catch-ups (dropped first) at once with back-dated writes."""
    errors: list[BaseException] = []
    rng = random.Random(3)
    barrier = threading.Barrier(3)

    def catch_up() -> None:
        barrier.wait()
        rollups.catch_up(garage, TZ, now=AFTER)

    def writer() -> None:
        barrier.wait()
        for k in range(6):
            late_write(garage, rng.choice(DAYS), f"W{k}", rng)

    rollups.forget(garage)
    db.session.commit()
    threads = [in_thread(app, errors, catch_up), in_thread(app, errors, catch_up), in_thread(app, errors, writer)]
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    check(app, monkeypatch, garage)


def test_a_write_stamped_before_the_claim_and_marked_after_the_build(app, monkeypatch, garage):
    """The write's row is in (not committed) when the catch-up claims and counts its day; the write
    marks the day dirty only after the catch-up committed it clean: it is counted again."""
    day = date(2026, 10, 25)
    wrote, go = threading.Event(), threading.Event()
    real = rollups.touched

    def slow_touched(garage_id, now, revised=False):
        if threading.current_thread().name == "writer":
            wrote.set()
            assert go.wait(30)
        real(garage_id, now, revised)

    monkeypatch.setattr(rollups, "touched", slow_touched)
    errors: list[BaseException] = []
    rollups.table.mark_dirty(garage, [day])  # the catch-up has this day to build
    db.session.commit()
    writer = in_thread(app, errors, late_write, garage, day, "LATE1", random.Random(1), name="writer")
    assert wrote.wait(30)
    assert rollups.build(garage, TZ, [day], now=AFTER) == 1  # the write's entry is not seen: not committed
    go.set()
    writer.join(60)
    assert not errors, errors
    assert day not in built_days(garage)  # marked dirty after the build
    check(app, monkeypatch, garage)


def test_a_write_into_a_day_claimed_and_not_yet_replaced(app, monkeypatch, garage):
    """The catch-up has claimed (locked) the day and is counting it; a back-dated exit into that day
    waits for it at its mark, then marks the day dirty: counted again."""
    day = date(2026, 10, 24)
    number = issue_ticket(garage, "INSIDE", "Car", STAFF, now=local(day, 1, TZ)).ticket_number
    rollups.catch_up(garage, TZ, now=AFTER)
    db.session.commit()
    rollups.table.mark_dirty(garage, [day])
    db.session.commit()
    errors: list[BaseException] = []
    builder, go = paused_build(app, monkeypatch, errors, garage, day)
    writer = in_thread(app, errors, process_exit, garage, number, "Cash", STAFF, now=local(day, 20, TZ))
    time.sleep(1.0)
    blocked = writer.is_alive()  # waiting for the claimed day's marker
    go.set()
    builder.join(60)
    writer.join(60)
    assert not errors, errors
    assert blocked
    assert day not in built_days(garage)
    check(app, monkeypatch, garage)


def change_timezone(garage_id: int) -> None:
    settings.update_settings(garage_id, BOSS, timezone="Asia/Tokyo")


def rebuild_all(garage_id: int) -> None:  # flask --app garage rollups --rebuild
    rollups.rebuild(garage_id, TZ, now=AFTER)


@pytest.mark.parametrize("forget", [change_timezone, rebuild_all])
def test_a_timezone_change_while_a_catch_up_rebuilds(app, monkeypatch, garage, forget):
    day = date(2026, 10, 24)
    rollups.table.mark_dirty(garage, [day])  # rebuilt: its old hours are deleted by `replace`
    db.session.commit()
    errors: list[BaseException] = []
    builder, go = paused_build(app, monkeypatch, errors, garage, day)
    changer = in_thread(app, errors, forget, garage)
    time.sleep(1.0)  # the change has deleted the hours and waits for the claimed day's row
    go.set()
    builder.join(60)
    changer.join(60)
    assert not errors, [type(e).__name__ + ": " + str(e).splitlines()[0] for e in errors]
    check(app, monkeypatch, garage)
