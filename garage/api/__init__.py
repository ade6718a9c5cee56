"""JSON API blueprint (/api/...), the seed's contract plus settings, per garage too.

Every operation on a garage's data is declared once (:func:`route` and ``@operation`` in
routes.py) and answers at two paths: the seed's (``/api/tickets``: the garage of the caller's
token, when it has exactly one) and the same path under ``/api/garages/<garage>`` (the garage's
slug: ``/api/garages/north/tickets``). The slug becomes the garage the request names, which
identity.current_garage() and the token's check honour: ``g.asked_garage_slug``, resolved by the
token's lookup, for an operation that checks a token; ``g.asked_garage_id`` for any other."""
from typing import Callable

from flask import Blueprint, g

from ..domain.garages import SLUG_PATTERN
from .operation import OPERATIONS

bp = Blueprint("api", __name__, url_prefix="/api")
GARAGE_PREFIX = "/garages/<garage>"


def route(rule: str, method: str) -> Callable:
    """An operation on a garage's data at its seed path and under /api/garages/<garage> (one
    endpoint: the same view, roles and OpenAPI record at both)."""

    def wrap(view: Callable) -> Callable:
        for path in (rule, GARAGE_PREFIX + rule):
            bp.add_url_rule(path, view_func=view, methods=[method])
        return view

    return wrap


@bp.url_value_preprocessor
def _asked_garage(endpoint: str | None, values: dict | None) -> None:
    """The garage a per-garage path names. An operation that checks a token at a garage leaves the
    slug to the token's own lookup (identity.TOKEN_OWNER, the entry's statement): no statement of its
    own, so a garage's path costs what the seed's does, and a caller without a live token is told 401
    before anything about the garage (a slug naming none, or one that cannot be a slug, is 404 for a
    live token: identity.admit). A public operation (the occupancy) answers 404 "No such garage" at once."""
    g.asked_garage_id = g.asked_garage_slug = None  # what THIS request's path names, nothing else
    if values and "garage" in values:
        from ..services.garages import garage_id  # services import the identity the API uses

        slug = values.pop("garage")
        op = OPERATIONS.get((endpoint or "").partition(".")[2])
        if op is not None and op.roles and not op.operator:
            # Text that cannot be a slug is sent as "", which names no garage: nothing of it reaches the database.
            g.asked_garage_slug = slug if SLUG_PATTERN.fullmatch(slug) else ""
        else:
            g.asked_garage_id = garage_id(slug)


from . import routes  # noqa: E402,F401


@bp.record
def _no_slash_redirects(state) -> None:
    """Under /api every answer is JSON. Werkzeug answers a doubled slash (`/api/garages/north//garage/stats`,
    also what `north%2F` decodes to) with a 308 redirect whose HTML body no error handler sees: the API's
    rules do not merge slashes, so such a path is the JSON 404 of any unknown path. Recorded after every
    route above, so it runs once they are all in the map."""
    for rule in state.app.url_map.iter_rules():
        if rule.endpoint.startswith(f"{bp.name}."):
            rule.merge_slashes = False
