"""The audit trail: a row for each state change, written in the same transaction, with who
and from where; none when the change is refused. Also PUT /api/garage/settings validation."""
import pytest
import sqlalchemy as sa

from garage.extensions import db
from garage.models import Garage, Ticket, User
from tests.helpers.db import audit_events


def owner(headers) -> User:
    """The user whose token is in these Bearer headers."""
    from garage.identity import token_owner

    return db.session.get(User, token_owner(headers["Authorization"].removeprefix("Bearer ")).id)


@pytest.fixture
def from_ip(client):
    client.environ_base["REMOTE_ADDR"] = "192.0.2.44"
    return "192.0.2.44"


def test_ticket_issued_and_exit_paid_are_audited_with_who_and_where(client, staff, from_ip):
    attendant = owner(staff)
    r = client.post("/api/tickets", json={"licensePlate": "abc 123", "vehicleType": "SUV"}, headers=staff)
    number = r.get_json()["ticketNumber"]
    issued, = audit_events("ticket.issued")
    assert (issued.user_id, issued.username, issued.ip, issued.object_type, issued.object_id) == \
        (attendant.id, attendant.username, from_ip, "ticket", number)
    assert issued.details == {"plate": "ABC 123", "vehicleType": "SUV"}

    r = client.put(f"/api/tickets/{number}/exit", json={"paymentMethod": "Cash"}, headers=staff)
    assert r.status_code == 200
    paid, = audit_events("ticket.paid")
    assert (paid.username, paid.ip, paid.object_id) == (attendant.username, from_ip, number)
    assert paid.details["amountCents"] == 1000 and paid.details["paymentMethod"] == "Cash"
    ticket = db.session.scalar(sa.select(Ticket).where(Ticket.ticket_number == number))
    assert ticket.issued_by_id == ticket.closed_by_id == attendant.id


def test_refused_entries_and_exits_write_no_audit_row(client, staff):
    db.session.execute(sa.update(Garage).values(total_spaces=1))
    db.session.commit()
    number = client.post("/api/tickets", json={"licensePlate": "A1", "vehicleType": "Car"},
                         headers=staff).get_json()["ticketNumber"]
    refused = [
        client.post("/api/tickets", json={"licensePlate": "B2", "vehicleType": "Car"}, headers=staff),  # full
        client.post("/api/tickets", json={"licensePlate": "A1", "vehicleType": "Car"}, headers=staff),  # inside
        client.post("/api/tickets", json={"licensePlate": "", "vehicleType": "Car"}, headers=staff),
        client.post("/api/tickets", json={"licensePlate": "C3", "vehicleType": "Tank"}, headers=staff),
        client.put(f"/api/tickets/{number}/exit", json={"paymentMethod": "Gold"}, headers=staff),
        client.put(f"/api/tickets/{number}/exit", json={"paymentMethod": "Cash", "expectedAmount": 1},
                   headers=staff),
    ]
    assert [r.status_code for r in refused] == [409, 409, 422, 422, 422, 409]
    assert len(audit_events("ticket.issued")) == 1 and not audit_events("ticket.paid")
    client.put(f"/api/tickets/{number}/exit", json={"paymentMethod": "Cash"}, headers=staff)
    assert client.put(f"/api/tickets/{number}/exit", json={"paymentMethod": "Cash"},
                      headers=staff).status_code == 409  # paid twice: charged and audited once
    assert len(audit_events("ticket.paid")) == 1


# --- settings API ------------------------------------------------------------------------

def settings() -> Garage:
    return db.session.scalar(sa.select(Garage).execution_options(populate_existing=True))


def test_settings_need_a_manager(client, staff, manager):
    assert client.get("/api/garage/settings").status_code == 401
    assert client.get("/api/garage/settings", headers=staff).status_code == 403
    r = client.get("/api/garage/settings", headers=manager)
    assert r.status_code == 200
    body = r.get_json()
    assert {k: body[k] for k in ("totalSpaces", "hourlyRate", "occupiedSpaces", "timezone")} == \
        {"totalSpaces": 140, "hourlyRate": 1000, "occupiedSpaces": 0, "timezone": "UTC"}


def test_settings_change_is_audited_with_before_and_after(client, manager, from_ip):
    r = client.put("/api/garage/settings", json={"totalSpaces": 150, "hourlyRate": 1250}, headers=manager)
    assert r.status_code == 200
    assert r.get_json()["totalSpaces"] == 150 and r.get_json()["hourlyRate"] == 1250
    assert (settings().total_spaces, settings().hourly_rate) == (150, 1250)
    changed, = audit_events("settings.changed")
    assert changed.details == {"before": {"totalSpaces": 140, "hourlyRate": 1000},
                               "after": {"totalSpaces": 150, "hourlyRate": 1250}}
    assert changed.ip == from_ip and changed.username.startswith("manager-")


@pytest.mark.parametrize("body, status", [
    ({"totalSpaces": 0}, 422), ({"totalSpaces": 100001}, 422), ({"totalSpaces": -5}, 422),
    ({"hourlyRate": -1}, 422), ({"hourlyRate": 100001}, 422),
    ({"totalSpaces": "150"}, 422), ({"totalSpaces": 150.5}, 422), ({"totalSpaces": True}, 422),
    ({"hourlyRate": "10.00"}, 422), ({"hourlyRate": None, "totalSpaces": []}, 422),
    ({"colour": "red"}, 422), ([1, 2], 422),
])
def test_invalid_settings_are_refused_and_not_audited(client, manager, body, status):
    r = client.put("/api/garage/settings", json=body, headers=manager)
    assert r.status_code == status and r.get_json()["message"]
    assert (settings().total_spaces, settings().hourly_rate) == (140, 1000)
    assert not audit_events("settings.changed")


@pytest.mark.parametrize("body", [{"totalSpaces": 1}, {"totalSpaces": 100000}, {"hourlyRate": 0},
                                  {"hourlyRate": 100000}])
def test_settings_limits_are_inclusive(client, manager, body):
    r = client.put("/api/garage/settings", json=body, headers=manager)
    assert r.status_code == 200
    key, value = next(iter(body.items()))
    assert r.get_json()[key] == value


def test_total_spaces_cannot_go_below_the_cars_inside(client, staff, manager):
    for plate in ("A1", "B2", "C3"):
        client.post("/api/tickets", json={"licensePlate": plate, "vehicleType": "Car"}, headers=staff)
    r = client.put("/api/garage/settings", json={"totalSpaces": 2, "hourlyRate": 500}, headers=manager)
    assert r.status_code == 409 and r.get_json() == {"message": "Total spaces cannot be below the 3 cars inside"}
    assert (settings().total_spaces, settings().hourly_rate) == (140, 1000)  # nothing changed, not even the rate
    assert not audit_events("settings.changed")
    assert client.put("/api/garage/settings", json={"totalSpaces": 3}, headers=manager).status_code == 200


def test_token_creation_and_revocation_are_audited(app, make_user):
    from garage.services import accounts
    from garage.identity import Actor

    make_user("bob")
    token, _ = accounts.create_token("bob", Actor(None, "cli", None))
    accounts.revoke_token(token.id, Actor(None, "cli", None))
    accounts.revoke_token(token.id, Actor(None, "cli", None))  # already revoked: nothing new
    assert [(e.username, e.object_id) for e in audit_events("token.created")] == [("cli", str(token.id))]
    assert [(e.username, e.object_id) for e in audit_events("token.revoked")] == [("cli", str(token.id))]
