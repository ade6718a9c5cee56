"""Several garages in one database (issue 17), on SQLite and PostgreSQL: capacity, one car per
plate, ticket and receipt numbers hold per garage; a person or a token acts only where they may;
a ticket of another garage is not found. Service level, and through the API and the desk."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from garage.domain.errors import (
    Conflict, Forbidden, GarageFull, InvalidInput, NoSuchGarage, NotFound, SeveralGarages, Unauthenticated,
)
from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN
from garage.extensions import db
from garage.identity import STAFF, Actor, TokenCaller, hash_token
from garage.models import AuditEvent, Garage, Ticket
from garage.services import accounts, garages, stats, tickets
from garage.services.settings import update_settings
from tests.helpers.api import enter
from tests.helpers.db import role_at
from tests.helpers.garages import add_garage
from tests.helpers.web import sign_in

CLI = Actor.system("cli")


@pytest.fixture
def north(app) -> int:
    """A second garage, `north`, with 3 spaces (taking payments without a shift: tests/helpers/garages.py)."""
    return add_garage("north", 3, "North", "Europe/Berlin")


def counter(garage_id: int) -> int:
    db.session.expire_all()
    return db.session.get(Garage, garage_id).occupied


def token(username: str, garage_ids: list[int] | None = None) -> str:
    return accounts.create_token(username, CLI, garage_ids)[1]


def test_the_same_plate_can_be_inside_two_garages_but_only_once_in_each(app, north):
    in_main = tickets.issue_ticket(MAIN, "AB 123", "Car")
    in_north = tickets.issue_ticket(north, "ab-123", "Car")
    assert in_main.plate_key == in_north.plate_key == "AB123"
    with pytest.raises(Conflict, match="already inside"):
        tickets.issue_ticket(north, "AB 123", "SUV")
    assert (counter(MAIN), counter(north)) == (1, 1)


def test_a_full_garage_does_not_refuse_another(app, north):
    for i in range(3):
        tickets.issue_ticket(north, f"N {i}", "Car")
    with pytest.raises(GarageFull):
        tickets.issue_ticket(north, "N 9", "Car")
    tickets.issue_ticket(MAIN, "M 1", "Car")
    assert (counter(MAIN), counter(north)) == (1, 3)
    inside = db.session.scalar(sa.select(sa.func.count()).where(Ticket.garage_id == north,
                                                                Ticket.status == "active"))
    assert inside == 3


def test_ticket_numbers_are_unique_per_garage(app, north, monkeypatch):
    monkeypatch.setattr(tickets, "new_ticket_number", lambda: "PS-SAME22")
    assert tickets.issue_ticket(MAIN, "M 1", "Car").ticket_number == "PS-SAME22"
    assert tickets.issue_ticket(north, "N 1", "Car").ticket_number == "PS-SAME22"
    with pytest.raises(Conflict, match="Could not allocate a ticket number"):
        tickets.issue_ticket(north, "N 2", "Car")  # the number is taken in that garage
    assert tickets.find_ticket(MAIN, "PS-SAME22").license_plate == "M 1"
    assert tickets.find_ticket(north, "ps-same22").license_plate == "N 1"


def test_receipt_numbers_count_per_garage(app, north):
    numbers = {}
    for garage_id, plates in ((MAIN, ("M 1", "M 2")), (north, ("N 1",)), (MAIN, ("M 3",))):
        for plate in plates:
            issued = tickets.issue_ticket(garage_id, plate, "Car")
            numbers[plate] = tickets.process_exit(garage_id, issued.ticket_number, "Cash").receipt_number
    assert numbers == {"M 1": 1, "M 2": 2, "N 1": 1, "M 3": 3}
    assert (counter(MAIN), counter(north)) == (0, 0)
    paid = db.session.scalars(sa.select(AuditEvent.garage_id).where(AuditEvent.action == "ticket.paid")).all()
    assert sorted(paid) == sorted([MAIN, MAIN, MAIN, north])


def test_another_garage_s_ticket_is_not_found_anywhere(app, north):
    number = tickets.issue_ticket(north, "N 1", "Car").ticket_number
    with pytest.raises(NotFound):
        tickets.find_ticket(MAIN, number)
    with pytest.raises(NotFound):
        tickets.find_active(MAIN, number)
    with pytest.raises(NotFound):
        tickets.find_active(MAIN, "N 1")
    with pytest.raises(NotFound):
        tickets.find_inside_by_plate(MAIN, "N 1")
    with pytest.raises(NotFound):
        tickets.process_exit(MAIN, number, "Cash")
    assert tickets.recent_activity(MAIN) == [] and tickets.list_active(MAIN).total == 0
    assert counter(north) == 1 and tickets.find_active(north, number).ticket_number == number


def test_settings_prices_and_figures_are_each_garage_s_own(app, north):
    update_settings(north, None, hourly_rate=300, vehicle_rates={"Van": 900})
    issued = tickets.issue_ticket(north, "N 1", "Van")
    tickets.issue_ticket(MAIN, "M 1", "Van")
    assert tickets.quote_for(tickets.find_ticket(north, issued.ticket_number)).amount_cents == 900
    paid = tickets.process_exit(north, issued.ticket_number, "Cash")
    assert paid.amount_paid == 900
    main_stats, north_stats = stats.garage_stats(MAIN), stats.garage_stats(north)
    assert (main_stats.hourly_rate_cents, main_stats.today.exits, main_stats.occupancy.occupied) == (1000, 0, 1)
    assert (north_stats.hourly_rate_cents, north_stats.today.revenue_cents, north_stats.timezone) == \
        (300, 900, "Europe/Berlin")


def test_only_an_admin_creates_garages_and_slugs_follow_the_rule(app, make_user):
    manager = make_user("boss", "manager")
    with pytest.raises(Forbidden):
        garages.create_garage(Actor(manager.id, "boss", "10.0.0.1"), "south", "South", 10)
    admin = accounts.create_user("root", "correct horse battery", "admin", CLI, allow_admin=True)
    created = garages.create_garage(Actor(admin.id, "root", "10.0.0.1"), "south", "South", 10)
    assert created.slug == "south" and created.id == MAIN + 1
    for bad in ("South", "-south", "", "s" * 41, "so uth", "süd"):
        with pytest.raises(InvalidInput):
            garages.create_garage(CLI, bad, "X", 10)
    with pytest.raises(Conflict):
        garages.create_garage(CLI, "south", "Again", 10)
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "garage.created"))
    assert (event.username, event.object_id, event.garage_id) == ("root", "south", None)


def test_grants_decide_who_works_where(app, north, make_user):
    make_user("ann", "attendant")  # at the default garage
    boss = make_user("boss", "manager")
    assert [g.slug for g in garages.list_garages(Actor(boss.id, "boss", "10.0.0.1"))] == ["main"]
    with pytest.raises(Forbidden):  # a manager at main is nobody at north
        garages.grant(Actor(boss.id, "boss", "10.0.0.1"), "ann", north, "attendant")
    garages.grant(CLI, "boss", north, "manager")
    garages.grant(Actor(boss.id, "boss", "10.0.0.1"), "ann", north, "attendant")
    assert (role_at("ann", MAIN), role_at("ann", north)) == ("attendant", "attendant")
    assert [g.slug for g in garages.list_garages(Actor(boss.id, "boss", "10.0.0.1"))] == ["main", "north"]
    garages.revoke(CLI, "ann", MAIN)
    assert role_at("ann", MAIN) is None
    assert [u.username for u in accounts.list_users(north)] == ["ann", "boss"]
    assert [u.username for u in accounts.list_users(MAIN)] == ["boss"]


def test_a_token_acts_only_where_it_is_scoped_and_its_owner_may(app, north, make_user):
    make_user("ann", "attendant")
    garages.grant(CLI, "ann", north, "attendant")
    both = TokenCaller(hash_token(token("ann", [MAIN, north])), STAFF, "10.0.0.2")
    only_main = TokenCaller(hash_token(token("ann", [MAIN])), STAFF, "10.0.0.2")
    # named garage: in scope and granted
    assert tickets.issue_ticket(north, "N 1", "Car", both).plate_key == "N1"
    with pytest.raises(NoSuchGarage):  # not in the token's scope: as if there were no such garage
        tickets.issue_ticket(north, "N 2", "Car", only_main)
    # no garage named: the token's only garage, or nothing when it has several (it is told which)
    assert tickets.issue_ticket(None, "M 1", "Car", only_main).plate_key == "M1"
    with pytest.raises(SeveralGarages, match=r"\(main, north\)"):
        tickets.issue_ticket(None, "M 2", "Car", both)
    garages.revoke(CLI, "ann", north)  # in scope, but its owner no longer works there
    with pytest.raises(NoSuchGarage):
        tickets.issue_ticket(north, "N 3", "Car", both)
    with pytest.raises(Unauthenticated):
        tickets.issue_ticket(north, "N 3", "Car", TokenCaller(hash_token("gar_nope"), STAFF, None))
    assert (counter(MAIN), counter(north)) == (1, 1)


def test_an_api_token_of_another_garage_works_there_only(app, client, north, make_user):
    make_user("nina", "attendant")
    garages.grant(CLI, "nina", north, "attendant")
    main_token = {"Authorization": f"Bearer {token('nina', [MAIN])}"}  # made while she worked at main
    garages.revoke(CLI, "nina", MAIN)
    headers = {"Authorization": f"Bearer {token('nina')}"}  # scoped to her one garage: north
    r = enter(client, headers, "API 1")
    assert r.status_code == 201, r.get_json()
    number = r.get_json()["ticketNumber"]
    assert counter(north) == 1 and counter(MAIN) == 0
    assert client.get(f"/api/tickets/{number}", headers=headers).status_code == 200
    assert client.get("/api/garage/stats", headers=headers).get_json()["occupiedSpaces"] == 1
    r = client.put(f"/api/tickets/{number}/exit", json={"paymentMethod": "Cash"}, headers=headers)
    assert r.status_code == 200 and r.get_json()["receiptNumber"] == "R-000001"
    assert enter(client, main_token, "API 2").status_code == 403  # in its scope, but her grant there is gone


def test_a_person_s_desk_works_for_their_garage(app, client, north, make_user):
    make_user("nina", "attendant")
    garages.grant(CLI, "nina", north, "attendant")
    garages.revoke(CLI, "nina", MAIN)
    main_number = tickets.issue_ticket(MAIN, "MAIN 1", "Car").ticket_number
    assert sign_in(client, "nina").status_code == 303
    assert client.get("/desk").headers["Location"] == "/g/north/desk"  # their only garage
    page = client.get("/g/north/desk")
    assert page.status_code == 200 and "MAIN 1" not in page.get_data(as_text=True)
    other, unknown = client.get(f"/g/north/desk/exit?q={main_number}"), client.get("/g/north/desk/exit?q=PS-ZZZZ22")
    assert other.status_code == unknown.status_code == 422  # as a number that does not exist
    assert "No ticket or car matches" in other.get_data(as_text=True)
    assert client.get("/g/north/reports").status_code == 403  # an attendant at north
    nobody = make_user("idle", "attendant")
    garages.revoke(CLI, "idle", MAIN)
    other = app.test_client()
    assert sign_in(other, "idle").status_code == 303 and nobody.id
    assert other.get("/desk").status_code == 403  # no grant anywhere


def test_a_garage_s_manager_cannot_lock_the_admin_out(app, make_user):
    root = accounts.create_user("root", "correct horse battery", "admin", CLI, allow_admin=True)
    boss = make_user("boss", "manager")
    as_boss = Actor(boss.id, "boss", "10.0.0.1")
    assert "root" in [u.username for u in accounts.list_users(MAIN)]  # admins are listed at every garage
    with pytest.raises(Forbidden):
        accounts.set_active("root", False, as_boss)
    with pytest.raises(Forbidden):
        accounts.reset_password("root", as_boss)
    accounts.set_active("boss", False, Actor(root.id, "root", "10.0.0.1"))  # an admin manages all staff
    db.session.expire_all()
    assert accounts.get_user("root").active and not accounts.get_user("boss").active


@pytest.mark.postgres_only
def test_two_garages_created_at_the_same_moment_both_exist(app, monkeypatch):
    """The id is the table's sequence's, not max(id) + 1: a creation that has not committed yet
    does not make another one (another slug) fail."""
    import threading

    from garage.services import audit

    paused, release, errors = threading.Event(), threading.Event(), []
    record = audit.record

    def record_then_wait(*args, **kwargs):
        record(*args, **kwargs)
        if threading.current_thread().name == "east":  # inserted, not committed yet
            paused.set()
            release.wait(10)

    monkeypatch.setattr(audit, "record", record_then_wait)

    def east() -> None:
        with app.app_context():
            try:
                garages.create_garage(CLI, "east", "East", 5)
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    thread = threading.Thread(target=east, name="east")
    thread.start()
    assert paused.wait(10)
    threading.Timer(1.0, release.set).start()  # east commits a second later, whatever happens here
    try:
        west = garages.create_garage(CLI, "west", "West", 5)
    finally:
        release.set()
        thread.join(10)
    assert errors == []
    db.session.expire_all()
    assert sorted(db.session.scalars(sa.select(Garage.slug))) == ["east", "main", "west"]
    assert west.id > MAIN


def test_a_garage_slug_taken_is_a_conflict_naming_the_slug(app):
    garages.create_garage(CLI, "east", "East", 5)
    with pytest.raises(Conflict) as refused:
        garages.create_garage(CLI, "east", "East again", 5)
    assert refused.value.field == "slug" and refused.value.message == "A garage east already exists"


def test_each_garage_s_audit_trail_holds_its_own_entries_and_exits_only(app, north):
    """A manager reading north's trail finds north's cars (and not main's); an admin reading it
    with the operator-level events still does not see main's tickets there."""
    from garage.services import audit

    numbers = {}
    for garage_id, plate in ((MAIN, "MAIN 1"), (north, "NORTH 1")):
        numbers[garage_id] = number = tickets.issue_ticket(garage_id, plate, "Car", CLI).ticket_number
        tickets.process_exit(garage_id, number, "Cash", CLI)

    def trail(garage_id: int, **kwargs) -> set[tuple[str, str]]:
        events = audit.search(garage_id, audit.AuditQuery(), per_page=100, **kwargs).events
        return {(event.action, event.object_id) for event in events if event.action.startswith("ticket.")}

    for garage_id in (MAIN, north):
        mine = {("ticket.issued", numbers[garage_id]), ("ticket.paid", numbers[garage_id])}
        for operator_events in (False, True):
            assert trail(garage_id, operator_events=operator_events) == mine


def test_a_garage_s_settings_change_is_in_its_own_trail_only(app, north):
    """An admin changes north's prices: north's trail has it; main's does not, not even for an admin
    reading main's with the operator-level events."""
    from garage.services import audit

    from tests.helpers.garages import make_admin

    admin = make_admin("root")
    update_settings(north, Actor(admin.id, "root", "10.0.0.9"), hourly_rate=700)

    def changes(garage_id: int) -> int:
        return audit.search(garage_id, audit.AuditQuery(action="settings.changed"), operator_events=True).total

    assert (changes(north), changes(MAIN)) == (1, 0)
