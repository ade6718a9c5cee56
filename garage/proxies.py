"""Trusted reverse proxies (TRUSTED_PROXY_HOPS): the client's address and scheme as the nearest
proxies wrote them in X-Forwarded-For / X-Forwarded-Proto.

Not Werkzeug's ProxyFix: it reads these headers with parse_list_header, which understands quoted
strings, so a client sending `X-Forwarded-For: 6.6.6.6"` made nginx's appended entry part of an
unterminated quoted string; the list came out short and ProxyFix fell back to the connection's
address, nginx's own 127.0.0.1 (which METRICS_ALLOW may let in). Here the headers are split plainly
on commas, the value `hops` from the right is the one our proxies wrote, and it must be an IP
address (a scheme: `http` or `https`). A header that is there but whose chosen value is missing or
invalid is answered 400: a correctly configured proxy always writes a valid one, so it is a forgery
or a misconfiguration, never a reason to believe the proxy's own address.

A request with no X-Forwarded-For at all did not come through the proxy (nginx always sends one):
a direct connection (a deploy script's `curl .../readyz`, Prometheus scraping an instance), whose
address is the connection's. That is why instances must listen only where the proxy and the
operators' own tools reach them (docs/operations.md, "Behind a proxy")."""
from __future__ import annotations

import ipaddress
import logging
from typing import Any, Callable, Iterable

from werkzeug.wrappers import Response

log = logging.getLogger("garage.proxies")

SCHEMES = ("http", "https")


def chosen(header: str, hops: int) -> str | None:
    """The entry `hops` from the right of a comma-separated header, stripped; None if there are
    fewer entries. No quoting is understood: a quote is just a character of an (invalid) entry."""
    entries = header.split(",")
    return entries[-hops].strip(" \t") if len(entries) >= hops else None


def valid_address(value: str | None) -> str | None:
    """`value` as the address it is (normalized, e.g. IPv6 lowercased), or None. Only ASCII digits:
    ipaddress itself refuses others, but say it rather than depend on it."""
    if not value or not value.isascii():
        return None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


class TrustedProxies:
    """WSGI middleware: REMOTE_ADDR and wsgi.url_scheme from the last `hops` proxies' headers."""

    def __init__(self, app: Callable[..., Iterable[bytes]], hops: int):
        self.app, self.hops = app, hops

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        forwarded_for = environ.get("HTTP_X_FORWARDED_FOR")
        forwarded_proto = environ.get("HTTP_X_FORWARDED_PROTO")
        if forwarded_for is None:  # not through the proxy (see the module's docstring)
            return self.app(environ, start_response)
        address = valid_address(chosen(forwarded_for, self.hops))
        scheme = None
        if forwarded_proto is not None:
            scheme = chosen(forwarded_proto, self.hops)
            if scheme not in SCHEMES:
                address = None
        if address is None:
            log.warning("bad forwarded header from %s: X-Forwarded-For %r, X-Forwarded-Proto %r",
                        environ.get("REMOTE_ADDR"), forwarded_for[:200], (forwarded_proto or "")[:200])
            return Response("Bad forwarded header\n", status=400, mimetype="text/plain")(environ, start_response)
        environ["REMOTE_ADDR"] = address
        if scheme is not None:
            environ["wsgi.url_scheme"] = scheme
        return self.app(environ, start_response)
