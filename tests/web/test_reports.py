"""Revenue and traffic reports: numbers against hand-computed data sets (midnight
and DST in America/New_York), charts as parsed SVG, CSV round-trips, access."""
from __future__ import annotations

import csv
import io
import itertools
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings, strategies as st

from garage.extensions import db
from garage.models import Garage, Ticket, User
from tests.helpers.web import HTMX, sign_in, soup
from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN

SVG = "{http://www.w3.org/2000/svg}"
NY = "America/New_York"
UTC = timezone.utc
_numbers = itertools.count(1)


def z(text: str) -> datetime:
    """A UTC instant: z('2026-03-08 06:00')."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def add_ticket(entry: datetime, exit: datetime | None = None, cents: int | None = None,
               method: str | None = "Cash", vehicle: str = "Car", closed_by: User | None = None) -> Ticket:
    n = next(_numbers)
    t = Ticket(garage_id=MAIN, ticket_number=f"PS-T{n:05d}", license_plate=f"TST {n}", plate_key=f"TST{n}",
               vehicle_type=vehicle, entry_time=entry, exit_time=exit,
               duration_minutes=int((exit - entry).total_seconds() // 60) if exit else None,
               amount_paid=cents if exit else None, status="completed" if exit else "active",
               payment_method=method if exit else None, last_event_at=exit or entry,
               closed_by_id=closed_by.id if closed_by else None)
    db.session.add(t)
    db.session.commit()
    return t


def set_timezone(name: str, total_spaces: int = 140) -> None:
    row = db.session.get(Garage, 1)
    row.timezone = name
    row.total_spaces = total_spaces
    db.session.commit()


@pytest.fixture
def staff_users(make_user):
    return make_user("alice", "attendant"), make_user("bob", "attendant")


@pytest.fixture
def dst_week(app, staff_users):
    """America/New_York around the spring-forward night (2026-03-08 has 23 hours).
    Local days in UTC: 03-07 = [03-07 05:00Z, 03-08 05:00Z), 03-08 = [03-08 05:00Z, 03-09 04:00Z)."""
    alice, bob = staff_users
    set_timezone(NY)
    # 03-07 23:30 EST -> 03-08 00:30 EST: entered on the 7th, paid on the 8th
    add_ticket(z("2026-03-08 04:30"), z("2026-03-08 05:30"), 1000, "Cash", "Car", alice)
    # 03-08 01:00 EST -> 03:30 EDT: 90 real minutes across the missing hour
    add_ticket(z("2026-03-08 06:00"), z("2026-03-08 07:30"), 2000, "Credit Card", "SUV", bob)
    # 03-08 22:00 EDT -> 23:59 EDT, closed through the API (no user)
    add_ticket(z("2026-03-09 02:00"), z("2026-03-09 03:59"), 2000, "Cash", "Car", None)
    # 03-07 10:00 EST -> 12:00 EST
    add_ticket(z("2026-03-07 15:00"), z("2026-03-07 17:00"), 2000, "Mobile Payment", "Van", alice)
    # 03-08 23:30 EDT -> 03-09 00:30 EDT: the exit belongs to the 9th
    add_ticket(z("2026-03-09 03:30"), z("2026-03-09 04:30"), 1000, "Cash", "Car", bob)
    # 03-08 23:00 EDT -> exactly local midnight 03-09 00:00 EDT: the 9th again
    add_ticket(z("2026-03-09 03:00"), z("2026-03-09 04:00"), 1000, "Cash", "Car", bob)
    # Previous period (03-05..03-06): one exit of $35 on the 6th
    add_ticket(z("2026-03-06 14:00"), z("2026-03-06 17:00"), 3500, "Debit Card", "Car", alice)


def figures(html: bytes) -> dict[str, tuple[str, str]]:
    page = soup(html)
    return {div.dt.get_text(strip=True): (div.select_one(".value").get_text(strip=True),
                                          div.select_one(".change").contents[0].strip())
            for div in page.select(".figure")}


def breakdown(html: bytes, title: str) -> list[tuple[str, str, str]]:
    page = soup(html)
    section = next(s for s in page.select(".breakdown") if s.h2.get_text(strip=True).startswith(title))
    return [tuple(c.get_text(strip=True) for c in tr.find_all(["th", "td"])) for tr in section.tbody.find_all("tr")]


def svg(client, name: str, **query) -> ET.Element:
    r = client.get(f"/g/main/reports/charts/{name}.svg", query_string=query)
    assert r.status_code == 200, r.data
    assert r.mimetype == "image/svg+xml"
    return ET.fromstring(r.data)


def bars(root: ET.Element) -> list[ET.Element]:
    group = root.find(f"{SVG}g[@class='bars']")
    return group.findall(f"{SVG}rect")


def csv_rows(client, url: str, **query) -> list[list[str]]:
    r = client.get(url, query_string=query)
    assert r.status_code == 200, r.data
    assert r.mimetype == "text/csv"
    assert r.headers["Content-Disposition"].startswith("attachment; filename=")
    return list(csv.reader(io.StringIO(r.get_data(as_text=True))))


# --- access ----------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/g/main/reports", "/g/main/reports/charts/revenue.svg", "/g/main/reports/export/rows.csv",
                                 "/g/main/reports/export/tickets.csv"])
def test_anonymous_is_sent_to_login_and_attendant_is_refused(client, make_user, url):
    r = client.get(url)
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    make_user("alice", "attendant")
    assert sign_in(client, "alice").status_code == 303
    r = client.get(url)
    assert r.status_code == 403
    assert b"revenue_usd" not in r.data and b"<svg" not in r.data


def test_manager_sees_the_page_and_the_nav_link(manager_client):
    r = manager_client.get("/g/main/reports")
    assert r.status_code == 200
    page = soup(r)
    assert page.h1.get_text(strip=True) == "Revenue and traffic"
    assert page.select_one("nav.nav a[href='/g/main/reports']") is not None
    assert "HX-Request" in r.headers["Vary"]
    # Strict CSP: no inline style attributes, no inline scripts
    assert not page.select("[style]")
    assert all(s.get("src") for s in page.find_all("script"))


# --- numbers ---------------------------------------------------------------------------------

def test_two_days_across_midnight_and_spring_forward(manager_client, dst_week):
    r = manager_client.get("/g/main/reports?from=2026-03-07&to=2026-03-08")
    assert r.status_code == 200
    f = figures(r.data)
    assert f["Revenue"] == ("$70.00", "+100.0%")        # 10 + 20 + 20 + 20 vs 35
    assert f["Exits"] == ("4", "+300.0%")
    assert f["Entries"] == ("6", "+500.0%")             # 23:30 on the 7th, four on the 8th, 10:00
    assert f["Average stay"][0] == "1 h 37 min"         # (60 + 90 + 119 + 120) / 4 = 97.25
    assert f["Median stay"][0] == "1 h 44 min"          # (90 + 119) / 2 = 104.5
    assert f["Average ticket"] == ("$17.50", "−50.0%")
    assert breakdown(r.data, "By payment method") == [
        ("Cash", "2", "$30.00"), ("Credit Card", "1", "$20.00"), ("Mobile Payment", "1", "$20.00")]
    assert breakdown(r.data, "By vehicle type") == [
        ("Car", "2", "$30.00"), ("SUV", "1", "$20.00"), ("Van", "1", "$20.00")]
    assert breakdown(r.data, "By attendant") == [
        ("alice", "2", "$30.00"), ("API/unknown", "1", "$20.00"), ("bob", "1", "$20.00")]


def test_report_rows_per_local_day(manager_client, dst_week):
    rows = csv_rows(manager_client, "/g/main/reports/export/rows.csv", **{"from": "2026-03-07", "to": "2026-03-09"})
    head, body = rows[0], rows[1:]
    assert head[0] == "start (America/New_York, ISO 8601)"
    assert [r[0] for r in body] == ["2026-03-07T00:00:00-05:00", "2026-03-08T00:00:00-05:00",
                                    "2026-03-09T00:00:00-04:00"]
    assert body[1][1] == "2026-03-09T00:00:00-04:00"  # the 8th ends after 23 hours
    col = {name: i for i, name in enumerate(head)}
    assert [(r[col["entries"]], r[col["exits"]], r[col["revenue_usd"]]) for r in body] == [
        ("2", "1", "20.00"), ("4", "3", "50.00"), ("0", "2", "20.00")]
    assert [r[col["average_stay_minutes"]] for r in body] == ["120.0", "89.7", "60.0"]


def test_spring_forward_day_has_23_hourly_bars(manager_client, dst_week):
    root = svg(manager_client, "revenue", **{"from": "2026-03-08", "to": "2026-03-08"})
    assert root.find(f"{SVG}title").text == "Revenue per hour"
    found = bars(root)
    assert len(found) == 23
    tips = [b.find(f"{SVG}title").text for b in found]
    # hours in the locale's format (en_US: 12-hour, a narrow space before AM/PM; issue 22)
    assert tips[0] == "12:00\u202fAM: Revenue $10.00"
    assert tips[1] == "1:00\u202fAM: Revenue $0.00"
    assert tips[2] == "3:00\u202fAM: Revenue $20.00"   # 02:00 does not exist that night
    assert tips[22] == "11:00\u202fPM: Revenue $20.00"
    assert sum(float(b.get("height")) > 0 for b in found) == 3


def test_fall_back_day_keeps_both_one_oclocks(manager_client, app):
    set_timezone(NY)
    add_ticket(z("2026-11-01 05:00"), z("2026-11-01 05:30"), 1000)  # 01:30 EDT
    add_ticket(z("2026-11-01 06:00"), z("2026-11-01 06:30"), 2500)  # 01:30 EST, an hour later
    rows = csv_rows(manager_client, "/g/main/reports/export/rows.csv", **{"from": "2026-11-01", "group": "hour"})
    body = rows[1:]
    assert len(body) == 25
    assert body[1][0] == "2026-11-01T01:00:00-04:00" and body[1][4] == "10.00"
    assert body[2][0] == "2026-11-01T01:00:00-05:00" and body[2][4] == "25.00"
    tips = [b.find(f"{SVG}title").text for b in
            bars(svg(manager_client, "revenue", **{"from": "2026-11-01", "to": "2026-11-01"}))]
    assert len(tips) == 25
    assert tips[1] == "1:00\u202fAM EDT: Revenue $10.00" and tips[2] == "1:00\u202fAM EST: Revenue $25.00"
    day = figures(manager_client.get("/g/main/reports?from=2026-11-01&to=2026-11-01").data)
    assert day["Revenue"][0] == "$35.00" and day["Exits"][0] == "2"


def test_comparison_without_previous_data_says_na(manager_client, app):
    set_timezone("UTC")
    add_ticket(z("2026-05-04 10:00"), z("2026-05-04 11:00"), 1000)
    f = figures(manager_client.get("/g/main/reports?from=2026-05-04&to=2026-05-04").data)
    assert f["Revenue"] == ("$10.00", "n/a")
    page = soup(manager_client.get("/g/main/reports?from=2026-05-04&to=2026-05-04"))
    assert "Sun, May 3, 2026" in page.select_one(".report-head").get_text()  # the locale's date (issue 22)


def test_empty_period_shows_dashes_not_errors(manager_client):
    r = manager_client.get("/g/main/reports?from=2026-01-01&to=2026-01-31")
    assert r.status_code == 200
    f = figures(r.data)
    assert f["Revenue"][0] == "$0.00" and f["Median stay"][0] == "–"
    assert "No exits in this period." in r.get_data(as_text=True)


# --- occupancy -------------------------------------------------------------------------------

@pytest.fixture
def busy_monday(app):
    """UTC, Monday 2026-05-04. One car inside since Sunday 22:00 (still inside),
    B 09:30-11:30, A 10:15-10:45, D leaves at 12:00 as E arrives at 12:00."""
    set_timezone("UTC", total_spaces=10)
    add_ticket(z("2026-05-03 22:00"))                                  # C, active
    add_ticket(z("2026-05-04 09:30"), z("2026-05-04 11:30"), 2000)     # B
    add_ticket(z("2026-05-04 10:15"), z("2026-05-04 10:45"), 1000)     # A
    add_ticket(z("2026-05-04 11:50"), z("2026-05-04 12:00"), 1000)     # D
    add_ticket(z("2026-05-04 12:00"), z("2026-05-04 13:00"), 1000)     # E


def test_occupancy_peak_and_average_per_hour(manager_client, busy_monday):
    root = svg(manager_client, "occupancy", **{"from": "2026-05-04", "to": "2026-05-04"})
    assert root.find(f"{SVG}title").text == "Occupancy over time"
    rows = csv_rows(manager_client, "/g/main/reports/export/rows.csv", **{"from": "2026-05-04", "group": "hour"})
    head, body = rows[0], rows[1:]
    peak, avg = head.index("peak_occupancy"), head.index("average_occupancy")
    by_hour = {int(r[0][11:13]): (int(r[peak]), float(r[avg])) for r in body}
    assert by_hour[8] == (1, 1.0)          # only C
    assert by_hour[9] == (2, 1.5)          # C + B for half the hour
    assert by_hour[10] == (3, 2.5)         # C + B + A for half the hour
    assert by_hour[11] == (2, 1.67)        # C, B until 11:30, D from 11:50: 1 + 0.5 + 10/60
    assert by_hour[12] == (2, 2.0)         # D out and E in at 12:00: never 3
    assert by_hour[13] == (1, 1.0)         # E left at 13:00 sharp: only C during 13:00-14:00
    polylines = root.findall(f".//{SVG}polyline")
    series = {p.get("data-series"): p.get("points").split() for p in polylines}
    assert len(series["Peak"]) == 24 and len(series["Average"]) == 24


def test_occupancy_over_more_than_a_month_has_a_point_per_day_with_the_rows_figures(manager_client, busy_monday):
    """A year of hourly points would be 8,760 points and table rows (issue 21): past 31 days, one per day."""
    period = {"from": "2026-04-20", "to": "2026-05-31"}  # 42 days
    root = svg(manager_client, "occupancy", **period)
    polylines = root.findall(f".//{SVG}polyline")
    series = {p.get("data-series"): p.get("points").split() for p in polylines}
    assert len(series["Peak"]) == 42 and len(series["Average"]) == 42
    rows = csv_rows(manager_client, "/g/main/reports/export/rows.csv", **period)
    monday = next(r for r in rows[1:] if r[0].startswith("2026-05-04"))
    assert monday[rows[0].index("peak_occupancy")] == "3"
    week = svg(manager_client, "occupancy", **{"from": "2026-05-01", "to": "2026-05-31"})  # 31 days: hourly
    series = {p.get("data-series"): p.get("points").split() for p in week.findall(f".//{SVG}polyline")}
    assert len(series["Peak"]) > 31 * 20  # an hour's points, not a day's (the active car keeps it drawn)


def test_occupancy_counts_cars_inside_before_the_period(manager_client, busy_monday):
    body = csv_rows(manager_client, "/g/main/reports/export/rows.csv", **{"from": "2026-05-04", "group": "day"})[1:]
    assert len(body) == 1
    assert body[0][6] == "3"  # peak of the day
    # C all day (24) + B 2h + A 0.5h + D 10 min + E 1h, over 24 hours
    assert float(body[0][7]) == pytest.approx((24 + 2 + 0.5 + 10 / 60 + 1) / 24, abs=0.01)


def test_cars_inside_at_a_moment_counted_from_either_side(app, busy_monday):
    from garage.services.reports import inside_at

    moment = z("2026-05-04 10:30")  # C, B and A are inside
    assert inside_at(MAIN, moment, now=z("2026-05-04 11:00")) == 3   # counted back from now
    assert inside_at(MAIN, moment, now=z("2027-01-01 00:00")) == 3   # counted up from the first entry
    assert inside_at(MAIN, z("2026-05-04 12:00"), now=z("2026-05-04 12:30")) == 2  # D left as E came


def test_heat_map_has_a_cell_per_hour_of_week(manager_client, busy_monday):
    root = svg(manager_client, "heatmap", **{"from": "2026-05-04", "to": "2026-05-04"})
    assert root.find(f"{SVG}title").text == "Occupancy by hour of week"
    cells = root.find(f"{SVG}g[@class='cells']").findall(f"{SVG}rect")
    assert len(cells) == 7 * 24
    tips = [c.find(f"{SVG}title").text for c in cells]
    # rows from the locale's first day of the week (en_US: Sunday; issue 22)
    assert tips[24 + 10] == "Mon 10: 2.5"
    assert tips[2 * 24 + 10] == "Tue 10: no data"


def test_heat_map_legend_of_a_quiet_quarter_reads_distinct_values(app, manager_client):
    """One car-hour in 13 weeks: an average of 0.08 cars. The legend read "≈ 0.0" four times;
    now every entry differs, the cell says 0.08, and each colour drawn is in the legend."""
    set_timezone("UTC")
    add_ticket(z("2026-05-04 10:00"), z("2026-05-04 11:00"), 1000)
    root = svg(manager_client, "heatmap", **{"from": "2026-05-04", "to": "2026-08-02"})
    legend = root.find(f"{SVG}g[@class='legend']")
    labels = [t.text for t in legend.findall(f"{SVG}text")]
    assert len(labels) == len(set(labels)) and labels[0] == "≈ 0.00" and labels[-2:] == ["≈ 0.08", "no data"], labels
    cells = root.find(f"{SVG}g[@class='cells']").findall(f"{SVG}rect")
    assert cells[24 + 10].find(f"{SVG}title").text == "Mon 10: 0.08"  # Sunday is the first row (en_US)
    assert {c.get("fill") for c in cells} <= {r.get("fill") for r in legend.findall(f"{SVG}rect")}


def test_traffic_chart_per_hour_of_day_over_many_days(manager_client, dst_week):
    root = svg(manager_client, "traffic", **{"from": "2026-03-01", "to": "2026-03-10"})
    assert root.find(f"{SVG}title").text == "Entries and exits by hour of day"
    found = bars(root)
    assert len(found) == 48  # entries and exits for each of 24 hours
    texts = [b.find(f"{SVG}title").text for b in found]
    assert "11:00\u202fPM: Entries 3" in texts  # 23:30 EST, 23:30 EDT, 23:00 EDT
    axis = [t.text for t in root.findall(f".//{SVG}text[@class='axis-label']")]
    assert axis == ["Hour of day (America/New_York)", "Cars"]


# --- page behaviour --------------------------------------------------------------------------

def test_htmx_gets_the_fragment_only(manager_client, dst_week):
    r = manager_client.get("/g/main/reports?from=2026-03-07&to=2026-03-08", headers=HTMX)
    assert r.status_code == 200
    assert "HX-Request" in r.headers["Vary"]
    html = r.get_data(as_text=True)
    assert "<html" not in html and html.lstrip().startswith("<section id=\"report\"")
    page = soup(html)
    assert len(page.select("figure.chart-card svg > title")) == 4
    assert len(page.select("figure.chart-card details table")) == 4
    form = page.select_one("form.period-form")
    assert form["method"] == "get" and form["hx-push-url"] == "true"
    assert page.select_one("#report-from")["value"] == "2026-03-07"
    # A history restore needs the whole page
    r = manager_client.get("/g/main/reports?from=2026-03-07&to=2026-03-08",
                           headers={**HTMX, "HX-History-Restore-Request": "true"})
    assert "<html" in r.get_data(as_text=True)


def test_presets_link_to_bookmarkable_urls(manager_client, app):
    page = soup(manager_client.get("/g/main/reports"))
    links = {a.get_text(strip=True): a["href"] for a in page.select(".presets a")}
    assert set(links) == {"Today", "Yesterday", "This week", "This month", "Last 30 days"}
    assert "Last 30 days" in [a.get_text(strip=True) for a in page.select(".presets a[aria-current]")]
    r = manager_client.get(links["Yesterday"])
    assert r.status_code == 200
    assert soup(r).select_one(".presets a[aria-current]").get_text(strip=True) == "Yesterday"


@pytest.mark.parametrize("query, words", [
    ("from=2026-13-01&to=2026-12-01", "is not a date"),
    ("from=2026-03-09&to=2026-03-01", "start date must be on or before"),
    ("from=2026-03-01&to=2026-03-01&group=week", "Group by"),
    ("from=2020-01-01&to=2026-01-01", "at most 366 days"),
    ("from=1999-12-31", "between 2000 and 2100"),
])
def test_invalid_periods_are_422_with_a_message(manager_client, query, words):
    refused_everywhere(manager_client, query, words)


def refused_everywhere(manager_client, query: str, words: str) -> None:
    """`query` refused (422, `words`) by the page, its fragment, a chart and both CSV files."""
    r = manager_client.get(f"/g/main/reports?{query}")
    assert r.status_code == 422
    page = soup(r)
    assert words in page.select_one("#report-error").get_text()
    assert page.h1 is not None  # the whole page, form still there
    assert not page.select(".figure")
    r = manager_client.get(f"/g/main/reports?{query}", headers=HTMX)
    assert r.status_code == 422 and "<html" not in r.get_data(as_text=True)
    assert words in soup(r).select_one("#report-error").get_text()
    for url in ("/g/main/reports/charts/revenue.svg", "/g/main/reports/export/rows.csv", "/g/main/reports/export/tickets.csv"):
        r = manager_client.get(f"{url}?{query}")
        assert r.status_code == 422 and words in r.get_data(as_text=True)


def test_hourly_rows_asked_over_a_year_are_shown_by_day_with_a_note(manager_client):
    """"Yesterday" leaves Rows per on Hour; a From typed a year back was a 422 ("Per-hour rows are
    available for up to 31 days"): the page shows the year by day and says so. The chart and CSV
    addresses, which the page writes with the period it shows, still refuse hourly rows over 31 days."""
    query = "from=2025-12-07&to=2026-12-06&group=hour"
    for headers in ({}, HTMX):
        r = manager_client.get(f"/g/main/reports?{query}", headers=headers)
        assert r.status_code == 200
        page = soup(r)
        assert page.select_one("#report-group-note").get_text() == (
            "Rows per hour are available for up to 31 days: this report of 365 days is by day.")
        assert page.select_one("#report-group option[selected]")["value"] == "day"
        assert page.select_one("#chart-revenue svg title").get_text() == "Revenue per day"
        assert all("group=day" in a["href"] for a in page.select(".exports a"))
    assert soup(manager_client.get("/g/main/reports?from=2026-11-06&to=2026-12-06&group=day")).select_one(
        "#report-group-note") is None
    r = manager_client.get("/g/main/reports/export/rows.csv?" + query)
    assert r.status_code == 422 and "up to 31 days" in r.get_data(as_text=True)
    refused_everywhere(manager_client, "from=2024-01-01&to=2026-01-01&group=hour", "at most 366 days")


def test_days_say_their_year_when_the_period_spans_two(manager_client):
    """A year's report had two "Sat, Dec 6" (2025 and 2026) in its chart and table view."""
    add_ticket(z("2025-12-06 15:00"), z("2025-12-06 16:00"), 1000)
    add_ticket(z("2026-12-05 15:00"), z("2026-12-05 16:00"), 1000)
    page = soup(manager_client.get("/g/main/reports?from=2025-12-06&to=2026-12-05"))
    days = [th.get_text() for th in page.select("#chart-revenue .chart-table tbody th")]
    assert (len(days), days[0], days[-1]) == (365, "Sat, Dec 6, 2025", "Sat, Dec 5, 2026")
    ticks = [t.contents[0] for t in page.select("#chart-revenue svg .x-axis text")]  # the first one whole
    assert ticks[0] == "Dec 6, 2025" and all(t[-4:] in ("2025", "2026") for t in ticks), ticks
    ticks = [t.contents[0] for t in page.select("#chart-occupancy svg .x-axis text")]
    assert ticks[0] == "Dec 6, 2025" and all(t[-4:] in ("2025", "2026") for t in ticks), ticks
    page = soup(manager_client.get("/g/main/reports?from=2026-11-06&to=2026-12-05"))  # one year: no year
    assert page.select_one("#chart-revenue .chart-table tbody th").get_text() == "Fri, Nov 6"
    hours = soup(manager_client.get("/g/main/reports?from=2025-12-31&to=2026-01-01&group=hour"))
    assert hours.select_one("#chart-revenue .chart-table tbody th").get_text().startswith("Dec 31, 2025")


def test_a_report_cut_off_by_the_statement_timeout_says_so(manager_client, app, monkeypatch):
    from garage.services import reports

    def too_slow(*args, **kwargs):
        raise sa.exc.OperationalError("SELECT ...", {}, Exception("canceling statement due to statement timeout"))

    monkeypatch.setattr(reports, "hour_events", too_slow)
    r = manager_client.get("/g/main/reports?from=2026-01-01&to=2026-12-31")
    assert r.status_code == 503
    assert "choose a shorter period" in soup(r).select_one("#report-error").get_text()
    r = manager_client.get("/g/main/reports?from=2026-01-01&to=2026-12-31", headers=HTMX)
    assert r.status_code == 200 and "choose a shorter period" in r.get_data(as_text=True)
    r = manager_client.get("/g/main/reports/charts/revenue.svg?from=2026-01-01&to=2026-12-31")
    assert r.status_code == 503 and "choose a shorter period" in r.get_data(as_text=True)


def test_unknown_chart_is_404(manager_client):
    assert manager_client.get("/g/main/reports/charts/pie.svg").status_code == 404


# --- exports ---------------------------------------------------------------------------------

def test_tickets_csv_round_trips_with_the_report_totals(manager_client, dst_week):
    r = manager_client.get("/g/main/reports/export/tickets.csv?from=2026-03-07&to=2026-03-08")
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert r.headers["Content-Disposition"] == 'attachment; filename="main-tickets-2026-03-07-2026-03-08.csv"'
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True))))
    head, body = rows[0], rows[1:]
    assert head[4] == "entry_time (America/New_York, ISO 8601)"
    col = {name: i for i, name in enumerate(head)}
    assert len(body) == 6  # every ticket with an entry or an exit in the two local days
    start, end = datetime(2026, 3, 7, 5, tzinfo=UTC), datetime(2026, 3, 9, 4, tzinfo=UTC)
    exit_col = col["exit_time (America/New_York, ISO 8601)"]
    exits = [r for r in body if r[exit_col] and start <= datetime.fromisoformat(r[exit_col]) < end]
    assert len(exits) == 4
    assert sum(float(r[col["amount_usd"]]) for r in exits) == pytest.approx(70.00)  # the report's revenue
    first = body[0]
    assert first[col[head[4]]] == "2026-03-07T10:00:00-05:00"
    assert first[col["amount_usd"]] == "20.00" and first[col["closed_by"]] == "alice"
    dst = next(r for r in body if r[col["payment_method"]] == "Credit Card")
    assert (dst[col[head[4]]], dst[col[head[5]]], dst[col["duration_minutes"]]) == (
        "2026-03-08T01:00:00-05:00", "2026-03-08T03:30:00-04:00", "90")


def test_tickets_csv_neutralises_formulas_and_quotes_text(manager_client, app):
    set_timezone("UTC")
    t = add_ticket(z("2026-05-04 10:00"), z("2026-05-04 11:00"), 1000, method='Voucher, "gold"\nline 2')
    t.license_plate = "=1+2"
    add_ticket(z("2026-05-04 12:00"))  # still inside: empty exit, duration, amount, method
    db.session.commit()
    rows = csv_rows(manager_client, "/g/main/reports/export/tickets.csv", **{"from": "2026-05-04"})
    assert len(rows) == 3 and all(len(r) == 15 for r in rows)  # the currency last (issue 22)
    assert rows[1][1] == "'=1+2"
    assert rows[1][8] == 'Voucher, "gold"\nline 2'
    assert rows[1][4:8] == ["2026-05-04T10:00:00+00:00", "2026-05-04T11:00:00+00:00", "60", "10.00"]
    assert rows[2][3:9] == ["active", "2026-05-04T12:00:00+00:00", "", "", "", ""]
    assert rows[1][11:] == ["false", "", "0.00", "USD"] and rows[2][11:] == ["false", "", "", "USD"]


def test_tickets_export_streams_in_batches(manager_client, app, monkeypatch):
    from garage.persistence import base

    monkeypatch.setattr(base, "TICKET_BATCH", 500)
    set_timezone("UTC")
    start = z("2026-05-04 00:00")
    for i in range(1200):
        db.session.add(Ticket(garage_id=MAIN, ticket_number=f"PS-S{i:05d}", license_plate=f"S{i}", plate_key=f"S{i}",
                              vehicle_type="Car", entry_time=start + timedelta(seconds=i),
                              exit_time=start + timedelta(seconds=i + 60), duration_minutes=1,
                              amount_paid=1000, status="completed", payment_method="Cash",
                              last_event_at=start + timedelta(seconds=i + 60)))
    db.session.commit()
    r = manager_client.get("/g/main/reports/export/tickets.csv?from=2026-05-04", buffered=False)
    assert r.is_streamed
    chunks = [c.decode() if isinstance(c, bytes) else c for c in r.response]
    assert [c.count("\r\n") for c in chunks] == [1, 500, 500, 200]  # header, then one chunk per cursor batch
    rows = list(csv.reader(io.StringIO("".join(chunks))))
    assert len(rows) == 1201
    assert sum(float(r[7]) for r in rows[1:]) == pytest.approx(12000.00)


# --- lost tickets ----------------------------------------------------------------------------

def pay(entry: datetime, exit: datetime, *, lost: bool = False, fee: int = 0, mode: str = "replace",
        method: str = "Cash") -> str:
    """Issue and close a ticket through the real services, with the lost-ticket
    rule in force at that exit ($10 per started hour otherwise)."""
    from garage.services import tickets as ticket_service
    from garage.identity import Actor

    row = db.session.get(Garage, 1)
    row.lost_ticket_fee_cents, row.lost_ticket_mode = fee, mode
    db.session.commit()
    actor = Actor(None, "test", None)
    number = ticket_service.issue_ticket(MAIN, f"L {next(_numbers)}", "Car", actor, now=entry).ticket_number
    ticket_service.process_exit(MAIN, number, method, actor, now=exit, lost=lost)
    return number


@pytest.fixture
def lost_tickets(app):
    """UTC. Monday 2026-05-04:
      N  09:00-10:30  normal           $20 (2 started hours)
      R  10:00-13:10  lost, replace    $50 (the fee instead of 4 hours' $40)
      A  11:00-11:40  lost, add        $60 ($10 time + $50 fee)
      Z  14:00-15:00  lost, no fee set $10 (lost, fee 0)
    Sunday 2026-05-03 (the previous period):
      P  08:00-10:20  normal           $30
      Q  12:00-12:30  lost, replace    $50
    """
    set_timezone("UTC")
    numbers = {
        "N": pay(z("2026-05-04 09:00"), z("2026-05-04 10:30")),
        "R": pay(z("2026-05-04 10:00"), z("2026-05-04 13:10"), lost=True, fee=5000, mode="replace"),
        "A": pay(z("2026-05-04 11:00"), z("2026-05-04 11:40"), lost=True, fee=5000, mode="add"),
        "Z": pay(z("2026-05-04 14:00"), z("2026-05-04 15:00"), lost=True, fee=0),
        "P": pay(z("2026-05-03 08:00"), z("2026-05-03 10:20")),
        "Q": pay(z("2026-05-03 12:00"), z("2026-05-03 12:30"), lost=True, fee=5000, mode="replace"),
    }
    stored = {t.ticket_number: (t.amount_paid, t.lost, t.lost_fee_cents) for t in db.session.scalars(sa.select(Ticket))}
    assert [stored[numbers[k]] for k in "NRAZ"] == [(2000, False, None), (5000, True, 5000), (6000, True, 5000),
                                                    (1000, True, 0)]
    return numbers


def test_lost_ticket_figures_with_comparison(manager_client, lost_tickets):
    f = figures(manager_client.get("/g/main/reports?from=2026-05-04&to=2026-05-04").data)
    assert f["Revenue"] == ("$140.00", "+75.0%")           # 20 + 50 + 60 + 10 vs 30 + 50
    assert f["Time fees"] == ("$40.00", "+33.3%")          # 20 + 0 + 10 + 10 vs 30
    assert f["Lost-ticket fees"] == ("$100.00", "+100.0%")  # 50 + 50 + 0 vs 50
    assert f["Lost tickets"] == ("3", "+200.0%")           # R, A, Z vs Q
    assert f["Exits"] == ("4", "+100.0%")
    assert f["Average ticket"] == ("$35.00", "−12.5%")     # 140 / 4 vs 80 / 2
    previous = soup(manager_client.get("/g/main/reports?from=2026-05-04&to=2026-05-04"))
    lost = previous.select_one(".figure[data-figure='lost_tickets'] .change .muted").get_text(strip=True)
    assert lost == "vs 1"


def test_no_lost_tickets_shows_zero_and_na(manager_client, busy_monday):
    f = figures(manager_client.get("/g/main/reports?from=2026-05-04&to=2026-05-04").data)
    assert f["Lost tickets"] == ("0", "n/a") and f["Lost-ticket fees"] == ("$0.00", "n/a")
    assert f["Time fees"] == f["Revenue"] == ("$50.00", "n/a")


def test_rows_csv_has_lost_tickets_and_fees(manager_client, lost_tickets):
    head, *body = csv_rows(manager_client, "/g/main/reports/export/rows.csv", **{"from": "2026-05-03", "to": "2026-05-04"})
    assert head[-5:] == ["average_occupancy", "lost_tickets", "lost_fees_usd", "refunds_usd", "currency"]
    col = {name: i for i, name in enumerate(head)}
    assert [(r[col["exits"]], r[col["revenue_usd"]], r[col["lost_tickets"]], r[col["lost_fees_usd"]])
            for r in body] == [("2", "80.00", "1", "50.00"), ("4", "140.00", "3", "100.00")]
    head, *body = csv_rows(manager_client, "/g/main/reports/export/rows.csv", **{"from": "2026-05-04", "group": "hour"})
    by_hour = {int(r[0][11:13]): (r[col["revenue_usd"]], r[col["lost_tickets"]], r[col["lost_fees_usd"]])
               for r in body}
    assert len(by_hour) == 24
    assert by_hour[10] == ("20.00", "0", "0.00")   # N
    assert by_hour[11] == ("60.00", "1", "50.00")  # A: fee added to the time fee
    assert by_hour[13] == ("50.00", "1", "50.00")  # R: fee instead of the time fee
    assert by_hour[15] == ("10.00", "1", "0.00")   # Z: lost, no fee configured
    assert sum(int(v[1]) for v in by_hour.values()) == 3


def test_tickets_csv_has_lost_and_lost_fee(manager_client, lost_tickets):
    add_ticket(z("2026-05-04 16:00"))  # still inside
    head, *body = csv_rows(manager_client, "/g/main/reports/export/tickets.csv", **{"from": "2026-05-04"})
    assert head[-4:] == ["lost", "lost_fee", "refunded_usd", "currency"] and all(len(r) == 15 for r in body)
    assert {r[-1] for r in body} == {"USD"}  # the garage's currency (issue 22), last: the columns before keep their place
    col = {name: i for i, name in enumerate(head)}
    got = {r[col["ticket_number"]]: (r[col["amount_usd"]], r[col["lost"]], r[col["lost_fee"]]) for r in body}
    n = lost_tickets
    assert got == {n["N"]: ("20.00", "false", ""), n["R"]: ("50.00", "true", "50.00"),
                   n["A"]: ("60.00", "true", "50.00"), n["Z"]: ("10.00", "true", "0.00"),
                   body[-1][col["ticket_number"]]: ("", "false", "")}
    assert body[-1][col["status"]] == "active"


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(["USD", "JPY", "BHD"]),
       st.lists(st.tuples(st.integers(0, 2**31 - 1), st.integers(0, 100), st.booleans(),
                          st.integers(0, 2**31 - 1)), min_size=1, max_size=4))
def test_tickets_csv_writes_every_amount_exactly_in_its_currencys_decimals(manager_client, currency, tickets):
    """Any amount paid, refunded and lost-ticket fee, in a currency of 2, 0 or 3 decimals, is written as
    its exact dot decimal (each database writes it its own way: PostgreSQL multiplies by 0.01 in SQL)."""
    db.session.execute(sa.delete(Ticket))
    db.session.execute(sa.update(Garage).values(currency=currency, timezone="UTC"))
    db.session.commit()
    places = {"USD": 2, "JPY": 0, "BHD": 3}[currency]
    expected = {}
    for cents, refunded_percent, lost, fee in tickets:
        t = add_ticket(z("2026-05-04 10:00"), z("2026-05-04 11:00"), cents)
        t.refunded_cents, t.lost, t.lost_fee_cents = cents * refunded_percent // 100, lost, fee if lost else None
        db.session.commit()
        written = [f"{Decimal(n).scaleb(-places):.{places}f}" if n is not None else ""
                   for n in (cents, fee if lost else None, t.refunded_cents)]
        expected[t.ticket_number] = tuple(written)
    head, *body = csv_rows(manager_client, "/g/main/reports/export/tickets.csv", **{"from": "2026-05-04"})
    col = {name: i for i, name in enumerate(head)}
    code = currency.lower()  # the money columns are named after the currency: amount_jpy, refunded_bhd
    assert {r[col["ticket_number"]]: (r[col[f"amount_{code}"]], r[col["lost_fee"]], r[col[f"refunded_{code}"]])
            for r in body} == expected
    assert {r[-1] for r in body} == {currency}
