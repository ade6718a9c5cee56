"""The rollups as an operator and a manager meet them (issue 21): `flask --app garage rollups` on an empty
database, on a garage that does not exist, twice in a row, after back-dated writes; the report's CSV, the
report page's figures and the portfolio's CSV over HTTP equal those of the recount (rollups switched off).
Both databases."""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN
from garage.extensions import db
from garage.identity import Actor
from garage.models import Garage
from garage.services import amendments, rollups
from garage.services.tickets import issue_ticket, process_exit
from tests.db.test_rollups import recount, snapshot
from tests.helpers.garages import add_garage, make_admin
from tests.helpers.web import sign_in
from tests.probe_rollups.harness import built_days, differences, first_lines, local, window_periods

UTC = timezone.utc
STAFF = Actor.system("probe")
BOSS = Actor.system("boss")


def traffic(garage_id: int, tz: str, first: date, days: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    for n in range(days * 3):
        day = first + timedelta(days=n // 3)
        entered = local(day, rng.uniform(0, 24), tz)
        number = issue_ticket(garage_id, f"G{garage_id}C{n}", rng.choice(("Car", "SUV")), STAFF, now=entered).ticket_number
        if rng.random() < 0.85:
            paid = process_exit(garage_id, number, rng.choice(("Cash", "Credit Card")), STAFF,
                                now=entered + timedelta(minutes=rng.randint(1, 2000)), lost=rng.random() < 0.1)
            if paid.amount_paid and rng.random() < 0.3:
                amendments.refund_ticket(garage_id, number, BOSS, 1, "goodwill",
                                         now=paid.exit_time + timedelta(hours=rng.uniform(1, 40)))


def invoke(app, *args: str):
    result = app.test_cli_runner().invoke(args=["rollups", *args])
    return result.exit_code, result.output


def test_the_command_on_an_empty_database(app):
    assert invoke(app) == (0, "main: 0 days rolled up (UTC)\n")
    assert invoke(app) == (0, "main: 0 days rolled up (UTC)\n")
    assert invoke(app, "--rebuild") == (0, "main: 0 days rolled up (UTC)\n")
    assert invoke(app, "--garage", "main", "--rebuild") == (0, "main: 0 days rolled up (UTC)\n")
    rows = snapshot()  # every rollup table (the months' sums too, migration 0018), empty
    assert {"report_days", "report_hours", "report_stays", "report_breakdowns", "report_months"} <= set(rows)
    assert not any(rows.values()), rows


def test_the_command_on_a_garage_that_does_not_exist(app):
    code, output = invoke(app, "--garage", "nowhere")
    assert code != 0 and "No garage 'nowhere'" in output
    code, output = invoke(app, "--garage", "")  # an empty slug is no garage either, not every garage
    assert code != 0 and "No garage ''" in output, output
    assert snapshot()["report_days"] == []


def test_the_command_twice_then_after_back_dated_writes(app, monkeypatch):
    tz = "America/St_Johns"
    db.session.get(Garage, MAIN).timezone = tz
    db.session.commit()
    other = add_garage("kat", 20, timezone="Asia/Kathmandu")
    first = date(2026, 10, 28)
    traffic(MAIN, tz, first, 8)
    traffic(other, "Asia/Kathmandu", first, 8, seed=2)
    code, output = invoke(app)
    assert code == 0, output
    counts = {line.split(":")[0]: int(line.split(": ")[1].split()[0]) for line in output.splitlines()}
    assert counts["main"] > 30 and counts["kat"] > 30
    before = snapshot()
    assert invoke(app) == (0, f"main: 0 days rolled up ({tz})\nkat: 0 days rolled up (Asia/Kathmandu)\n")
    assert snapshot() == before
    # Back-dated: a car in and out on the 30th, a refund of it on the 31st: those days (and the UTC days
    # either side, marked to be safe) are built again by the next run, and only those
    number = issue_ticket(MAIN, "LATE", "Car", STAFF, now=local(date(2026, 10, 30), 23.99, tz)).ticket_number
    process_exit(MAIN, number, "Cash", STAFF, now=local(date(2026, 10, 31), 0.5, tz))
    amendments.refund_ticket(MAIN, number, BOSS, 1, "late", now=local(date(2026, 10, 31), 1, tz))
    assert not {date(2026, 10, 30), date(2026, 10, 31)} & set(built_days(MAIN))
    code, output = invoke(app, "--garage", "main")
    assert code == 0 and output.startswith("main: ") and 2 <= int(output.split(": ")[1].split()[0]) <= 6, output
    diffs = differences(app, monkeypatch, MAIN, window_periods(first, first + timedelta(days=7)),
                        garages=[MAIN, other])
    assert not diffs, first_lines(diffs)
    # --rebuild twice: the same rows each time
    assert invoke(app, "--rebuild")[0] == 0
    rebuilt = snapshot()
    assert invoke(app, "--rebuild")[0] == 0
    assert snapshot() == rebuilt


def test_the_command_after_a_timezone_change_twice_and_back(app, monkeypatch):
    from garage.services import settings

    first = date(2026, 10, 20)
    traffic(MAIN, "UTC", first, 6)
    assert invoke(app)[0] == 0
    settings.update_settings(MAIN, BOSS, timezone="Pacific/Kiritimati")
    assert invoke(app)[1].endswith("(Pacific/Kiritimati)\n")
    settings.update_settings(MAIN, BOSS, timezone="Pacific/Apia")
    settings.update_settings(MAIN, BOSS, timezone="UTC")
    code, output = invoke(app)
    assert code == 0 and int(output.split(": ")[1].split()[0]) > 5, output
    assert set(built_days(MAIN).values()) == {"UTC"}
    diffs = differences(app, monkeypatch, MAIN, window_periods(first, first + timedelta(days=5)))
    assert not diffs, first_lines(diffs)


# --- over HTTP --------------------------------------------------------------------------------------

PERIODS = [("2026-10-24", "2026-10-26", "hour"), ("2026-10-20", "2026-11-05", "day"), ("2026-10-25", "2026-10-25", "")]


def switched_off(monkeypatch):
    ctx = monkeypatch.context()
    m = ctx.__enter__()
    m.setattr(rollups, "days_for", lambda garage_id, tz, first, last, now=None: {})
    m.setattr(rollups, "days_across", lambda garages, first, last, now=None: {g.id: {} for g in garages})
    return ctx


def fetch(client, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.data


def test_the_report_csv_and_the_portfolio_over_http_equal_the_recount(app, client, monkeypatch):
    db.session.get(Garage, MAIN).timezone = "Europe/Berlin"
    db.session.commit()
    other = add_garage("chatham", 20, timezone="Pacific/Chatham")
    traffic(MAIN, "Europe/Berlin", date(2026, 10, 20), 12)
    traffic(other, "Pacific/Chatham", date(2026, 10, 20), 12, seed=5)
    make_admin("root")
    assert sign_in(client, "root").status_code == 303
    urls = [f"/g/{slug}/reports/export/rows.csv?from={a}&to={b}&group={g}" for slug in ("main", "chatham")
            for a, b, g in PERIODS]
    urls += [f"/portfolio/export.csv?from={a}&to={b}" for a, b, _ in PERIODS]
    got = {url: fetch(client, url) for url in urls}  # the rollups built by these requests
    got_again = {url: fetch(client, url) for url in urls}  # and read
    ctx = switched_off(monkeypatch)
    try:
        want = {url: fetch(client, url) for url in urls}
    finally:
        ctx.__exit__(None, None, None)
    assert set(built_days(MAIN)) >= {date(2026, 10, 24), date(2026, 10, 26)}
    for url in urls:
        assert got[url] == want[url], url
        assert got_again[url] == want[url], url


def test_the_report_csv_over_http_in_lord_howe(app, client, monkeypatch):
    tz = "Australia/Lord_Howe"
    db.session.get(Garage, MAIN).timezone = tz
    db.session.commit()
    traffic(MAIN, tz, date(2026, 10, 1), 7)
    for n in range(3):  # cars in the first half hour of each day after the change
        issue_ticket(MAIN, f"EARLY{n}", "Car", STAFF, now=local(date(2026, 10, 5 + n), 0.2, tz))
    rollups.catch_up(MAIN, tz, now=datetime(2026, 10, 20, tzinfo=UTC))
    make_admin("root")
    assert sign_in(client, "root").status_code == 303
    url = "/g/main/reports/export/rows.csv?from=2026-10-05&to=2026-10-07&group=day"
    got = fetch(client, url)
    ctx = switched_off(monkeypatch)
    try:
        want = fetch(client, url)
    finally:
        ctx.__exit__(None, None, None)
    assert got == want, (got.decode(), want.decode())
