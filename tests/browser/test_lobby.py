"""The lobby screen in a real Chromium against gunicorn on PostgreSQL: it follows the
garage without reloads, survives the server going away, and does not grow with time.

Screenshots go to $LOBBY_SCREENSHOTS when set (docs/screenshots to refresh docs/lobby.md's),
otherwise to a temporary directory."""
from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from garage.extensions import db
from tests.helpers.live import LiveServer, call, free_port, gunicorn_server, migrated_postgres
from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN

pytestmark = [pytest.mark.browser, pytest.mark.postgres_only]

# Free ports picked once per run (the recovery test restarts its server on the same port).
PORT_MAIN, PORT_RESTART = free_port(), free_port()
TZ = "Asia/Kathmandu"  # UTC+05:45: a wrong timezone cannot show the right minute
FULL_HD = {"width": 1920, "height": 1080}
TABLET = {"width": 1280, "height": 800}


@pytest.fixture(scope="module")
def garage_db(tmp_path_factory) -> Iterator[LiveServer]:
    """A throw-away PostgreSQL database, migrated, with an app bound to it for set-up."""
    with migrated_postgres(str(tmp_path_factory.mktemp("lobby-instance"))) as (url, app):
        yield LiveServer("", url, app)


@contextmanager
def serve(garage: LiveServer, port: int, poll_seconds: float) -> Iterator[str]:
    with gunicorn_server(garage.database_url, workers=2, port=port,
                         extra_env={"LOBBY_POLL_SECONDS": str(poll_seconds)}) as base:
        yield base


@pytest.fixture(scope="module")
def main_server(garage_db) -> Iterator[str]:
    with serve(garage_db, PORT_MAIN, 0.1) as base:
        yield base


def setup_garage(garage: LiveServer, total: int = 10) -> dict[str, str]:
    garage.reset(total_spaces=total)
    set_settings(garage, garage_name="Harbour Street Garage", almost_full_percent=80, timezone=TZ)
    return garage.token("attendant")


def set_settings(garage: LiveServer, **values) -> None:
    from garage.models import Garage
    with garage.app.app_context():
        db.session.execute(sa.update(Garage).values(**values))
        db.session.commit()
        db.session.remove()


def enter(base: str, headers: dict[str, str], plate: str) -> str:
    status, body = call("POST", base + "/api/tickets", {"licensePlate": plate, "vehicleType": "Car"}, headers)
    assert status == 201, body
    return body["ticketNumber"]


def shots(tmp_path: Path) -> Path:
    target = Path(os.environ.get("LOBBY_SCREENSHOTS") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    return target


@pytest.fixture
def screen(browser):
    context = browser.new_context(viewport=FULL_HD)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "Failed to load" not in m.text
            else None)
    page.js_errors = errors
    yield page
    context.close()


def shown(page) -> tuple[str, str, str]:
    """Free spaces, state word and state class (htmx adds transient classes of its own)."""
    classes = page.get_attribute(".panel", "class").split()
    return (page.inner_text("#lobby-free"), page.inner_text("#lobby-state"),
            " ".join(c for c in classes if c == "panel" or c.startswith("state-")))


def wait_for_free(page, free: str, timeout: float = 8000) -> None:
    page.wait_for_function("n => document.getElementById('lobby-free').textContent.trim() === n",
                           arg=free, timeout=timeout)


def fits(page) -> dict:
    """The layout's measures, the clock showing its widest time of day ("12:58 PM"; the screen's own time
    comes back at once): a clock that overlapped the name only from 10 to 12 o'clock failed one CI run."""
    return page.evaluate("""() => {
        const time = document.getElementById('lobby-time'), shown = time.textContent;
        time.textContent = '12:58\u202fPM';
        const r = document.getElementById('lobby-free').getBoundingClientRect();
        const s = document.getElementById('lobby-state').getBoundingClientRect();
        const c = document.getElementById('lobby-clock').getBoundingClientRect();
        const n = document.querySelector('.panel-name').getBoundingClientRect();
        time.textContent = shown;
        return {scrollW: document.documentElement.scrollWidth, scrollH: document.documentElement.scrollHeight,
                w: innerWidth, h: innerHeight, numberH: r.height, numberBottom: r.bottom,
                clockOverlapsName: !(c.left >= n.right || c.bottom <= n.top),
                clockOverlapsState: !(c.left >= s.right || c.bottom <= s.top)};
    }""")


def assert_fits(page) -> None:
    f = fits(page)
    assert f["scrollW"] <= f["w"] and f["scrollH"] <= f["h"], f  # no scrolling on a wall screen
    assert f["numberH"] >= 0.2 * f["h"] and f["numberBottom"] <= f["h"], f  # huge, and on screen
    assert not f["clockOverlapsName"] and not f["clockOverlapsState"], f


def test_screen_follows_entries_through_every_state_without_reload(screen, browser, garage_db, main_server,
                                                                    tmp_path):
    out = shots(tmp_path)
    staff = setup_garage(garage_db, total=10)
    cdp = screen.context.new_cdp_session(screen)
    cdp.send("Network.enable")
    wire: list[int] = []
    cdp.on("Network.responseReceivedExtraInfo", lambda e: wire.append(e["statusCode"]))

    screen.goto(main_server + "/g/main/lobby")
    screen.evaluate("window.__sameDocument = true")
    assert shown(screen) == ("10", "OPEN", "panel state-open")
    assert screen.inner_text(".panel-name") == "Harbour Street Garage"
    local = datetime.now(timezone.utc).astimezone(ZoneInfo(TZ))
    # In the garage's format locale (en_US: "3:58 PM"), written by the page's own clock (Intl).
    assert screen.inner_text("#lobby-time").replace("\u202f", " ") in {
        local.strftime("%-I:%M %p"), (local - timedelta(minutes=1)).strftime("%-I:%M %p")}
    screen.wait_for_function("() => window.garageLobby && window.garageLobby.polls >= 3")

    for i in range(3):
        enter(main_server, staff, f"OPEN {i}")
    wait_for_free(screen, "7")
    assert shown(screen) == ("7", "OPEN", "panel state-open")
    assert screen.inner_text("#lobby-counts") == "3 of 10 spaces taken · 30% full"
    assert_fits(screen)
    screen.screenshot(path=str(out / "lobby-open.png"))

    for i in range(5):
        enter(main_server, staff, f"ALMOST {i}")
    wait_for_free(screen, "2")
    assert shown(screen) == ("2", "ALMOST FULL", "panel state-almost-full")
    assert_fits(screen)
    screen.screenshot(path=str(out / "lobby-almost-full.png"))

    numbers = [enter(main_server, staff, f"LAST {i}") for i in range(2)]
    wait_for_free(screen, "0")
    assert shown(screen) == ("0", "FULL", "panel state-full")
    assert call("POST", main_server + "/api/tickets", {"licensePlate": "NO ROOM", "vehicleType": "Car"},
                staff)[0] == 409
    assert_fits(screen)
    screen.screenshot(path=str(out / "lobby-full.png"))

    status, _ = call("PUT", f"{main_server}/api/tickets/{numbers[0]}/exit", {"paymentMethod": "Cash"}, staff)
    assert status == 200
    wait_for_free(screen, "1")
    assert shown(screen) == ("1", "ALMOST FULL", "panel state-almost-full")
    assert screen.inner_text(".free-label") == "free space"

    # While nothing changes, polls are 304s on the wire (the browser revalidates with
    # If-None-Match and hands htmx a 200 from its cache) and nothing is swapped.
    before, seen = screen.evaluate("window.garageLobby"), len(wire)
    screen.wait_for_function("n => window.garageLobby.polls >= n", arg=before["polls"] + 10)
    after = screen.evaluate("window.garageLobby")
    assert after["swaps"] == before["swaps"] and after["skipped"] >= before["skipped"] + 10, (before, after)
    assert wire[seen:].count(304) >= 9 and 500 not in wire, wire[seen:]
    assert after["lastStatus"] == 200  # what htmx sees for a revalidated 304
    assert after["errors"] == 0 and screen.is_hidden("#lobby-reconnecting")
    assert screen.evaluate("window.__sameDocument") is True  # never reloaded

    screen.set_viewport_size(TABLET)
    assert_fits(screen)
    screen.screenshot(path=str(out / "lobby-tablet.png"))

    dark = browser.new_page(viewport=FULL_HD)
    try:
        dark.goto(main_server + "/g/main/lobby?theme=dark")
        assert "theme-dark" in dark.get_attribute("body", "class")
        background = dark.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(5, 7, 10)"
        assert_fits(dark)
        dark.screenshot(path=str(out / "lobby-dark.png"))
    finally:
        dark.close()
    assert screen.js_errors == []


def listener_count(cdp) -> int:
    total = 0
    for expression in ("window", "document", "document.getElementById('lobby-live')"):
        handle = cdp.send("Runtime.evaluate", {"expression": expression})["result"]["objectId"]
        total += len(cdp.send("DOMDebugger.getEventListeners", {"objectId": handle, "depth": -1})["listeners"])
    return total


def footprint(page, cdp) -> dict[str, int]:
    cdp.send("HeapProfiler.collectGarbage")
    cdp.send("HeapProfiler.collectGarbage")
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return {"elements": page.evaluate("document.getElementsByTagName('*').length"),
            "listeners": listener_count(cdp), "heap": int(metrics["JSHeapUsedSize"]),
            # Chromium's own counts, detached-but-retained nodes included: a leaked panel shows here.
            "nodes": int(metrics["Nodes"]), "all_listeners": int(metrics["JSEventListeners"])}


def test_polling_for_a_long_time_does_not_grow_dom_listeners_or_heap(screen, garage_db, main_server):
    """150+ polls at 0.1 s with the numbers changing all the time, so most polls swap a new
    panel in. (A 2,900-poll soak run the same way showed the heap level at 1.4-1.5 MB after
    the first few hundred polls of warm-up, and Chromium's node count flat.)"""
    setup_garage(garage_db, total=50)
    screen.goto(main_server + "/g/main/lobby")
    cdp = screen.context.new_cdp_session(screen)
    cdp.send("Performance.enable")
    stop = threading.Event()

    def churn() -> None:  # keep the numbers moving
        n = 0
        while not stop.is_set():
            n += 1
            set_settings(garage_db, occupied=n % 50)
            time.sleep(0.15)

    mover = threading.Thread(target=churn, daemon=True)
    mover.start()
    try:
        screen.wait_for_function("() => window.garageLobby.swaps >= 30", timeout=30000)  # warm-up
        before, start = footprint(screen, cdp), screen.evaluate("window.garageLobby")
        screen.wait_for_function("n => window.garageLobby.polls >= n", arg=start["polls"] + 150,
                                 timeout=90000)
    finally:
        stop.set()
        mover.join()
    end = screen.evaluate("window.garageLobby")
    # The polls go on (every 0.1 s): a reading taken mid-swap counts the panel being replaced too (the old
    # and the new one's listeners: once seen in CI, 25 -> 49). A leak stays in every reading; a swap in
    # flight is gone from the next one.
    for _ in range(5):
        after = footprint(screen, cdp)
        if after["all_listeners"] <= before["all_listeners"] + 20 and after["nodes"] <= before["nodes"] + 100:
            break
        screen.wait_for_timeout(300)
    assert end["swaps"] - start["swaps"] >= 60, (start, end)  # swaps really happened
    assert end["errors"] == 0
    assert after["elements"] == before["elements"], (before, after)
    assert after["listeners"] == before["listeners"], (before, after)
    assert after["all_listeners"] <= before["all_listeners"] + 20, (before, after)
    assert after["nodes"] <= before["nodes"] + 100, (before, after)
    assert after["heap"] < before["heap"] * 1.15 + 128 * 1024, (before, after)
    assert screen.js_errors == []


def test_keeps_numbers_while_the_server_is_gone_and_recovers_by_itself(screen, garage_db, tmp_path):
    out = shots(tmp_path)
    staff = setup_garage(garage_db, total=10)
    screen.clock.install()  # real time flows; lets the test jump ahead to check "2 min ago"
    with serve(garage_db, PORT_RESTART, 0.2) as base:
        screen.goto(base + "/g/main/lobby")
        screen.evaluate("window.__sameDocument = true")
        enter(base, staff, "BEFORE 1")
        enter(base, staff, "BEFORE 2")
        wait_for_free(screen, "8")
        assert screen.is_hidden("#lobby-reconnecting") and screen.is_hidden("#lobby-age")

    # Server stopped: the last numbers stay, a discreet badge appears, then the data's age.
    screen.wait_for_selector("#lobby-reconnecting", state="visible", timeout=5000)
    screen.wait_for_selector("#lobby-age", state="visible", timeout=5000)
    assert screen.inner_text("#lobby-age").startswith("updated ")
    assert shown(screen) == ("8", "OPEN", "panel state-open")
    screen.clock.fast_forward("02:05")
    screen.wait_for_function("() => document.getElementById('lobby-age').textContent === 'updated 2 min ago'")
    screen.screenshot(path=str(out / "lobby-reconnecting.png"))
    assert shown(screen)[0] == "8"

    # Cars came in while the screen was cut off; the server comes back on the same port.
    from garage.services import tickets
    with garage_db.app.app_context():
        for i in range(3):
            tickets.issue_ticket(MAIN, f"WHILE {i}", "Car")
        db.session.remove()
    with serve(garage_db, PORT_RESTART, 0.2):
        wait_for_free(screen, "5", timeout=15000)
        screen.wait_for_selector("#lobby-reconnecting", state="hidden", timeout=5000)
        assert screen.is_hidden("#lobby-age")
        assert screen.evaluate("window.__sameDocument") is True

        # A server error (not just a dead socket) is handled the same way, and is never swapped in.
        screen.route("**/lobby/panel", lambda route: route.fulfill(status=500, body="<h1>boom</h1>"))
        screen.wait_for_selector("#lobby-reconnecting", state="visible", timeout=5000)
        assert shown(screen)[0] == "5" and "boom" not in screen.content()
        screen.unroute("**/lobby/panel")
        screen.wait_for_selector("#lobby-reconnecting", state="hidden", timeout=5000)
        assert shown(screen) == ("5", "OPEN", "panel state-open")
    assert screen.evaluate("window.garageLobby.errors") >= 2
