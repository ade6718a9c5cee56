"""Pages per garage (issue 17 stage 2): every page of a garage under /g/<slug>, the URLs of
before sending people to their garage (or a chooser, remembered per tablet), another garage's
pages a 404 for anyone without a role there, each garage's lobby and top bar its own."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN
from garage.extensions import db
from garage.garages_web import AREAS, DESK_COOKIE, PUBLIC_AREAS, URL_VALUE
from garage.models import Ticket
from garage.services import tickets
from tests.helpers.garages import PASSWORD, make_admin, person, revoke, second_garage
from tests.helpers.web import HTMX, csrf_token, sign_in, soup, text

# Every old URL (its sub-paths and query strings kept): (old, where it goes in the garage).
OLD_URLS = ["/desk", "/desk/exit?q=AB", "/desk/live", "/desk/tickets/PS-AAAA22/print", "/lobby", "/lobby/panel",
            "/reports", "/reports?from=2026-03-01&to=2026-03-08", "/reports/charts/occupancy.svg", "/settings",
            "/admin/users", "/admin/audit?action=ticket.issued&page=2"]
OLD_POSTS = ["/desk/entries", "/desk/tickets/PS-AAAA22/exit", "/settings", "/admin/users",
             "/admin/users/dave/deactivate"]


def browser(app, username: str):
    client = app.test_client()
    assert sign_in(client, username).status_code == 303
    return client


@pytest.fixture
def north(app) -> int:
    return second_garage("north", "North", 3)


# --- the URLs of before --------------------------------------------------------------------------

@pytest.mark.parametrize("old", OLD_URLS)
def test_an_old_url_sends_a_one_garage_person_to_the_same_page_of_their_garage(app, old):
    person("ann", {MAIN: "manager"})
    r = browser(app, "ann").get(old)
    assert (r.status_code, r.headers["Location"]) == (302, "/g/main" + old)


@pytest.mark.parametrize("old", OLD_POSTS)
def test_a_form_posted_to_an_old_url_is_posted_again_to_the_garage_s(app, north, old):
    """307: the browser posts the same body again (a tablet open during the upgrade loses nothing)."""
    person("ann", {north: "manager"})
    client = browser(app, "ann")
    r = client.post(old, data={"plate": "AB 1", "csrf_token": csrf_token(client, "/g/north/desk")})
    assert (r.status_code, r.headers["Location"]) == (307, "/g/north" + old)


def test_a_form_posted_to_the_old_desk_reaches_the_garage_with_its_data(app, north):
    person("ann", {north: "attendant"})
    client = browser(app, "ann")
    token = csrf_token(client, "/g/north/desk")
    form = {"plate": "OLD 1", "vehicle_type": "Car", "csrf_token": token}
    r = client.post("/desk/entries", data=form)
    r = client.post(r.headers["Location"], data=form)  # what a browser does on a 307: the same body again
    assert r.status_code == 303 and r.headers["Location"].startswith("/g/north/desk/tickets/")
    plates = db.session.execute(sa.select(Ticket.garage_id, Ticket.license_plate)).all()
    assert [tuple(row) for row in plates] == [(north, "OLD 1")]


def test_an_old_url_signed_out_goes_to_sign_in_and_then_to_the_person_s_garage(app, client, north):
    person("ann", {north: "attendant"})
    r = client.get("/desk/exit?q=AB")
    assert r.status_code == 302 and "/login?next=/desk/exit?q%3DAB" in r.headers["Location"]
    r = sign_in(client, "ann", next_url="/desk/exit?q=AB")
    assert r.headers["Location"] == "/desk/exit?q=AB"
    assert client.get("/desk/exit?q=AB").headers["Location"] == "/g/north/desk/exit?q=AB"


def test_the_public_lobby_is_the_only_garage_s_or_a_chooser_of_every_garage(app, client):
    assert client.get("/lobby").headers["Location"] == "/g/main/lobby"
    second_garage("north", "North Deck")
    second_garage("south", "South Deck")
    page = soup(client.get("/lobby"))
    links = {a.select_one(".choice-name").text: a["href"] for a in page.select(".garage-choice a")}
    assert links == {"Main garage": "/g/main/lobby", "North Deck": "/g/north/lobby", "South Deck": "/g/south/lobby"}


def test_several_garages_open_a_chooser_of_theirs_and_the_choice_is_remembered(app, north):
    second_garage("south", "South")  # not theirs: never listed
    person("ann", {MAIN: "attendant", north: "manager"})
    client = browser(app, "ann")
    r = client.get("/desk")
    assert r.status_code == 200
    page = soup(r)
    assert [b["value"] for b in page.select('.garage-choice button[name="garage"]')] == ["main", "north"]
    r = client.post("/desk/choose", data={"garage": "north", "next": "/desk",
                                          "csrf_token": page.find("input", attrs={"name": "csrf_token"})["value"]})
    assert (r.status_code, r.headers["Location"]) == (303, "/g/north/desk")
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith(f"{DESK_COOKIE}=north;") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Max-Age=" in cookie  # remembered beyond the session
    assert client.get("/desk").headers["Location"] == "/g/north/desk"  # next time: straight there
    assert client.get("/reports?from=2026-03-01").headers["Location"] == "/g/north/reports?from=2026-03-01"
    desk = soup(client.get("/g/north/desk"))
    assert desk.select_one(".switch-garage a")["href"] == "/desk/choose"
    assert soup(client.get("/desk/choose")).select('.garage-choice button[name="garage"]')  # the switch shows it


def test_the_chooser_shows_each_garage_s_free_spaces_or_full(app, client, north):
    """An outside walk: the chooser gave names only, so an attendant sent to a FULL garage learned
    it at its desk. Each choice shows its free spaces now (the counters the lobby shows)."""
    tickets.issue_ticket(north, "FULL 1", "Car")
    tickets.issue_ticket(north, "FULL 2", "Car")
    tickets.issue_ticket(north, "FULL 3", "Car")  # north: 3 spaces, all taken
    tickets.issue_ticket(MAIN, "MAIN 1", "Car")
    person("ann", {MAIN: "attendant", north: "attendant"})

    def choices(page) -> dict[str, tuple[str, str]]:
        return {li["data-slug"]: (li.select_one(".choice-name").text, li.select_one("[data-free]").text)
                for li in page.select(".garage-choice li")}

    staff = soup(browser(app, "ann").get("/desk/choose"))
    assert choices(staff) == {"main": ("Main garage", "139 spaces free"), "north": ("North", "FULL")}
    assert staff.select_one('li[data-slug="north"]')["data-state"] == "FULL"
    assert all(li.select_one("button.btn") for li in staff.select(".garage-choice li"))  # a button each
    assert choices(soup(client.get("/lobby"))) == choices(staff)  # the public chooser too


def test_a_choice_of_a_garage_not_theirs_is_refused_and_a_stale_cookie_ignored(app, north):
    second_garage("south", "South")
    person("ann", {MAIN: "attendant", north: "attendant"})
    client = browser(app, "ann")
    token = csrf_token(client, "/desk/choose")
    assert client.post("/desk/choose", data={"garage": "south", "csrf_token": token}).status_code == 404
    client.set_cookie(DESK_COOKIE, "south")
    assert client.get("/desk").status_code == 200  # the chooser, not south's desk


def test_one_garage_has_no_chooser_and_no_switch_link(app, north):
    person("ann", {north: "attendant"})
    client = browser(app, "ann")
    assert client.get("/desk").headers["Location"] == "/g/north/desk"
    assert soup(client.get("/g/north/desk")).select_one(".switch-garage") is None


def test_a_poll_from_a_page_of_before_still_gets_its_fragment(app, north):
    """A tablet open during the upgrade polls /desk/live: the redirect is followed by the XHR with
    its headers, and the answer is the fragment; never the chooser, even with several garages."""
    person("ann", {MAIN: "attendant", north: "attendant"})
    client = browser(app, "ann")
    r = client.get("/desk/live", headers=HTMX)
    assert (r.status_code, r.headers["Location"]) == (302, "/g/main/desk/live")  # the garage the page showed
    fragment = client.get("/desk/live", headers=HTMX, follow_redirects=True)
    assert fragment.status_code == 200 and soup(fragment).find("html") is None
    assert soup(fragment).select_one(".garage-choice") is None
    page = browser(app, "ann").get("/g/north/desk/live", follow_redirects=True)  # typed in: its page
    assert page.request.path == "/g/north/desk" and soup(page).find("html") is not None


def test_signing_in_with_a_garage_s_fragment_as_next_lands_on_that_garage_s_page(app, client, north):
    person("ann", {MAIN: "attendant", north: "attendant"})
    r = sign_in(client, "ann", next_url="/g/north/desk/inside?q=AB")
    assert r.headers["Location"] == "/g/north/desk"


# --- another garage's pages ----------------------------------------------------------------------------

def garage_urls(app, slug: str, ticket: str, public: bool = True):
    """(method, URL) of every route of a garage's pages (the `garage` URL value), at `slug`;
    without the public ones (the lobby) unless `public`."""
    values = {"number": ticket, "username": "ann", "name": "occupancy", "shift_id": "1", "date": "2026-01-01",
              "position": "1", "permit_id": "1"}
    for rule in app.url_map.iter_rules():
        if URL_VALUE not in rule.arguments or rule.endpoint.partition(".")[0] not in AREAS:
            continue  # the API's /api/garages/<slug>/... : tests/api
        if not public and rule.endpoint.partition(".")[0] in PUBLIC_AREAS:
            continue
        url = rule.rule.replace(f"<{URL_VALUE}>", slug)
        for name in rule.arguments - {URL_VALUE}:
            url = url.replace(f"<{name}>", values[name])
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, url


def test_every_page_and_fragment_of_a_garage_without_a_grant_is_not_found(app, north):
    """Generated from the URL map: a new page of a garage is checked without being listed here."""
    person("ann", {MAIN: "manager"})
    ticket = tickets.issue_ticket(north, "NORTH 1", "Car").ticket_number
    client = browser(app, "ann")
    token = csrf_token(client, "/g/main/desk")
    checked = 0
    for method, url in garage_urls(app, "north", ticket, public=False):
        for headers in ({}, HTMX):
            r = client.open(url, method=method, headers=headers, data={"csrf_token": token, "plate": "X 1"})
            assert r.status_code == 404, (method, url, headers)
            assert "North" not in text(r) and "/g/north" not in r.get_data(as_text=True)
        checked += 1
    assert checked >= 20  # every non-public route of a garage (the lobby is public: its own test)
    for method, url in garage_urls(app, "main", ticket):  # their own garage answers (not all 404)
        if method == "GET" and url.endswith(("/desk", "/lobby", "/reports", "/settings", "/admin/users")):
            assert client.get(url).status_code == 200, url


def test_another_garage_s_lobby_is_public_for_a_signed_in_person_too(app, client, north):
    """The lobby is a public screen: a person signed in at another garage sees it as a stranger does."""
    person("ann", {MAIN: "manager"})
    signed_in = browser(app, "ann")
    for url in ("/g/north/lobby", "/g/north/lobby/panel"):
        stranger, ann = client.get(url, headers=HTMX), signed_in.get(url, headers=HTMX)
        assert stranger.status_code == ann.status_code == 200, url
        assert soup(ann).select_one("#lobby-free").text == soup(stranger).select_one("#lobby-free").text


def test_an_unknown_garage_is_not_found_for_anyone(app, client):
    person("ann", {MAIN: "manager"})
    for who in (client, browser(app, "ann")):
        for method, url in garage_urls(app, "nowhere", "PS-AAAA22"):
            assert who.open(url, method=method).status_code == 404, (method, url)


def test_an_admin_works_at_every_garage(app, north):
    from garage.services import accounts
    from tests.helpers.garages import CLI, PASSWORD

    accounts.create_user("root", PASSWORD, "admin", CLI, allow_admin=True)
    client = browser(app, "root")
    assert client.get("/g/north/admin/users").status_code == 200
    assert client.get("/g/main/settings").status_code == 200


def test_an_attendant_here_and_a_manager_there_manages_only_there(app, north):
    person("ann", {MAIN: "attendant", north: "manager"})
    client = browser(app, "ann")
    for path in ("/reports", "/settings", "/admin/users", "/admin/audit"):
        assert client.get("/g/main" + path).status_code == 403, path
        assert client.get("/g/north" + path).status_code == 200, path
    main_nav = [a.text for a in soup(client.get("/g/main/desk")).select("nav a")]
    north_nav = [a.text for a in soup(client.get("/g/north/desk")).select("nav a")]
    assert "Reports" not in main_nav and "Reports" in north_nav
    assert all(a["href"].startswith("/g/north/") for a in soup(client.get("/g/north/desk")).select("nav a")
               if a.text != "API docs")


def test_each_garage_s_lobby_shows_its_own_counts_and_name(app, client, north):
    tickets.issue_ticket(north, "N 1", "Car")
    tickets.issue_ticket(MAIN, "M 1", "Car")
    tickets.issue_ticket(MAIN, "M 2", "Car")
    total_main = soup(client.get("/g/main/lobby")).select_one("#lobby-counts").text
    assert total_main.startswith("2 of ")
    north_page = soup(client.get("/g/north/lobby"))
    assert north_page.select_one("#lobby-counts").text.startswith("1 of 3 ")
    assert north_page.select_one(".panel-name").text == "North"
    panel = soup(client.get("/g/north/lobby/panel", headers=HTMX))
    assert panel.select_one("#lobby-free").text == "2"


def test_the_top_bar_names_the_garage(app, north):
    person("ann", {MAIN: "attendant", north: "attendant"})
    client = browser(app, "ann")
    assert soup(client.get("/g/north/desk")).select_one(".brand").text == "North"
    assert soup(client.get("/g/main/desk")).select_one(".brand").text == "Main garage"  # the default garage's name, not the app's
    assert soup(client.get("/account/password")).select_one(".brand").text == "Garage"  # no garage's page


# --- pages outside /g/<slug>/ ---------------------------------------------------------------------

def chosen(app, username: str, slug: str):
    """`username` signed in on a tablet where they chose the garage `slug` (the chooser's form)."""
    client = browser(app, username)
    r = client.post("/desk/choose", data={"garage": slug, "next": "/desk", "csrf_token": csrf_token(client, "/desk/choose")})
    assert r.headers["Location"] == f"/g/{slug}/desk"
    return client


def test_a_page_outside_a_garage_leads_back_to_the_garage_chosen_on_this_tablet(app, north):
    """An attendant of main and north working at north changes their password: the page's menu, and
    where the change lands, is north's desk, not their lowest-id garage's."""
    person("ann", {MAIN: "attendant", north: "manager"})
    client = chosen(app, "ann", "north")
    page = soup(client.get("/account/password"))
    links = {a.text: a["href"] for a in page.select("nav a")}
    assert links["Desk"] == "/g/north/desk" and links["Reports"] == "/g/north/reports"  # a manager at north
    token = page.find("input", attrs={"name": "csrf_token"})["value"]
    r = client.post("/account/password", data={"current_password": PASSWORD, "new_password": "a new horse battery x",
                                               "confirm_password": "a new horse battery x", "csrf_token": token},
                    follow_redirects=True)
    assert r.request.path == "/g/north/desk", r.request.path
    nothing = soup(client.get("/no/such/page"))  # an error page's top bar too
    assert {a.text: a["href"] for a in nothing.select("nav a")}["Desk"] == "/g/north/desk"


def test_a_remembered_garage_no_longer_theirs_is_ignored_outside_a_garage(app, north):
    second_garage("south", "South")
    person("ann", {MAIN: "attendant", north: "attendant"})
    client = browser(app, "ann")
    for cookie in ("south", "nowhere", "NORTH", "north\x00"):  # not theirs, no garage, not a slug
        client.set_cookie(DESK_COOKIE, cookie)
        links = {a.text: a["href"] for a in soup(client.get("/account/password")).select("nav a")}
        assert links["Desk"] == "/g/main/desk", cookie  # their first garage, as without a choice
    client = chosen(app, "ann", "north")
    revoke("ann", north)
    links = {a.text: a["href"] for a in soup(client.get("/account/password")).select("nav a")}
    assert links["Desk"] == "/g/main/desk"


def test_an_admin_s_page_outside_a_garage_leads_to_the_garage_chosen(app, north):
    make_admin("root")
    client = chosen(app, "root", "north")
    links = {a.text: a["href"] for a in soup(client.get("/portfolio")).select("nav a")}
    assert links["Desk"] == "/g/north/desk" and links["Settings"] == "/g/north/settings"


# --- which garages an old URL may mean --------------------------------------------------------------

MANAGERS_PAGES = ["/reports", "/settings", "/admin/users", "/admin/audit?page=2", "/reports/export/rows.csv?from=2026-03-01"]


@pytest.mark.parametrize("old", MANAGERS_PAGES)
def test_an_old_manager_s_url_is_refused_at_once_to_an_attendant_of_several_garages(app, north, old):
    """No chooser leading to a 403: their role at none of their garages opens the page."""
    person("ann", {MAIN: "attendant", north: "attendant"})
    r = browser(app, "ann").get(old)
    assert r.status_code == 403 and soup(r).select_one(".garage-choice") is None


def test_the_chooser_of_an_old_url_lists_only_the_garages_where_that_page_opens(app, north):
    south = second_garage("south", "South")
    person("ann", {MAIN: "attendant", north: "manager", south: "manager"})
    client = browser(app, "ann")
    offered = [b["value"] for b in soup(client.get("/reports?from=2026-03-01")).select(".garage-choice button")]
    assert offered == ["north", "south"]  # main: an attendant there, its reports would be a 403
    assert [b["value"] for b in soup(client.get("/desk")).select(".garage-choice button")] == ["main", "north", "south"]
    client.set_cookie(DESK_COOKIE, "main")  # remembered, but no reports for them there: the chooser still
    assert [b["value"] for b in soup(client.get("/settings")).select(".garage-choice button")] == ["north", "south"]
    assert client.get("/desk").headers["Location"] == "/g/main/desk"


def test_an_old_manager_s_url_goes_straight_to_the_one_garage_they_manage(app, north):
    person("ann", {MAIN: "attendant", north: "manager"})
    client = browser(app, "ann")
    for old in MANAGERS_PAGES:
        r = client.get(old)
        assert (r.status_code, r.headers["Location"]) == (302, "/g/north" + old)


@pytest.mark.parametrize("old", ["/reports/export/rows.csv?from=2026-03-01&to=2026-03-08",
                                 "/reports/export/tickets.csv", "/reports/charts/occupancy.svg",
                                 "/desk/tickets/PS-AAAA22/print", "/desk/tickets/PS-AAAA22/receipt"])
def test_an_old_file_s_url_of_several_garages_names_them_instead_of_a_chooser(app, north, old):
    """A download, a chart or a print page never turns into a chooser page: with no remembered
    garage, a plain 409 naming each garage's address; with one, that garage's file."""
    person("ann", {MAIN: "manager", north: "manager"})
    client = browser(app, "ann")
    r = client.get(old)
    assert (r.status_code, r.mimetype) == (409, "text/plain")
    body = r.get_data(as_text=True)
    assert f"Main garage: /g/main{old}" in body and f"North: /g/north{old}" in body and "<" not in body
    client.set_cookie(DESK_COOKIE, "north")
    assert (client.get(old).status_code, client.get(old).headers["Location"]) == (302, "/g/north" + old)


@pytest.fixture
def south(app) -> int:
    return second_garage("south", "South", 3)


@pytest.mark.parametrize("old", ["/desk/entries", "/settings", "/admin/users"])
def test_an_old_form_of_a_person_of_several_garages_is_never_sent_to_a_garage_nobody_chose(app, north, south, old):
    """A form of a page opened before the upgrade was the default garage's (the only one then); for a
    person not working there and with no garage remembered on this tablet, it is not carried to their
    first garage (an entry, a setting, an account would land where nobody chose): a plain 409 naming
    the garages, nothing written anywhere. Remembered: carried there (307)."""
    person("bob", {north: "manager", south: "manager"})
    client = browser(app, "bob")
    form = {"plate": "STALE 1", "vehicle_type": "Car", "csrf_token": csrf_token(client, "/g/north/desk")}
    r = client.post(old, data=form)
    assert (r.status_code, r.mimetype) == (409, "text/plain"), r.headers.get("Location")
    assert f"/g/north{old}" in r.get_data(as_text=True) and f"/g/south{old}" in r.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Ticket.id))) == 0
    client.set_cookie(DESK_COOKIE, "south")
    r = client.post(old, data=form)
    assert (r.status_code, r.headers["Location"]) == (307, "/g/south" + old)


def test_an_old_form_of_a_person_of_the_default_garage_and_another_goes_on_at_the_default(app, north):
    """The same form from someone who works at the default garage too: that page was the default
    garage's, so the form goes on there (a tablet open during the upgrade loses nothing)."""
    person("ann", {MAIN: "attendant", north: "attendant"})
    client = browser(app, "ann")
    r = client.post("/desk/entries", data={"plate": "OLD 2", "vehicle_type": "Car",
                                           "csrf_token": csrf_token(client, "/g/north/desk")})
    assert (r.status_code, r.headers["Location"]) == (307, "/g/main/desk/entries")


@pytest.mark.parametrize("method, old", [("GET", "/desk/live"), ("POST", "/desk/entries")])
def test_an_old_desk_s_htmx_request_of_several_garages_sends_the_page_to_the_chooser(app, north, south, method, old):
    """A poll or a form of a desk page opened before the upgrade, for a person not at the default
    garage and of several garages: the whole page goes to the chooser (HX-Redirect), nothing done."""
    person("bob", {north: "attendant", south: "attendant"})
    client = browser(app, "bob")
    form = {"plate": "STALE 2", "vehicle_type": "Car", "csrf_token": csrf_token(client, "/g/north/desk")}
    r = client.open(old, method=method, headers=HTMX, data=form if method == "POST" else None)
    assert r.status_code == 409 and r.headers["HX-Redirect"] == "/desk/choose"
    assert "Location" not in r.headers
    assert db.session.scalar(sa.select(sa.func.count(Ticket.id))) == 0


def test_a_desk_left_open_after_its_grant_was_revoked_is_sent_to_the_person_s_desk(app, north):
    """Its polls and forms answer 404 as for any garage not theirs, and the whole page goes to the
    person's own desk (HX-Redirect): the attendant sees where they may work instead of a desk that
    silently stopped. An unknown garage answers the same (nothing tells the two apart)."""
    person("ann", {MAIN: "attendant", north: "attendant"})
    client = browser(app, "ann")
    assert client.get("/g/north/desk/live", headers=HTMX).status_code == 200
    revoke("ann", north)
    for url in ("/g/north/desk/live", "/g/nowhere/desk/live"):
        r = client.get(url, headers=HTMX)
        assert (r.status_code, r.headers.get("HX-Redirect")) == (404, "/desk"), url
        assert "north" not in r.get_data(as_text=True).lower()
    r = client.post("/g/north/desk/entries", headers=HTMX, data={"plate": "LATE 9", "vehicle_type": "Car",
                                                                 "csrf_token": csrf_token(client, "/g/main/desk")})
    assert (r.status_code, r.headers.get("HX-Redirect")) == (404, "/desk")
    assert db.session.scalar(sa.select(sa.func.count(Ticket.id))) == 0
    assert client.get("/desk").headers["Location"] == "/g/main/desk"  # where that redirect lands
    page = client.get("/g/north/desk")  # a person typing it: the 404 page, no redirect
    assert page.status_code == 404 and "HX-Redirect" not in page.headers


def test_a_signed_in_person_with_no_garage_still_sees_the_public_lobby(app):
    """Someone whose every grant was taken away: the lobby is public, as for anyone signed out."""
    person("gus", {MAIN: "attendant"})
    revoke("gus", MAIN)
    client = browser(app, "gus")
    r = client.get("/lobby")
    assert (r.status_code, r.headers["Location"]) == (302, "/g/main/lobby")
    assert client.get("/g/main/lobby").status_code == 200


def test_each_garage_s_csv_downloads_are_named_after_it(app, north):
    """A manager of two garages downloading the same period twice gets two files, not one file
    saved over the other (the name leads with the garage's slug)."""
    person("max", {MAIN: "manager", north: "manager"})
    client = browser(app, "max")
    period = "from=2026-03-01&to=2026-03-08"
    for slug in ("main", "north"):
        rows = client.get(f"/g/{slug}/reports/export/rows.csv?{period}")
        rows.get_data()  # streamed: read to the end (the request's context closes with it)
        tickets_csv = client.get(f"/g/{slug}/reports/export/tickets.csv?{period}")
        tickets_csv.get_data()
        assert rows.headers["Content-Disposition"] == \
            f'attachment; filename="{slug}-report-2026-03-01-2026-03-08-by-day.csv"'
        assert tickets_csv.headers["Content-Disposition"] == \
            f'attachment; filename="{slug}-tickets-2026-03-01-2026-03-08.csv"'
