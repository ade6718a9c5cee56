"""Hardening: cookies, security headers, error pages without internals, path traversal,
body size limit, CSRF on the sign-in form, API credentials."""
import pytest
import sqlalchemy as sa

from garage.config import Config
from garage.extensions import db
from garage.models import ApiToken, AuditEvent
from garage.services import accounts
from tests.helpers.api import issue
from tests.helpers.db import audit_events, ticket, ticket_count
from tests.helpers.web import HTMX, csrf_token, sign_in, signed_in, soup, text
from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN


# --- cookies -----------------------------------------------------------------------------

def session_cookie(response) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, "no session cookie set"
    return cookies[-1]


def test_session_cookie_is_httponly_samesite_lax_and_not_secure_by_default(client, make_user):
    make_user("alice")
    cookie = session_cookie(sign_in(client, "alice"))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert "Expires=" in cookie  # a permanent session: gone from the browser after the idle time


def test_session_cookie_is_secure_when_configured(app, client, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    make_user("alice")
    cookie = session_cookie(sign_in(client, "alice"))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_session_cookie_secure_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "true")
    assert Config().SESSION_COOKIE_SECURE is True
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "false")
    assert Config().SESSION_COOKIE_SECURE is False


# --- security headers --------------------------------------------------------------------

def csp(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: " ".join(part.split()[1:]) for part in policy.split(";") if part.strip()}


def assert_strict_headers(response) -> None:
    policy = csp(response)
    assert policy["script-src"] == "'self'"
    assert "unsafe-inline" not in policy["script-src"] and "unsafe-eval" not in str(policy)
    assert "unsafe-inline" not in policy["style-src"]
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_staff_pages_public_pages_api_and_errors_send_strict_headers(app, make_user):
    boss = signed_in(app, make_user, "boss", "manager")
    for path in ("/g/main/admin/users", "/g/main/admin/audit", "/login", "/api/status", "/no-such-page", "/api/nope"):
        assert_strict_headers(boss.get(path))
    assert_strict_headers(boss.get("/g/main/admin/users", headers=HTMX))
    assert boss.get("/g/main/admin/users").headers["Cache-Control"] == "no-store"


def test_each_security_header_is_sent_once_and_a_views_own_value_wins(app, make_user):
    boss = signed_in(app, make_user, "boss", "manager")
    names = ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "Cache-Control")
    for path in ("/g/main/admin/users", "/g/main/lobby", "/g/main/lobby/panel", "/g/main/reports", "/g/main/reports/charts/revenue.svg", "/docs",
                 "/api/status", "/api/nope"):
        response = boss.get(path, headers=HTMX if path == "/g/main/lobby/panel" else {})
        for name in names:
            assert len(response.headers.getlist(name)) == 1, (path, name, response.headers.getlist(name))
    assert boss.get("/g/main/lobby/panel", headers=HTMX).headers["Cache-Control"] == "no-cache"  # its own (ETag polling)
    assert boss.get("/g/main/reports/charts/revenue.svg").headers["Cache-Control"] == "private, no-store"
    assert_strict_headers(boss.get("/docs"))  # Swagger UI included: tests/browser/test_docs.py


def test_pages_have_no_inline_script_or_handlers(app, make_user):
    boss = signed_in(app, make_user, "boss", "manager")
    for client, path in ((boss, "/g/main/admin/users"), (boss, "/g/main/admin/audit"), (boss, "/account/password"),
                         (app.test_client(), "/login")):
        r = client.get(path)
        assert r.status_code == 200
        page = soup(r)
        for script in page.find_all("script"):
            assert script.get("src"), f"inline script on {path}"
            assert not script.string
        for tag in page.find_all(True):
            assert not any(attr.startswith("on") or attr.startswith("hx-on") for attr in tag.attrs), (path, tag.name)
            assert "style" not in tag.attrs, (path, tag.name)
        config = page.find("meta", attrs={"name": "htmx-config"})["content"]
        assert '"allowEval": false' in config


# --- errors: no internals ----------------------------------------------------------------

def boom(*args, **kwargs):
    raise sa.exc.ProgrammingError("SELECT password_hash FROM users WHERE secret", {}, Exception("relation boom"))


def test_500_page_shows_no_stack_trace_or_sql(app, make_user, monkeypatch):
    boss = signed_in(app, make_user, "boss", "manager")
    monkeypatch.setattr(accounts, "list_users", boom)
    r = boss.get("/g/main/admin/users")
    assert r.status_code == 500
    body = r.get_data(as_text=True)
    assert "Something went wrong on our side" in text(r)
    for leak in ("Traceback", "SELECT", "password_hash", "relation boom", "sqlalchemy", ".py"):
        assert leak not in body
    assert_strict_headers(r)


def test_500_in_the_api_is_json_without_internals(client, staff, monkeypatch):
    from garage.services import stats

    monkeypatch.setattr(stats, "garage_stats", boom)
    r = client.get("/api/garage/stats", headers=staff)
    assert r.status_code == 500
    assert r.get_json() == {"message": "Internal error; it has been logged"}


def test_404_page_and_json(client):
    r = client.get("/nowhere")
    assert r.status_code == 404 and "Page not found" in text(r) and "Traceback" not in text(r)
    r = client.get("/api/nowhere")
    assert r.status_code == 404 and r.get_json() == {"message": "Not found"}


@pytest.mark.parametrize("path", [
    "/static/../garage/config.py",
    "/static/..%2fgarage%2fconfig.py",
    "/static/%2e%2e/%2e%2e/etc/passwd",
    "/static/css/../../garage/config.py",
    "/static/..%5cgarage%5cconfig.py",
    "/static/%2fetc%2fpasswd",
    "/docs/assets/..%2f..%2f..%2fgarage%2fconfig.py",
    "/docs/assets/..%2f__init__.py",
    "/docs/assets/index.html",  # in the package, but not one of the files the docs need
])
def test_path_traversal_is_404(client, path):
    r = client.get(path, follow_redirects=True)  # "//" is merged by a local redirect first
    assert r.status_code == 404
    assert all(h.request.host == "localhost" for h in r.history)
    body = r.get_data(as_text=True)
    assert "SECRET_KEY" not in body and "root:" not in body


def test_static_and_docs_assets_still_serve_their_files(client):
    assert client.get("/static/css/app.css").status_code == 200
    assert client.get("/docs/assets/swagger-ui.css").status_code == 200


def test_body_over_the_limit_is_413(app, client, make_user):
    make_user("alice")
    big = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    r = client.post("/login", data={"username": "alice", "password": big, "csrf_token": csrf_token(client)})
    assert r.status_code == 413 and "Too large" in text(r)
    r = client.post("/login", data=big, content_type="application/x-www-form-urlencoded", headers=HTMX)
    assert r.status_code == 413
    # The API's entry and exit check their token in their own statement: a stranger is 401
    # there too, before the size of what was sent; a staff token gets the 413 in JSON.
    staff = {"Authorization": f"Bearer {accounts.create_token('alice')[1]}"}
    for method, url in (("POST", "/api/tickets"), ("PUT", "/api/tickets/PS-ABC123/exit")):
        api_refused(client.open(url, method=method, data=big, content_type="application/json"), 401)
        api_refused(client.open(url, method=method, data=big, content_type="application/json", headers=staff), 413)
    assert not db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action.like("auth.%")))


# --- CSRF on the sign-in and sign-out forms ----------------------------------------------

def test_sign_in_without_csrf_token_is_400_and_signs_nobody_in(client, make_user):
    make_user("alice")
    r = client.post("/login", data={"username": "alice", "password": "correct horse battery"})
    assert r.status_code == 400 and "Your form expired" in text(r)
    assert client.get("/g/main/admin/users").status_code == 302


def test_sign_out_without_csrf_token_is_refused(app, make_user):
    boss = signed_in(app, make_user)
    assert boss.post("/logout").status_code == 400
    assert boss.get("/g/main/admin/users").status_code == 200


# --- API credentials ---------------------------------------------------------------------

def api_refused(response, status: int) -> None:
    assert response.status_code == status
    assert response.is_json and set(response.get_json()) == {"message"}
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_api_without_valid_credentials_is_401_json(client, make_user):
    make_user("alice")
    _, secret = accounts.create_token("alice")
    for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "Bearer gar_not-a-real-token"},
                    {"Authorization": f"Basic {secret}"}, {"Authorization": secret},
                    {"Authorization": "Bearer " + secret[:-1]}):
        api_refused(client.get("/api/garage/stats", headers=headers), 401)
        api_refused(client.post("/api/tickets", json={"licensePlate": "A1", "vehicleType": "Car"},
                                headers=headers), 401)
    assert client.get("/api/garage/stats", headers={"Authorization": f"Bearer {secret}"}).status_code == 200


def test_revoked_token_and_deactivated_owner_are_401(client, make_user):
    make_user("alice")
    make_user("bob")
    revoked, revoked_secret = accounts.create_token("alice")
    _, bob_secret = accounts.create_token("bob")
    accounts.revoke_token(revoked.id)
    api_refused(client.get("/api/garage/stats", headers={"Authorization": f"Bearer {revoked_secret}"}), 401)
    assert client.get("/api/garage/stats", headers={"Authorization": f"Bearer {bob_secret}"}).status_code == 200
    accounts.set_active("bob", False)
    api_refused(client.get("/api/garage/stats", headers={"Authorization": f"Bearer {bob_secret}"}), 401)


def dead_tokens(make_user) -> tuple[str, str]:
    """A revoked token (alice's) and the token of a deactivated user (bob's)."""
    make_user("alice")
    make_user("bob")
    revoked, revoked_secret = accounts.create_token("alice")
    accounts.revoke_token(revoked.id)
    _, bob_secret = accounts.create_token("bob")
    accounts.set_active("bob", False)
    return revoked_secret, bob_secret


def test_an_entry_with_a_dead_token_is_401_and_writes_nothing(client, make_user, staff):
    """The entry checks its token inside its own statement (PostgreSQL): a revoked token or a
    deactivated owner still takes no space, issues no ticket and leaves no audit row; a bad
    body from a stranger is 401, not a lesson in the body's rules."""
    from garage.models import Garage

    for secret in dead_tokens(make_user):
        headers = {"Authorization": f"Bearer {secret}"}
        api_refused(client.post("/api/tickets", json={"licensePlate": "DEAD 1", "vehicleType": "Car"},
                                headers=headers), 401)
        for body in ({"licensePlate": ""}, {"licensePlate": "!!!", "vehicleType": "Car"},
                     {"licensePlate": "   ", "vehicleType": "Car"}, {"licensePlate": "A1", "vehicleType": "Boat"},
                     {"licensePlate": "A" * 20, "vehicleType": "Car"}):
            api_refused(client.post("/api/tickets", json=body, headers=headers), 401)
    db.session.rollback()
    assert ticket_count() == 0
    assert db.session.get(Garage, 1).occupied == 0
    assert audit_events("ticket.issued") == []
    assert client.post("/api/tickets", json={"licensePlate": "DEAD 1", "vehicleType": "Car"},
                       headers=staff).status_code == 201
    assert client.post("/api/tickets", json={"licensePlate": ""}, headers=staff).status_code == 422
    assert client.post("/api/tickets", json={"licensePlate": "!!!", "vehicleType": "Car"},
                       headers=staff).status_code == 422


def test_an_exit_with_a_dead_token_is_401_before_anything_else_and_charges_nothing(client, make_user, token_for):
    """The exit checks its token in its own SELECT: a revoked token, a deactivated owner or no
    token at all is 401 whatever the ticket, the body or the payment method, and nothing is
    charged, closed or audited; a live token then gets the ordinary answers."""
    from garage.models import Garage

    staff = token_for("attendant", "ann")
    number = issue(client, staff, "EXIT 1")
    revoked_secret, bob_secret = dead_tokens(make_user)
    for headers in ({}, {"Authorization": f"Bearer {revoked_secret}"}, {"Authorization": f"Bearer {bob_secret}"},
                    {"Authorization": "Bearer gar_not-a-real-token"}):
        for target, body in ((number, {"paymentMethod": "Cash"}), ("PS-NOSUCH", {"paymentMethod": "Cash"}),
                             (number, {"paymentMethod": "Gold"}), (number, {"paymentMethod": 3}), (number, [])):
            api_refused(client.put(f"/api/tickets/{target}/exit", json=body, headers=headers), 401)
    db.session.rollback()
    assert ticket(number).status == "active"
    assert db.session.get(Garage, 1).occupied == 1
    assert audit_events("ticket.paid") == []
    # A live token: the ordinary answers, each saying what is wrong.
    r = client.put("/api/tickets/PS-NOSUCH/exit", json={"paymentMethod": "Cash"}, headers=staff)
    assert r.status_code == 404 and r.get_json() == {"message": "Ticket not found"}
    r = client.put(f"/api/tickets/{number}/exit", json={"paymentMethod": "Gold"}, headers=staff)
    assert r.status_code == 422 and r.get_json()["message"].startswith("paymentMethod: Input should be 'Cash'")
    r = client.put(f"/api/tickets/{number}/exit", json={"paymentMethod": 3}, headers=staff)
    assert r.status_code == 422 and "paymentMethod" in r.get_json()["message"]
    paid = client.put(f"/api/tickets/{number}/exit", json={"paymentMethod": "Cash"}, headers=staff)
    assert paid.status_code == 200 and paid.get_json()["status"] == "completed"
    assert paid.get_json()["amountPaid"] == 1000
    # Recorded as the token's owner, looked up by that same SELECT.
    event, = audit_events("ticket.paid")
    assert (event.username, event.object_id, event.details["amountCents"]) == ("ann", number, 1000)


@pytest.mark.postgres_only
def test_a_token_caller_without_a_token_writes_nothing_even_in_autocommit(app):
    """The service fails closed on its own, not only because the route checks first."""
    from garage.domain.errors import Unauthenticated
    from garage.persistence import store
    from garage.models import Garage, Ticket
    from garage.services import tickets
    from garage.identity import TokenCaller

    store().autocommit()  # as under @autocommit: a statement that ran is committed
    with pytest.raises(Unauthenticated):
        tickets.issue_ticket(MAIN, "NOTOKEN 1", "Car", TokenCaller(None, ("attendant", "manager"), "192.0.2.1"))
    db.session.remove()
    assert db.session.scalar(sa.select(sa.func.count(Ticket.id))) == 0
    assert db.session.get(Garage, 1).occupied == 0


def test_wrong_role_on_the_api_is_403_json(client, staff):
    api_refused(client.get("/api/garage/settings", headers=staff), 403)
    api_refused(client.put("/api/garage/settings", json={"totalSpaces": 5}, headers=staff), 403)


def test_a_signed_in_browser_session_is_not_an_api_credential(app, make_user):
    boss = signed_in(app, make_user, "boss", "manager")
    api_refused(boss.get("/api/garage/stats"), 401)


def test_tokens_are_stored_only_as_a_hash(make_user):
    make_user("alice")
    token, secret = accounts.create_token("alice")
    row = db.session.get(ApiToken, token.id)
    assert secret not in (row.token_hash, row.prefix) and len(row.token_hash) == 64
    assert secret.startswith(row.prefix) and len(row.prefix) < 12
