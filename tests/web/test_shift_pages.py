"""The desk's shift pages (issue 18), on SQLite and PostgreSQL, through the real forms: open a shift
with a float, its X report, close it with the counted cash (a total or per denomination), the
close-out on A4 and the 80 mm slip; a manager's list of shifts, reopening and adjusting with a reason;
the desk's payment at a garage that requires a shift names the missing shift."""
from __future__ import annotations

from datetime import datetime

from garage.admin.present import moment_text
from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN
from tests.helpers.db import audit_events, set_settings
from tests.helpers.staff import quoted_amount
from tests.helpers.web import signed_in, soup

SHIFT = "/g/main/desk/shift"


def post(client, path: str, token: str, **data):
    return client.post(path, data={"csrf_token": token, **data})


def open_shift(desk, float_dollars: str = "100"):
    r = post(desk.client, SHIFT, desk.token, float=float_dollars)
    assert r.status_code == 303 and r.headers["Location"].endswith("/g/main/desk/shift"), r.get_data(as_text=True)
    return r


def shift_id(client) -> str:
    return soup(client.get(SHIFT)).select_one("[data-shift-id]").get_text()


def test_open_take_payments_see_the_x_report_and_close_with_the_counted_total(desk):
    page = soup(desk.client.get(SHIFT))
    assert page.select_one("main button[type=submit]").get_text() == "Open shift"
    open_shift(desk, "100.00")
    number = desk.issue("CASH 1")
    assert desk.pay(number, "Cash", desk.quote(number)).status_code == 303
    page = soup(desk.client.get(SHIFT))
    assert page.select_one("[data-float]").get_text() == "$100.00"
    assert page.select_one("tr[data-method=Cash] td:last-child").get_text() == "$10.00"
    assert page.select_one("[data-expected]").get_text() == "$110.00"
    assert "Cash refunds" not in page.get_text()  # no refunds yet: no line saying $0.00 about them
    r = post(desk.client, f"/g/main/desk/shifts/{shift_id(desk.client)}/close", desk.token, counted="105")
    assert r.status_code == 303
    closeout = soup(desk.client.get(r.headers["Location"]))
    assert closeout.select_one("[data-counted]").get_text() == "$105.00"
    assert closeout.select_one("[data-over-short]").get_text() == "short by $5.00"
    assert closeout.select_one("[data-expected]").get_text() == "$110.00"
    slip = soup(desk.client.get(r.headers["Location"] + "/print"))
    assert slip.select_one(".slip [data-over-short]").get_text() == "short by $5.00"
    # closed: the shift page offers a new shift again
    assert soup(desk.client.get(SHIFT)).select_one("main button[type=submit]").get_text() == "Open shift"


def test_close_counted_by_denomination(desk):
    open_shift(desk, "20")
    r = post(desk.client, f"/g/main/desk/shifts/{shift_id(desk.client)}/close", desk.token,
             count_1000="2", count_25="4", counted="")
    assert r.status_code == 303
    closeout = soup(desk.client.get(r.headers["Location"]))
    assert closeout.select_one("[data-counted]").get_text() == "$21.00"
    assert closeout.select_one("[data-over-short]").get_text() == "over by $1.00"
    assert "× 4" in closeout.select_one(".shift-pieces").get_text()


def test_bad_amounts_are_refused_under_their_field_and_nothing_changes(desk):
    r = post(desk.client, SHIFT, desk.token, float="lots")
    assert r.status_code == 422
    assert soup(r).select_one("#float-error").get_text() == "Type an amount in dollars, e.g. 100 or 100.00"
    r = post(desk.client, SHIFT, desk.token, float="20000")
    assert r.status_code == 422 and "The float must be from $0.00 to $10,000.00" in soup(r).select_one(
        "#float-error").get_text()
    open_shift(desk)
    sid = shift_id(desk.client)
    r = post(desk.client, f"/g/main/desk/shifts/{sid}/close", desk.token, counted="", count_25="-1")
    assert r.status_code == 422 and "The count of 25¢ must be a whole number" in soup(r).select_one(
        "#counted-error").get_text()
    r = post(desk.client, f"/g/main/desk/shifts/{sid}/close", desk.token, counted="abc")
    assert r.status_code == 422 and soup(r).select_one("#counted-error") is not None
    assert soup(desk.client.get(SHIFT)).select_one("#close-title") is not None  # still open
    r = post(desk.client, SHIFT, desk.token, float="5")
    assert r.status_code == 409 and "already have an open shift" in soup(r).select_one("#shift-error").get_text()


def test_the_desk_names_the_missing_shift_and_charges_nothing(desk):
    set_settings(payments_require_shift=True)
    number = desk.issue("NO SHIFT 1")
    r = desk.pay(number, "Cash", desk.quote(number))
    assert r.status_code == 409
    notice = soup(r).select_one(".quote .notice")
    assert notice.get_text(" ", strip=True).startswith("Open a shift before taking payments. Nothing was charged.")
    link = notice.select_one("a")["href"]
    assert audit_events("ticket.paid", number) == []
    # the link opens a shift and brings the attendant back to this ticket's quote
    form = soup(desk.client.get(link)).select_one("main form")
    back = form.select_one("input[name=next]")["value"]
    assert back == f"/g/main/desk/exit?q={number}"
    r = post(desk.client, SHIFT, desk.token, float="100", next=back)
    assert r.status_code == 303 and r.headers["Location"] == back
    assert soup(desk.client.get(back)).select_one(".quote [data-ticket-number]").get_text(strip=True) == number
    assert desk.pay(number, "Cash", desk.quote(number)).status_code == 303


def test_opening_a_shift_goes_back_only_to_a_page_of_this_site(desk):
    r = post(desk.client, SHIFT, desk.token, float="100", next="//evil.example/desk")
    assert r.status_code == 303 and r.headers["Location"].endswith("/g/main/desk/shift")
    assert soup(desk.client.get(SHIFT + "?next=https://evil.example/")).select_one("input[name=next]") is None


def test_a_manager_lists_adjusts_and_reopens_with_a_reason(app, desk, make_user):
    open_shift(desk, "50")
    sid = shift_id(desk.client)
    assert post(desk.client, f"/g/main/desk/shifts/{sid}/close", desk.token, counted="45").status_code == 303
    boss = signed_in(app, make_user, "boss", "manager")
    listed = soup(boss.get("/g/main/desk/shifts"))
    row = listed.select_one(f"tr[data-shift='{sid}']")
    assert "ann" in row.get_text() and "short by $5.00" in row.get_text()
    page = soup(boss.get(f"/g/main/desk/shifts/{sid}"))
    token = page.select_one("input[name=csrf_token]")["value"]
    r = post(boss, f"/g/main/desk/shifts/{sid}/adjust", token, counted="50", reason="")
    assert r.status_code == 422 and soup(r).select_one("#adjust-reason-error") is not None
    r = post(boss, f"/g/main/desk/shifts/{sid}/adjust", token, counted="50", reason="Recounted: $5 was in the safe bag")
    assert r.status_code == 303
    adjusted = soup(boss.get(f"/g/main/desk/shifts/{sid}"))
    assert adjusted.select_one("[data-over-short]").get_text() == "balanced"
    # the page and the slip say it was adjusted: the first count, the new one, by whom, when, why
    for page in (adjusted, soup(desk.client.get(f"/g/main/desk/shifts/{sid}/print"))):
        assert page.select_one("[data-first-count]").get_text() == "$45.00"
        line = page.select_one("[data-adjustment]").get_text(" ", strip=True)
        assert line.startswith("$45.00 → $50.00 by boss,") and line.endswith("Reason: Recounted: $5 was in the safe bag")
    event, = audit_events("shift.adjusted", sid)
    assert event.details["before"]["countedCashCents"] == 4500 and event.details["after"]["countedCashCents"] == 5000
    logged = soup(boss.get("/g/main/admin/audit", query_string={"action": "shift.adjusted"})).get_text(" ", strip=True)
    assert "Recounted: $5 was in the safe bag" in logged and "counted cash $45.00 → $50.00" in logged
    r = post(boss, f"/g/main/desk/shifts/{sid}/reopen", token, reason="Closed too early")
    assert r.status_code == 303
    assert soup(desk.client.get(SHIFT)).select_one("#close-title") is not None  # ann's shift is open again


def test_attendants_see_only_their_own_shifts_and_not_the_list(app, desk, make_user):
    open_shift(desk)
    sid = shift_id(desk.client)
    other = signed_in(app, make_user, "dave", "attendant")
    assert other.get(f"/g/main/desk/shifts/{sid}").status_code == 404
    assert other.get("/g/main/desk/shifts").status_code == 403
    assert desk.client.get(f"/g/main/desk/shifts/{sid}").status_code == 200


def test_the_audit_trail_words_a_reopened_count_in_pieces_and_the_garage_local_time(app, desk, make_user):
    set_settings(timezone="Pacific/Auckland")
    open_shift(desk, "0")
    sid = shift_id(desk.client)
    post(desk.client, f"/g/main/desk/shifts/{sid}/close", desk.token, count_10000="2", count_100="3", counted="")
    boss = signed_in(app, make_user, "boss", "manager")
    token = soup(boss.get(f"/g/main/desk/shifts/{sid}")).select_one("input[name=csrf_token]")["value"]
    assert post(boss, f"/g/main/desk/shifts/{sid}/reopen", token, reason="Closed too early").status_code == 303
    event, = audit_events("shift.reopened", sid)
    closed = datetime.fromisoformat(event.details["before"]["closedAt"])
    logged = soup(boss.get("/g/main/admin/audit", query_string={"action": "shift.reopened"})).get_text(" ", strip=True)
    assert "counted by denomination 2 × $100, 3 × $1 → none" in logged
    # in the garage's timezone, written the en_US way (the audit page's formats: garage/admin/present.py)
    assert f"closed at {moment_text(closed, 'Pacific/Auckland')} → none".replace("\u202f", " ") in logged.replace("\u202f", " ")
    closed_logged = soup(boss.get("/g/main/admin/audit", query_string={"action": "shift.closed"})).get_text(" ", strip=True)
    assert "counted by denomination 2 × $100, 3 × $1" in closed_logged and "'10000'" not in closed_logged
