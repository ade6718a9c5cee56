"""Merchant validations through the pages (issue 18): at the desk's exit a code typed or scanned into
"Validation code" takes its discount off as its own line and the payment charges exactly the amount
due after it; a refused code says why under the field and changes nothing; the receipt shows the
line. Managers list and create programs (errors per field) and read the merchants' report and CSV."""
from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest

from garage.domain.clock import utcnow
from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN
from garage.identity import Actor
from garage.services import validations as validation_service
from tests.helpers.db import audit_events, backdate, set_settings, ticket
from tests.helpers.staff import quoted_amount
from tests.helpers.web import HTMX, soup, text

PROGRAMS = "/g/main/reports/validations"


def program(name="Cinema", kind="free_minutes", value=120, codes=("CIN-0001",), **terms):
    validation_service.create_program(MAIN, Actor.system(), name=name, kind=kind, value=value, codes=list(codes),
                                      **terms)


def parked(desk, plate: str, hours: float = 3.5) -> str:
    """A car inside for `hours` (3.5 h: 4 started hours, $40 at the default $10 an hour)."""
    number = desk.issue(plate)
    backdate(number, hours=hours)
    return number


def apply(desk, number: str, code: str, htmx: bool = False, lost: bool = False):
    data = {"validation_code": code, "csrf_token": desk.token, **({"lost": "1"} if lost else {})}
    return desk.client.post(desk.url(f"/desk/tickets/{number}/validate"), data=data, headers=HTMX if htmx else {})


def lines(page) -> list[str]:
    """The validation lines a quote or receipt shows, as read: "Cinema −$20.00 validation"."""
    return [f"{text(dt)} {text(dt.find_next_sibling('dd'))}" for dt in page.select("[data-validation-name]")]


def test_a_code_applied_at_the_exit_is_its_own_line_and_the_payment_charges_the_amount_after_it(desk):
    program()
    number = parked(desk, "MOVIE1")
    assert desk.quote(number) == 4000
    r = apply(desk, number, "cin 0001")
    assert r.status_code == 303
    shown = soup(desk.client.get(r.headers["Location"]))
    assert lines(shown) == ["Cinema −$20.00 validation"]
    assert text(shown.select_one("[data-time-fee]")).startswith("$40.00")
    assert text(shown.select_one("[data-amount]")) == "$20.00" and quoted_amount(shown) == 2000
    assert "Confirm $20.00 paid" in text(shown)
    paid = desk.pay(number, "Cash", expected=quoted_amount(shown))
    assert paid.status_code == 303
    assert (ticket(number).amount_paid, ticket(number).discount_cents) == (2000, 2000)
    receipt = soup(desk.client.get(paid.headers["Location"]))
    assert lines(receipt) == ["Cinema −$20.00 validation"]
    assert text(receipt.select_one("[data-amount-paid]")) == "$20.00"
    slip = soup(desk.client.get(desk.url(f"/desk/tickets/{number}/receipt")))
    assert lines(slip) == ["Cinema −$20.00 validation"] and "$40.00" in text(slip.select_one("[data-time-fee]"))


def test_htmx_applies_in_place_and_the_same_code_again_changes_nothing(desk):
    program(kind="amount_off", value=500, codes=("SHOP-1",), name="Shop")
    number = parked(desk, "SHOP1")
    for _ in range(2):
        r = apply(desk, number, "SHOP-1", htmx=True)
        assert r.status_code == 200
        card = soup(r)
        assert lines(card) == ["Shop −$5.00 validation"] and quoted_amount(card) == 3500
        assert card.select_one("#validation-code")["value"] == ""
    assert ticket(number).validations == 1 and len(audit_events("ticket.validated", number)) == 1


@pytest.mark.parametrize("code, status, words", [
    ("--", 422, "3 to 40 letters and digits"),
    ("NOPE-404", 422, "No validation has that code"),  # the field's error: htmx shows it
    ("USED-1", 409, "used already"),
    ("CAPPED-1", 409, "as many tickets"),
    ("LATER-1", 409, "starts on 2099-01-01"),
    ("STACK-1", 409, "validated already"),
])
def test_a_refused_code_says_why_under_the_field_and_changes_nothing(desk, code, status, words):
    program(name="Once", codes=("USED-1",))
    program(name="Capped", kind="amount_off", value=100, codes=("CAPPED-1", "CAPPED-2"), usage_cap=1)
    program(name="Later", codes=("LATER-1",), valid_from=date(2099, 1, 1))
    program(name="Solo", kind="amount_off", value=100, codes=("SOLO-1",))
    program(name="Stacker", kind="amount_off", value=200, codes=("STACK-1",), stacks=True)
    assert apply(desk, parked(desk, "OTHER1"), "USED-1").status_code == 303
    assert apply(desk, parked(desk, "OTHER2"), "CAPPED-2").status_code == 303
    number = parked(desk, "REFUSED1")
    assert apply(desk, number, "SOLO-1").status_code == 303  # $1 off: $39 due
    for htmx in (False, True):
        r = apply(desk, number, code, htmx=htmx)
        assert r.status_code == status
        page = soup(r)
        field = page.select_one("#validation-code")
        assert words in text(page.find(id="validation-code-error"))
        assert field["value"] == code and field.has_attr("data-autofocus")
        assert quoted_amount(page) == 3900 and lines(page) == ["Solo −$1.00 validation"]
    assert ticket(number).validations == 1 and ticket(number).status == "active"
    assert len(audit_events("ticket.validated", number)) == 1


def test_a_paid_ticket_is_not_validated(desk):
    program()
    number = parked(desk, "GONE1")
    desk.pay(number, "Cash", expected=desk.quote(number))
    r = apply(desk, number, "CIN-0001")
    assert r.status_code == 409 and "already been paid" in text(r)
    assert ticket(number).validations == 0


def test_a_lost_ticket_keeps_its_lost_fee_and_the_form_stays_lost(desk):
    set_settings(lost_ticket_fee_cents=2500, lost_ticket_mode="add")
    program(kind="amount_off", value=500, codes=("LOSTX",), name="Shop")
    number = parked(desk, "LOST1", hours=0.5)  # $10 time fee, $5 off, plus the $25 lost-ticket fee
    r = apply(desk, number, "LOSTX", htmx=True, lost=True)
    card = soup(r)
    assert card.select_one('.pay-form input[name="lost"]') is not None
    assert lines(card) == ["Shop −$5.00 validation"] and text(card.select_one("[data-lost-fee]")) == "$25.00"
    assert quoted_amount(card) == 3000
    assert desk.pay(number, "Cash", expected=3000, lost=True).status_code == 303
    assert (ticket(number).discount_cents, ticket(number).amount_paid) == (500, 3000)


# --- managers -----------------------------------------------------------------------------------

def create(client, **fields):
    page = soup(client.get(PROGRAMS))
    token = page.select_one("#program-form input[name=csrf_token]")["value"]
    form = {"name": "Cinema", "merchant": "Odeon", "kind": "free_minutes", "value": "180", "codes": "CIN-1, cin-2",
            **fields}
    return client.post(PROGRAMS, data={**form, "csrf_token": token})


def test_a_manager_creates_a_program_and_sees_it_listed(manager_client):
    r = create(manager_client, kind="amount_off", value="5.50", usage_cap="100", valid_from="2026-01-01",
               valid_until="2099-12-31", reusable="1")
    assert r.status_code == 303 and r.headers["Location"] == PROGRAMS
    row = soup(manager_client.get(PROGRAMS)).select_one("tr[data-program='Cinema']")
    assert [text(td) for td in row.select("td")] == ["Cinema", "Odeon", "$5.50 off", "Jan 1, 2026 – Dec 31, 2099",
                                                     "0 of 100", "0 of 2"]
    assert audit_events("validation.program_created")


@pytest.mark.parametrize("fields, errors", [
    ({"name": "", "codes": ""}, {"name": "Give the program a name", "codes": "at least one code"}),
    ({"kind": "amount_off", "value": "five", "name": " "}, {"value": "in dollars", "name": "Give the program a name"}),
    ({"kind": "percent_off", "value": "150"}, {"value": "from 1 to 100"}),
    ({"valid_from": "2026-02-01", "valid_until": "2026-01-01"}, {"valid_until": "before the first"}),
    ({"valid_from": "tomorrow"}, {"valid_from": ""}),
    ({"usage_cap": "-3"}, {"usage_cap": "whole number"}),
    ({"usage_cap": "0"}, {"usage_cap": "from 1 to"}),
    ({"codes": "AB"}, {"codes": "3 to 40"}),
    ({"kind": "free"}, {"kind": "Choose what the validation gives"}),
])
def test_the_program_form_says_what_is_wrong_under_each_field(manager_client, fields, errors):
    r = create(manager_client, **fields)
    assert r.status_code == 422
    page = soup(r)
    for name, words in errors.items():
        assert words in text(page.find(id=f"{name}-error")), name
    assert page.select_one("#name")["value"] == fields.get("name", "Cinema")
    assert validation_service.list_programs(MAIN) == []


def test_a_code_another_program_has_is_refused(manager_client):
    assert create(manager_client).status_code == 303
    r = create(manager_client, name="Other", codes="cin1")
    assert r.status_code == 409 and "code CIN1 already" in text(r)
    assert [row.program.name for row in validation_service.list_programs(MAIN)] == ["Cinema"]


def test_the_merchants_report_and_its_csv_bill_what_was_given(desk, client, make_user):
    program(name="Cinema", kind="amount_off", value=500, codes=("CN-1", "CN-2"), merchant="=Odeon")
    program(name="Unused", codes=("UN-1",))
    for code in ("CN-1", "CN-2"):
        number = parked(desk, f"BILL{code[-1]}")
        apply(desk, number, code)
        desk.pay(number, "Cash", expected=desk.quote(number))
    desk.sign_out()
    desk.sign_in("boss", "manager")
    today = utcnow().date()
    period = {"from": (today - timedelta(days=1)).isoformat(), "to": (today + timedelta(days=1)).isoformat()}
    page = soup(client.get(PROGRAMS + "/report", query_string=period))
    row = page.select_one("tr[data-program='Cinema']")
    assert [text(td) for td in row.select("td")] == ["Cinema", "=Odeon", "2", "$10.00"]
    assert text(page.select_one("[data-total-value]")) == "$10.00"
    r = client.get(PROGRAMS + "/report.csv", query_string=period)
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert [(x["program"], x["merchant"], x["tickets"], x["value_cents"], x["value_usd"], x["from"]) for x in rows] == [
        ("Cinema", "'=Odeon", "2", "1000", "10.00", period["from"]), ("Unused", "", "0", "0", "0.00", period["from"])]
    bad = client.get(PROGRAMS + "/report", query_string={"from": "yesterday"})
    assert bad.status_code == 422 and "is not a date" in text(soup(bad).select_one("#validations-error"))


def test_codes_may_be_typed_one_per_line(manager_client):
    """The codes box takes one code per line (a merchant's list pasted in), as well as commas."""
    from garage.services.validations import list_programs
    from tests.helpers.web import csrf_token

    page = "/g/main/reports/validations"
    r = manager_client.post(page, data={"csrf_token": csrf_token(manager_client, page), "name": "Lines",
                                        "kind": "amount_off", "value": "1.00",
                                        "codes": "LINE-0001\r\nLINE-0002\nline-0003, LINE-0004"})
    assert r.status_code == 303, r.get_data(as_text=True)[:500]
    [row] = list_programs(MAIN)
    assert row.codes == 4
