"""Merchant validations through the API (issue 18), on SQLite and PostgreSQL: programs and codes
(managers), a code at the quote (a preview) and at the exit, the discount as its own line, the quote
equal to the charge, single-use codes, usage caps, stacking, validity dates, the merchants' report."""
from __future__ import annotations

from datetime import timedelta

import pytest

from garage.domain.clock import utcnow
from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN
from garage.identity import Actor
from garage.services.tickets import issue_ticket
from tests.helpers.api import issue, pay, quote
from tests.helpers.db import audit_events, ticket


def program(client, manager, **terms):
    body = {"name": "Cinema", "kind": "free_minutes", "value": 120, "codes": ["CIN-0001"], **terms}
    r = client.post("/api/validations", json=body, headers=manager)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def parked(hours: float, plate: str) -> str:
    """A car that came in `hours` ago: its ticket number."""
    return issue_ticket(MAIN, plate, "Car", Actor.system(), now=utcnow() - timedelta(hours=hours)).ticket_number


def test_a_code_at_the_exit_takes_its_discount_off_and_the_quote_equals_the_charge(client, staff, manager):
    program(client, manager, name="Cinema", kind="free_minutes", value=120, codes=["cin-0001"])
    number = parked(3.5, "MOVIE 1")  # 4 started hours: $40; the first 2 hours free → $20
    preview = quote_with(client, staff, number, "CIN 0001")
    assert (preview["timeFee"], preview["discount"], preview["amountDue"]) == (4000, 2000, 2000)
    assert preview["validations"] == [{"program": "Cinema", "discount": 2000}]
    assert quote(client, staff, number)["amountDue"] == 4000  # a preview writes nothing
    r = pay(client, staff, number, validationCode="cin0001", expectedAmount=2000)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["amountPaid"] == 2000
    paid = ticket(number)
    assert (paid.discount_cents, paid.validations) == (2000, 1)
    assert audit_events("ticket.paid", number)[0].details["discountCents"] == 2000
    assert audit_events("ticket.validated", number)[0].details["program"] == "Cinema"


def quote_with(client, headers, number, code):
    r = client.get(f"/api/tickets/{number}/quote", query_string={"validationCode": code}, headers=headers)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


@pytest.mark.parametrize("kind, value, due", [("flat_price", 1500, 1500), ("amount_off", 500, 3500),
                                              ("percent_off", 25, 3000), ("free_minutes", 300, 0)])
def test_each_kind_of_program(client, staff, manager, kind, value, due):
    program(client, manager, kind=kind, value=value, codes=["K-0001"])
    number = parked(3.5, "KIND 1")
    r = client.post(f"/api/tickets/{number}/validations", json={"validationCode": "K0001"}, headers=staff)
    assert r.status_code == 201 and r.get_json()["amountDue"] == due
    assert pay(client, staff, number).get_json()["amountPaid"] == due


def test_a_single_use_code_validates_one_ticket_a_reusable_one_many(client, staff, manager):
    program(client, manager, name="Once", codes=["ONCE-1"])
    program(client, manager, name="Shop", kind="amount_off", value=100, codes=["SHOP-ALL"], reusable=True)
    first, second = parked(0.5, "ONE 1"), parked(0.5, "ONE 2")
    assert client.post(f"/api/tickets/{first}/validations", json={"validationCode": "ONCE1"},
                       headers=staff).status_code == 201
    # again on the same ticket: nothing changes (an exit retried after a timeout)
    assert client.post(f"/api/tickets/{first}/validations", json={"validationCode": "ONCE1"},
                       headers=staff).status_code == 201
    assert ticket(first).validations == 1
    r = client.post(f"/api/tickets/{second}/validations", json={"validationCode": "ONCE1"}, headers=staff)
    assert r.status_code == 409 and "single-use" in r.get_json()["message"]
    assert ticket(second).validations == 0
    for number in (second, parked(0.5, "ONE 3")):
        assert pay(client, staff, number, validationCode="SHOP-ALL").get_json()["amountPaid"] == 900


def test_a_usage_cap_and_validity_dates_are_kept(client, staff, manager):
    program(client, manager, name="Capped", kind="amount_off", value=100, codes=["CAP-1"], reusable=True, usageCap=1)
    program(client, manager, name="Later", codes=["LATER-1"], validFrom="2099-01-01")
    program(client, manager, name="Over", codes=["OVER-1"], validUntil="2020-01-01")
    assert pay(client, staff, parked(1, "CAP 1"), validationCode="CAP1").status_code == 200
    number = parked(1, "CAP 2")
    r = pay(client, staff, number, validationCode="CAP1")
    assert r.status_code == 409 and "as many tickets" in r.get_json()["message"]
    assert ticket(number).status == "active"  # refused: nothing charged
    for code, words in (("LATER1", "starts on 2099-01-01"), ("OVER1", "ended on 2020-01-01")):
        r = client.post(f"/api/tickets/{number}/validations", json={"validationCode": code}, headers=staff)
        assert r.status_code == 409 and words in r.get_json()["message"]


def test_one_validation_per_ticket_unless_both_stack(client, staff, manager):
    program(client, manager, name="Solo", kind="amount_off", value=100, codes=["SOLO-1"])
    program(client, manager, name="StackA", kind="amount_off", value=200, codes=["STACK-A"], stacks=True)
    program(client, manager, name="StackB", kind="percent_off", value=50, codes=["STACK-B"], stacks=True)
    solo = parked(1, "SOLO 1")
    client.post(f"/api/tickets/{solo}/validations", json={"validationCode": "SOLO1"}, headers=staff)
    r = client.post(f"/api/tickets/{solo}/validations", json={"validationCode": "STACKA"}, headers=staff)
    assert r.status_code == 409 and "stack" in r.get_json()["message"]
    both = parked(3.5, "STACK 1")  # $40: $2 off, then half of $38
    client.post(f"/api/tickets/{both}/validations", json={"validationCode": "STACKB"}, headers=staff)
    r = client.post(f"/api/tickets/{both}/validations", json={"validationCode": "STACKA"}, headers=staff)
    assert r.status_code == 201
    body = r.get_json()
    assert body["amountDue"] == 1900 and body["discount"] == 2100
    assert {v["program"]: v["discount"] for v in body["validations"]} == {"StackA": 200, "StackB": 1900}
    assert pay(client, staff, both, expectedAmount=1900).get_json()["amountPaid"] == 1900


def test_the_merchants_report_bills_what_was_given(client, staff, manager):
    program(client, manager, name="Cinema", kind="amount_off", value=500, codes=["CN-1", "CN-2", "CN-3"])
    program(client, manager, name="Unused", codes=["UN-1"])
    for i, code in enumerate(("CN1", "CN2")):
        pay(client, staff, parked(1, f"BILL {i}"), validationCode=code)
    parked_only = parked(1, "BILL 9")  # validated but not paid yet: not billed
    client.post(f"/api/tickets/{parked_only}/validations", json={"validationCode": "CN3"}, headers=staff)
    r = client.get("/api/validations/report", headers=manager)
    assert r.status_code == 200
    figures = {f["name"]: (f["tickets"], f["valueGiven"]) for f in r.get_json()}
    assert figures == {"Cinema": (2, 1000), "Unused": (0, 0)}
    listed = {p["name"]: (p["usedCount"], p["codes"], p["codesUsed"]) for p in
              client.get("/api/validations", headers=manager).get_json()}
    assert listed == {"Cinema": (3, 3, 3), "Unused": (0, 1, 0)}


@pytest.mark.parametrize("terms, field", [
    ({"kind": "percent_off", "value": 101}, "percent"), ({"codes": ["AB"]}, "letters and digits"),
    ({"codes": ["DUP-1", "dup1"]}, "twice"), ({"validFrom": "2026-05-02", "validUntil": "2026-05-01"}, "before"),
    ({"name": "   "}, "name"), ({"validFrom": "2026-02-30"}, "date"), ({"kind": "free_beer"}, "kind"),
])
def test_bad_terms_are_refused_and_create_nothing(client, manager, terms, field):
    body = {"name": "Bad", "kind": "amount_off", "value": 100, "codes": ["BAD-1"], **terms}
    r = client.post("/api/validations", json=body, headers=manager)
    assert r.status_code == 422 and field in r.get_json()["message"].lower(), r.get_json()
    assert client.get("/api/validations", headers=manager).get_json() == []


def test_names_and_codes_are_the_garages_own_once(client, manager):
    program(client, manager, name="Cinema", codes=["SAME-1"])
    r = client.post("/api/validations", json={"name": "Cinema", "kind": "amount_off", "value": 1,
                                              "codes": ["OTHER-1"]}, headers=manager)
    assert r.status_code == 409
    r = client.post("/api/validations", json={"name": "Other", "kind": "amount_off", "value": 1,
                                              "codes": ["same1"]}, headers=manager)
    assert r.status_code == 409 and "SAME1" in r.get_json()["message"]


def test_who_may_and_unknown_codes(client, staff, manager):
    body = {"name": "X", "kind": "amount_off", "value": 1, "codes": ["XX-1"]}
    assert client.post("/api/validations", json=body, headers=staff).status_code == 403
    assert client.get("/api/validations", headers=staff).status_code == 403
    number = issue(client, staff, "NOCODE 1")
    for code in ("NOPE-1", "!!", "x" * 64):
        r = client.post(f"/api/tickets/{number}/validations", json={"validationCode": code}, headers=staff)
        assert r.status_code == 404 and r.get_json()["message"] == "No validation has that code here"
    assert pay(client, staff, number, validationCode="NOPE-1").status_code == 404
    assert ticket(number).status == "active"


def test_a_paid_ticket_is_not_validated(client, staff, manager):
    program(client, manager, codes=["LATE-1"])
    number = issue(client, staff, "LATE 1")
    pay(client, staff, number)
    r = client.post(f"/api/tickets/{number}/validations", json={"validationCode": "LATE1"}, headers=staff)
    assert r.status_code == 409 and "inside" in r.get_json()["message"]


def test_a_voided_ticket_gives_its_validations_uses_back(client, staff, manager):
    program(client, manager, name="Once", kind="amount_off", value=100, codes=["GIVE-1"], usageCap=1)
    number = issue(client, staff, "OOPS 1")
    assert client.post(f"/api/tickets/{number}/validations", json={"validationCode": "GIVE1"},
                       headers=staff).status_code == 201
    assert client.post(f"/api/tickets/{number}/void", json={"reason": "never entered"}, headers=staff).status_code == 200
    [listed] = client.get("/api/validations", headers=manager).get_json()
    assert (listed["usedCount"], listed["codesUsed"]) == (0, 0)
    assert pay(client, staff, parked(0.5, "REAL 1"), validationCode="GIVE-1").get_json()["amountPaid"] == 900


def test_an_exit_retried_after_it_was_paid_is_already_processed(client, staff, manager):
    program(client, manager, name="Retry", kind="amount_off", value=100, codes=["RETRY-1"])
    number = parked(0.5, "RETRY 1")
    assert pay(client, staff, number, validationCode="RETRY1").status_code == 200
    r = pay(client, staff, number, validationCode="RETRY1")
    assert (r.status_code, r.get_json()) == (409, {"message": "Ticket has already been processed"})


def test_the_receipt_lists_stacked_validations_in_the_order_the_quote_applied_them(client, staff, manager):
    from garage.services.validations import lines_of

    program(client, manager, name="Gym", kind="percent_off", value=50, codes=["GYM-1"], stacks=True)
    program(client, manager, name="Cafe", kind="amount_off", value=100, codes=["CAFE-1"], stacks=True)
    number = parked(3.5, "ORDER 1")
    client.post(f"/api/tickets/{number}/validations", json={"validationCode": "GYM1"}, headers=staff)
    quoted = client.post(f"/api/tickets/{number}/validations", json={"validationCode": "CAFE1"},
                         headers=staff).get_json()["validations"]
    assert [(v["program"], v["discount"]) for v in quoted] == [("Cafe", 100), ("Gym", 1950)]
    pay(client, staff, number, expectedAmount=1950)
    assert [(line.name, line.discount_cents) for line in lines_of(ticket(number))] == [("Cafe", 100), ("Gym", 1950)]
