"""HTTP protocol details every response keeps, on pages and the API: a 405 names the methods
that are allowed (RFC 9110 `Allow`), and any HTTP error keeps the headers it carries."""
from __future__ import annotations

import pytest
from werkzeug.exceptions import ServiceUnavailable

from garage import create_app
from tests.helpers.web import signed_in, text


def allowed(response) -> set[str]:
    return {m.strip() for m in response.headers.get("Allow", "").split(",") if m.strip()}


@pytest.mark.parametrize("method, path, methods", [
    ("DELETE", "/g/main/desk", {"GET", "HEAD"}),  # no OPTIONS: nothing answers it (docs/security.md)
    ("PUT", "/login", {"GET", "HEAD", "POST"}),
    ("PATCH", "/g/main/lobby", {"GET", "HEAD"}),
    ("DELETE", "/g/main/admin/users", None),
    ("POST", "/g/main/reports", None),
])
def test_a_page_refusing_a_method_names_the_allowed_ones(app, make_user, method, path, methods):
    boss = signed_in(app, make_user, "boss", "manager")
    r = boss.open(path, method=method)
    assert r.status_code == 405
    assert "not allowed" in text(r).lower()  # the error page, not an empty answer
    expected = methods or set(app.url_map.bind("localhost").allowed_methods(path))
    assert allowed(r) == expected and "GET" in expected


@pytest.mark.parametrize("method, path", [
    ("TRACE", "/api/status"), ("DELETE", "/api/tickets"), ("POST", "/api/garage/occupancy"),
    ("PATCH", "/api/garage/settings"), ("DELETE", "/api/tickets/PS-ABCDEF/exit"),
])
def test_an_api_operation_refusing_a_method_names_the_allowed_ones_in_json(client, manager, method, path):
    r = client.open(path, method=method, headers=manager)
    assert r.status_code == 405
    assert r.get_json() == {"message": "Method not allowed"}
    assert allowed(r) == set(client.application.url_map.bind("localhost").allowed_methods(path))
    assert allowed(r) - {"HEAD", "OPTIONS"}, r.headers


def test_any_http_error_keeps_its_own_headers_under_our_body(tmp_path):
    """The class, not just 405: Retry-After on a 503, on a page and on the API."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db",
                      "INSTANCE_PATH": str(tmp_path)})

    def unavailable():
        raise ServiceUnavailable("Down for a moment", retry_after=7)

    app.add_url_rule("/maintenance", "maintenance", unavailable)
    app.add_url_rule("/api/maintenance", "api_maintenance", unavailable)
    client = app.test_client()
    page = client.get("/maintenance")
    assert page.status_code == 503 and page.headers["Retry-After"] == "7"
    assert "Down for a moment" in text(page) and page.mimetype == "text/html"
    api = client.get("/api/maintenance")
    assert api.status_code == 503 and api.headers["Retry-After"] == "7" and api.get_json()["message"]
