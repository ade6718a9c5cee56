"""The API per garage (issue 17, stage 2), on SQLite and PostgreSQL: GET/POST /api/garages, every
seed operation under /api/garages/<slug>/..., the seed's own paths for a token of one garage (and
400 naming the garages for a token of several), and 404 at a garage a token may not act at."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from garage.domain.pricing import DEFAULT_HOURLY_RATE_CENTS
from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN
from garage.extensions import db
from garage.models import Garage, Ticket
from garage.services import accounts
from tests.helpers.api import api, enter, issue, pay, quote
from tests.helpers.db import audit_events, counting
from tests.helpers.garages import add_garage, bearer, grant, revoke

PASSWORD = "correct horse battery"
NO_SUCH_GARAGE = {"message": "No such garage"}


@pytest.fixture
def admin(app) -> dict[str, str]:
    """An admin's token (its scope: every garage there is when it is made)."""
    accounts.create_user("root", PASSWORD, "admin", allow_admin=True)
    return bearer("root", [MAIN, *db.session.scalars(sa.select(Garage.id).where(Garage.id != MAIN))])


@pytest.fixture
def both(make_user, second_garage) -> dict[str, str]:
    """An attendant at main and at north, with a token of both garages."""
    make_user("ann", "attendant")
    grant("ann", second_garage)
    return bearer("ann")


def garages_seen(client, headers) -> list[str]:
    r = client.get("/api/garages", headers=headers)
    assert r.status_code == 200, r.get_json()
    return [garage["slug"] for garage in r.get_json()]


def test_the_list_shows_each_garage_with_its_own_live_occupancy(client, second_garage, both, admin):
    issue(client, both, "N 1", garage="north")
    issue(client, both, "N 2", garage="north")
    issue(client, both, "M 1", garage="main")
    listed = {garage["slug"]: garage for garage in client.get("/api/garages", headers=both).get_json()}
    assert listed["north"] == {"slug": "north", "name": "North", "timezone": "UTC", "totalSpaces": 3,
                               "occupied": 2, "available": 1, "state": "OPEN"}
    assert (listed["main"]["occupied"], listed["main"]["available"]) == (1, listed["main"]["totalSpaces"] - 1)
    issue(client, both, "N 3", garage="north")
    north = client.get("/api/garages", headers=admin).get_json()[1]
    assert (north["slug"], north["occupied"], north["available"], north["state"]) == ("north", 3, 0, "FULL")


def test_who_sees_which_garages(client, app, make_user, second_garage, admin):
    add_garage("south")
    make_user("ann", "attendant")  # main only
    make_user("nick", "manager")
    grant("nick", second_garage, "manager")
    assert garages_seen(client, bearer("ann")) == ["main"]
    assert garages_seen(client, bearer("nick")) == ["main", "north"]
    assert garages_seen(client, bearer("nick", [second_garage])) == ["north"]  # the token's scope
    grant("ann", second_garage)
    both_scoped = bearer("ann", [MAIN, second_garage])
    revoke("ann", second_garage)
    assert garages_seen(client, both_scoped) == ["main"]  # scoped, but her grant there is gone
    assert garages_seen(client, admin) == ["main", "north", "south"]  # an admin: every garage
    assert client.get("/api/garages").status_code == 401


def test_the_list_is_one_statement_whatever_the_number_of_garages(client, both):
    def statements() -> int:
        with counting() as sent:
            assert client.get("/api/garages", headers=both).status_code == 200
        return len(sent)

    few = statements()
    for i in range(5):
        grant("ann", add_garage(f"g{i}"))
    token = bearer("ann")
    with counting() as sent:
        assert len(client.get("/api/garages", headers=token).get_json()) == 7
    assert len(sent) == few <= 3  # the token, the list (and a transaction's edges)


def test_an_admin_creates_a_garage_audited(client, admin):
    body = {"slug": "harbour", "name": "Harbour Street", "totalSpaces": 80, "timezone": "Europe/Berlin"}
    r = client.post("/api/garages", json=body, headers=admin)
    assert r.status_code == 201, r.get_json()
    assert r.get_json() == {"slug": "harbour", "name": "Harbour Street", "timezone": "Europe/Berlin",
                            "totalSpaces": 80, "occupied": 0, "available": 80, "state": "OPEN"}
    event, = audit_events("garage.created", "harbour")
    assert (event.username, event.details["totalSpaces"]) == ("root", 80)
    assert "harbour" in garages_seen(client, admin)
    again = client.post("/api/garages", json={**body, "name": "Another"}, headers=admin)
    assert again.status_code == 409 and "harbour" in again.get_json()["message"]


@pytest.mark.parametrize("change, word", [({"slug": "Harbour"}, "lower-case"), ({"slug": "-x"}, "lower-case"),
                                          ({"timezone": "Mars/Olympus"}, "timezone"),
                                          ({"timezone": "localtime"}, "timezone"), ({"timezone": "Factory"}, "timezone"),
                                          ({"timezone": "EST5EDT"}, "timezone"), ({"timezone": "GMT0"}, "timezone"),
                                          ({"totalSpaces": 0}, "totalSpaces"),
                                          ({"totalSpaces": 100_001}, "totalSpaces")])
def test_a_bad_garage_is_refused_with_a_message(client, admin, change, word):
    body = {"slug": "harbour", "name": "Harbour", "totalSpaces": 80, "timezone": "UTC", **change}
    r = client.post("/api/garages", json=body, headers=admin)
    assert r.status_code == 422 and word in r.get_json()["message"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Garage)) == 1


def test_only_an_admin_creates_garages(client, manager):
    body = {"slug": "harbour", "name": "Harbour", "totalSpaces": 80, "timezone": "UTC"}
    assert client.post("/api/garages", json=body, headers=manager).status_code == 403
    assert client.post("/api/garages", json=body).status_code == 401
    assert db.session.scalar(sa.select(Garage.id).where(Garage.slug == "harbour")) is None


def test_every_operation_works_per_garage(client, make_user, second_garage):
    make_user("nick", "manager")
    grant("nick", second_garage, "manager")
    token = bearer("nick")  # main and north
    number = issue(client, token, "AB 1", garage="north")
    assert db.session.scalar(sa.select(Ticket.garage_id).where(Ticket.ticket_number == number)) == second_garage
    assert client.get(f"/api/garages/north/tickets/{number}", headers=token).get_json()["licensePlate"] == "AB 1"
    assert client.get(f"/api/garages/main/tickets/{number}", headers=token).status_code == 404
    assert quote(client, token, number, garage="north")["amountDue"] == DEFAULT_HOURLY_RATE_CENTS != 700
    assert client.get("/api/garages/north/garage/stats", headers=token).get_json()["occupiedSpaces"] == 1
    assert client.get("/api/garages/main/garage/stats", headers=token).get_json()["occupiedSpaces"] == 0
    activity, = client.get("/api/garages/north/activities", headers=token).get_json()
    assert activity["ticketNumber"] == number
    assert client.get("/api/garages/main/activities", headers=token).get_json() == []
    occupancy = client.get("/api/garages/north/garage/occupancy").get_json()  # public
    assert (occupancy["total"], occupancy["occupied"]) == (3, 1)
    r = client.put("/api/garages/north/garage/settings", json={"hourlyRate": 700}, headers=token)
    assert r.status_code == 200 and r.get_json()["hourlyRate"] == 700
    assert client.get("/api/garages/main/garage/settings", headers=token).get_json()["hourlyRate"] == DEFAULT_HOURLY_RATE_CENTS
    assert pay(client, token, number, garage="main").status_code == 404  # another garage's ticket
    paid = pay(client, token, number, garage="north", expectedAmount=700)
    assert paid.status_code == 200 and paid.get_json()["amountPaid"] == 700
    assert client.get("/api/garages/north/garage/occupancy").get_json()["occupied"] == 0


def test_the_seed_paths_work_for_a_token_of_one_garage(client, make_user, second_garage):
    make_user("nora", "attendant")  # at main and north; her token only at north
    grant("nora", second_garage)
    token = bearer("nora", [second_garage])  # one garage: north
    number = issue(client, token, "SEED 1")
    assert db.session.scalar(sa.select(Ticket.garage_id).where(Ticket.ticket_number == number)) == second_garage
    assert client.get("/api/garage/stats", headers=token).get_json()["totalSpaces"] == 3
    assert pay(client, token, number).status_code == 200


SEED_CALLS = [("get", "/api/garage/stats", None), ("post", "/api/tickets", {"licensePlate": "X 1", "vehicleType": "Car"}),
              ("get", "/api/tickets/PS-ABC123", None), ("get", "/api/tickets/PS-ABC123/quote", None),
              ("put", "/api/tickets/PS-ABC123/exit", {"paymentMethod": "Cash"}), ("get", "/api/activities", None),
              ("get", "/api/garage/settings", None), ("put", "/api/garage/settings", {"hourlyRate": 1})]


@pytest.mark.parametrize("method, path, body", SEED_CALLS)
def test_a_token_of_several_garages_is_told_to_choose_on_the_seed_paths(client, make_user, second_garage,
                                                                         method, path, body):
    make_user("nick", "manager")
    grant("nick", second_garage, "manager")
    r = getattr(client, method)(path, json=body, headers=bearer("nick"))
    assert r.status_code == 400
    assert r.get_json() == {"message": "This token works at several garages: use /api/garages/<slug>/... "
                                       "(main, north)"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ticket)) == 0


@pytest.mark.parametrize("method, path, body", SEED_CALLS)
def test_a_token_of_two_garages_whose_owner_may_act_at_one_works_there_on_the_seed_paths(
        client, make_user, second_garage, method, path, body):
    """Its only garage is the one of its scope where its owner still holds a grant, not its scope's rows."""
    make_user("nick", "manager")
    grant("nick", second_garage, "manager")
    token = bearer("nick")  # main and north
    revoke("nick", second_garage)  # his grant at north is gone: the token still names it
    r = getattr(client, method)(path, json=body, headers=token)
    assert r.status_code not in (400, 403), r.get_json()
    if path.endswith("/exit") or path.startswith("/api/tickets/"):
        assert (r.status_code, r.get_json()) == (404, {"message": "Ticket not found"})  # looked for at main


def test_a_grant_lost_after_the_token_was_made_leaves_it_the_other_garage(client, make_user, second_garage):
    make_user("nora", "attendant")
    grant("nora", second_garage)
    token = bearer("nora")  # main and north
    assert enter(client, token).status_code == 400  # two garages: she must choose
    revoke("nora", MAIN)
    number = issue(client, token, "ONE 1")  # north, its only garage now
    assert db.session.scalar(sa.select(Ticket.garage_id).where(Ticket.ticket_number == number)) == second_garage
    assert client.get("/api/garage/stats", headers=token).get_json()["totalSpaces"] == 3  # north's
    assert client.get(f"/api/tickets/{number}", headers=token).status_code == 200
    assert pay(client, token, number).status_code == 200
    assert garages_seen(client, token) == ["north"]
    assert (enter(client, token, garage="main").status_code, enter(client, token, garage="main").get_json()) == (
        404, NO_SUCH_GARAGE)
    revoke("nora", second_garage)  # no garage left where she may act: refused, nothing written
    r = enter(client, token, "NONE 1")
    assert r.status_code == 403
    assert garages_seen(client, token) == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ticket)) == 1


PER_GARAGE_CALLS = [(method, path.replace("/api/", "/api/garages/north/"), body) for method, path, body in SEED_CALLS]


@pytest.mark.parametrize("method, path, body", PER_GARAGE_CALLS)
def test_a_token_not_scoped_at_a_garage_finds_no_such_garage(client, make_user, second_garage, method, path, body):
    make_user("nick", "manager")
    grant("nick", second_garage, "manager")
    main_only = bearer("nick", [MAIN])
    call = getattr(client, method)
    r = call(path, json=body, headers=main_only)
    assert (r.status_code, r.get_json()) == (404, NO_SUCH_GARAGE)
    # Scoped there, but its owner no longer holds a grant there: the same answer.
    scoped = bearer("nick")
    revoke("nick", second_garage)
    r = call(path, json=body, headers=scoped)
    assert (r.status_code, r.get_json()) == (404, NO_SUCH_GARAGE)
    # A garage that does not exist: the same answer, token or not.
    r = call(path.replace("/north/", "/nowhere/"), json=body, headers=scoped)
    assert (r.status_code, r.get_json()) == (404, NO_SUCH_GARAGE)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ticket)) == 0


def test_roles_still_hold_per_garage(client, make_user, second_garage):
    make_user("boss", "manager")  # manager at main, attendant at north
    grant("boss", second_garage, "attendant")
    token = bearer("boss")
    assert client.get("/api/garages/main/garage/settings", headers=token).status_code == 200
    assert client.get("/api/garages/north/garage/settings", headers=token).status_code == 403
    assert client.get("/api/garages/north/garage/stats").status_code == 401  # a stranger at a real garage
    assert enter(client, {}, garage="north").status_code == 401


def test_a_garage_s_path_costs_what_the_seed_s_costs(client, make_user, second_garage):
    """The slug is resolved by the token's own lookup (the entry's and the exit's statements too):
    no statement of its own. On PostgreSQL the entry is ONE statement on either path."""
    make_user("nora", "attendant")
    grant("nora", second_garage)
    seed, named = bearer("nora", [second_garage]), bearer("nora")
    pay(client, seed, issue(client, seed, "WARM 1"))  # the first entry and exit of a process prepare theirs

    def sent(method: str, path: str, headers, body=None, status: int = 200) -> list[str]:
        with counting() as statements:
            r = client.open(path, method=method, json=body, headers=headers)
        assert r.status_code == status, r.get_json()
        return [s.split()[0].upper() for s in statements]

    def entry(headers, plate: str, garage: str | None) -> list[str]:
        return sent("POST", f"{api(garage)}/tickets", headers, {"licensePlate": plate, "vehicleType": "Car"}, 201)

    def number(plate: str) -> str:
        return db.session.scalar(sa.select(Ticket.ticket_number).where(Ticket.license_plate == plate))

    def paid(headers, plate: str, garage: str | None) -> list[str]:
        return sent("PUT", f"{api(garage)}/tickets/{number(plate)}/exit", headers, {"paymentMethod": "Cash"})

    assert entry(named, "PER 1", "north") == entry(seed, "SEED 1", None)
    assert (sent("GET", f"/api/garages/north/tickets/{number('PER 1')}", named)
            == sent("GET", f"/api/tickets/{number('SEED 1')}", seed))
    assert sent("GET", "/api/garages/north/garage/stats", named) == sent("GET", "/api/garage/stats", seed)
    assert paid(named, "PER 1", "north") == paid(seed, "SEED 1", None)
    if db.engine.dialect.name == "postgresql":
        assert entry(named, "PER 2", "north") == ["EXECUTE"]  # token, garage, counter, ticket, audit
        assert paid(named, "PER 2", "north") == ["EXECUTE", "EXECUTE"]  # token, garage, ticket, rates; the writes


def test_a_slug_left_to_the_token_s_lookup_is_still_the_request_s_garage(app, second_garage):
    """Code that asks for the request's garage before the token was looked up (or after the entry's
    statement found it) still gets the garage the URL names, never the default one."""
    from flask import g

    from garage.domain.errors import NoSuchGarage
    from garage.identity import current_garage

    with app.app_context(), app.test_request_context("/api/garages/north/tickets"):  # a fresh `g`
        g.asked_garage_slug = "north"  # as garage/api/__init__.py leaves it
        assert current_garage() == second_garage
    with app.app_context(), app.test_request_context("/api/garages/nowhere/tickets"):
        g.asked_garage_slug = "nowhere"
        with pytest.raises(NoSuchGarage):
            current_garage()


def test_the_public_occupancy_with_a_token_answers_the_token_s_garage(client, make_user, second_garage, both):
    """An outside check: a north signage player's token on the seed's occupancy path got main's free
    spaces, while /api/garage/stats with the same token answered north."""
    from tests.helpers.garages import person

    person("nina", {second_garage: "attendant"})
    north_only = bearer("nina")
    issue(client, north_only, "N 1")
    issue(client, north_only, "N 2")
    r = client.get("/api/garage/occupancy", headers=north_only)
    assert r.status_code == 200, r.get_json()
    assert (r.get_json()["total"], r.get_json()["occupied"], r.get_json()["available"]) == (3, 2, 1)
    assert client.get("/api/garage/stats", headers=north_only).get_json()["totalSpaces"] == 3
    # Without a token: the default garage, public, as before.
    main = client.get("/api/garage/occupancy").get_json()
    assert main["occupied"] == 0 and main["total"] != 3
    # A token of several garages is told to choose; a dead token is refused.
    r = client.get("/api/garage/occupancy", headers=both)
    assert (r.status_code, r.get_json()) == (400, {"message": "This token works at several garages: "
                                                              "use /api/garages/<slug>/... (main, north)"})
    r = client.get("/api/garage/occupancy", headers={"Authorization": "Bearer gar_nothing"})
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == 'Bearer realm="garage"'
    # A garage's own path is that garage's, token or not (another garage's token included).
    assert client.get("/api/garages/north/garage/occupancy", headers=both).get_json()["occupied"] == 2
    assert client.get("/api/garages/main/garage/occupancy", headers=north_only).get_json()["occupied"] == 0
    assert client.get("/api/garages/nowhere/garage/occupancy").status_code == 404


@pytest.mark.parametrize("method, path, body", PER_GARAGE_CALLS)
def test_a_stranger_is_told_401_before_anything_about_the_garage(client, make_user, second_garage,
                                                                 method, path, body):
    """The docs say 401 comes first: without a live token, a garage that does not exist (or a path
    segment that cannot be a slug) was 404 'No such garage' while a real one was 401."""
    call = getattr(client, method)
    for garage in ("north", "nowhere", "NOPE", "a" * 60, "x%00y", "%C2%85"):
        for headers in ({}, {"Authorization": "Bearer gar_nothing"}):
            r = call(path.replace("/north/", f"/{garage}/"), json=body, headers=headers)
            assert r.status_code == 401, (garage, r.get_json())
    make_user("mo", "manager")  # a live token: then the garage is looked at (404, never a 500)
    for garage in ("nowhere", "NOPE", "a" * 60, "x%00y", "%C2%85"):
        r = call(path.replace("/north/", f"/{garage}/"), json=body, headers=bearer("mo"))
        assert (r.status_code, r.get_json()) == (404, NO_SUCH_GARAGE), garage
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ticket)) == 0
