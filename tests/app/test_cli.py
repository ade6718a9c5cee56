"""Operator commands: flask --app garage init | users ... | tokens ..."""
import re

import sqlalchemy as sa

from garage.extensions import db
from garage.models import ApiToken, AuditEvent, Garage, User
from tests.helpers.db import role_at
from tests.helpers.web import sign_in


def run(app, *args, input=None):
    return app.test_cli_runner().invoke(args=list(args), input=input)


def get_user(name: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.username == name)
                             .execution_options(populate_existing=True))


def cli_events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action,
                                                               AuditEvent.username == "cli")))


def test_users_create_reads_the_password_from_stdin(app, client):
    r = run(app, "users", "create", "Bob", "--role", "attendant", "--password-stdin", input="a long password\n")
    assert r.exit_code == 0, r.output
    assert "Created attendant bob" in r.output and "a long password" not in r.output
    bob = get_user("bob")
    assert role_at("bob") == "attendant" and bob.active and not bob.must_change_password
    assert bob.password_hash.startswith("scrypt:") and "a long password" not in bob.password_hash
    assert sign_in(client, "bob", "a long password").headers["Location"] == "/"  # no forced change
    assert [e.object_id for e in cli_events("user.created")] == ["bob"]


def test_users_create_prompts_twice_for_the_password(app):
    r = run(app, "users", "create", "carol", "--role", "manager", input="manager password\nmanager password\n")
    assert r.exit_code == 0, r.output
    assert get_user("carol").check_password("manager password")


def test_users_create_refuses_duplicates_short_passwords_and_bad_roles(app):
    run(app, "users", "create", "bob", "--role", "attendant", "--password-stdin", input="a long password\n")
    r = run(app, "users", "create", "BOB", "--role", "manager", "--password-stdin", input="another password\n")
    assert r.exit_code != 0 and "A user named bob already exists" in r.output
    assert role_at("bob") == "attendant"
    r = run(app, "users", "create", "dave", "--role", "attendant", "--password-stdin", input="short\n")
    assert r.exit_code != 0 and "at least 10 characters" in r.output and get_user("dave") is None
    r = run(app, "users", "create", "erin", "--role", "owner", "--password-stdin", input="a long password\n")
    assert r.exit_code != 0 and get_user("erin") is None
    assert len(cli_events("user.created")) == 1


def test_users_deactivate_and_list(app, make_user):
    make_user("bob")
    make_user("alice", "manager")
    r = run(app, "users", "deactivate", "bob")
    assert r.exit_code == 0 and "Deactivated bob" in r.output
    assert get_user("bob").active is False
    assert [e.object_id for e in cli_events("user.deactivated")] == ["bob"]
    r = run(app, "users", "list")
    lines = [line.split() for line in r.output.splitlines()]
    assert lines == [["alice", "manager", "active"], ["bob", "attendant", "deactivated"]]
    r = run(app, "users", "deactivate", "nobody")
    assert r.exit_code != 0 and "No user named 'nobody'" in r.output


def test_tokens_create_prints_a_working_token_stored_only_as_a_hash(app, client, make_user):
    make_user("bob")
    r = run(app, "tokens", "create", "bob")
    assert r.exit_code == 0, r.output
    secret = r.output.strip().splitlines()[-1]
    assert re.fullmatch(r"gar_[A-Za-z0-9_-]{40,}", secret)
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/garage/stats", headers=headers).status_code == 200
    token = db.session.scalar(sa.select(ApiToken))
    stored = [str(v) for v in (token.token_hash, token.prefix, token.id)]
    assert all(secret not in value for value in stored)
    assert not db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(
        sa.cast(AuditEvent.details, sa.String).contains(secret)))
    [created] = cli_events("token.created")
    assert created.details == {"user": "bob", "prefix": token.prefix}

    listing = run(app, "tokens", "list").output
    assert token.prefix in listing and secret not in listing and "active" in listing

    r = run(app, "tokens", "revoke", str(token.id))
    assert r.exit_code == 0 and f"Revoked token {token.id}" in r.output
    assert client.get("/api/garage/stats", headers=headers).status_code == 401
    assert "revoked" in run(app, "tokens", "list").output
    assert len(cli_events("token.revoked")) == 1
    assert run(app, "tokens", "revoke", "999").exit_code != 0
    assert run(app, "tokens", "create", "nobody").exit_code != 0


def test_init_creates_admin_once_with_a_random_password_to_change(app, client):
    first = run(app, "init")
    assert first.exit_code == 0
    password = re.search(r"One-time password: (\S+)", first.output).group(1)
    assert len(password) >= 12
    admin = get_user("admin")
    assert admin.role == "admin" and admin.must_change_password and admin.check_password(password)
    r = sign_in(client, "admin", password)
    assert r.status_code == 303 and r.headers["Location"].startswith("/account/password")

    again = run(app, "init")
    assert again.exit_code == 0 and "One-time password" not in again.output
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1
    assert get_user("admin").check_password(password)


def test_init_names_a_new_deployments_garage_main_garage_and_renames_no_existing_one(app):
    """The first start's garage was "Garage": in the top bar it read as the app's name. A new
    deployment's is "Main garage"; one already named (whatever the name) keeps it."""
    db.session.execute(sa.delete(Garage))  # a fresh database: no garage yet
    db.session.commit()
    assert run(app, "init").exit_code == 0
    assert db.session.scalar(sa.select(Garage.garage_name).where(Garage.id == 1)) == "Main garage"
    db.session.execute(sa.update(Garage).values(garage_name="Garage"))  # named by an older first start
    db.session.commit()
    assert run(app, "init").exit_code == 0
    assert db.session.scalar(sa.select(Garage.garage_name).where(Garage.id == 1)) == "Garage"


def test_init_password_is_not_a_fixed_default(app):
    seen = set()
    for _ in range(2):
        db.session.execute(sa.delete(AuditEvent))
        db.session.execute(sa.delete(User))
        db.session.commit()
        seen.add(re.search(r"One-time password: (\S+)", run(app, "init").output).group(1))
    assert len(seen) == 2


def test_init_creates_no_admin_when_a_manager_exists(app, make_user):
    make_user("alice", "manager")
    r = run(app, "init")
    assert "One-time password" not in r.output and get_user("admin") is None


def test_garages_create_and_list(app):
    r = run(app, "garages", "create", "north", "--name", "North Deck", "--spaces", "80", "--timezone", "Europe/Berlin")
    assert r.exit_code == 0, r.output
    assert "Created garage north (North Deck, 80 spaces, Europe/Berlin)" in r.output
    listing = [line.split() for line in run(app, "garages", "list").output.splitlines()]
    assert [line[0] for line in listing] == ["main", "north"] and listing[1][-2:] == ["0/80", "Europe/Berlin"]
    for args, message in ((("north", "--name", "Again", "--spaces", "10"), "A garage north already exists"),
                          (("North", "--name", "X", "--spaces", "10"), "lower-case letters"),
                          (("south", "--name", "X", "--spaces", "0"), ""),
                          (("south", "--name", "X", "--spaces", "10", "--timezone", "Mars/Base"), ""),
                          (("south", "--name", "X", "--spaces", "10", "--timezone", "localtime"), "Area/Location")):
        r = run(app, "garages", "create", *args)
        assert r.exit_code != 0 and message in r.output, r.output
    [event] = cli_events("garage.created")
    assert (event.object_id, event.garage_id) == ("north", None)


def test_users_at_a_garage_grants_and_scoped_tokens(app, client):
    run(app, "garages", "create", "north", "--name", "North", "--spaces", "5")
    r = run(app, "users", "create", "nina", "--role", "attendant", "--garage", "north", "--password-stdin",
            input="a long password\n")
    assert r.exit_code == 0 and "Created attendant nina at north" in r.output, r.output
    north = db.session.scalar(sa.select(Garage.id).where(Garage.slug == "north"))
    assert (role_at("nina"), role_at("nina", north)) == (None, "attendant")
    r = run(app, "users", "grant", "nina", "--garage", "main", "--role", "manager")
    assert r.exit_code == 0 and "nina is now manager at main" in r.output, r.output
    assert role_at("nina") == "manager"
    listing = [line.split() for line in run(app, "users", "list").output.splitlines()]
    assert listing == [["nina", "manager@main,attendant@north", "active"]]
    assert run(app, "users", "grant", "nina", "--garage", "nowhere", "--role", "manager").exit_code != 0
    assert run(app, "users", "create", "x", "--role", "admin", "--garage", "north").exit_code != 0

    run(app, "users", "create", "solo", "--role", "attendant", "--garage", "north", "--password-stdin",
        input="a long password\n")
    tokens_before = db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken))
    r = run(app, "tokens", "create", "solo", "--garage", "north", "--garage", "main")  # no role at main
    assert r.exit_code != 0 and "solo holds no role at main: grant one first" in r.output, r.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == tokens_before  # nothing made

    r = run(app, "tokens", "create", "nina", "--garage", "north")
    assert r.exit_code == 0, r.output
    headers = {"Authorization": f"Bearer {r.output.strip().splitlines()[-1]}"}
    r = client.post("/api/tickets", json={"licensePlate": "CLI 1", "vehicleType": "Car"}, headers=headers)
    assert r.status_code == 201, r.get_json()  # at north, its one garage
    assert db.session.scalar(sa.select(Garage.occupied).where(Garage.id == north)) == 1


def test_users_create_admin_makes_an_operator_admin(app, client):
    r = run(app, "users", "create", "root", "--role", "admin", "--password-stdin", input="a long password\n")
    assert r.exit_code == 0 and "Created admin root" in r.output, r.output
    assert get_user("root").role == "admin" and role_at("root") is None
    assert sign_in(client, "root", "a long password").status_code == 303
    assert client.get("/g/main/settings").status_code == 200  # a manager's page, at the default garage
    assert [line.split()[:2] for line in run(app, "users", "list").output.splitlines()] == [["root", "admin"]]
