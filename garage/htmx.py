"""htmx request details and response helpers (placeholder: replaced by the htmx branch)."""
from __future__ import annotations

from flask import Response, make_response, request

POLL_HEADER = "X-Garage-Poll"


def is_htmx() -> bool:
    return (request.headers.get("HX-Request") == "true"
            and request.headers.get("HX-History-Restore-Request") != "true")


def is_poll() -> bool:
    return request.headers.get(POLL_HEADER) == "1"


def client_redirect(url: str, status: int = 200) -> Response:
    response = make_response("", status)
    response.headers["HX-Redirect"] = url
    return response


def vary_on_htmx(response: Response) -> Response:
    response.vary.add("HX-Request")
    return response
