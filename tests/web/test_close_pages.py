"""The day close page for managers (issue 18), read as a person sees it: choose a day (yesterday by
default), its figures, "Close this day", who closed it and when, the after-close adjustments, the A4
print and the CSV of the figures."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pytest

from garage.domain.clock import local_today, utcnow
from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN
from garage.services import amendments
from tests.helpers.closes import DAY, build_day, people
from tests.helpers.web import post_form, soup, text

PAGE = f"/g/main/reports/close?day={DAY.isoformat()}"
CLOSE = f"/g/main/reports/close/{DAY.isoformat()}"


@pytest.fixture
def day(make_user):
    ann, mia = people(make_user)
    return build_day(ann, mia), mia


def figure(page, name: str) -> str:
    """The value a figures table shows for `name` (its row's data-figure)."""
    row = soup(page).select_one(f".close-figures tr[data-figure='{name}'] td")
    return text(row)


def test_the_page_shows_the_days_figures_and_offers_the_close(manager_client, day):
    built, _ = day
    page = manager_client.get(PAGE)
    assert page.status_code == 200
    shown = text(page)
    assert "Fri, Apr 10, 2026" in shown  # the locale's date (issue 22) and "Not closed yet" in shown and "America/New_York" in shown
    assert figure(page, "tickets_issued") == "5" and figure(page, "voids") == "1"
    assert figure(page, "revenue_cents") == f"${built.revenue_cents / 100:,.2f}"
    assert figure(page, "refunded_cents") == "$3.00" and figure(page, "cars_inside") == "1"
    assert figure(page, "over_short_cents") == "-$0.50"
    assert figure(page, "validated") == "0" and figure(page, "validation_discount_cents") == "$0.00"
    assert "ann" in text(soup(page).select_one(".close-shifts"))
    [button] = soup(page).select("form.close-day-form button")
    assert text(button) == "Close this day"


def test_yesterday_is_the_default_day(manager_client):
    page = soup(manager_client.get("/g/main/reports/close"))
    yesterday = local_today(utcnow(), "UTC") - timedelta(days=1)
    assert page.select_one("#close-day")["value"] == yesterday.isoformat()


def test_a_day_that_is_not_a_date_is_refused_with_the_message(manager_client):
    page = manager_client.get("/g/main/reports/close?day=2026-02-30")
    assert page.status_code == 422
    assert "is not a date" in text(soup(page).select_one("#close-error"))
    assert soup(page).select_one("#close-day")["value"] == "2026-02-30"


def test_closing_the_day_shows_who_and_when_then_later_corrections_apart(manager_client, day):
    built, mia = day
    closed = post_form(manager_client, CLOSE, page=PAGE)
    assert closed.status_code == 303 and closed.headers["Location"].endswith(PAGE)
    page = manager_client.get(PAGE)
    status = text(soup(page).select_one(".close-status"))
    assert status.startswith("Closed by boss at ")
    assert not soup(page).select("form.close-day-form")  # closed once
    assert "No after-close adjustments" in text(page)
    audit = text(manager_client.get("/g/main/admin/audit?action=day.closed"))
    assert f"revenue ${built.revenue_cents / 100:,.2f}" in audit and "over/short -$0.50" in audit
    amendments.refund_ticket(MAIN, built.paid, mia, 125, "charged twice")
    page = manager_client.get(PAGE)
    assert figure(page, "payments_refunded_cents") == "$3.00"  # as closed
    rows = soup(page).select(".close-adjustments tbody tr")
    assert [text(r) for r in rows] == ["Refunded of this day's payments $3.00 $4.25 +$1.25"]


def test_a_second_close_and_a_day_not_over_are_refused_with_the_reason(manager_client, day):
    assert post_form(manager_client, CLOSE, page=PAGE).status_code == 303
    again = post_form(manager_client, CLOSE, page=PAGE)
    assert again.status_code == 409 and "already closed" in text(soup(again).select_one(".notice"))
    today = local_today(utcnow(), "America/New_York").isoformat()
    early = post_form(manager_client, f"/g/main/reports/close/{today}", page=PAGE)
    assert early.status_code == 409 and "has not ended yet" in text(early)


def test_the_print_is_an_a4_sheet_of_the_figures(manager_client, day):
    built, _ = day
    page = manager_client.get(f"{CLOSE}/print")
    assert page.status_code == 200
    sheet = soup(page).select_one(".close-sheet")
    assert "Day close: Fri, Apr 10, 2026" in text(sheet) and "Not closed yet" in text(sheet)
    assert f"${built.revenue_cents / 100:,.2f}" in text(sheet)
    assert not soup(page).select(".topbar")


def test_the_csv_is_machine_readable(manager_client, day):
    built, _ = day
    post_form(manager_client, CLOSE, page=PAGE)
    r = manager_client.get(f"{CLOSE}.csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert 'filename="main-close-2026-04-10.csv"' in r.headers["Content-Disposition"]
    rows = {row["figure"]: row for row in csv.DictReader(io.StringIO(r.get_data(as_text=True)))}
    revenue = rows["revenue_usd"]
    assert (revenue["date"], revenue["closed"], revenue["closed_by"]) == ("2026-04-10", "true", "boss")
    assert revenue["as_closed"] == revenue["now"] == f"{built.revenue_cents / 100:.2f}"
    assert revenue["difference"] == "0.00"
    assert rows["over_short_usd"]["now"] == "-0.50" and rows["exits"]["now"] == "4"
    assert rows["revenue_usd:Credit Card"]["now"] == f"{built.card_cents / 100:.2f}"
    closed_at = datetime.fromisoformat(revenue["closed_at (UTC, ISO 8601)"])
    assert closed_at.utcoffset() == timedelta(0) and abs(utcnow() - closed_at) < timedelta(minutes=5)


def test_bad_days_in_paths_are_404(manager_client):
    for path in ("/g/main/reports/close/2026-02-30/print", "/g/main/reports/close/nope.csv"):
        assert manager_client.get(path).status_code == 404


def test_the_reports_page_links_to_it_and_attendants_are_refused(manager_client, app, make_user):
    links = [a["href"] for a in soup(manager_client.get("/g/main/reports")).select("a")]
    assert "/g/main/reports/close" in links
    from tests.helpers.web import signed_in

    attendant = signed_in(app, make_user, "val", "attendant")
    assert attendant.get(PAGE).status_code == 403
