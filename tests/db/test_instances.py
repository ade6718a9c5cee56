"""Several instances share nothing but PostgreSQL (issue 16, item 7; docs/operations.md, "Several
instances"): two app objects, as two servers would build them from the same environment, on the
same database. Whatever one instance starts, the other continues: a session, its CSRF token, its
end, the sign-in throttle, the lobby's ETag. The one thing they must share besides the database
is SECRET_KEY."""
from __future__ import annotations

import secrets

import pytest

from garage import create_app
from garage.extensions import db
from tests.helpers.web import HTMX, PASSWORD, csrf_token, sign_in, text

pytestmark = pytest.mark.postgres_only


def other_instance(app, tmp_path, secret_key: str | None = None):
    """A second instance of `app`: its own app object, pool and process state; same database."""
    other = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                        "SECRET_KEY": secret_key or app.config["SECRET_KEY"], "WTF_CSRF_ENABLED": True,
                        "INSTANCE_PATH": str(tmp_path)})
    return other  # (its requests push its own app context: a fresh `g` each time)


@pytest.fixture
def instance_b(app, tmp_path):
    other = other_instance(app, tmp_path)
    yield other
    with other.app_context():
        db.engine.dispose()


def cookie_of(client) -> str:
    return client.get_cookie("session").value


def moved(cookie: str, to_app):
    """The browser's next request lands on another instance (nginx round robin)."""
    client = to_app.test_client()
    client.set_cookie("session", cookie)
    return client


def test_a_session_started_on_one_instance_works_on_the_other_with_its_csrf_token(app, instance_b, make_user):
    make_user("ann", "attendant")
    on_a = app.test_client()
    assert sign_in(on_a, "ann").status_code == 303
    token = csrf_token(on_a, "/g/main/desk")  # the page came from A ...
    on_b = moved(cookie_of(on_a), instance_b)
    assert "Desk" in text(on_b.get("/g/main/desk"))  # ... the next request reaches B: still signed in
    r = on_b.post("/g/main/desk/entries", data={"plate": "TWO1", "vehicle_type": "Car", "csrf_token": token})
    assert r.status_code == 303, text(r)  # A's CSRF token is good on B
    assert "TWO1" in text(on_a.get(r.headers["Location"]))  # and A sees what B wrote


def test_signing_out_on_one_instance_ends_the_session_on_the_other(app, instance_b, make_user):
    make_user("ann", "attendant")
    on_a = app.test_client()
    sign_in(on_a, "ann")
    cookie = cookie_of(on_a)
    on_b = moved(cookie, instance_b)
    on_b.post("/logout", data={"csrf_token": csrf_token(on_b, "/g/main/desk")})
    assert moved(cookie, app).get("/g/main/desk").status_code == 302  # the row is gone: A sends it to /login


def test_the_sign_in_throttle_counts_attempts_on_every_instance(app, instance_b, make_user):
    make_user("alice")
    for i in range(5):  # alternate instances, as round robin would
        target = app if i % 2 else instance_b
        assert sign_in(target.test_client(), "alice", "wrong password").status_code == 401
    for target in (app, instance_b):
        assert sign_in(target.test_client(), "alice", PASSWORD).status_code == 429


def test_the_lobby_etag_of_one_instance_is_valid_on_the_other(app, instance_b):
    etag = app.test_client().get("/g/main/lobby/panel", headers=HTMX).headers["ETag"]
    assert instance_b.test_client().get("/g/main/lobby/panel", headers={**HTMX, "If-None-Match": etag}).status_code == 304


def test_an_instance_with_another_secret_key_opens_nobodys_session(app, make_user, tmp_path):
    make_user("ann", "attendant")
    on_a = app.test_client()
    sign_in(on_a, "ann")
    stranger = other_instance(app, tmp_path, secret_key=secrets.token_hex(16))
    try:
        assert moved(cookie_of(on_a), stranger).get("/g/main/desk").status_code == 302
    finally:
        with stranger.app_context():
            db.engine.dispose()
