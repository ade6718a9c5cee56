"""Request ids, the request log, and /metrics through the test client (both databases): who may
read the metrics, what the request and business counters say, bounded labels, text format.
(Under gunicorn with several workers: tests/db/test_gunicorn_observability.py.)"""
import ipaddress
import json
import logging

import pytest
from prometheus_client.parser import text_string_to_metric_families

from garage import trust_proxies
from garage.config import Config
from garage.observability import logs
from tests.helpers.api import enter, issue, pay
from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN
from tests.helpers.db import counting, set_settings
from tests.helpers.garages import add_garage, bearer, grant
from tests.helpers.web import PASSWORD, sign_in

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"),)
TOKEN = "metrics-token-0123456789abcdef"


# --- request ids -------------------------------------------------------------------------------

@pytest.mark.parametrize("sent", ["nginx-4f1c.9_A", "a" * 128])
def test_a_safe_request_id_from_the_proxy_is_reused_and_returned(client, sent):
    assert client.get("/healthz", headers={"X-Request-ID": sent}).headers["X-Request-ID"] == sent


@pytest.mark.parametrize("sent", ["", "a" * 129, "two words", "id;drop", "ünï", "a/b"])
def test_an_unsafe_request_id_is_replaced(client, sent):
    returned = client.get("/healthz", headers={"X-Request-ID": sent}).headers["X-Request-ID"]
    assert returned != sent and logs.SAFE_ID.fullmatch(returned)


def test_every_answer_carries_a_fresh_request_id_even_refusals_and_errors(client):
    ids = {client.get(path).headers["X-Request-ID"] for path in ("/healthz", "/no-such-page", "/g/main/desk", "/api/tickets")}
    assert len(ids) == 4


# --- logs ----------------------------------------------------------------------------------------

def json_lines(caplog, logger: str | None = None) -> list[dict]:
    formatter = logs.JsonFormatter()
    return [json.loads(formatter.format(r)) for r in caplog.records if logger is None or r.name == logger]


def test_no_request_log_by_default(client, caplog):
    caplog.set_level(logging.INFO)
    client.get("/healthz")
    assert json_lines(caplog, "garage.request") == []


def test_the_request_log_is_one_json_line_per_request_with_who_what_and_how_long(app, actions, caplog, monkeypatch):
    monkeypatch.setitem(app.config, "LOG_REQUESTS", True)
    actions.sign_in("ann", "attendant")
    caplog.set_level(logging.INFO)
    caplog.clear()
    r = actions.client.get("/g/main/desk/inside?q=ZZ", headers={"X-Request-ID": "req-1"})
    line, = json_lines(caplog, "garage.request")
    assert line["request_id"] == "req-1" == r.headers["X-Request-ID"]
    assert (line["user"], line["route"], line["method"], line["path"], line["status"]) == (
        "ann", "desk.inside", "GET", "/g/main/desk/inside", 200)
    assert line["client_ip"] == "127.0.0.1" and line["duration_ms"] >= 0
    assert line["time"].endswith("Z") and line["level"] == "INFO" and line["message"] == "GET /g/main/desk/inside -> 200"
    assert "ZZ" not in json.dumps(line)  # no query string


def test_error_log_lines_carry_the_request_id(app, client, caplog, monkeypatch):
    from garage.services import stats

    def broken(*args):
        raise RuntimeError("boom")

    monkeypatch.setattr(stats, "public_occupancy", broken)
    monkeypatch.setattr("garage.lobby.routes.public_occupancy", broken)
    r = client.get("/g/main/lobby", headers={"X-Request-ID": "trace-me"})
    assert r.status_code == 500
    line, = [l for l in json_lines(caplog) if l["level"] == "ERROR"]
    assert line["request_id"] == "trace-me" == r.headers["X-Request-ID"]
    assert line["route"] == "lobby.index" and "RuntimeError: boom" in line["exception"]


def test_text_log_lines_carry_the_request_id_too(client, caplog):
    record = logging.LogRecord("garage", logging.WARNING, __file__, 1, "plain %s", ("line",), None)
    assert logs.TextFormatter().format(record).endswith("WARNING garage [-]: plain line")
    record.request_id = "abc"
    assert "[abc]: plain line" in logs.TextFormatter().format(record)


def test_database_errors_are_logged_without_the_values_sent(app, caplog):
    """hide_parameters drops SQLAlchemy's "[parameters: ...]"; PostgreSQL's DETAIL and LINE context
    (which quote values) are cut from the line and from the traceback."""
    import sqlalchemy as sa
    from garage.extensions import db
    from garage.web import log_failure

    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["hide_parameters"] is True
    secret = "hunter2-password"  # (a traceback quotes the source line below: not this one)
    with app.test_request_context("/g/main/desk"):
        for statement in ("SELECT * FROM no_such_table WHERE x = :secret",
                          "INSERT INTO users (username, password_hash, role) VALUES ('u', :secret, NULL)"):
            try:
                db.session.execute(sa.text(statement), {"secret": secret})
            except sa.exc.SQLAlchemyError as exc:
                db.session.rollback()
                log_failure(exc, 500)
            else:
                raise AssertionError("the statement should fail")
    written = [logs.JsonFormatter().format(r) for r in caplog.records] + \
        [logs.TextFormatter().format(r) for r in caplog.records]
    assert len(caplog.records) == 2 and all("hunter2" not in line for line in written)
    assert "no_such_table" in written[0]  # what went wrong is still there


# --- who may read /metrics ----------------------------------------------------------------------

def test_metrics_are_refused_to_everyone_by_default(client):
    r = client.get("/metrics")
    assert r.status_code == 403 and b"garage_" not in r.data


def test_metrics_from_an_allowed_network(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_ALLOW", LOOPBACK)
    assert client.get("/metrics").status_code == 200
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "192.0.2.9"
    assert other.get("/metrics").status_code == 403


def test_metrics_with_the_token_from_anywhere(app, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", TOKEN)
    outside = app.test_client()
    outside.environ_base["REMOTE_ADDR"] = "192.0.2.9"
    assert outside.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    for wrong in (f"Bearer {TOKEN}x", f"Basic {TOKEN}", TOKEN, "Bearer "):
        assert outside.get("/metrics", headers={"Authorization": wrong}).status_code == 403


def test_behind_a_trusted_proxy_the_network_is_the_clients_not_the_proxys(app, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_ALLOW", LOOPBACK)
    monkeypatch.setattr(app, "wsgi_app", app.wsgi_app)
    monkeypatch.setitem(app.config, "TRUSTED_PROXY_HOPS", 1)
    trust_proxies(app)
    through_nginx = app.test_client()  # nginx on the same host: the connection is from loopback
    through_nginx.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.50"
    assert through_nginx.get("/metrics").status_code == 403
    assert app.test_client().get("/metrics").status_code == 200  # Prometheus on the host, straight to gunicorn


def test_metrics_settings_are_validated(monkeypatch):
    monkeypatch.setenv("METRICS_ALLOW", "10.0.0.0/8, 127.0.0.1 ,::1")
    assert [str(n) for n in Config().METRICS_ALLOW] == ["10.0.0.0/8", "127.0.0.1/32", "::1/128"]
    monkeypatch.setenv("METRICS_ALLOW", "10.0.0.0/8,intranet")
    with pytest.raises(ValueError, match="METRICS_ALLOW: 'intranet'"):
        Config()
    monkeypatch.delenv("METRICS_ALLOW")
    monkeypatch.setenv("METRICS_TOKEN", "short")
    with pytest.raises(ValueError, match="METRICS_TOKEN must be at least 16"):
        Config()


def test_log_format_and_pool_sizes_are_validated(monkeypatch):
    assert (Config().LOG_FORMAT, Config().LOG_REQUESTS) == ("json", False)
    monkeypatch.setenv("LOG_FORMAT", "TEXT")
    assert Config().LOG_FORMAT == "text"
    monkeypatch.setenv("LOG_FORMAT", "xml")
    with pytest.raises(ValueError, match="LOG_FORMAT must be one of json, text"):
        Config()
    monkeypatch.delenv("LOG_FORMAT")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h/db")
    engine = Config().SQLALCHEMY_ENGINE_OPTIONS
    assert (engine["pool_size"], engine["max_overflow"]) == (5, 0)
    monkeypatch.setenv("DB_POOL_SIZE", "3")
    monkeypatch.setenv("DB_MAX_OVERFLOW", "2")
    engine = Config().SQLALCHEMY_ENGINE_OPTIONS
    assert (engine["pool_size"], engine["max_overflow"]) == (3, 2)
    for name, bad in (("DB_POOL_SIZE", "0"), ("DB_POOL_SIZE", "many"), ("DB_MAX_OVERFLOW", "-1")):
        monkeypatch.setenv(name, bad)
        with pytest.raises(ValueError, match=name):
            Config()
        monkeypatch.setenv(name, "1")


# --- what /metrics says ---------------------------------------------------------------------------

def scrape(client) -> dict[tuple[str, tuple], float]:
    """Every sample of /metrics: (name, sorted labels) -> value; the text must parse."""
    r = client.get("/metrics")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(r.get_data(as_text=True)) for s in family.samples}


@pytest.fixture
def metrics_client(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_ALLOW", LOOPBACK)
    return client


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_requests_are_counted_by_route_and_status_never_by_raw_path(metrics_client):
    before = scrape(metrics_client)
    for path in ("/healthz", "/healthz", "/no/such/page/1", "/no/such/page/2"):
        metrics_client.get(path)
    metrics_client.open("/healthz", method="BREW")
    after = scrape(metrics_client)
    count = "garage_http_requests_total"
    assert value(after, count, route="ops.healthz", method="GET", status="200") - \
        value(before, count, route="ops.healthz", method="GET", status="200") == 2
    assert value(after, count, route="unmatched", method="GET", status="404") - \
        value(before, count, route="unmatched", method="GET", status="404") == 2
    assert value(after, count, route="unmatched", method="other", status="405") - \
        value(before, count, route="unmatched", method="other", status="405") == 1
    assert not any("/no/such" in str(key) for key in after)
    assert value(after, "garage_http_request_duration_seconds_count", route="ops.healthz", method="GET",
                 status="200") >= 2


def test_business_figures(app, metrics_client, staff, make_user):
    set_settings(total_spaces=2)
    before = scrape(metrics_client)
    first = issue(metrics_client, staff, "AAA111")
    issue(metrics_client, staff, "BBB222")
    assert enter(metrics_client, staff, "CCC333").status_code == 409  # full
    assert pay(metrics_client, staff, first).status_code == 200
    assert enter(metrics_client, staff, "BBB222").status_code == 409  # already inside
    assert enter(metrics_client, staff, "#!?").status_code == 422  # invalid plate
    assert pay(metrics_client, staff, first).status_code == 409  # paid already
    make_user("alice")
    assert sign_in(app.test_client(), "alice", "wrong password").status_code == 401
    assert sign_in(app.test_client(), "alice", PASSWORD).status_code == 303
    after = scrape(metrics_client)

    def grew(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("garage_entries_total") == 2 and grew("garage_exits_total") == 1
    assert grew("garage_revenue_cents_total") > 0
    assert grew("garage_refusals_total", operation="entry", reason="full") == 1
    assert grew("garage_refusals_total", operation="entry", reason="duplicate_plate") == 1
    assert grew("garage_refusals_total", operation="entry", reason="invalid") == 1
    assert grew("garage_refusals_total", operation="exit", reason="already_paid") == 1
    assert grew("garage_sign_in_failures_total", reason="wrong_credentials") == 1
    assert value(after, "garage_spaces_total", garage="main") == 2
    assert value(after, "garage_spaces_occupied", garage="main") == 1
    assert value(after, "garage_database_up") == 1


def test_occupancy_figures_are_per_garage_in_one_statement(app, metrics_client, make_user):
    north = add_garage("north", spaces=3)
    add_garage("south", spaces=7)
    make_user("ann")  # at main
    grant("ann", north)
    issue(metrics_client, bearer("ann"), "N 1", garage="north")
    issue(metrics_client, bearer("ann", [MAIN]), "M 1")
    with counting() as sent:
        after = scrape(metrics_client)
    assert [value(after, "garage_spaces_occupied", garage=slug) for slug in ("main", "north", "south")] == [1, 1, 0]
    assert [value(after, "garage_spaces_total", garage=slug) for slug in ("north", "south")] == [3, 7]
    assert ("garage_spaces_total", ()) not in after  # no figure without its garage
    assert sum("garages" in statement for statement in sent) == 1
