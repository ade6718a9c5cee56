"""Receipts through the API: the receipt settings (GET/PUT /api/garage/settings) and the
ticket's receiptNumber (exit and lookup), on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest

from garage.services import settings as settings_service
from tests.helpers.api import issue, pay
from tests.helpers.db import audit_events, backdate
from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN


def put(client, headers, **body):
    return client.put("/api/garage/settings", json=body, headers=headers)


def test_the_receipt_settings_round_trip_and_are_audited(client, manager):
    before = client.get("/api/garage/settings", headers=manager).get_json()
    assert (before["garageAddress"], before["taxRateBasisPoints"], before["taxId"]) == ("", 0, "")
    r = put(client, manager, garageAddress="12 Main Street\r\n\r\n Springfield ", taxRateBasisPoints=725,
            taxId=" DE123456789 ")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert (body["garageAddress"], body["taxRateBasisPoints"], body["taxId"]) == \
        ("12 Main Street\nSpringfield", 725, "DE123456789")
    (event,) = audit_events("settings.changed")
    assert event.details == {"before": {"garageAddress": "", "taxRateBp": 0, "taxId": ""},
                             "after": {"garageAddress": "12 Main Street\nSpringfield", "taxRateBp": 725,
                                       "taxId": "DE123456789"}}
    assert put(client, manager, taxRateBasisPoints=0, taxId="").get_json()["taxRateBasisPoints"] == 0


@pytest.mark.parametrize("body, words", [
    ({"taxRateBasisPoints": 10001}, "taxRateBasisPoints"),
    ({"taxRateBasisPoints": -1}, "taxRateBasisPoints"),
    ({"taxRateBasisPoints": 19.5}, "taxRateBasisPoints"),
    ({"taxRateBasisPoints": None}, "taxRateBasisPoints: may not be null"),
    ({"taxId": "X" * 33}, "taxId"),
    ({"garageAddress": "1\n2\n3\n4\n5"}, "at most 4 lines"),
    ({"garageAddress": "z" * 61}, "at most 60"),
    ({"garageAddress": "Main\tStreet"}, "control characters"),
    ({"taxId": "DE\n123"}, "control characters"),  # line breaks only in the address
])
def test_invalid_receipt_settings_are_refused_and_change_nothing(client, manager, body, words):
    r = put(client, manager, **body)
    assert r.status_code == 422 and words in r.get_json()["message"], r.get_json()
    s = settings_service.get_settings(MAIN)
    assert (s.garage_address, s.tax_rate_bp, s.tax_id) == ("", 0, "") and audit_events("settings.changed") == []


def test_a_paid_ticket_has_its_receipt_number_and_an_active_one_none(client, staff):
    first, second = issue(client, staff, "API 1"), issue(client, staff, "API 2")
    assert client.get(f"/api/tickets/{first}", headers=staff).get_json()["receiptNumber"] is None
    r = pay(client, staff, second)
    assert r.status_code == 200 and r.get_json()["receiptNumber"] == "R-000001"
    assert pay(client, staff, second).status_code == 409  # a second payment draws no number
    backdate(first, hours=2)
    assert pay(client, staff, first, expectedAmount=1000).status_code == 409  # the fee moved: none either
    assert pay(client, staff, first).get_json()["receiptNumber"] == "R-000002"
    assert client.get(f"/api/tickets/{second}", headers=staff).get_json()["receiptNumber"] == "R-000001"
    assert [e.details["receiptNumber"] for e in audit_events("ticket.paid")] == [1, 2]
