"""Signing in and out, page access, sessions (idle timeout, ended by reset or deactivation),
the sign-in throttle and open-redirect protection."""
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from garage.config import Config
from garage.extensions import db
from garage.identity import hash_token
from garage.models import User, UserSession
from garage.services import accounts
from tests.helpers.db import audit_events
from tests.helpers.web import HTMX, PASSWORD, csrf_token, post_form, sign_in, signed_in, soup, text


# --- pages need a signed-in user with the right role -------------------------------------

def test_staff_page_without_login_goes_to_login_and_back(client, make_user):
    make_user("boss", "manager")
    r = client.get("/g/main/admin/audit?action=auth.login")
    assert r.status_code == 302
    location = urlsplit(r.headers["Location"])
    assert location.path == "/login"
    assert parse_qs(location.query)["next"] == ["/g/main/admin/audit?action=auth.login"]

    login_page = soup(client.get(r.headers["Location"]))
    assert login_page.find("input", attrs={"name": "next"})["value"] == "/g/main/admin/audit?action=auth.login"
    r = sign_in(client, "boss", next_url="/g/main/admin/audit?action=auth.login")
    assert r.status_code == 303 and r.headers["Location"] == "/g/main/admin/audit?action=auth.login"
    assert "Audit log" in text(client.get(r.headers["Location"]))


def test_htmx_request_without_login_redirects_the_whole_page(client):
    r = client.get("/g/main/admin/users", headers=HTMX)
    assert r.status_code == 401
    assert r.headers["HX-Redirect"].startswith("/login?next=")
    assert r.get_data() == b""  # no login form squeezed into a fragment


def test_a_head_request_is_never_a_sign_in_or_a_password_change(client, make_user):
    """HEAD is GET without a body (a monitor's probe): it never runs the POST branch, which the CSRF
    check does not guard for HEAD. It signed people in without a CSRF token and counted a monitor's
    probes as failed sign-ins."""
    make_user("ann", "manager")
    r = client.open("/login", method="HEAD", data={"username": "ann", "password": PASSWORD})
    assert r.status_code == 200  # the sign-in page's head, as for GET
    assert client.get("/account/password").status_code == 302  # still signed out
    r = client.open("/login", method="HEAD", data={"username": "ann", "password": "wrong password"})
    assert r.status_code == 200 and audit_events("auth.login_failed") == []
    assert sign_in(client, "ann").status_code == 303
    new = "a brand new password"
    r = client.open("/account/password", method="HEAD", data={"current_password": PASSWORD, "new_password": new,
                                                              "confirm_password": new})
    assert r.status_code == 200
    assert db.session.scalar(sa.select(User).where(User.username == "ann")).check_password(PASSWORD)


def test_wrong_role_is_refused_with_403(app, make_user):
    attendant = signed_in(app, make_user, "att", "attendant")
    for path in ("/g/main/admin/users", "/g/main/admin/audit"):
        r = attendant.get(path)
        assert r.status_code == 403
        assert "Your role (attendant) cannot open this page" in text(r)
    r = attendant.post("/g/main/admin/users", data={"username": "mallory", "role": "manager",
                                             "password": "x" * 12, "csrf_token": csrf_token(attendant, "/g/main/desk")})
    assert r.status_code == 403
    assert db.session.scalar(sa.select(User).where(User.username == "mallory")) is None


def test_sign_out_ends_the_session(app, make_user):
    client = signed_in(app, make_user)
    r = post_form(client, "/logout", page="/g/main/admin/users")
    assert r.status_code == 303 and r.headers["Location"] == "/login"
    assert client.get("/g/main/admin/users").status_code == 302
    assert [e.username for e in audit_events("auth.logout")] == ["boss"]


def copy_of(app, client):
    """Another browser holding a copy of `client`'s session cookie (as a thief would)."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def test_a_cookie_copied_before_sign_out_opens_nothing_afterwards(app, make_user):
    client = signed_in(app, make_user)
    thief = copy_of(app, client)
    assert "Settings" in text(thief.get("/g/main/settings"))  # the copy works while the session lives
    post_form(client, "/logout", page="/g/main/admin/users")
    r = thief.get("/g/main/settings")
    assert r.status_code == 302 and urlsplit(r.headers["Location"]).path == "/login"


def test_signing_out_at_one_desk_leaves_the_users_other_sessions_signed_in(app, make_user):
    """A booth tablet signing out must not sign the manager's office PC out."""
    tablet = signed_in(app, make_user, "boss", "manager")
    office = app.test_client()
    sign_in(office, "boss")
    post_form(tablet, "/logout", page="/g/main/admin/users")
    assert tablet.get("/g/main/admin/users").status_code == 302
    assert "Staff" in text(office.get("/g/main/admin/users"))


def test_reactivating_a_user_does_not_revive_cookies_from_before_the_deactivation(app, make_user):
    client = signed_in(app, make_user, "ann", "attendant")
    accounts.set_active("ann", False)
    accounts.set_active("ann", True)
    r = client.get("/g/main/desk")
    assert r.status_code == 302 and urlsplit(r.headers["Location"]).path == "/login"
    assert sign_in(client, "ann").status_code == 303  # signing in again works


def test_a_cookie_from_before_a_password_change_stays_dead_even_when_the_password_returns(app, make_user):
    """The session is not derived from the password: changing it and back revives nothing."""
    client = signed_in(app, make_user, "boss", "manager")
    thief = copy_of(app, client)
    user = accounts.get_user("boss")
    accounts.change_password(user, "an interim password")
    accounts.change_password(user, PASSWORD)
    assert thief.get("/g/main/admin/users").status_code == 302
    assert client.get("/g/main/admin/users").status_code == 302


def test_changing_your_password_gives_this_browser_a_new_session_id(app, make_user):
    client = signed_in(app, make_user, "boss", "manager")
    before = copy_of(app, client)
    r = client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": "another long password",
        "confirm_password": "another long password", "csrf_token": csrf_token(client, "/account/password")})
    assert r.status_code == 303
    assert "Staff" in text(client.get("/g/main/admin/users"))
    assert before.get("/g/main/admin/users").status_code == 302


def test_sessions_are_rows_the_server_can_end(app, make_user):
    """Every worker and instance sees the same rows (PostgreSQL), none kept in a process;
    only the secret's hash is stored."""
    client = signed_in(app, make_user, "boss", "manager")
    with client.session_transaction() as cookie:
        secret = cookie["_user_id"]
    assert db.session.execute(sa.select(UserSession.key_hash)).scalars().all() == [hash_token(secret)]
    post_form(client, "/logout", page="/g/main/admin/users")
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(UserSession.id))) == 0


@pytest.mark.parametrize("value", [123, None, ["x"], {"a": 1}, "", "x" * 5000, True])
def test_a_cookie_signed_with_our_key_but_not_by_us_is_signed_out(app, make_user, value):
    """A session whose id is not one we hand out (only someone holding SECRET_KEY can sign it; an
    outside check did): signed out, never a 500, on a garage's page and elsewhere."""
    client = signed_in(app, make_user, "boss", "manager")
    with client.session_transaction() as cookie:
        cookie["_user_id"] = value
    for path in ("/login", "/g/main/desk", "/g/main/desk/live", "/account/password", "/g/main/lobby"):
        r = client.get(path)
        assert r.status_code in (200, 302, 303), (path, r.status_code)  # 303: a fragment's page
        assert "boss" not in r.get_data(as_text=True), path


def test_wrong_password_and_unknown_user_look_the_same(client, make_user):
    make_user("alice")
    wrong = sign_in(client, "alice", "not her password")
    unknown = sign_in(client, "nobody", "not her password")
    assert wrong.status_code == unknown.status_code == 401
    assert soup(wrong).find(role="alert").get_text() == soup(unknown).find(role="alert").get_text() \
        == "Wrong username or password."


def test_deactivated_user_cannot_sign_in(client, make_user):
    make_user("alice")
    accounts.set_active("alice", False)
    r = sign_in(client, "alice")
    assert r.status_code == 401 and "Wrong username or password." in text(r)


# --- open redirects ----------------------------------------------------------------------

FORGED = ["//evil.com", "https://evil.com", "/\\evil.com", "\\\\evil.com", "javascript:alert(1)",
          "http:evil.com", " //evil.com", "evil.com"]


@pytest.mark.parametrize("forged", FORGED)
def test_forged_next_never_leaves_the_site(client, make_user, forged):
    make_user("alice")
    r = sign_in(client, "alice", next_url=forged)
    assert r.status_code == 303
    location = urlsplit(r.headers["Location"])
    assert not location.scheme and not location.netloc and r.headers["Location"].startswith("/")
    assert "evil" not in r.headers["Location"]
    # Already signed in: GET /login?next=... redirects too, still only locally.
    r = client.get("/login", query_string={"next": forged})
    assert "evil" not in r.headers["Location"] and r.headers["Location"].startswith("/")


def test_local_next_is_kept_through_the_forced_password_change(client, make_user):
    accounts.create_user("fresh", "temporary pw 1", "attendant", must_change_password=True)
    r = sign_in(client, "fresh", "temporary pw 1", next_url="/g/main/admin/audit")
    assert r.status_code == 303 and urlsplit(r.headers["Location"]).path == "/account/password"
    r = client.post("/account/password", data={
        "current_password": "temporary pw 1", "new_password": "my own password", "confirm_password":
        "my own password", "next": "//evil.com", "csrf_token": csrf_token(client, "/account/password")})
    assert r.status_code == 303 and r.headers["Location"] == "/"


# --- forced password change --------------------------------------------------------------

def test_must_change_password_blocks_pages_until_changed(client, make_user):
    accounts.create_user("fresh", "temporary pw 1", "manager", must_change_password=True)
    sign_in(client, "fresh", "temporary pw 1")
    r = client.get("/g/main/admin/users")
    assert r.status_code == 302 and urlsplit(r.headers["Location"]).path == "/account/password"
    assert "Choose your own password before you continue." in text(client.get("/account/password"))

    token = csrf_token(client, "/account/password")
    r = client.post("/account/password", data={"current_password": "temporary pw 1", "new_password": "short",
                                               "confirm_password": "short", "csrf_token": token})
    assert r.status_code == 422 and "at least 10 characters" in text(r)
    r = client.post("/account/password", data={"current_password": "temporary pw 1",
                                               "new_password": "my own password",
                                               "confirm_password": "my own password", "csrf_token": token})
    assert r.status_code == 303
    # Still signed in (the session follows the new password) and now allowed in, told once
    # that it worked (a success notice, not the staff list's own messages).
    page = soup(client.get("/g/main/admin/users"))
    confirmation = page.select("main .notice.ok[role=status]")
    assert [n.get_text(" ", strip=True) for n in confirmation] == ["Your password has been changed."]
    assert "Your password has been changed." not in text(client.get("/g/main/admin/users"))
    assert db.session.scalar(sa.select(User).where(User.username == "fresh")).must_change_password is False


# --- sessions: idle timeout, ended by deactivation and by a password reset -------------

def test_idle_session_is_signed_out_by_the_server(app, make_user, move_clock):
    client = signed_in(app, make_user)
    assert app.permanent_session_lifetime == timedelta(hours=12)
    move_clock(11.9)
    assert client.get("/g/main/admin/users").status_code == 200  # activity: the 12 h start again
    move_clock(23.8)
    assert client.get("/g/main/admin/users").status_code == 200
    move_clock(23.8 + 12.1)
    r = client.get("/g/main/admin/users")
    assert r.status_code == 302 and urlsplit(r.headers["Location"]).path == "/login"
    move_clock(0)  # even back in time, that session is gone
    assert client.get("/g/main/admin/users").status_code == 302


def test_polling_does_not_keep_an_idle_session_alive(app, make_user, move_clock):
    client = signed_in(app, make_user)
    poll = {**HTMX, "X-Garage-Poll": "1"}
    move_clock(6)
    assert client.get("/g/main/admin/users", headers=poll).status_code == 200
    move_clock(12.5)  # polled 6.5 h ago, but nobody did anything for 12.5 h
    assert client.get("/g/main/admin/users", headers=poll).status_code == 401


def test_a_poll_does_not_resend_the_session_cookie_but_activity_and_sign_out_do(app, make_user, move_clock):
    """A desk left open polls every few seconds: the cookie it already holds is
    unchanged, so a poll answers without Set-Cookie (no re-signing, no bytes);
    a request the user made refreshes it, and a session the poll ended is cleared."""
    client = signed_in(app, make_user)
    poll = {**HTMX, "X-Garage-Poll": "1"}

    def session_cookie(r) -> list[str]:
        return [c for c in r.headers.getlist("Set-Cookie") if c.startswith("session=")]

    move_clock(1)
    r = client.get("/g/main/desk/live", headers=poll)
    assert r.status_code == 200 and session_cookie(r) == []
    r = client.get("/g/main/desk/live", headers=HTMX)  # not a poll: activity, the idle time starts again
    assert r.status_code == 200 and len(session_cookie(r)) == 1
    move_clock(1 + 12.5)
    r = client.get("/g/main/desk/live", headers=poll)
    assert r.status_code == 401 and len(session_cookie(r)) == 1  # the ended session is cleared


def test_idle_timeout_follows_session_idle_hours(monkeypatch):
    monkeypatch.setenv("SESSION_IDLE_HOURS", "2")
    assert Config().PERMANENT_SESSION_LIFETIME == timedelta(hours=2)
    monkeypatch.delenv("SESSION_IDLE_HOURS")
    assert Config().PERMANENT_SESSION_LIFETIME == timedelta(hours=12)


def test_idle_timeout_for_htmx_sends_the_page_to_login(app, make_user, move_clock):
    client = signed_in(app, make_user)
    move_clock(13)
    r = client.get("/g/main/admin/users", headers=HTMX)
    assert r.status_code == 401 and r.headers["HX-Redirect"].startswith("/login")


def test_a_session_that_ended_in_a_poll_signs_in_again_to_the_desk_and_says_why(app, make_user, move_clock):
    """Issue 15: an ended session's poll or filter sent the desk to /login?next=/desk/inside?q=; after
    signing in the attendant landed on the bare filter. The page says why, and sign-in ends on /desk."""
    client = signed_in(app, make_user, "ann", "attendant")
    move_clock(13)
    r = client.get("/g/main/desk/inside?q=", headers={**HTMX, "X-Garage-Poll": "1"})
    assert r.status_code == 401
    login = urlsplit(r.headers["HX-Redirect"])
    assert login.path == "/login"
    assert parse_qs(login.query) == {"next": ["/g/main/desk/inside?q="], "reason": ["session-ended"]}
    page = soup(client.get(r.headers["HX-Redirect"]))
    assert text(page.select_one("main [data-login-reason]")) == "Your session ended — sign in again"
    r = sign_in(client, "ann", next_url="/g/main/desk/inside?q=")
    assert (r.status_code, r.headers["Location"]) == (303, "/g/main/desk")


@pytest.mark.parametrize("target", ["/g/main/desk/inside?q=AB", "/g/main/desk/inside", "/g/main/desk/live", "/g/main/desk/activity?rows=50",
                                    "/g/main/lobby/panel"])
def test_a_fragment_as_next_signs_in_straight_to_its_page(client, make_user, target):
    make_user("ann", "attendant")
    r = sign_in(client, "ann", next_url=target)
    assert (r.status_code, r.headers["Location"]) == (303, "/g/main/lobby" if target.startswith("/g/main/lobby") else "/g/main/desk")


def test_a_page_as_next_is_kept(client, make_user):
    make_user("boss", "manager")
    r = sign_in(client, "boss", next_url="/g/main/admin/audit?from=2026-01-01")
    assert r.headers["Location"] == "/g/main/admin/audit?from=2026-01-01"


def test_the_session_ended_message_is_only_for_an_ended_session(client):
    r = client.get("/g/main/desk")  # never signed in
    assert r.status_code == 302 and "reason" not in parse_qs(urlsplit(r.headers["Location"]).query)
    for url in ("/login", "/login?reason=whatever", "/login?reason=%3Cb%3E"):
        assert soup(client.get(url)).select_one("[data-login-reason]") is None, url


def test_deactivated_users_open_session_stops_on_the_next_request(app, make_user):
    client = signed_in(app, make_user, "boss", "manager")
    assert client.get("/g/main/admin/users").status_code == 200
    accounts.set_active("boss", False)
    r = client.get("/g/main/admin/users")
    assert r.status_code == 302 and urlsplit(r.headers["Location"]).path == "/login"
    assert parse_qs(urlsplit(r.headers["Location"]).query)["reason"] == ["session-ended"]


def test_password_reset_ends_the_users_open_sessions(app, make_user):
    tablet = signed_in(app, make_user, "boss", "manager")
    _, temporary = accounts.reset_password("boss")
    r = tablet.get("/g/main/admin/users")
    assert r.status_code == 302 and urlsplit(r.headers["Location"]).path == "/login"
    # The temporary password works once and leads straight to choosing a new one.
    r = sign_in(tablet, "boss", temporary)
    assert r.status_code == 303 and urlsplit(r.headers["Location"]).path == "/account/password"
    assert sign_in(app.test_client(), "boss", PASSWORD).status_code == 401


def change(client, new: str, current: str | None = None):
    data = {"new_password": new, "confirm_password": new, "csrf_token": csrf_token(client, "/account/password")}
    if current is not None:
        data["current_password"] = current
    return client.post("/account/password", data=data)


def test_the_forced_change_right_after_a_one_time_password_does_not_ask_for_it_again(app, make_user):
    make_user("boss", "manager")
    _, temporary = accounts.reset_password("boss")
    client = app.test_client()
    sign_in(client, "boss", temporary)
    page = soup(client.get("/account/password"))
    assert page.select_one("#current_password") is None and page.select_one("#new_password") is not None
    assert change(client, temporary).status_code == 422  # the one-time password is not a new one
    r = change(client, "my very own password")
    assert r.status_code == 303 and client.get("/g/main/admin/users").status_code == 200
    # From now on an ordinary change: the current password is asked for again.
    assert soup(client.get("/account/password")).select_one("#current_password") is not None
    r = change(client, "yet another password")
    assert r.status_code == 422 and "That is not your current password." in text(r)


def test_only_the_session_that_proved_the_one_time_password_and_only_for_minutes(app, make_user, move_clock):
    make_user("boss", "manager")
    _, temporary = accounts.reset_password("boss")
    late = app.test_client()
    sign_in(late, "boss", temporary)
    other = app.test_client()  # signed in with the one-time password too, then the marker is forged away
    sign_in(other, "boss", temporary)
    with other.session_transaction() as cookie:
        cookie.pop("one_time_password_proven")
    r = change(other, "my very own password")
    assert r.status_code == 422 and "That is not your current password." in text(r)
    move_clock(0.1)  # six minutes later
    assert soup(late.get("/account/password")).select_one("#current_password") is not None
    r = change(late, "my very own password")
    assert r.status_code == 422 and "That is not your current password." in text(r)
    assert change(late, "my very own password", current=temporary).status_code == 303


def test_changing_your_password_ends_your_other_sessions(app, make_user):
    desk = signed_in(app, make_user, "boss", "manager")
    office = app.test_client()
    sign_in(office, "boss")
    r = office.post("/account/password", data={
        "current_password": PASSWORD, "new_password": "another long password",
        "confirm_password": "another long password", "csrf_token": csrf_token(office, "/account/password")})
    assert r.status_code == 303
    assert office.get("/g/main/admin/users").status_code == 200
    assert desk.get("/g/main/admin/users").status_code == 302


# --- throttle: per account with backoff, a much higher limit per address -----------------

def attempt(app, username: str, password: str = "wrong password", ip: str = "10.0.0.1"):
    c = app.test_client()
    c.environ_base["REMOTE_ADDR"] = ip
    return sign_in(c, username, password)


def test_five_failures_for_one_username_block_the_sixth_even_with_the_right_password(app, make_user):
    make_user("alice")
    for i in range(5):  # spread over addresses: the name counts
        assert attempt(app, "alice", ip=f"10.0.0.{i + 1}").status_code == 401
    c = app.test_client()
    c.environ_base["REMOTE_ADDR"] = "10.0.0.99"
    r = sign_in(c, "alice", PASSWORD)
    assert r.status_code == 429
    assert soup(r).find(role="alert").get_text() == "Too many failed sign-ins. Wait 1 minute and try again."
    assert c.get("/g/main/admin/users").status_code == 302  # not signed in
    # Someone else, elsewhere, is not affected.
    assert signed_in(app, make_user, "bob", "attendant", ip="10.0.1.1") is not None


def test_five_typos_by_one_attendant_do_not_lock_out_a_colleague_on_the_same_address(app, make_user):
    """Booth tablets and the office share one public address (NAT, a proxy)."""
    make_user("ann", "attendant")
    for _ in range(5):
        assert attempt(app, "ann", ip="203.0.113.5").status_code == 401
    assert attempt(app, "ann", PASSWORD, ip="203.0.113.5").status_code == 429  # ann waits
    colleague = signed_in(app, make_user, "bob", "attendant", ip="203.0.113.5")
    assert "Desk" in text(colleague.get("/g/main/desk"))


def test_the_wait_doubles_with_each_further_failure_and_a_success_clears_it(app, make_user, move_clock):
    make_user("alice")
    for _ in range(5):
        attempt(app, "alice")
    move_clock(61 / 3600)  # the first wait (1 minute) is over: one more attempt is checked
    assert attempt(app, "alice").status_code == 401
    r = attempt(app, "alice", PASSWORD)
    assert r.status_code == 429 and "Wait 2 minutes" in text(r)
    move_clock((61 + 121) / 3600)
    assert attempt(app, "alice").status_code == 401
    assert "Wait 4 minutes" in text(attempt(app, "alice", PASSWORD))
    move_clock((61 + 121 + 241) / 3600)
    assert attempt(app, "alice", PASSWORD).status_code == 303
    for _ in range(4):  # the success cleared the series: four typos cost nothing again
        assert attempt(app, "alice").status_code == 401
    assert attempt(app, "alice", PASSWORD).status_code == 303


def test_spraying_many_accounts_from_one_address_is_stopped(app, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "SIGN_IN_ADDRESS_FAILURES", 12)  # default 100: fewer requests here
    make_user("alice")
    for i in range(12):  # one password, many names: no name reaches its own limit
        assert attempt(app, f"guess{i}", ip="198.51.100.9").status_code == 401
    for name, password in (("guess99", "wrong password"), ("alice", PASSWORD)):
        r = attempt(app, name, password, ip="198.51.100.9")
        assert r.status_code == 429 and "Wait 15 minutes" in text(r)
    assert not audit_events("auth.login")
    assert len(audit_events("auth.login_failed")) == 12  # the refused ones were not even checked
    assert attempt(app, "alice", PASSWORD, ip="198.51.100.10").status_code == 303  # another address


def test_successes_give_the_address_its_attempts_back(app, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "SIGN_IN_ADDRESS_FAILURES", 3)
    make_user("alice")
    for _ in range(10):  # a busy site: many sign-ins from one address
        assert attempt(app, "alice", PASSWORD).status_code == 303
    for name in ("alice", "bob"):
        assert attempt(app, name).status_code == 401
    assert attempt(app, "alice", PASSWORD).status_code == 303


def test_throttle_message_does_not_reveal_whether_the_user_exists(app, make_user):
    make_user("alice")
    replies = {}
    for name, ip in (("alice", "10.0.0.1"), ("ghost", "10.0.0.2")):
        c = app.test_client()
        c.environ_base["REMOTE_ADDR"] = ip
        for _ in range(5):
            sign_in(c, name, "wrong password")
        r = sign_in(c, name, "wrong password")
        replies[name] = (r.status_code, soup(r).find(role="alert").get_text())
    assert replies["alice"] == replies["ghost"]
    assert replies["alice"][0] == 429


def test_a_series_of_failures_is_forgotten_an_hour_after_it_started(app, make_user, move_clock):
    make_user("alice")
    for _ in range(5):
        attempt(app, "alice")
    move_clock(0.5)
    assert attempt(app, "alice").status_code == 401  # failure 6 of the series: wait 2 minutes
    move_clock(1.01)
    for _ in range(4):  # a new series: its first four cost nothing
        assert attempt(app, "alice").status_code == 401
    assert attempt(app, "alice", PASSWORD).status_code == 303


# --- audit of sign-ins -------------------------------------------------------------------

def test_sign_in_success_and_failure_are_audited_with_the_address(app, make_user):
    make_user("alice")
    c = app.test_client()
    c.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    sign_in(c, "alice", "wrong password")
    sign_in(c, "alice")
    failed, = audit_events("auth.login_failed")
    assert (failed.username, failed.object_id, failed.ip) == (None, "alice", "192.0.2.7")
    assert "wrong password" not in str(failed.details)
    ok, = audit_events("auth.login")
    assert (ok.username, ok.ip) == ("alice", "192.0.2.7")
