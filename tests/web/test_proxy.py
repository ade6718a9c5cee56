"""Behind reverse proxies (TRUSTED_PROXY_HOPS): the throttle, the audit log and the session
cookie's Secure flag see the client the proxies saw; with 0 (the default) forwarded headers
are ignored, whoever sends them."""
import ipaddress

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

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


# --- hostile forwarded headers -----------------------------------------------------------------
# Werkzeug's ProxyFix read X-Forwarded-For as a list of possibly quoted strings: `6.6.6.6"` from a
# client made nginx's appended entry part of a quoted string, the list came out short, and the app
# saw nginx's own address (127.0.0.1), which METRICS_ALLOW lets in as the docs recommend.

HOSTILE = ['"', '6.6.6.6"', '" 10.0.0.1', '"6.6.6.6', '6.6.6.6, "', '\\"', "６.６.６.６", "1.2.3.4 5.6.7.8", "",
           ",", " ", "unknown", "127.0.0.1\"", "::1\"", "[::1]", "1.2.3.4:80", "٣.٣.٣.٣"]
HEADER_TEXT = st.text(alphabet=st.sampled_from(list(',"\'; \t.:0123456789abcdef６٣x')) | st.characters(
    min_codepoint=0x20, max_codepoint=0x2FFF, exclude_categories=("Cs",)), max_size=40)


@pytest.fixture
def loopback_may_read_metrics(app, monkeypatch):
    """As docs/operations.md suggests: nginx and Prometheus on the host, METRICS_ALLOW=127.0.0.1/32."""
    monkeypatch.setitem(app.config, "METRICS_ALLOW", [ipaddress.ip_network("127.0.0.0/8")])
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "")


def metrics_status(app, forwarded_for: str | None, proto: str | None = None) -> int:
    return proxied_client(app, forwarded_for, proto).get("/metrics").status_code


def test_the_address_nginx_appends_is_believed_whatever_the_client_put_before_it(app, loopback_may_read_metrics,
                                                                                 behind):
    behind(1)
    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(HEADER_TEXT)
    def through_nginx(sent):
        assert metrics_status(app, f"{sent}, 192.0.2.7") == 403, repr(sent)

    for hostile in HOSTILE:
        assert metrics_status(app, f"{hostile}, 192.0.2.7") == 403, repr(hostile)
        assert metrics_status(app, f"{hostile}, 127.0.0.1") == 200, repr(hostile)  # the proxy saw loopback
    through_nginx()
    assert metrics_status(app, "127.0.0.1") == 200 and metrics_status(app, None) == 200  # direct, no proxy


def test_a_forwarded_header_without_a_valid_last_address_is_refused(app, loopback_may_read_metrics, behind):
    behind(1)
    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(HEADER_TEXT)
    def malformed(sent):
        last = sent.split(",")[-1].strip(" \t")
        try:
            ipaddress.ip_address(last)
        except ValueError:
            r = proxied_client(app, sent).get("/metrics")
            assert (r.status_code, r.get_data(as_text=True)) == (400, "Bad forwarded header\n"), repr(sent)

    for hostile in HOSTILE:
        assert metrics_status(app, hostile) == 400, repr(hostile)
    malformed()
    # The scheme likewise: only http or https, as the last proxy wrote it.
    assert metrics_status(app, "127.0.0.1", "https") == 200
    assert metrics_status(app, "127.0.0.1", "ftp, https") == 200
    for proto in ("https, ftp", '"https', "https\"", "HTTPS ", "", "javascript"):
        assert metrics_status(app, "127.0.0.1", proto) == 400, repr(proto)


@pytest.mark.parametrize("hostile", ['6.6.6.6"', '" 10.0.0.1'])
def test_a_quote_in_the_header_neither_hides_the_client_from_the_audit_log_nor_from_the_throttle(
        app, make_user, behind, monkeypatch, hostile):
    behind(1)
    monkeypatch.setitem(app.config, "SIGN_IN_ADDRESS_FAILURES", 2)
    make_user("alice")
    for _ in range(2):
        assert sign_in(proxied_client(app, f"{hostile}, 198.51.100.9"), "alice", "wrong").status_code == 401
    assert {e.ip for e in audit_events("auth.login_failed")} == {"198.51.100.9"}
    assert sign_in(proxied_client(app, f"{hostile}, 198.51.100.9"), "alice").status_code == 429
    assert sign_in(proxied_client(app, f"{hostile}, 198.51.100.10"), "alice").status_code == 303


def test_behind_two_proxies_a_request_that_skipped_the_first_is_refused(app, loopback_may_read_metrics, behind):
    behind(2)  # a load balancer, then nginx: a client reaching nginx directly leaves one entry
    assert metrics_status(app, "127.0.0.1") == 400
    assert metrics_status(app, "127.0.0.1, 192.0.2.7") == 200


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
