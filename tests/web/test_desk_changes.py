"""Issue 15, defects 2 and 4, at the request level: every desk learns of a change made at any
desk from its 5-s live poll (the change mark it sends back), and the desk page carries what its
script needs to tell the attendant that the server cannot be reached."""
from __future__ import annotations

import pytest

from garage import htmx
from garage.extensions import db
from garage.services import settings as settings_service
from garage.services import tickets as ticket_service
from tests.helpers.db import counting
from tests.helpers.web import HTMX, soup
from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN

GARAGE_CHANGED = "garage-changed"


def shown_mark(page) -> str:
    """The change mark the live panel shows (sent back by its next poll)."""
    import json

    return json.loads(page.select_one("section#live")["hx-vals"])["seen"]


def poll(desk, seen: str | None):
    query = {} if seen is None else {"seen": seen}
    return desk.client.get("/g/main/desk/live", query_string=query, headers={**HTMX, "X-Garage-Poll": "1"})


def fires_change(response) -> bool:
    return GARAGE_CHANGED in (response.headers.get("HX-Trigger") or "")


def test_the_live_poll_fires_a_change_only_when_the_garage_moved_since_the_mark_it_showed(desk):
    mark = shown_mark(soup(desk.client.get("/g/main/desk")))
    r = poll(desk, mark)
    assert r.status_code == 200 and not fires_change(r) and shown_mark(soup(r)) == mark

    # Another booth (or the API) lets a car in: this desk's next poll says so.
    other = ticket_service.issue_ticket(MAIN, "ELSE 1", "Car")
    db.session.remove()
    r = poll(desk, mark)
    assert fires_change(r) and r.headers["HX-Trigger"] == GARAGE_CHANGED
    after_entry = shown_mark(soup(r))
    assert after_entry != mark
    assert not fires_change(poll(desk, after_entry))  # once: the page now shows the new mark

    # The car leaves at the other booth: the car must leave this desk's Cars inside too.
    ticket_service.process_exit(MAIN, other.ticket_number, "Cash")
    db.session.remove()
    r = poll(desk, after_entry)
    assert fires_change(r)
    assert not fires_change(poll(desk, shown_mark(soup(r))))
    # A poll without a mark (an old page) is answered as before.
    assert not fires_change(poll(desk, None)) and poll(desk, None).status_code == 200


def test_one_car_in_and_another_out_between_two_polls_is_still_a_change(desk):
    first = ticket_service.issue_ticket(MAIN, "SWAP 1", "Car")
    db.session.remove()
    mark = shown_mark(soup(poll(desk, None)))
    ticket_service.issue_ticket(MAIN, "SWAP 2", "Car")
    ticket_service.process_exit(MAIN, first.ticket_number, "Cash")
    db.session.remove()
    page = soup(desk.client.get("/g/main/desk"))
    assert page.select_one('[data-stat="occupied"]').get_text(strip=True) == "1"  # same count as before
    assert fires_change(poll(desk, mark))


def test_a_rate_change_reaches_open_desks_with_their_next_live_poll(desk):
    mark = shown_mark(soup(poll(desk, None)))
    settings_service.update_settings(MAIN, None, vehicle_rates={"SUV": 777})  # only a vehicle rate
    db.session.remove()
    assert fires_change(poll(desk, mark))
    mark = shown_mark(soup(poll(desk, None)))
    settings_service.update_settings(MAIN, None, hourly_rate=900)
    db.session.remove()
    assert fires_change(poll(desk, mark))


def test_the_own_entry_brings_the_new_mark_out_of_band_so_the_next_poll_reloads_nothing(desk):
    r = desk.enter("OWN 1", htmx=True)
    assert r.status_code == 200 and r.headers["HX-Trigger"] == htmx.DESK_CHANGED  # cars inside reloads now
    live = soup(r).select_one("section#live[hx-swap-oob]")
    assert not fires_change(poll(desk, shown_mark(soup(r))))
    assert live is not None


def test_the_live_poll_costs_no_extra_statement_for_its_mark(desk):
    desk.issue("COUNT 1")
    mark = shown_mark(soup(poll(desk, None)))
    with counting() as plain:
        poll(desk, None)
    with counting() as marked:
        poll(desk, mark)
    assert len(marked) == len(plain), (plain, marked)


def test_cars_inside_activity_and_rates_reload_on_a_change_anywhere_and_when_reconnected(desk):
    page = soup(desk.client.get("/g/main/desk"))
    inside, activity, rates, live = (page.select_one(s) for s in ("#inside-list", "#activity", "#desk-rates", "#live"))
    for element in (inside, activity, rates):
        assert f"{GARAGE_CHANGED} from:body" in element["hx-trigger"], element.get("id")
    for element in (inside, activity, rates, live):
        assert f"{htmx.RECONNECTED} from:body" in element["hx-trigger"], element.get("id")
    assert f"{htmx.DESK_CHANGED} from:body" in inside["hx-trigger"]


def test_the_desk_page_carries_the_connection_status_its_timeout_and_its_scripts(desk):
    page = soup(desk.client.get("/g/main/desk"))
    status = page.select_one("#desk-connection")
    assert status is not None and status.has_attr("hidden") and status["role"] == "alert"
    assert int(status["data-timeout-ms"]) == htmx.DESK_TIMEOUT_SECONDS * 1000 <= 10_000
    assert status["data-reconnected-event"] == htmx.RECONNECTED
    scripts = [s["src"].split("?")[0].rsplit("/", 1)[-1] for s in page.select("script[src]")]
    # connection.js (shared with the lobby) before the desk's script that uses it.
    assert scripts.index("connection.js") < scripts.index("desk-connection.js")
    lobby = soup(desk.client.get("/g/main/lobby"))
    assert [s["src"].split("?")[0].rsplit("/", 1)[-1] for s in lobby.select("script[src]")][-2:] == ["connection.js", "lobby.js"]


def test_the_desk_waits_longer_than_the_server_waits_for_its_database(app):
    """A frozen database ends in the server's own answer (503), which the desk shows, before the
    desk gives up waiting and can only say "No answer"."""
    assert htmx.DESK_TIMEOUT_SECONDS > app.config["DB_REPLY_TIMEOUT"] > 0


@pytest.mark.parametrize("path", ["static/js/desk-connection.js", "static/js/connection.js"])
def test_no_script_of_ours_sends_a_request_again(path):
    """An action is never replayed: the connection scripts send nothing (htmx.ajax, fetch, XHR,
    requestSubmit, submit); they only fire the reconnect event the polled panels (GETs) listen to."""
    from pathlib import Path

    source = (Path(__file__).resolve().parents[2] / path).read_text()
    for call in ("htmx.ajax", "fetch(", "XMLHttpRequest", "requestSubmit", ".submit(", ".click("):
        assert call not in source, call
