"""Where the areas meet, on SQLite and PostgreSQL: the current rates on the desk and
the printed ticket, lost tickets on the quote and on every receipt, the desk's
polling marked so it does not keep an idle session alive, and the nav per role."""
from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest

from garage.services import settings as settings_service
from garage.identity import Actor
from tests.helpers.db import backdate, ticket
from tests.helpers.web import HTMX, signed_in, soup, text
from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN

BOSS = Actor(None, "boss", "127.0.0.1")


def rate_lines(node) -> list[str]:
    assert node is not None, "no current rates panel"
    return [text(li) for li in node.select(".rates-list li")]


# --- 1. current rates on the desk and on the printed ticket ------------------------------

def test_desk_and_printed_ticket_show_the_rates_in_force_now(desk):
    number = desk.issue("RATE 1")
    page = soup(desk.client.get("/g/main/desk"))
    assert rate_lines(page.select_one("#desk-rates")) == ["$10.00 per started hour"]
    slip = soup(desk.client.get(f"/g/main/desk/tickets/{number}/print"))
    assert rate_lines(slip.select_one(".slip")) == ["$10.00 per started hour"]

    settings_service.update_settings(MAIN, BOSS, grace_minutes=10, lost_ticket_fee_cents=5000,
                                     vehicle_rates={"Motorcycle": 400})
    expected = ["$10.00 per started hour", "Motorcycle: $4.00 per started hour", "First 10 minutes free",
                "Lost ticket: $50.00 instead of the time fee"]
    assert rate_lines(soup(desk.client.get("/g/main/desk")).select_one("#desk-rates")) == expected
    assert rate_lines(soup(desk.client.get(f"/g/main/desk/tickets/{number}/print")).select_one(".slip")) == expected
    # The panel refreshes itself: the polled fragment has the new line too.
    fragment = soup(desk.client.get("/g/main/desk/rates", headers=HTMX))
    assert rate_lines(fragment.select_one("#desk-rates")) == expected
    assert fragment.find("html") is None


def test_desk_page_links_the_stylesheet_that_lays_out_the_rates(desk):
    page = soup(desk.client.get("/g/main/desk"))
    sheets = [link["href"] for link in page.select('link[rel="stylesheet"]')]
    assert any(href.split("?v=")[0].endswith("/desk.css") for href in sheets)
    css = desk.client.get("/static/css/desk.css").get_data(as_text=True)
    assert ".desk-rates .rates-list" in css and ".slip-rates" in css


# --- 2. lost tickets: the breakdown before payment and on every receipt -----------------

def lost_fee_lines(node) -> dict[str, str]:
    """{"time": ..., "lost": ...} from the breakdown lines of a quote or receipt."""
    return {"time": text(node.select_one("[data-time-fee]")), "lost": text(node.select_one("[data-lost-fee]"))}


@pytest.mark.parametrize("mode, time_fee, total", [("replace", "$0.00", "$50.00"), ("add", "$30.00", "$80.00")])
@pytest.mark.parametrize("htmx", [False, True])
def test_lost_ticket_breakdown_on_quote_receipt_and_printed_receipt(desk, mode, time_fee, total, htmx):
    settings_service.update_settings(MAIN, BOSS, lost_ticket_fee_cents=5000, lost_ticket_mode=mode)
    number = desk.issue("LOST 7")
    backdate(number, hours=2, minutes=30)  # 3 started hours: $30.00 of time

    quote = soup(desk.lookup("lost7", lost=True, htmx=htmx)).select_one("#exit .quote")
    assert lost_fee_lines(quote) == {"time": time_fee + (" (3 h)" if mode == "add" else ""), "lost": "$50.00"}
    assert text(quote.select_one("[data-amount]")) == total
    assert "Lost ticket" in text(quote) or "lost ticket" in text(quote)

    r = desk.pay(number, "Cash", desk.quote("lost7", lost=True), lost=True, htmx=htmx)
    if not htmx:
        assert r.status_code == 303
        r = desk.client.get(r.headers["Location"])
    exit_card = soup(r).select_one("#exit")
    # The next car has its ticket: the lookup is back to ticket numbers, not stuck in "lost".
    assert not exit_card.select_one('input[name="lost"][type="checkbox"]').has_attr("checked")
    assert text(exit_card.select_one('label[for="lookup-q"]')) == "Ticket number or plate"
    receipt = exit_card.select_one(".receipt-card")
    assert "Lost ticket" in text(receipt.select_one("[data-ticket-number]"))
    assert text(receipt.select_one(".plate")) == "LOST 7"  # upper-cased by CSS: the type is not in it
    assert lost_fee_lines(receipt)["lost"] == "$50.00"
    assert lost_fee_lines(receipt)["time"].startswith(time_fee)
    assert text(receipt.select_one("[data-amount-paid]")) == total

    # Later rule changes do not rewrite what was charged.
    settings_service.update_settings(MAIN, BOSS, lost_ticket_fee_cents=100, lost_ticket_mode="add")
    printed = soup(desk.client.get(f"/g/main/desk/tickets/{number}/receipt"))
    slip = printed.select_one(".slip")
    assert "Lost ticket" in text(slip.select_one(".slip-kind"))
    assert lost_fee_lines(slip)["lost"] == "$50.00" and lost_fee_lines(slip)["time"].startswith(time_fee)
    assert text(slip.select_one(".slip-total strong")) == total
    assert ticket(number).lost_fee_cents == 5000


def test_a_normal_exit_shows_no_lost_ticket_lines(desk):
    settings_service.update_settings(MAIN, BOSS, lost_ticket_fee_cents=5000, lost_ticket_mode="add")
    number = desk.issue("FOUND 1")
    backdate(number, minutes=30)
    quote = soup(desk.lookup(number)).select_one("#exit .quote")
    assert quote.select_one("[data-lost-fee]") is None and "lost" not in text(quote).lower()
    r = desk.client.get(desk.pay(number, "Cash", 1000).headers["Location"])
    receipt = soup(r).select_one("#exit .receipt-card")
    assert receipt.select_one("[data-lost-fee]") is None and "Lost" not in text(receipt)
    slip = soup(desk.client.get(f"/g/main/desk/tickets/{number}/receipt")).select_one(".slip")
    assert "Lost" not in text(slip) and text(slip.select_one(".slip-total strong")) == "$10.00"


# --- 3. polling is not activity ------------------------------------------------------------

def poll_headers(node) -> dict[str, str]:
    return json.loads(node["hx-headers"]) if node.has_attr("hx-headers") else {}


def test_the_desks_polling_elements_are_marked_and_what_attendants_tap_is_not(desk):
    for _ in range(11):  # two pages of cars inside: a pager link
        desk.issue(f"POLL {_:02d}")
    page = soup(desk.client.get("/g/main/desk"))
    polling = page.select('[hx-trigger*="every"]')
    assert {node["id"] for node in polling} == {"live", "activity", "inside-list", "desk-rates"}
    for node in polling:
        assert poll_headers(node) == {"X-Garage-Poll": "1"}, node["id"]
    # htmx merges hx-headers from the ancestors (nearest wins): links inside the polled list
    # would inherit the mark, so the ones an attendant taps undo it.
    taps = page.select("#inside-list [hx-get]")
    assert any("Exit" in text(a) for a in taps) and any(a.get("rel") == ["next"] for a in taps)
    for a in taps:
        assert poll_headers(a) == {"X-Garage-Poll": "0"}, text(a)
    # The fragments keep the mark when they replace themselves (and when sent out-of-band).
    for url, node_id in (("/g/main/desk/live", "live"), ("/g/main/desk/activity", "activity"),
                         ("/g/main/desk/inside", "inside-list"), ("/g/main/desk/rates", "desk-rates")):
        assert poll_headers(soup(desk.client.get(url, headers=HTMX)).select_one(f"#{node_id}")) == {"X-Garage-Poll": "1"}
    r = desk.enter("POLL 99", htmx=True)
    for node_id in ("live", "activity"):
        node = soup(r).select_one(f"#{node_id}[hx-swap-oob]")
        assert poll_headers(node) == {"X-Garage-Poll": "1"}
    # <body> still sends the CSRF token to everything (merged with the poll mark).
    assert "X-CSRFToken" in poll_headers(page.find("body"))


def test_the_lobby_screen_poll_is_marked_too(client):
    node = soup(client.get("/g/main/lobby")).select_one('[hx-trigger*="every"]')
    assert poll_headers(node) == {"X-Garage-Poll": "1"}


def test_a_desk_left_polling_signs_out_after_the_idle_time(app, make_user, move_clock):
    client = signed_in(app, make_user, "ann", "attendant")
    poll = {**HTMX, "X-Garage-Poll": "1"}
    for hours in (3, 6, 9, 11.9):  # the page polls all along; nobody touches it
        move_clock(hours)
        for url in ("/g/main/desk/live", "/g/main/desk/activity", "/g/main/desk/inside", "/g/main/desk/rates"):
            assert client.get(url, headers=poll).status_code == 200, (hours, url)
    move_clock(12.1)
    r = client.get("/g/main/desk/live", headers=poll)
    assert r.status_code == 401 and urlsplit(r.headers["HX-Redirect"]).path == "/login"


def test_a_tap_on_the_desk_keeps_the_session(app, make_user, move_clock):
    client = signed_in(app, make_user, "ann", "attendant")
    move_clock(11)
    assert client.get("/g/main/desk/inside", headers={**HTMX, "X-Garage-Poll": "0"}).status_code == 200
    move_clock(22)  # 11 h after the tap
    assert client.get("/g/main/desk/live", headers={**HTMX, "X-Garage-Poll": "1"}).status_code == 200


# --- 4. nav and roles across the areas ------------------------------------------------------

EVERYONE = ["Desk", "Shift", "Lobby"]
MANAGERS = ["Reports", "Permits", "Staff", "Audit log", "Settings"]
MANAGER_PAGES = ("/g/main/reports", "/g/main/permits", "/g/main/admin/users", "/g/main/admin/audit", "/g/main/settings")


def nav_links(client, path: str = "/g/main/desk") -> list[str]:
    return [text(a) for a in soup(client.get(path)).select("nav.nav a")]


def test_attendant_sees_the_desk_and_lobby_only(app, make_user):
    """The API docs (Swagger) are a manager's link: an attendant at the desk has no use for them
    (issue 15); the page itself stays open to staff, whose API tokens it describes."""
    attendant = signed_in(app, make_user, "ann", "attendant")
    assert attendant.get("/", follow_redirects=True).request.path == "/g/main/desk"
    for path in ("/g/main/desk", "/account/password"):
        assert nav_links(attendant, path) == EVERYONE, path
    for path in MANAGER_PAGES:
        r = attendant.get(path)
        assert r.status_code == 403, path
        assert nav_links(attendant, path) == EVERYONE  # the 403 page keeps the nav
    assert attendant.get("/g/main/lobby").status_code == 200 and attendant.get("/docs").status_code == 200


def test_manager_sees_every_area_and_lands_on_the_desk(app, make_user):
    boss = signed_in(app, make_user, "boss", "manager")
    r = boss.get("/")
    assert r.status_code == 302 and boss.get("/", follow_redirects=True).request.path == "/g/main/desk"
    expected = ["Desk", "Shift", *MANAGERS, "Lobby", "API docs"]
    for path in ("/g/main/desk", *MANAGER_PAGES):
        assert boss.get(path).status_code == 200, path
        assert nav_links(boss, path) == expected, path


def test_signed_out_visitors_see_no_staff_nav(client):
    assert urlsplit(client.get("/").headers["Location"]).path == "/login"
    assert soup(client.get("/login")).select("nav.nav a") == []
    assert soup(client.get("/g/main/lobby")).select("nav.nav a") == []


def test_the_menu_drawn_for_one_reader_is_never_shown_to_another(app, make_user):
    """The menu is kept as drawn in each process (garage/templating.nav_menu), under the page, the
    reader's roles there, the language and the garage: readers of the same page one after another each
    see their own, a role taken away or a language chosen shows on the next page, and the page you are
    on is the one marked."""
    from garage.extensions import db
    from garage.models import User
    from tests.helpers.garages import grant

    boss = signed_in(app, make_user, "boss", "manager")
    ann = signed_in(app, make_user, "ann", "attendant")
    for _ in range(2):
        assert nav_links(boss) == ["Desk", "Shift", *MANAGERS, "Lobby", "API docs"]
        assert nav_links(ann) == EVERYONE
    marked = [text(a) for a in soup(boss.get("/g/main/reports")).select("nav.nav a[aria-current=page]")]
    assert marked == ["Reports"]
    grant("boss", MAIN, "attendant")  # no longer a manager here, while signed in
    assert nav_links(boss) == EVERYONE
    db.session.execute(db.update(User).where(User.username == "ann").values(language="de"))
    db.session.commit()
    assert nav_links(ann) == ["Kasse", "Schicht", "Anzeige"]
    assert nav_links(boss) == EVERYONE


def test_a_person_whose_last_grant_was_taken_away_has_no_garage_links_in_the_menu(app, make_user):
    """An outside check found the default garage's Desk, Shift and Lobby in the menu of someone who holds
    no garage any more (each link answering 404). Pages outside a garage show no garage link for them,
    while an attendant on the same page (the menu is kept per reader's role: nav_menu) still sees theirs."""
    from tests.helpers.garages import revoke

    gus = signed_in(app, make_user, "gus", "attendant")
    ann = signed_in(app, make_user, "ann", "attendant")
    revoke("gus", MAIN)
    for path in ("/account", "/g/main/desk", "/g/nowhere/desk"):
        assert nav_links(ann, path) == EVERYONE, path
        r = gus.get(path)
        assert r.status_code in (200, 404), (path, r.status_code)
        assert [text(a) for a in soup(r).select("nav.nav a")] == [], path
        assert nav_links(ann, path) == EVERYONE, path


def test_an_error_page_keeps_the_menu_and_marks_none_of_its_links(app, make_user):
    """A 404 for another garage's desk is not the person's own desk, a 403 not the page refused: the
    menu is there, no link marked as the page you are on (an outside check found the Desk link of the
    person's own garage marked on another garage's 404)."""
    from tests.helpers.garages import second_garage

    second_garage("north")
    ann = signed_in(app, make_user, "ann", "attendant")
    for path, status in (("/g/north/desk", 404), ("/g/nowhere/desk", 404), ("/g/main/reports", 403)):
        r = ann.get(path)
        assert r.status_code == status, path
        page = soup(r)
        assert [text(a) for a in page.select("nav.nav a")] == EVERYONE, path
        assert page.select("nav.nav a[aria-current]") == [] and page.select("nav.nav a.active") == [], path
    marked = soup(ann.get("/g/main/desk")).select("nav.nav a[aria-current=page]")  # and its own desk still is
    assert [text(a) for a in marked] == ["Desk"]
