"""The lobby screen (public) through the Flask test client, on SQLite and PostgreSQL: states,
privacy, fragment polling with ETag/304, headers, parity with the API."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from babel import dates as babel_dates
from bs4 import BeautifulSoup

from tests.helpers.api import issue
from tests.helpers.db import counting, set_settings
from tests.helpers.web import HTMX, soup, text


def page(client, url="/g/main/lobby") -> BeautifulSoup:
    r = client.get(url)
    assert r.status_code == 200
    return soup(r)


def panel_of(doc: BeautifulSoup):
    return doc.select_one(".panel")


# --- what the screen shows ---------------------------------------------------------------

@pytest.mark.parametrize("total, occupied, state, css, free, label, taken", [
    (140, 0, "OPEN", "state-open", "140", "free spaces", "0 of 140 spaces taken · 0% full"),
    (10, 8, "OPEN", "state-open", "2", "free spaces", "8 of 10 spaces taken · 80% full"),
    (10, 9, "ALMOST FULL", "state-almost-full", "1", "free space", "9 of 10 spaces taken · 90% full"),
    (10, 10, "FULL", "state-full", "0", "free spaces", "10 of 10 spaces taken · 100% full"),
])
def test_each_state_shows_its_words_numbers_and_class(client, total, occupied, state, css, free, label, taken):
    set_settings(total_spaces=total, occupied=occupied)
    for doc in (page(client), soup(client.get("/g/main/lobby/panel", headers=HTMX))):
        panel = panel_of(doc)
        assert css in panel["class"] and panel["data-state"] == state
        assert [c for c in panel["class"] if c.startswith("state-")] == [css]
        assert text(doc.select_one("#lobby-state")) == state
        assert text(doc.select_one("#lobby-free")) == free
        assert text(doc.select_one(".free-label")) == label
        assert text(doc.select_one("#lobby-counts")) == taken
        fill = doc.select_one(".bar-fill")
        assert float(fill["width"]) == pytest.approx(occupied * 100 / total, abs=0.05)


def test_threshold_comes_from_the_settings(client):
    set_settings(total_spaces=20, occupied=15, almost_full_percent=75)
    doc = page(client)
    assert text(doc.select_one("#lobby-state")) == "ALMOST FULL"
    assert doc.select_one(".bar-threshold")["x"] == "75"
    set_settings(almost_full_percent=80)
    assert text(page(client).select_one("#lobby-state")) == "OPEN"


def test_garage_name_is_shown_and_escaped(client):
    set_settings(garage_name="<b>Joe's</b> Parking")
    r = client.get("/g/main/lobby")
    assert "<b>Joe" not in r.get_data(as_text=True)
    doc = soup(r)
    assert text(doc.select_one(".panel-name")) == "<b>Joe's</b> Parking"
    assert "<b>Joe's</b> Parking" in text(doc.title)


def test_no_revenue_no_plates_nothing_private(client, staff):
    set_settings(hourly_rate=1234)
    number = issue(client, staff, "PRIV 987")
    issue(client, staff, "SECRET 42")
    r = client.put(f"/api/tickets/{number}/exit", json={"paymentMethod": "Cash"}, headers=staff)
    assert r.status_code == 200
    for url in ("/g/main/lobby", "/g/main/lobby/panel", "/g/main/lobby?theme=dark"):
        doc = soup(client.get(url, headers=HTMX))
        for tag in doc.select("[hx-headers], [data-etag]"):  # random tokens: may hold any digits
            del tag["hx-headers"], tag["data-etag"]
        html = str(doc)
        for private in ("PRIV", "SECRET", "$", "12.34", "1234", "evenue", "Cash", number, number[3:]):
            assert private not in html, (url, private)
        assert text(doc.select_one("#lobby-free")) == "139"  # one car still inside


def test_dark_theme_is_a_class_and_unknown_themes_fall_back(client):
    assert "theme-dark" in page(client, "/g/main/lobby?theme=dark").body["class"]
    for url in ("/g/main/lobby", "/g/main/lobby?theme=<script>", "/g/main/lobby?theme=neon"):
        body = page(client, url).body
        assert "theme-light" in body["class"] and "theme-dark" not in body["class"]


def test_page_shows_local_time_in_the_garage_timezone(client):
    set_settings(timezone="Pacific/Kiritimati")  # UTC+14: never the same clock time as UTC
    before = datetime.now(timezone.utc)
    doc = page(client)
    after = datetime.now(timezone.utc)
    clock = doc.select_one("#lobby-clock")
    assert clock["data-timezone"] == "Pacific/Kiritimati"
    assert panel_of(doc)["data-timezone"] == "Pacific/Kiritimati"
    tz = ZoneInfo("Pacific/Kiritimati")
    # In the garage's format locale (en_US by default: "11:59 PM", "Sunday, December 6").
    allowed = {babel_dates.format_time(t.astimezone(tz), "short", locale="en_US").replace("\u202f", " ")
               for t in (before, after)}
    assert text(doc.select_one("#lobby-time")).replace("\u202f", " ") in allowed
    assert text(doc.select_one("#lobby-date")) in {babel_dates.format_skeleton("MMMMEEEEd", t.astimezone(tz), locale="en_US")
                                                   for t in (before, after)}
    assert clock["data-locale"] == "en-US"


def test_full_page_has_no_staff_chrome_and_loads_its_own_assets(client):
    doc = page(client)
    assert doc.select_one("header.topbar") is None and doc.select_one("nav") is None
    assert doc.select_one("form") is None  # no sign-out form, nothing to submit
    assets = [(t.get("href") or t.get("src")).split("?v=")[0] for t in doc.select("link[rel=stylesheet], script[src]")]
    assert "/static/css/lobby.css" in assets and "/static/js/lobby.js" in assets
    assert doc.select("[style]") == [] and doc.select("script:not([src])") == []
    assert not any(a.startswith("on") for tag in doc.find_all(True) for a in tag.attrs)
    for asset in ("/static/css/lobby.css", "/static/js/lobby.js"):
        assert client.get(asset).status_code == 200


# --- polling: fragment, ETag, 304 --------------------------------------------------------

def test_page_polls_a_fragment_that_is_only_the_panel(client, app, monkeypatch):
    live = page(client).select_one("#lobby-live")
    assert live["hx-get"] == "/g/main/lobby/panel" and live["hx-swap"] == "innerHTML"
    assert live["hx-trigger"] == "every 5000ms"
    assert live.select_one(".panel") is not None
    html = client.get("/g/main/lobby/panel", headers=HTMX).get_data(as_text=True)
    assert "<html" not in html and "<body" not in html and "<script" not in html
    doc = soup(html)
    assert len(doc.find_all(recursive=False)) == 1 and panel_of(doc) is not None
    # Without HX-Request (typed, bookmarked, a history restore) the URL sends people to the lobby.
    r = client.get("/g/main/lobby/panel")
    assert (r.status_code, r.headers["Location"]) == (303, "/g/main/lobby") and "HX-Request" in r.headers["Vary"]
    monkeypatch.setitem(app.config, "LOBBY_POLL_SECONDS", 0.25)
    assert page(client).select_one("#lobby-live")["hx-trigger"] == "every 250ms"


def test_fragment_sends_etag_and_answers_304_until_something_changes(client, staff):
    first = client.get("/g/main/lobby/panel", headers=HTMX)
    etag = first.headers["ETag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)
    assert first.headers["Cache-Control"] == "no-cache"
    # The page carries the same tag, so the first poll after loading does not re-swap.
    assert page(client).select_one("#lobby-live")["data-etag"] == etag.strip('"')

    again = client.get("/g/main/lobby/panel", headers={**HTMX, "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag and again.headers["Cache-Control"] == "no-cache"

    issue(client, staff, "NEW 1")
    changed = client.get("/g/main/lobby/panel", headers={**HTMX, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert text(soup(changed).select_one("#lobby-free")) == "139"
    assert client.get("/g/main/lobby/panel", headers={**HTMX, "If-None-Match": changed.headers["ETag"]}).status_code == 304


@pytest.mark.parametrize("change", [{"garage_name": "North"}, {"almost_full_percent": 50},
                                    {"total_spaces": 141}, {"timezone": "Europe/Paris"}])
def test_etag_covers_everything_the_panel_shows(client, change):
    etag = client.get("/g/main/lobby/panel", headers=HTMX).headers["ETag"]
    set_settings(**change)
    r = client.get("/g/main/lobby/panel", headers={**HTMX, "If-None-Match": etag})
    assert r.status_code == 200 and r.headers["ETag"] != etag


def test_fragment_is_one_primary_key_read_whatever_the_history(client, staff):
    for i in range(5):
        issue(client, staff, f"HIST {i}")
    with counting() as statements:
        assert client.get("/g/main/lobby/panel", headers=HTMX).status_code == 200
        assert client.get("/g/main/lobby/panel", headers={**HTMX, "If-None-Match": "\"x\""}).status_code == 200
    assert len(statements) == 2, statements
    for sql in statements:
        assert "garages" in sql and "tickets" not in sql


# --- access and headers ------------------------------------------------------------------

def test_lobby_is_public_while_staff_pages_still_need_login(client):
    for url in ("/g/main/lobby", "/g/main/lobby/panel", "/api/garage/occupancy"):
        assert client.get(url, headers=HTMX).status_code == 200, url
    r = client.get("/account/password")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    assert client.get("/api/garage/stats").status_code == 401


def test_frame_ancestors_follow_lobby_setting_only_on_the_lobby(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "LOBBY_FRAME_ANCESTORS", "'self' https://signage.example")
    for url in ("/g/main/lobby", "/g/main/lobby/panel"):
        r = client.get(url, headers=HTMX)
        assert "frame-ancestors 'self' https://signage.example" in r.headers["Content-Security-Policy"]
        assert "X-Frame-Options" not in r.headers
    other = client.get("/login")
    assert "frame-ancestors 'none'" in other.headers["Content-Security-Policy"]
    assert other.headers["X-Frame-Options"] == "DENY"


def test_lobby_cannot_be_framed_by_default(client):
    r = client.get("/g/main/lobby")
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Frame-Options"] == "DENY"


# --- the public JSON for signage agrees with the screen ----------------------------------

@pytest.mark.parametrize("occupied, state", [(0, "OPEN"), (9, "ALMOST FULL"), (10, "FULL")])
def test_occupancy_api_fields_and_state_match_the_screen(client, occupied, state):
    set_settings(total_spaces=10, occupied=occupied)
    r = client.get("/api/garage/occupancy")
    assert r.status_code == 200
    body = r.get_json()
    assert set(body) == {"total", "occupied", "available", "state", "updatedAt", "reservedSpaces", "permitOccupied",
                         "permitAvailable"}
    assert (body["total"], body["occupied"], body["available"], body["state"]) == (10, occupied, 10 - occupied, state)
    updated = datetime.fromisoformat(body["updatedAt"])
    assert abs(updated - datetime.now(timezone.utc)) < timedelta(seconds=30)
    assert panel_of(page(client))["data-state"] == body["state"]


def test_occupancy_api_uses_the_configured_threshold(client):
    set_settings(total_spaces=4, occupied=2, almost_full_percent=50)
    assert client.get("/api/garage/occupancy").get_json()["state"] == "ALMOST FULL"


@pytest.mark.parametrize("raw, expected", [(None, 5.0), ("", 5.0), ("0.25", 0.25), ("30", 30.0)])
def test_poll_interval_comes_from_the_environment(monkeypatch, raw, expected):
    from garage.config import Config
    if raw is None:
        monkeypatch.delenv("LOBBY_POLL_SECONDS", raising=False)
    else:
        monkeypatch.setenv("LOBBY_POLL_SECONDS", raw)
    assert Config().LOBBY_POLL_SECONDS == expected


@pytest.mark.parametrize("raw", ["soon", "0", "-5", "86400"])
def test_a_bad_poll_interval_is_refused_with_a_clear_message(monkeypatch, raw):
    from garage.config import Config
    monkeypatch.setenv("LOBBY_POLL_SECONDS", raw)
    with pytest.raises(ValueError, match="LOBBY_POLL_SECONDS"):
        Config()
