"""Behind reverse proxies (TRUSTED_PROXY_HOPS): the throttle, the audit log and the session
cookie's Secure flag see the client the proxies saw; with 0 (the default) forwarded headers
are ignored, whoever sends them."""
import pytest

from garage import trust_proxies
from garage.config import Config
from tests.helpers.db import audit_events
from tests.helpers.web import PASSWORD, csrf_token, sign_in, text


@pytest.fixture
def behind(app, monkeypatch):
    """The app behind `hops` trusted proxies (as create_app installs it from the environment)."""

    def install(hops: int):
        monkeypatch.setattr(app, "wsgi_app", app.wsgi_app)  # undone after the test
        monkeypatch.setitem(app.config, "TRUSTED_PROXY_HOPS", hops)
        trust_proxies(app)

    return install


def proxied_client(app, forwarded_for: str | None, proto: str | None = None, proxy: str = "127.0.0.1"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = proxy
    if forwarded_for is not None:
        client.environ_base["HTTP_X_FORWARDED_FOR"] = forwarded_for
    if proto is not None:
        client.environ_base["HTTP_X_FORWARDED_PROTO"] = proto
    return client


def test_without_trusted_proxies_forwarded_headers_are_ignored(app, make_user):
    make_user("alice")
    sign_in(proxied_client(app, "192.0.2.7", "https", proxy="10.1.1.1"), "alice", "wrong password")
    failed, = audit_events("auth.login_failed")
    assert failed.ip == "10.1.1.1"  # the connection's address, not what the client claimed


def test_behind_one_proxy_the_audit_log_records_the_client_the_proxy_saw(app, make_user, behind):
    behind(1)
    make_user("alice")
    # A client may send its own X-Forwarded-For; nginx appends the address it saw: only that one counts.
    sign_in(proxied_client(app, "6.6.6.6, 192.0.2.7"), "alice", "wrong password")
    sign_in(proxied_client(app, "192.0.2.8"), "alice")
    assert audit_events("auth.login_failed")[0].ip == "192.0.2.7"
    assert audit_events("auth.login")[0].ip == "192.0.2.8"


def test_behind_two_proxies_the_second_hop_is_believed_too(app, make_user, behind):
    behind(2)
    make_user("alice")
    sign_in(proxied_client(app, "6.6.6.6, 192.0.2.7, 10.0.0.2"), "alice", "wrong password")
    assert audit_events("auth.login_failed")[0].ip == "192.0.2.7"


def test_the_per_address_throttle_counts_each_client_behind_the_proxy(app, make_user, behind, monkeypatch):
    behind(1)
    monkeypatch.setitem(app.config, "SIGN_IN_ADDRESS_FAILURES", 3)
    make_user("alice")
    for i in range(3):
        assert sign_in(proxied_client(app, "198.51.100.9"), f"guess{i}", "wrong").status_code == 401
    refused = sign_in(proxied_client(app, "198.51.100.9"), "alice")
    assert refused.status_code == 429 and "Wait 15 minutes" in text(refused)
    # Same proxy, another client: not locked out by the first one's failures.
    assert sign_in(proxied_client(app, "198.51.100.10"), "alice").status_code == 303


def session_cookie_after_sign_in(client, scheme: str) -> str:
    form = {"username": "alice", "password": PASSWORD, "csrf_token": csrf_token(client)}
    # Over HTTPS Flask-WTF also checks that the Referer is this site, as a browser sends it.
    r = client.post("/login", data=form, headers={"Referer": f"{scheme}://localhost/login"})
    assert r.status_code == 303, text(r)
    cookie, = [c for c in r.headers.getlist("Set-Cookie") if c.startswith("session=")]
    return cookie


def test_the_session_cookie_is_secure_when_the_client_used_https_through_a_trusted_proxy(app, make_user, behind):
    make_user("alice")
    assert "Secure" not in session_cookie_after_sign_in(proxied_client(app, "192.0.2.7", "https"), "http")
    behind(1)
    assert "Secure" in session_cookie_after_sign_in(proxied_client(app, "192.0.2.7", "https"), "https")
    assert "Secure" not in session_cookie_after_sign_in(proxied_client(app, "192.0.2.7", "http"), "http")


def test_trusted_proxy_hops_is_read_and_validated(monkeypatch):
    assert Config().TRUSTED_PROXY_HOPS == 0
    monkeypatch.setenv("TRUSTED_PROXY_HOPS", "2")
    assert Config().TRUSTED_PROXY_HOPS == 2
    for bad in ("-1", "11", "one", "1.5", "٣", " "):
        monkeypatch.setenv("TRUSTED_PROXY_HOPS", bad)
        if bad.strip() == "":
            assert Config().TRUSTED_PROXY_HOPS == 0
            continue
        with pytest.raises(ValueError, match="TRUSTED_PROXY_HOPS must be a whole number from 0 to 10"):
            Config()
