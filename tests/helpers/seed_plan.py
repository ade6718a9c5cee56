"""The seed's test plan (its section 6.2), run against a live server.

    python -m tests.helpers.seed_plan --base-url http://127.0.0.1:5001 --token gar_...

The token comes from `flask --app garage tokens create USERNAME` (the seed had
no accounts; ours needs credentials for everything but status and docs).
tests/api/test_seed_plan.py runs the same checks against gunicorn on PostgreSQL.
"""
from __future__ import annotations

import argparse
import sys
import uuid
from typing import Callable

from tests.helpers.live import call

Check = Callable[[str, dict], None]


def test_api_connection(base: str, auth: dict) -> None:
    status, body = call("GET", f"{base}/api/status")
    assert status == 200 and body == {"status": "ok"}, (status, body)


def test_garage_stats(base: str, auth: dict) -> None:
    status, body = call("GET", f"{base}/api/garage/stats", headers=auth)
    assert status == 200, (status, body)
    for field in ("totalSpaces", "occupiedSpaces", "availableSpaces", "occupiedSpacesPercentage",
                  "availableSpacesPercentage", "hourlyRate", "todaysRevenue",
                  "vehiclesProcessedToday", "averageStayTime"):
        assert field in body, field
    assert body["availableSpaces"] == body["totalSpaces"] - body["occupiedSpaces"]


def _new_ticket(base: str, auth: dict) -> dict:
    plate = "SP" + uuid.uuid4().hex[:8].upper()
    status, body = call("POST", f"{base}/api/tickets", {"licensePlate": plate, "vehicleType": "Car"}, auth)
    assert status == 201, (status, body)
    assert body["licensePlate"] == plate and body["status"] == "active"
    assert body["ticketNumber"].startswith("PS-")
    return body


def test_create_ticket(base: str, auth: dict) -> None:
    _new_ticket(base, auth)


def test_get_ticket(base: str, auth: dict) -> None:
    ticket = _new_ticket(base, auth)
    status, body = call("GET", f"{base}/api/tickets/{ticket['ticketNumber']}", headers=auth)
    assert status == 200 and body["id"] == ticket["id"], (status, body)
    status, body = call("GET", f"{base}/api/tickets/PS-NOPE99", headers=auth)
    assert status == 404 and "message" in body


def test_process_exit(base: str, auth: dict) -> None:
    ticket = _new_ticket(base, auth)
    url = f"{base}/api/tickets/{ticket['ticketNumber']}/exit"
    status, body = call("PUT", url, {"paymentMethod": "Credit Card"}, auth)
    assert status == 200, (status, body)
    assert body["status"] == "completed" and body["amountPaid"] >= 1000
    assert body["paymentMethod"] == "Credit Card" and body["exitTime"]
    status, body = call("PUT", url, {"paymentMethod": "Credit Card"}, auth)
    assert status == 409, (status, body)


def test_get_activities(base: str, auth: dict) -> None:
    ticket = _new_ticket(base, auth)
    status, body = call("GET", f"{base}/api/activities?limit=5", headers=auth)
    assert status == 200 and isinstance(body, list) and 1 <= len(body) <= 5, (status, body)
    assert body[0]["ticketNumber"] == ticket["ticketNumber"]


def test_api_docs(base: str, auth: dict) -> None:
    """The seed served /docs and /openapi.json publicly; ours are for staff and integrations."""
    import urllib.request
    assert call("GET", f"{base}/openapi.json")[0] == 401
    status, spec = call("GET", f"{base}/openapi.json", headers=auth)
    assert status == 200 and "/api/tickets" in spec["paths"]
    with urllib.request.urlopen(f"{base}/docs/assets/swagger-ui-bundle.js", timeout=10) as r:
        assert r.status == 200
    with urllib.request.urlopen(f"{base}/docs", timeout=10) as r:  # follows the redirect to sign in
        assert r.status == 200 and "/login" in r.url


PLAN: list[Check] = [test_api_connection, test_garage_stats, test_create_ticket, test_get_ticket,
                     test_process_exit, test_get_activities, test_api_docs]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:5001")
    parser.add_argument("--token", required=True)
    args = parser.parse_args()
    auth = {"Authorization": f"Bearer {args.token}"}
    failed = 0
    for check in PLAN:
        try:
            check(args.base_url.rstrip("/"), auth)
            print(f"PASS {check.__name__}")
        except AssertionError as exc:
            failed += 1
            print(f"FAIL {check.__name__}: {exc}")
    print(f"{len(PLAN) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
