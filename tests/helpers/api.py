"""Calls of the JSON API through the Flask test client, with Bearer `headers`; with `garage` (a
slug), at that garage's paths (/api/garages/<garage>/...), else at the seed's (/api/...)."""
from __future__ import annotations


def api(garage: str | None = None) -> str:
    """The prefix of the API's paths: the seed's, or one garage's."""
    return f"/api/garages/{garage}" if garage else "/api"


def enter(client, headers, plate: str = "ABC123", vehicle: str = "Car", garage: str | None = None):
    """POST /api/tickets: the response."""
    return client.post(f"{api(garage)}/tickets", json={"licensePlate": plate, "vehicleType": vehicle},
                       headers=headers)


def issue(client, headers, plate: str = "ABC123", vehicle: str = "Car", garage: str | None = None) -> str:
    """An entry that must succeed: the new ticket's number."""
    r = enter(client, headers, plate, vehicle, garage)
    assert r.status_code == 201, r.get_json()
    return r.get_json()["ticketNumber"]


def quote(client, headers, number: str, lost=None, garage: str | None = None) -> dict:
    """GET /api/tickets/<number>/quote (optionally ?lost=...), which must succeed."""
    suffix = "" if lost is None else f"?lost={lost}"
    r = client.get(f"{api(garage)}/tickets/{number}/quote{suffix}", headers=headers)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def pay(client, headers, number: str, garage: str | None = None, **extra):
    """PUT /api/tickets/<number>/exit, in cash unless `extra` says otherwise: the response."""
    return client.put(f"{api(garage)}/tickets/{number}/exit", json={"paymentMethod": "Cash", **extra},
                      headers=headers)
