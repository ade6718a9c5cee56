"""/portfolio (every garage a person may see: live, and revenue and traffic over a period) and
/garages (admins: every garage, and a new one), issue 17 stage 2."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN, SLUG_PATTERN
from garage.extensions import db
from garage.models import Garage, Ticket
from tests.helpers.db import audit_events, counting
from tests.helpers.garages import grant, make_admin, second_garage
from tests.helpers.web import HTMX, post_form, sign_in, signed_in, soup, text


def browser(app, username: str):
    client = app.test_client()
    assert sign_in(client, username).status_code == 303
    return client


@pytest.fixture
def root(app):
    """A signed-in admin."""
    make_admin("root")
    return browser(app, "root")


@pytest.fixture
def north(app) -> int:
    """A second garage, in Berlin."""
    return second_garage("north", "North", 20, "Europe/Berlin")


def paid(garage_id: int, number: str, entry: str, exit_: str | None, cents: int | None) -> None:
    """A ticket that came in at `entry` and (with `exit_`) left paying `cents` (UTC times)."""
    when = lambda s: datetime.fromisoformat(s).replace(tzinfo=timezone.utc)  # noqa: E731
    db.session.add(Ticket(
        garage_id=garage_id, ticket_number=number, license_plate=number, plate_key=number, vehicle_type="Car",
        entry_time=when(entry), exit_time=when(exit_) if exit_ else None, amount_paid=cents,
        duration_minutes=0 if exit_ else None, status="completed" if exit_ else "active",
        payment_method="Cash" if exit_ else None, last_event_at=when(exit_ or entry)))
    db.session.commit()


def nav(response) -> list[str]:
    return [a.get_text(strip=True) for a in soup(response).select("nav.nav a")]


# --- who sees what -------------------------------------------------------------------------

def test_an_admin_sees_the_portfolio_and_the_garages_and_both_links(root, north):
    for path in ("/portfolio", "/garages"):
        r = root.get(path)
        assert r.status_code == 200, path
        assert {"Portfolio", "Garages"} <= set(nav(r))
    assert [tr["data-slug"] for tr in soup(root.get("/portfolio")).select("#portfolio-live tbody tr")] == [
        "main", "north"]


def test_a_manager_at_two_garages_sees_the_portfolio_of_those_two_but_not_the_garages(app, make_user, north):
    south = second_garage("south", "South", 5)
    make_user("boss", "manager")
    grant("boss", north, "manager")
    grant("boss", south, "attendant")  # works there, but its revenue is not theirs to see
    client = browser(app, "boss")
    r = client.get("/portfolio")
    assert r.status_code == 200
    assert [tr["data-slug"] for tr in soup(r).select("#portfolio-live tbody tr")] == ["main", "north"]
    assert "Portfolio" in nav(r) and "Garages" not in nav(r)
    assert client.get("/garages").status_code == 403
    assert client.post("/garages", data={"slug": "x"}).status_code in (400, 403)  # no CSRF token, or refused


def test_an_attendant_at_two_garages_has_no_portfolio(app, make_user, north):
    """Revenue is a manager's business: working the desk at two garages shows none of it."""
    make_user("ann", "attendant")
    grant("ann", north, "attendant")
    client = browser(app, "ann")
    for path in ("/portfolio", "/portfolio/export.csv", "/portfolio/live"):
        assert client.get(path, headers=HTMX).status_code == 404, path
    assert "Portfolio" not in nav(client.get("/g/north/desk"))


@pytest.mark.parametrize("role", ["manager", "attendant"])
def test_someone_at_one_garage_finds_no_portfolio_and_no_link(app, make_user, north, role):
    client = signed_in(app, make_user, "solo", role)
    for path in ("/portfolio", "/portfolio/export.csv", "/portfolio/live"):
        assert client.get(path, headers=HTMX).status_code == 404, path
    r = client.get("/desk", follow_redirects=True)
    assert r.request.path == "/g/north/desk" or r.request.path.startswith("/g/")
    assert "Portfolio" not in nav(r) and "Garages" not in nav(r)
    assert client.get("/garages").status_code == 403


@pytest.mark.parametrize("path", ["/portfolio", "/garages", "/portfolio/export.csv"])
def test_anonymous_people_are_sent_to_sign_in(client, path):
    r = client.get(path)
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")


def test_the_live_panel_is_never_a_landing_page_and_polls(root, north):
    r = root.get("/portfolio/live")
    assert r.status_code == 303 and r.headers["Location"] == "/portfolio"
    panel = soup(root.get("/portfolio")).select_one("#portfolio-live")
    assert panel["hx-get"] == "/portfolio/live" and "every 5s" in panel["hx-trigger"]
    paid(MAIN, "A1", "2026-03-01T10:00:00", None, None)
    db.session.execute(sa.update(Garage).where(Garage.id == MAIN).values(occupied=1, total_spaces=1))
    db.session.execute(sa.update(Garage).where(Garage.id == north).values(occupied=18))
    db.session.commit()
    live = soup(root.get("/portfolio/live", headers=HTMX))
    states = {tr["data-slug"]: tr["data-state"] for tr in live.select("tbody tr")}
    assert states == {"main": "FULL", "north": "ALMOST FULL"}
    assert live.select_one('tr[data-slug="north"] [data-stat="available"]').get_text(strip=True) == "2"


def test_a_garage_named_like_markup_reads_as_text_with_its_state_in_the_readers_language(app, root, north):
    """The live panel draws each garage's name beside its slug and its state word (template globals,
    garage/templating.py): the name is text, never markup, and the state is the reader's language."""
    db.session.execute(sa.update(Garage).where(Garage.id == north)
                       .values(garage_name='<b onmouseover="x()">N&Co</b>', occupied=20, total_spaces=20))
    db.session.commit()
    for headers, full in (({}, "FULL"), ({"Accept-Language": "de"}, "BESETZT")):
        live = soup(root.get("/portfolio/live", headers={**HTMX, **headers}))
        row = live.select_one('tr[data-slug="north"]')
        assert row.select_one(".garage-name").get_text() == '<b onmouseover="x()">N&Co</b>'
        assert row.select_one(".garage-name")["dir"] == "auto"  # a right-to-left name keeps its direction
        assert row.select("b") == [] and row.select_one(".slug").get_text() == "north"
        assert row.select_one('[data-stat="state"]').get_text(strip=True) == full
        assert live.select_one('tr[data-slug="main"] [data-stat="state"]').get_text(strip=True) != full


@pytest.mark.parametrize("script_root", ["", "/parking", "/a/0-garage-0"])
def test_each_garage_s_link_on_the_live_panel_is_its_own_desk_under_any_script_root(app, root, north, script_root):
    """The panel builds the desks' URL once and puts each garage's slug in it (templating.garage_urls):
    every link is the one url_for gives, under a proxy's prefix too (even one that looks like the marker)."""
    from flask import url_for

    live = soup(root.get("/portfolio/live", headers=HTMX, environ_overrides={"SCRIPT_NAME": script_root}))
    links = {tr["data-slug"]: tr.select_one("a.cell-link")["href"] for tr in live.select("tbody tr")}
    with app.test_request_context(environ_overrides={"SCRIPT_NAME": script_root}):
        assert links == {slug: url_for("desk.index", garage=slug) for slug in ("main", "north")}
    assert links["north"] == f"{script_root}/g/north/desk"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(slug=st.from_regex(SLUG_PATTERN, fullmatch=True), script_root=st.sampled_from(["", "/p", "/0-garage-0"]),
       endpoint=st.sampled_from(["desk.index", "admin.users", "api.create_ticket"]))
def test_a_garage_s_url_built_once_equals_url_for_for_every_slug(app, slug, script_root, endpoint):
    from flask import url_for

    from garage.templating import garage_urls

    with app.test_request_context(environ_overrides={"SCRIPT_NAME": script_root}):
        assert garage_urls(endpoint)(slug) == url_for(endpoint, garage=slug)


# --- figures over a period -------------------------------------------------------------------

@pytest.fixture
def march(north):
    """Tickets in both garages around 1 March 2026 (main: UTC; north: Berlin, UTC+1)."""
    paid(MAIN, "M1", "2026-03-01T08:00:00", "2026-03-01T09:00:00", 1250)
    paid(MAIN, "M2", "2026-03-01T22:00:00", "2026-03-01T23:30:00", 999)  # north's 2 March, main's 1 March
    paid(MAIN, "M3", "2026-03-02T10:00:00", None, None)
    paid(north, "N1", "2026-02-28T23:30:00", "2026-03-01T10:00:00", 4001)  # entered 1 March in Berlin
    paid(north, "N2", "2026-03-01T22:30:00", "2026-03-01T23:10:00", 700)  # in 23:30, out 00:10 in Berlin
    paid(north, "N3", "2026-02-28T22:00:00", "2026-02-28T22:30:00", 5000)  # 28 Feb in Berlin too


def test_revenue_and_traffic_per_garage_in_each_garages_local_days(root, march):
    r = root.get("/portfolio?from=2026-03-01&to=2026-03-01")
    assert r.status_code == 200
    page = soup(r)
    table = {tr["data-slug"]: [td.get_text(strip=True) for td in tr.select("td")[1:]]
             for tr in page.select("#portfolio-table tbody tr")}
    assert table == {"main": ["$22.49", "2", "2"], "north": ["$40.01", "2", "1"]}
    # The comparison chart: one bar per garage, drawn by the server (no script).
    bars = [rect.select_one("title").get_text() for rect in page.select("svg.chart .bars rect")]
    assert "Main: Revenue $22.49" not in bars  # the default garage's name is "Main garage"
    assert any(b.endswith("Revenue $22.49") for b in bars) and "North: Revenue $40.01" in bars
    assert "North: Entries 2" in bars


def test_a_wrong_period_is_refused_with_its_message(root, march):
    r = root.get("/portfolio?from=2026-03-02&to=2026-03-01")
    assert r.status_code == 422
    assert "The start date must be on or before the end date" in text(r)
    assert root.get("/portfolio/export.csv?from=nope").status_code == 422


def test_the_csv_has_a_row_per_garage_and_local_day_money_in_dollars(root, march):
    r = root.get("/portfolio/export.csv?from=2026-03-01&to=2026-03-02")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True))))
    assert rows[0] == ["garage", "name", "day", "timezone", "entries", "exits", "revenue_usd", "currency"]
    assert rows[1:] == [
        ["main", "Main garage", "2026-03-01", "UTC", "2", "2", "22.49", "USD"],
        ["main", "Main garage", "2026-03-02", "UTC", "1", "0", "0.00", "USD"],
        ["north", "North", "2026-03-01", "Europe/Berlin", "2", "1", "40.01", "USD"],
        ["north", "North", "2026-03-02", "Europe/Berlin", "0", "1", "7.00", "USD"],
    ]


def test_a_garage_named_like_a_formula_is_quoted_in_the_csv(root, north):
    db.session.execute(sa.update(Garage).where(Garage.id == north).values(garage_name="=1+1"))
    db.session.commit()
    rows = list(csv.reader(io.StringIO(root.get("/portfolio/export.csv?from=2026-03-01").get_data(as_text=True))))
    assert rows[2][:2] == ["north", "'=1+1"]


def test_the_figures_take_one_statement_however_many_garages(app, root, north):
    for i in range(5):
        second_garage(f"g{i}", f"G{i}", 10, ["UTC", "Asia/Kathmandu", "America/New_York"][i % 3])
    with counting() as few:
        root.get("/portfolio?from=2026-03-01&to=2026-03-31")
    for i in range(5, 25):
        second_garage(f"g{i}", f"G{i}", 10)
    with counting() as many:
        r = root.get("/portfolio?from=2026-03-01&to=2026-03-31")
    assert len(soup(r).select("#portfolio-table tbody tr")) == 27
    assert len(many) == len(few)


# --- /garages: creating a garage ---------------------------------------------------------------

NEW = {"slug": "harbour", "name": "Harbour", "spaces": "250", "timezone": "Europe/Lisbon"}


def test_an_admin_creates_a_garage_from_the_form(root):
    r = post_form(root, "/garages", NEW)
    assert r.status_code == 303 and r.headers["Location"] == "/garages"
    page = root.get("/garages")
    assert "Created the garage Harbour (harbour)." in text(page)
    row = soup(page).select_one('#garage-list tr[data-slug="harbour"]')
    assert [td.get_text(strip=True) for td in row.select("td")] == [  # the timezone may break after a slash (<wbr>)
        "Harbour", "harbour", "250", "Europe/Lisbon", "0 (0%)", "OPEN"]
    [event] = audit_events("garage.created")
    assert event.username == "root" and event.object_id == "harbour"


@pytest.mark.parametrize("field,value,status,message", [
    ("slug", "Harbour!", 422, None),
    ("slug", "main", 409, "A garage main already exists"),
    ("spaces", "0", 422, "Spaces must be a whole number from 1 to 100000"),
    ("spaces", "many", 422, "Spaces must be a whole number from 1 to 100000"),
    ("name", "", 422, None),
    ("timezone", "Mars/Olympus", 422, None),
])
@pytest.mark.parametrize("htmx", [False, True])
def test_a_wrong_new_garage_is_refused_with_the_fields_message(root, field, value, status, message, htmx):
    r = post_form(root, "/garages", {**NEW, field: value}, htmx=htmx)
    assert r.status_code == status
    page = soup(r)
    assert page.select_one("#garages") is not None
    shown = page.select_one(f"#garage-{field}")
    assert shown["aria-invalid"] == "true"
    error = page.select_one(f"#{shown['aria-describedby'].split()[0]}").get_text(" ", strip=True)
    assert error and (message is None or message in error)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Garage)) == 1
    assert shown.get("value", "") == value or field == "name"


def test_an_empty_new_garage_form_says_what_is_wrong_with_every_field_at_once(root):
    """The outside check: an empty form named only the spaces, then the slug and the name one try at a time."""
    r = post_form(root, "/garages", {**NEW, "slug": "", "name": "", "spaces": ""}, htmx=True)
    assert r.status_code == 422
    page = soup(r)
    for field in ("slug", "name", "spaces"):
        shown = page.select_one(f"#garage-{field}")
        assert shown["aria-invalid"] == "true", field
        assert page.select_one(f"#{shown['aria-describedby'].split()[0]}").get_text(strip=True), field
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Garage)) == 1


def test_today_on_the_portfolio_holds_each_garage_s_own_today_across_timezones(app, root, monkeypatch):
    """12:00 UTC on 6 Dec: 01:00 on the 7th in Auckland, 04:00 on the 6th in Los Angeles (main: UTC, the
    6th). "Today" and the default period hold each garage's today: Auckland's exit just after its midnight too."""
    from garage.operator import routes

    monkeypatch.setattr(routes, "utcnow", lambda: datetime(2026, 12, 6, 12, 0, tzinfo=timezone.utc))
    akl = second_garage("akl", "Auckland", 10, "Pacific/Auckland")
    lax = second_garage("lax", "Los Angeles", 10, "America/Los_Angeles")
    paid(akl, "A1", "2026-12-06T11:10:00", "2026-12-06T11:40:00", 800)  # 00:10 to 00:40 on 7 Dec there
    paid(lax, "L1", "2026-12-06T10:00:00", "2026-12-06T11:00:00", 300)  # 02:00 to 03:00 on 6 Dec there
    page = soup(root.get("/portfolio"))
    shortcuts = {a.get_text(strip=True): a["href"] for a in page.select("nav.presets a")}
    assert shortcuts["Today"] == "/portfolio?from=2026-12-06&to=2026-12-07"
    note = page.select_one(".tz-note").get_text(" ", strip=True)
    assert "dates differ" in note and "Sun, Dec 6" in note and "Mon, Dec 7" in note  # the reader's format (en_US)
    for url in (shortcuts["Today"], "/portfolio"):  # the shortcut, and the period shown without one
        table = {tr["data-slug"]: tr.select_one('[data-stat="revenue"]').get_text(strip=True)
                 for tr in soup(root.get(url)).select("#portfolio-table tbody tr")}
        assert table == {"main": "$0.00", "akl": "$8.00", "lax": "$3.00"}, url
    same_day = soup(root.get("/portfolio?from=2026-12-06&to=2026-12-06"))
    assert "dates differ" in same_day.select_one(".tz-note").get_text()  # said on any period while they do


def test_garages_on_the_same_date_say_nothing_of_dates_differing(root, north, monkeypatch):
    from garage.operator import routes

    monkeypatch.setattr(routes, "utcnow", lambda: datetime(2026, 12, 6, 12, 0, tzinfo=timezone.utc))  # Berlin 13:00
    page = soup(root.get("/portfolio"))
    assert {a.get_text(strip=True): a["href"] for a in page.select("nav.presets a")}["Today"] == (
        "/portfolio?from=2026-12-06&to=2026-12-06")
    assert "differ" not in page.select_one(".tz-note").get_text()


def test_the_csv_names_its_revenue_column_after_the_one_currency_or_none_when_mixed(root, march, north):
    """Money in one column over garages in several currencies: "revenue", each row naming its currency;
    garages all in euros: "revenue_eur" (it said "revenue_usd" over any currency)."""
    db.session.execute(sa.update(Garage).where(Garage.id == north).values(currency="EUR"))
    db.session.commit()
    mixed = list(csv.reader(io.StringIO(root.get("/portfolio/export.csv?from=2026-03-01&to=2026-03-01")
                                        .get_data(as_text=True))))
    assert mixed[0][6] == "revenue" and {row[7] for row in mixed[1:]} == {"USD", "EUR"}
    db.session.execute(sa.update(Garage).values(currency="EUR"))
    db.session.commit()
    euros = list(csv.reader(io.StringIO(root.get("/portfolio/export.csv?from=2026-03-01&to=2026-03-01")
                                        .get_data(as_text=True))))
    assert euros[0][6] == "revenue_eur" and {row[7] for row in euros[1:]} == {"EUR"}


def test_garages_in_several_currencies_get_a_revenue_chart_per_currency(root, march, north):
    """One axis over dollars and yen drew every garage in the first currency's unit, yen divided by 100
    (an outside check: "Tokyo garage €66,000.00" for ¥6,600,000). Each currency has its chart, of its garages."""
    db.session.execute(sa.update(Garage).where(Garage.id == north).values(currency="JPY"))
    db.session.commit()
    page = soup(root.get("/portfolio?from=2026-03-01&to=2026-03-01"))
    figures = {f.select_one("figcaption, h3, .chart-title, title").get_text(" ", strip=True): f
               for f in page.select("figure.chart-card")}
    titles = " | ".join(figures)
    assert "Revenue by garage in JPY" in titles and "Revenue by garage in USD" in titles, titles
    yen = next(f for t, f in figures.items() if "in JPY" in t).get_text(" ", strip=True)
    dollars = next(f for t, f in figures.items() if "in USD" in t).get_text(" ", strip=True)
    assert "¥4,001" in yen and "North" in yen and "Main" not in yen, yen
    assert "$22.49" in dollars and "North" not in dollars, dollars
