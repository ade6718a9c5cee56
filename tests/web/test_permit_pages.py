"""Monthly permits through the managers' pages (issue 19), on SQLite and PostgreSQL: list, search and
filter; sell (each bad field told under it, nothing saved; a plate on another permit 409); change,
suspend, reactivate, renew (payments and audit rows); the holders' CSV (formula-safe) and its import
(all or nothing, each bad line numbered); the permits report's figures, across a DST change;
attendants 403, another garage's permit 404."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from garage.domain.clock import utcnow
from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN
from garage.extensions import db
from garage.identity import Actor
from garage.models import Permit, PermitPayment, PermitPlate, Ticket
from garage.services import permits as permit_service
from tests.helpers.db import audit_events, set_settings
from tests.helpers.garages import add_garage
from tests.helpers.web import HTMX, csrf_token, soup, text

PERMITS = "/g/main/permits"
def garage_today():
    """The default garage's day (UTC), read when a test runs: a constant taken at collection went stale
    when the suite crossed midnight (seen in CI at 00:01 UTC)."""
    return utcnow().date()
UTC = timezone.utc


def sell(holder="Jane Doe", plates=("PERM 1",), start=None, end=None, price=12000, garage=MAIN, **more):
    return permit_service.create_permit(garage, Actor.system(), holder=holder, plates=list(plates),
                                        valid_from=start or garage_today() - timedelta(days=3),
                                        valid_until=end or garage_today() + timedelta(days=27), price_cents=price, **more)


def permit_count() -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count(Permit.id)))


def payments(permit_id: int) -> list[PermitPayment]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(PermitPayment).where(PermitPayment.permit_id == permit_id)
                                   .order_by(PermitPayment.id)))


def post(client, path: str, data: dict, htmx: bool = False, page: str | None = None, **kwargs):
    token = csrf_token(client, page or PERMITS)
    return client.post(path, data={**data, "csrf_token": token}, headers=HTMX if htmx else {}, **kwargs)


def new_permit(client, htmx: bool = False, **fields):
    data = {"holder": "John Smith", "contact": "555-0100", "plates": "ABC 123\nxyz-9",
            "valid_from": garage_today().isoformat(), "valid_until": (garage_today() + timedelta(days=30)).isoformat(),
            "price": "120.00", "payment_method": "Credit Card", **fields}
    return post(client, PERMITS, data, htmx=htmx)


def rows(page) -> list[tuple[str, str, str]]:
    return [(text(tr.select_one("[data-holder]")), text(tr.select_one("[data-plates]")), tr["data-state"])
            for tr in soup(page).select("tr[data-permit]")]


# --- the list -------------------------------------------------------------------------------------

def test_the_list_searches_by_holder_contact_or_plate_and_filters_by_state(manager_client):
    sell("Ann Valid", ["VAL 1"], contact="ann@example.com")
    sell("Bob Expired", ["EXP 1"], start=garage_today() - timedelta(days=60), end=garage_today() - timedelta(days=1))
    suspended = sell("Cy Suspended", ["SUS 1"])
    permit_service.update_permit(MAIN, suspended.id, Actor.system(), {"status": "suspended"})
    sell("Di Due", ["DUE 1"], end=garage_today() + timedelta(days=5))
    page = manager_client.get(PERMITS)
    assert page.status_code == 200
    assert [r[0] for r in rows(page)] == ["Ann Valid ann@example.com", "Bob Expired", "Cy Suspended", "Di Due"]
    number = soup(page).select_one("tr[data-permit] a")
    assert text(number) == f"P-{Permit.query.order_by(Permit.id).first().id:05d}"
    assert [r[2] for r in rows(manager_client.get(PERMITS + "?status=expired"))] == ["expired"]
    assert [r[0] for r in rows(manager_client.get(PERMITS + "?status=suspended"))] == ["Cy Suspended"]
    assert [r[0] for r in rows(manager_client.get(PERMITS + "?status=due"))] == ["Di Due"]
    assert [r[0] for r in rows(manager_client.get(PERMITS + "?status=valid"))] == ["Ann Valid ann@example.com",
                                                                                   "Di Due"]
    assert [r[0] for r in rows(manager_client.get(PERMITS + "?q=exp-1"))] == ["Bob Expired"]  # a plate's key
    assert [r[0] for r in rows(manager_client.get(PERMITS + "?q=example.com"))] == ["Ann Valid ann@example.com"]
    assert "No permits match" in text(manager_client.get(PERMITS + "?q=nobody"))


def test_the_search_swaps_its_results_for_htmx_and_shows_them_in_the_address_bar(manager_client):
    sell("Ann Valid", ["VAL 1"])
    r = manager_client.get(PERMITS + "?q=ann&status=valid", headers=HTMX)
    assert r.status_code == 200 and soup(r).find("html") is None
    assert soup(r).select_one("section#permit-results") is not None
    assert "HX-Request" in r.headers["Vary"]
    assert r.headers["HX-Push-Url"] == PERMITS + "?q=ann&status=valid"
    whole = manager_client.get(PERMITS + "?q=ann&status=valid")  # the same URL typed: the whole page
    assert soup(whole).find("html") is not None and "HX-Request" in whole.headers["Vary"]
    form = soup(whole).select_one("form#permit-search")
    assert form["method"] == "get" and form["hx-get"] == PERMITS


def test_the_list_pages_and_shows_the_car_inside(manager_client, app):
    for i in range(27):
        sell(f"Holder {i:02d}", [f"PG {i}"])
    first = manager_client.get(PERMITS)
    assert len(rows(first)) == 25 and "page 1 of 2" in text(first)
    second = manager_client.get(PERMITS + "?page=2")
    assert [r[0] for r in rows(second)] == ["Holder 25", "Holder 26"]
    from garage.services.tickets import issue_ticket

    issue_ticket(MAIN, "PG 26", "Car")
    assert text(soup(manager_client.get(PERMITS + "?q=holder 26")).select_one("[data-inside]")) == "PG 26"
    assert manager_client.get(PERMITS + "?status=bogus").status_code == 422
    assert manager_client.get(PERMITS + "?page=0").status_code == 422


# --- selling --------------------------------------------------------------------------------------

def test_a_manager_sells_a_permit_and_lands_on_its_page(manager_client):
    form = soup(manager_client.get(PERMITS + "/new"))
    assert form.select_one("#valid_from")["value"] == garage_today().isoformat()
    r = new_permit(manager_client)
    assert r.status_code == 303
    permit = Permit.query.one()
    assert r.headers["Location"] == f"{PERMITS}/{permit.id}"
    page = soup(manager_client.get(r.headers["Location"]))
    assert f"Permit P-{permit.id:05d} sold to John Smith." in text(page)
    assert text(page.select_one("[data-plates]")) == "ABC 123, XYZ-9"
    assert [(p.kind, p.amount_cents, p.payment_method) for p in payments(permit.id)] == [("sale", 12000, "Credit Card")]
    assert text(page.select_one("tr[data-payment='sale'] [data-amount]")) == "$120.00"
    assert len(audit_events("permit.created", f"P-{permit.id:05d}")) == 1


def test_htmx_sale_goes_to_the_permit_s_page(manager_client):
    r = new_permit(manager_client, htmx=True)
    assert r.status_code == 200 and r.headers["HX-Redirect"] == f"{PERMITS}/{Permit.query.one().id}"


@pytest.mark.parametrize("fields, field, words", [
    ({"holder": "  "}, "holder", "Enter the holder's name"),
    ({"contact": "x" * 121}, "contact", "at most 120"),
    ({"plates": ""}, "plates", "at least one plate"),
    ({"plates": "A\nB\nC\nD\nE\nF"}, "plates", "at most 5 plates"),
    ({"plates": "Ωmega"}, "plates", ""),
    ({"valid_from": "2026-02-30"}, "valid_from", "is not a date"),
    ({"valid_until": ""}, "valid_until", "Give the day"),
    ({"valid_until": (garage_today() - timedelta(days=1)).isoformat()}, "valid_until", "cannot be before the first day"),
    ({"price": "12.345"}, "price", "in dollars"),
    ({"price": "200000"}, "price", "The price must be from"),
    ({"payment_method": "Cheque"}, "payment_method", "Payment method must be one of"),
])
@pytest.mark.parametrize("htmx", [False, True])
def test_each_bad_field_is_told_under_it_the_typed_values_kept_and_nothing_saved(manager_client, fields, field,
                                                                                 words, htmx):
    r = new_permit(manager_client, htmx=htmx, **fields)
    assert r.status_code == 422
    page = soup(r)
    assert (page.find("html") is None) == htmx
    error = page.select_one(f"#{field}-error")
    assert error is not None and words in text(error), text(page.select_one("#permit-form"))
    assert page.select_one("#holder")["value"] == fields.get("holder", "John Smith")
    assert page.select_one("#price")["value"] == fields.get("price", "120.00")
    assert permit_count() == 0


def test_a_plate_on_another_permit_is_refused_at_the_plates_field(manager_client):
    other = sell("Other", ["XYZ 9"])
    r = new_permit(manager_client)
    assert r.status_code == 409
    assert f"is already on permit P-{other.id:05d}" in text(soup(r).select_one("#plates-error"))
    assert permit_count() == 1


# --- one permit -----------------------------------------------------------------------------------------

def test_edit_suspend_reactivate_and_renew(manager_client):
    permit = sell(end=garage_today() + timedelta(days=10))
    page = f"{PERMITS}/{permit.id}"
    r = post(manager_client, page, {"holder": "Jane Roe", "contact": "555", "plates": "PERM 1, NEW 2"}, page=page)
    assert r.status_code == 303 and r.headers["Location"] == page
    shown = soup(manager_client.get(page))
    assert text(shown.select_one("[data-holder]")) == "Jane Roe"
    assert text(shown.select_one("[data-plates]")) == "PERM 1, NEW 2"
    [changed] = audit_events("permit.updated", f"P-{permit.id:05d}")
    assert changed.details["after"]["holder"] == "Jane Roe"

    assert post(manager_client, page + "/suspend", {}, page=page).status_code == 303
    assert soup(manager_client.get(page)).select_one("[data-state]")["data-state"] == "suspended"
    assert post(manager_client, page + "/reactivate", {}, page=page).status_code == 303
    assert soup(manager_client.get(page)).select_one("[data-state]")["data-state"] == "valid"

    renew_form = soup(manager_client.get(page)).select_one("#renew-form")
    assert renew_form.select_one("[name=price]")["value"] == "120.00"  # the last price
    r = post(manager_client, page + "/renew", {"months": "2", "price": "130", "payment_method": "Cash"}, page=page)
    assert r.status_code == 303
    db.session.expire_all()
    renewed = db.session.get(Permit, permit.id)
    start = garage_today() + timedelta(days=11)
    assert renewed.valid_until > garage_today() + timedelta(days=60) and renewed.price_cents == 13000
    assert [(p.kind, p.amount_cents, p.payment_method, p.period_from) for p in payments(permit.id)] == [
        ("sale", 12000, "Cash", permit.valid_from), ("renewal", 13000, "Cash", start)]
    assert len(audit_events("permit.renewed", f"P-{permit.id:05d}")) == 1
    assert len(soup(manager_client.get(page)).select("tr[data-payment]")) == 2


def test_a_second_tap_on_renew_is_not_sold_twice(manager_client):
    permit = sell(end=garage_today() + timedelta(days=10))
    page = f"{PERMITS}/{permit.id}"
    shown = soup(manager_client.get(page)).select_one("#renew-form [name=until]")["value"]
    form = {"months": "1", "price": "120", "payment_method": "Cash", "until": shown}
    assert post(manager_client, page + "/renew", form, page=page).status_code == 303
    again = post(manager_client, page + "/renew", form, page=page)  # the same form, sent again
    assert again.status_code == 409 and "renewed or changed meanwhile" in text(soup(again))
    assert [p.kind for p in payments(permit.id)] == ["sale", "renewal"]


def test_a_bad_edit_or_renewal_is_told_at_its_field_and_changes_nothing(manager_client):
    permit = sell()
    taken = sell("Other", ["TAKEN 1"])
    page = f"{PERMITS}/{permit.id}"
    r = post(manager_client, page, {"holder": "", "contact": "", "plates": "PERM 1"}, page=page)
    assert r.status_code == 422 and "Enter the holder's name" in text(soup(r).select_one("#holder-error"))
    r = post(manager_client, page, {"holder": "Jane", "contact": "", "plates": "taken-1"}, page=page)
    assert r.status_code == 409 and f"P-{taken.id:05d}" in text(soup(r).select_one("#plates-error"))
    assert soup(r).select_one("#plates").get_text() == "taken-1"
    r = post(manager_client, page + "/renew", {"months": "13", "price": "x", "payment_method": "Cash"}, page=page)
    assert r.status_code == 422
    assert "Months must be a whole number from 1 to 12" in text(soup(r).select_one("#months-error"))
    assert "in dollars" in text(soup(r).select_one("#renew_price-error"))
    assert len(payments(permit.id)) == 1 and audit_events("permit.updated") == []


def test_attendants_are_refused_and_another_garage_s_permit_is_not_found(app, client, make_user, manager_client):
    north = add_garage("north")
    theirs = sell("North Holder", ["NORTH 1"], garage=north)
    assert manager_client.get(f"{PERMITS}/{theirs.id}").status_code == 404
    assert post(manager_client, f"{PERMITS}/{theirs.id}/suspend", {}).status_code == 404
    assert "North Holder" not in text(manager_client.get(PERMITS))
    attendant = app.test_client()
    make_user("ann", "attendant")
    from tests.helpers.web import sign_in

    sign_in(attendant, "ann")
    for path in (PERMITS, PERMITS + "/new", PERMITS + "/report", PERMITS + "/holders.csv", PERMITS + "/import"):
        assert attendant.get(path).status_code == 403, path
    assert 'href="/g/main/permits"' not in attendant.get("/g/main/desk").get_data(as_text=True)
    assert 'href="/g/main/permits"' in manager_client.get("/g/main/desk").get_data(as_text=True)


# --- CSV ------------------------------------------------------------------------------------------------

def test_the_holders_csv_lists_every_permit_and_neutralises_formulas(manager_client):
    first = sell("=HYPERLINK(\"http://evil\")", ["AB 1", "CD 2"], contact="+1 555")
    r = manager_client.get(PERMITS + "/holders.csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert r.headers["Content-Disposition"] == f'attachment; filename="main-permit-holders-{garage_today().isoformat()}.csv"'
    [header, row] = list(csv.reader(io.StringIO(r.get_data(as_text=True))))
    assert header == ["permit", "holder", "contact", "plates", "status", "valid_from", "valid_until", "price",
                      "currency"]
    assert row == [f"P-{first.id:05d}", "'=HYPERLINK(\"http://evil\")", "'+1 555", "AB 1; CD 2", "valid",
                   first.valid_from.isoformat(), first.valid_until.isoformat(), "120.00", "USD"]


def upload(client, content: bytes | str, name: str = "holders.csv"):
    data = content.encode() if isinstance(content, str) else content
    return post(client, PERMITS + "/import", {"file": (io.BytesIO(data), name)}, page=PERMITS + "/import",
                content_type="multipart/form-data")


GOOD = (f"holder,contact,plates,valid_from,valid_until,price,payment_method\r\n"
        f"Ann One,ann@example.com,IMP 1;IMP 2,{garage_today()},{garage_today() + timedelta(days=30)},100,Cash\r\n"
        f"Bob Two,,IMP3;IMP4,{garage_today()},{garage_today() + timedelta(days=30)},99.50,credit card\r\n")


def test_a_good_import_sells_every_permit_of_the_file(manager_client):
    r = upload(manager_client, GOOD)
    assert r.status_code == 303 and r.headers["Location"] == PERMITS
    assert "2 permits imported." in text(manager_client.get(PERMITS))
    imported = Permit.query.order_by(Permit.id).all()
    assert [(p.holder, [x.license_plate for x in p.plates]) for p in imported] == [
        ("Ann One", ["IMP 1", "IMP 2"]), ("Bob Two", ["IMP3", "IMP4"])]
    assert [(p.kind, p.amount_cents, p.payment_method) for p in payments(imported[1].id)] == [
        ("sale", 9950, "Credit Card")]
    assert all(e.details["imported"] for e in audit_events("permit.created"))


def test_an_import_with_bad_lines_lists_each_with_its_number_and_imports_nothing(manager_client):
    sell("Existing", ["OLD 1"])
    content = (f"holder,plates,valid_from,valid_until,price\n"
               f"Good One,GOOD1,{garage_today()},{garage_today() + timedelta(days=30)},100\n"
               f",BAD 1,{garage_today()},{garage_today() + timedelta(days=30)},100\n"
               f"Bad Date,BAD 2,2026-02-30,{garage_today()},abc\n"
               f"Old Plate,old-1,{garage_today()},{garage_today() + timedelta(days=30)},100\n"
               f"Twice,good-1,{garage_today()},{garage_today() + timedelta(days=30)},100\n"
               f"Short,row\n")
    r = upload(manager_client, content)
    assert r.status_code == 422
    listed = [(tr["data-line"], text(tr)) for tr in soup(r).select("tr[data-line]")]
    lines = [line for line, _ in listed]
    # line 4's plate is checked too, though its other cells are wrong (a taken or repeated plate would show)
    assert lines == ["3", "4", "4", "5", "6", "7"], listed
    problems = " | ".join(problem for _, problem in listed)
    assert "holder: Enter the holder's name" in problems
    assert "valid_from:" in problems and "price:" in problems
    assert "OLD-1 is already on permit P-" in problems
    assert "GOOD-1 is also on line 2" in problems
    assert "2 cells where the first line names 5 columns" in problems
    assert "nothing was imported" in text(r)
    assert permit_count() == 1


def test_a_plate_on_a_permit_is_told_even_on_a_line_with_other_mistakes(manager_client):
    sell("Existing", ["ML 4521"])
    content = (f"holder,plates,valid_from,valid_until,price\n"
               f",ml-4521,2026-02-30,{garage_today()},abc\n")  # no holder, a bad date, a bad price, a taken plate
    r = upload(manager_client, content)
    assert r.status_code == 422
    problems = [text(tr) for tr in soup(r).select("tr[data-line]")]
    assert any("ML-4521 is already on permit P-" in p for p in problems), problems
    assert len(problems) == 4 and permit_count() == 1


@pytest.mark.parametrize("content, words", [
    (b"holder,plates\nA,B\n", "no column valid_from, valid_until, price"),
    ("holder,plates,valid_from,valid_until,price,colour\n", "unknown column"),
    ("holder,plates,valid_from,valid_until,price\n", "No permits after the first line"),
    (b"", "The file is empty"),
    ("holder,plates,valid_from,valid_until,price\nJos\xe9,A 1,2026-01-01,2026-01-31,1\n".encode("latin-1"),
     "not UTF-8"),
])
def test_a_file_that_is_not_a_holders_csv_is_refused_with_a_message(manager_client, content, words):
    r = upload(manager_client, content)
    assert r.status_code == 422 and words in text(r), text(r)
    assert permit_count() == 0


def test_an_import_without_a_file_or_with_too_many_lines_is_refused(manager_client):
    r = post(manager_client, PERMITS + "/import", {}, page=PERMITS + "/import")
    assert r.status_code == 422 and "Choose a CSV file" in text(r)
    many = "holder,plates,valid_from,valid_until,price\n" + "".join(
        f"H{i},P{i},{garage_today()},{garage_today()},1\n" for i in range(permit_service.IMPORT_MAX_ROWS + 1))
    r = upload(manager_client, many)
    assert r.status_code == 422 and "At most 1000 permits per file" in text(r)
    assert permit_count() == 0


def test_an_exported_file_imports_at_another_garage(app, manager_client):
    sell("Round Trip", ["RT 1", "RT 2"])
    exported = manager_client.get(PERMITS + "/holders.csv").get_data()
    db.session.execute(sa.delete(PermitPayment))
    from garage.models import PermitPlate

    db.session.execute(sa.delete(PermitPlate))
    db.session.execute(sa.delete(Permit))
    db.session.commit()
    assert upload(manager_client, exported).status_code == 303
    assert [x.license_plate for x in Permit.query.one().plates] == ["RT 1", "RT 2"]


# --- the report ------------------------------------------------------------------------------------------

def at(tz: str, *parts: int) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime(*parts, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def car(garage: int, plate: str, entry: datetime, exit_: datetime | None, permit_id: int | None = None,
        status: str = "completed") -> None:
    db.session.add(Ticket(garage_id=garage, ticket_number=f"T-{plate}", license_plate=plate, plate_key=plate,
                          vehicle_type="Car", entry_time=entry, exit_time=exit_, status=status if exit_ else "active",
                          amount_paid=0 if status == "completed" and exit_ else None, last_event_at=entry,
                          permit_id=permit_id))
    db.session.commit()


def test_the_report_counts_permits_lists_renewals_due_and_sums_sales_by_method(manager_client):
    sell("Valid", ["V 1"], payment_method="Cash")
    sell("Due", ["D 1"], end=garage_today() + timedelta(days=3), price=5000, payment_method="Credit Card")
    sell("Expired", ["E 1"], start=garage_today() - timedelta(days=40), end=garage_today() - timedelta(days=1), price=100)
    later = sell("Later", ["L 1"], start=garage_today() + timedelta(days=2), end=garage_today() + timedelta(days=40), price=1)
    suspended = sell("Suspended", ["S 1"], price=0)
    permit_service.update_permit(MAIN, suspended.id, Actor.system(), {"status": "suspended"})
    permit_service.renew_permit(MAIN, later.id, Actor.system(), price_cents=2500, payment_method="Cash")
    page = soup(manager_client.get(PERMITS + f"/report?from={garage_today()}&to={garage_today()}&days=5"))
    counts = {td["data-count"]: text(td) for td in page.select("[data-count]")}
    assert counts == {"valid": "2", "not_yet": "1", "expired": "1", "suspended": "1", "total": "5"}
    assert [text(tr.select_one(".name")) for tr in page.select(".permits-due tr[data-permit]")] == ["Due"]
    revenue = {tr["data-method"]: (text(tr.select_one("[data-sales]")), text(tr.select_one("[data-renewals]")),
                                   text(tr.select_one("[data-amount]"))) for tr in page.select("tr[data-method]")}
    assert revenue == {"Cash": ("4", "1", "$146.01"), "Credit Card": ("1", "0", "$50.00")}
    assert text(page.select_one("[data-total-amount]")) == "$196.01"
    yesterday = garage_today() - timedelta(days=1)
    assert "No permit sold" in text(manager_client.get(PERMITS + f"/report?from={yesterday}&to={yesterday}"))
    assert manager_client.get(PERMITS + "/report?days=91").status_code == 422
    assert manager_client.get(PERMITS + "/report?from=2026-02-30").status_code == 422
    too_long = manager_client.get(PERMITS + "/report?from=2026-01-01&to=2026-04-30")
    assert too_long.status_code == 422 and "at most 92 days" in text(soup(too_long).select_one("#permits-to-error"))


def test_the_occupancy_of_permit_holders_and_visitors_follows_local_days_across_dst(manager_client):
    """New York springs forward on Sun 8 March 2026 (a 23-hour day). A permit car inside from Saturday
    evening to Monday morning; a visitor from 23:30 on Sunday to 00:30 on Monday (UTC: both on Monday);
    a voided visitor's ticket on Saturday afternoon counts while it was inside."""
    tz = "America/New_York"
    set_settings(timezone=tz)
    permit = sell("Night Owl", ["OWL 1"], start=date(2026, 3, 1), end=date(2026, 3, 31))
    car(MAIN, "OWL1", at(tz, 2026, 3, 7, 20, 0), at(tz, 2026, 3, 9, 8, 0), permit.id)
    car(MAIN, "LATE1", at(tz, 2026, 3, 8, 23, 30), at(tz, 2026, 3, 9, 0, 30))
    car(MAIN, "VOID1", at(tz, 2026, 3, 7, 14, 0), at(tz, 2026, 3, 7, 15, 0), status="voided")
    car(MAIN, "VIS1", at(tz, 2026, 3, 7, 14, 30), at(tz, 2026, 3, 7, 16, 0))
    days = permit_service.permit_occupancy(MAIN, date(2026, 3, 6), date(2026, 3, 9), tz)
    assert [(d.day.day, d.peak_permit, d.peak_visitor, d.end_permit, d.end_visitor) for d in days] == [
        (6, 0, 0, 0, 0), (7, 1, 2, 1, 0), (8, 1, 1, 1, 1), (9, 1, 1, 0, 0)]
    page = soup(manager_client.get(PERMITS + "/report?from=2026-03-06&to=2026-03-09"))
    sunday = page.select_one("tr[data-day='2026-03-08']")
    assert [text(sunday.select_one(f"[data-{name}]")) for name in
            ("peak-permit", "peak-visitor", "end-permit", "end-visitor")] == ["1", "1", "1", "1"]
    assert page.select_one("svg.chart") is not None


def test_a_day_not_over_has_no_end_figures_and_a_car_inside_counts(manager_client):
    permit = sell()
    car(MAIN, "PERM1", utcnow() - timedelta(minutes=5), None, permit.id)
    [today] = permit_service.permit_occupancy(MAIN, garage_today(), garage_today(), "UTC")
    assert (today.peak_permit, today.peak_visitor, today.end_permit, today.end_visitor) == (1, 0, None, None)
    tomorrow = garage_today() + timedelta(days=1)
    [later] = permit_service.permit_occupancy(MAIN, tomorrow, tomorrow, "UTC")
    assert (later.peak_permit, later.end_permit) == (0, None)


def test_a_file_larger_than_other_forms_is_read_whole(manager_client, app):
    """The import takes files up to 1 MB, over the 64 KB every other form is limited to: every line is
    checked (the last one's mistake is found), nothing imported."""
    contact = "c" * 100
    lines = [f"H{i},{contact},P{i},{garage_today()},{garage_today()},1" for i in range(900)] + ["Last,,P-LAST,2026-02-30,2026-03-01,1"]
    content = "holder,contact,plates,valid_from,valid_until,price\n" + "\n".join(lines) + "\n"
    assert len(content) > app.config["MAX_CONTENT_LENGTH"]
    r = upload(manager_client, content)
    assert r.status_code == 422
    assert [tr["data-line"] for tr in soup(r).select("tr[data-line]")] == ["902"]
    assert permit_count() == 0


def test_an_exported_plate_holding_a_space_imports_as_one_plate(app, manager_client):
    sell("Spacey", ["AB 123"])
    exported = manager_client.get(PERMITS + "/holders.csv").get_data(as_text=True)
    assert ",AB 123," in exported
    db.session.execute(sa.delete(PermitPlate)), db.session.execute(sa.delete(PermitPayment))
    db.session.execute(sa.delete(Permit))
    db.session.commit()
    r = upload(manager_client, exported)
    assert r.status_code in (200, 303), text(soup(r))
    assert [p.license_plate for p in db.session.scalars(sa.select(PermitPlate))] == ["AB 123"]
