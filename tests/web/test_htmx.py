"""garage/htmx.py: the one module that knows htmx's headers and our poll mark.

- Every page-or-fragment URL says Vary: HX-Request, with and without htmx.
- A history restore (HX-Request and HX-History-Restore-Request) gets the whole page.
- The response helpers set the headers htmx reads; the request details read what it sends.
- A page's own poll is recognised; polling elements get their interval from POLL_SECONDS.
- Nothing else writes an HX-* header name or X-Garage-Poll (one home each: garage/htmx.py)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from flask import make_response, render_template_string

from garage import htmx
from tests.helpers.web import HTMX, sign_in, signed_in, soup

ROOT = Path(__file__).resolve().parents[2]

# Each URL serves a whole page, or to htmx the fragment it swaps.
PAGE_OR_FRAGMENT = ["/g/main/desk/inside", "/g/main/desk/exit?q=nothing", "/g/main/settings", "/g/main/admin/users",
                    "/g/main/admin/audit", "/g/main/admin/audit?from=bad", "/g/main/reports"]


@pytest.fixture
def manager_client(app, make_user):
    return signed_in(app, make_user, "boss", "manager")


def is_page(response) -> bool:
    return soup(response).find("html") is not None


@pytest.mark.parametrize("url", PAGE_OR_FRAGMENT)
def test_page_or_fragment_varies_on_hx_request_both_ways(manager_client, url):
    page = manager_client.get(url)
    fragment = manager_client.get(url, headers=HTMX)
    assert is_page(page) and not is_page(fragment), url
    for r in (page, fragment):
        assert "HX-Request" in r.headers.get("Vary", ""), (url, r.status_code)


@pytest.mark.parametrize("url", PAGE_OR_FRAGMENT)
def test_a_history_restore_gets_the_whole_page(manager_client, url):
    r = manager_client.get(url, headers={**HTMX, "HX-History-Restore-Request": "true"})
    assert is_page(r) and "HX-Request" in r.headers["Vary"], url


def test_request_details(app):
    headers = {"HX-Request": "true", "HX-Boosted": "true", "HX-Trigger": "lookup-q",
               "HX-Trigger-Name": "q", "HX-Target": "exit",
               "HX-Current-URL": "http://localhost/g/main/desk/exit?q=AB"}
    with app.test_request_context("/g/main/desk", headers=headers):
        d = htmx.details()
        assert d and d.request and d.fragment and not d.history_restore and htmx.is_htmx()
        assert d.boosted and (d.trigger, d.trigger_name, d.target) == ("lookup-q", "q", "exit")
        assert d.current_url == "http://localhost/g/main/desk/exit?q=AB" and d.current_path == "/g/main/desk/exit?q=AB"
        assert not d.poll and not htmx.is_poll()
    with app.test_request_context("/g/main/desk", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}):
        d = htmx.details()
        assert d.request and d.history_restore and not d.fragment and not d and not htmx.is_htmx()
    with app.test_request_context("/g/main/desk"):
        d = htmx.details()
        assert not d.request and not d and d.trigger is None and d.current_path == "" and not d.boosted


@pytest.mark.parametrize("value, poll", [("1", True), ("0", False), (None, False)])
def test_a_pages_own_poll_is_recognised(app, value, poll):
    headers = {**HTMX, **({htmx.POLL_HEADER: value} if value else {})}
    with app.test_request_context("/g/main/desk/live", headers=headers):
        assert htmx.is_poll() is poll and htmx.details().poll is poll


def test_response_helpers_set_the_headers_htmx_reads(app):
    with app.test_request_context("/g/main/admin/audit", headers={**HTMX, "HX-Current-URL": "http://localhost/g/main/admin/audit?page=2"}):
        r = htmx.trigger(make_response("x"), "desk-changed")
        assert r.headers["HX-Trigger"] == "desk-changed"  # a bare name, as before
        htmx.trigger(r, "saved", {"id": 3})
        assert json.loads(r.headers["HX-Trigger"]) == {"desk-changed": None, "saved": {"id": 3}}
        assert htmx.push_url(make_response("x"), "/a").headers["HX-Push-Url"] == "/a"
        assert htmx.replace_url(make_response("x"), "/b").headers["HX-Replace-Url"] == "/b"
        # The address bar already shows the URL: replace (one history entry), else push.
        same = htmx.push_or_replace_url(make_response("x"), "/g/main/admin/audit?page=2")
        assert same.headers["HX-Replace-Url"] == "/g/main/admin/audit?page=2" and "HX-Push-Url" not in same.headers
        other = htmx.push_or_replace_url(make_response("x"), "/g/main/admin/audit?page=3")
        assert other.headers["HX-Push-Url"] == "/g/main/admin/audit?page=3" and "HX-Replace-Url" not in other.headers
        r = htmx.client_redirect("/login?next=/desk", 401)
        assert (r.status_code, r.headers["HX-Redirect"], r.get_data()) == (401, "/login?next=/desk", b"")
        assert htmx.client_redirect("/g/main/desk").status_code == 200
        assert "HX-Request" in htmx.vary(make_response("x")).headers["Vary"]


def test_page_or_fragment_chooses_by_the_request(app):
    with app.test_request_context("/", headers=HTMX):
        r = htmx.page_or_fragment("settings/_rates.html", "desk/_fee_breakdown.html", 422, rates=[], fee=None)
        assert r.status_code == 422 and "Current rates" not in r.get_data(as_text=True)
        assert "HX-Request" in r.headers["Vary"]
    with app.test_request_context("/"):
        r = htmx.page_or_fragment("settings/_rates.html", "desk/_fee_breakdown.html", rates=["$1"], fee=None)
        assert "Current rates" in r.get_data(as_text=True) and "HX-Request" in r.headers["Vary"]


def test_the_poll_helper_writes_url_interval_and_mark(app, monkeypatch):
    monkeypatch.setitem(htmx.POLL_SECONDS, "desk.live", 7)
    source = '<div {{ poll("desk.live") }}></div>' \
             '<div {{ poll("desk.inside", q="AB", page=2) }}></div>' \
             '<div {{ poll("lobby.panel", also="load") }}></div>' \
             '<a {{ tapped() }}></a>'
    with app.test_request_context("/"):
        html = render_template_string(source)
    live, inside, lobby, tap = soup(make_response(html)).select("div, a")
    assert (live["hx-get"], live["hx-trigger"]) == ("/g/main/desk/live", "desk-reconnected from:body, every 7s")
    assert json.loads(live["hx-headers"]) == {"X-Garage-Poll": "1"}
    assert inside["hx-get"] == "/g/main/desk/inside?q=AB&page=2"
    # Cars inside reloads after this desk's change, any desk's change (seen by the live poll),
    # the connection coming back, and every minute.
    assert inside["hx-trigger"] == ("desk-changed from:body, garage-changed from:body, "
                                    "desk-reconnected from:body, every 60s")
    assert lobby["hx-trigger"] == "load, every 5000ms"  # `also` first; the lobby has no events
    assert json.loads(tap["hx-headers"]) == {"X-Garage-Poll": "0"}


def test_every_desk_panel_reloads_when_the_connection_is_back_and_after_changes_elsewhere():
    assert set(htmx.REFRESH_ON) == set(htmx.POLL_SECONDS)
    assert all(htmx.RECONNECTED in events for events in htmx.REFRESH_ON.values())
    assert {e for e, events in htmx.REFRESH_ON.items() if htmx.GARAGE_CHANGED in events} == {
        "desk.activity", "desk.inside", "desk.rates"}


def test_the_lobby_interval_is_the_deployers_setting(app, monkeypatch):
    monkeypatch.setitem(app.config, "LOBBY_POLL_SECONDS", 0.25)
    with app.test_request_context("/"):
        assert htmx.poll_ms("lobby.panel") == 250 and htmx.poll_every("lobby.panel") == "every 250ms"
    monkeypatch.setitem(app.config, "LOBBY_POLL_SECONDS", 0)
    with app.test_request_context("/"):
        assert htmx.poll_ms("lobby.panel") == 100  # clamped: never a busy loop


def test_every_polling_endpoint_has_an_interval(app):
    for endpoint in [*htmx.POLL_SECONDS, *htmx.CONFIGURED_POLL_SECONDS]:
        assert endpoint in app.view_functions, endpoint


# --- one home each ---------------------------------------------------------------------------

def files(folder: str, *patterns: str) -> list[Path]:
    return sorted(p for pattern in patterns for p in (ROOT / folder).rglob(pattern))


def test_hx_header_names_and_the_poll_mark_live_only_in_garage_htmx():
    """grep -rn '"HX-\\|X-Garage-Poll' garage/ shows garage/htmx.py only."""
    pattern = re.compile(r"[\"']HX-|X-Garage-Poll")
    home = ROOT / "garage" / "htmx.py"
    offenders = [f"{p.relative_to(ROOT)}:{n}" for p in files("garage", "*.py") if p != home
                 for n, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)]
    assert offenders == []


def test_the_poll_mark_is_written_only_by_garage_htmx():
    """Templates and scripts never spell the poll mark: they call poll() / tapped()."""
    written = [(p.relative_to(ROOT).as_posix(), n)
               for p in files("templates", "*.html", "*.svg") + files("static/js", "*.js")
               for n, line in enumerate(p.read_text().splitlines(), 1) if "X-Garage-Poll" in line]
    assert written == []


# --- fragment-only URLs (issue 15, defect 3) --------------------------------------------------

# Each URL serves only a fragment (a polled panel); asked for as a page, it sends people to its page.
FRAGMENT_ONLY = {"/g/main/desk/live": "/g/main/desk", "/g/main/desk/activity": "/g/main/desk",
                 "/g/main/desk/rates": "/g/main/desk", "/g/main/lobby/panel": "/g/main/lobby"}
# The same for the operator pages' panels, which a garage's manager may not see at all (tested with
# an admin in tests/web/test_portfolio.py: test_the_live_panel_is_never_a_landing_page_and_polls).
OPERATOR_FRAGMENT_ONLY = {"/portfolio/live": "/portfolio"}


@pytest.mark.parametrize("restore", [False, True])
@pytest.mark.parametrize("url", sorted(FRAGMENT_ONLY))
def test_a_fragment_url_asked_for_as_a_page_sends_people_to_its_page(manager_client, url, restore):
    headers = {**HTMX, "HX-History-Restore-Request": "true"} if restore else {}
    r = manager_client.get(url, headers=headers)
    assert (r.status_code, r.headers["Location"]) == (303, FRAGMENT_ONLY[url])
    assert "HX-Request" in r.headers["Vary"]
    fragment = manager_client.get(url, headers=HTMX)
    assert fragment.status_code == 200 and "<html" not in fragment.get_data(as_text=True)
    assert "HX-Request" in fragment.headers["Vary"]


def test_every_polled_endpoint_is_a_page_or_declares_its_page(app):
    """A new polled panel cannot forget the rule: its view is wrapped by htmx.fragment_of, or it is
    one of the page-or-fragment URLs."""
    for endpoint in (*htmx.POLL_SECONDS, *htmx.CONFIGURED_POLL_SECONDS):
        with app.test_request_context():
            url = htmx.url_for(endpoint)
        assert url in FRAGMENT_ONLY or url in OPERATOR_FRAGMENT_ONLY or url in PAGE_OR_FRAGMENT, endpoint


def test_signing_in_with_a_fragment_as_next_ends_on_its_page(client, make_user):
    make_user("ann", "attendant")
    r = sign_in(client, "ann", next_url="/g/main/desk/live")
    assert r.status_code == 303
    landed = client.get(r.headers["Location"], follow_redirects=True)
    assert landed.request.path == "/g/main/desk" and landed.status_code == 200
    assert soup(landed).select_one("link[rel=stylesheet]") is not None  # a whole, styled page
