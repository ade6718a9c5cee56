"""Calls of the JSON API through the Flask test client, with Bearer `headers`."""
from __future__ import annotations


def enter(client, headers, plate: str = "ABC123", vehicle: str = "Car"):
    """POST /api/tickets: the response."""
    return client.post("/api/tickets", json={"licensePlate": plate, "vehicleType": vehicle}, headers=headers)


def issue(client, headers, plate: str = "ABC123", vehicle: str = "Car") -> str:
    """An entry that must succeed: the new ticket's number."""
    r = enter(client, headers, plate, vehicle)
    assert r.status_code == 201, r.get_json()
    return r.get_json()["ticketNumber"]


def quote(client, headers, number: str, lost=None) -> dict:
    """GET /api/tickets/<number>/quote (optionally ?lost=...), which must succeed."""
    suffix = "" if lost is None else f"?lost={lost}"
    r = client.get(f"/api/tickets/{number}/quote{suffix}", headers=headers)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def pay(client, headers, number: str, **extra):
    """PUT /api/tickets/<number>/exit, in cash unless `extra` says otherwise: the response."""
    return client.put(f"/api/tickets/{number}/exit", json={"paymentMethod": "Cash", **extra}, headers=headers)
