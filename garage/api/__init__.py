"""JSON API blueprint (/api/...), the seed's contract plus settings, per garage too.

Every operation on a garage's data is declared once (:func:`route` and ``@operation`` in
routes.py) and answers at two paths: the seed's (``/api/tickets``: the garage of the caller's
token, when it has exactly one) and the same path under ``/api/garages/<garage>`` (the garage's
slug: ``/api/garages/north/tickets``). The slug becomes the garage the request names, which
identity.current_garage() and the token's check honour: ``g.asked_garage_slug``, resolved by the
token's lookup, for an operation that checks a token; ``g.asked_garage_id`` for any other."""
from typing import Callable

from flask import Blueprint, g

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
    """The garage a per-garage path names (unknown: 404 "No such garage", before anything else).
    An operation that checks a token at a garage leaves the slug to the token's own lookup
    (identity.TOKEN_OWNER, the entry's statement): no statement of its own, so a garage's path
    costs what the seed's does; a slug that cannot be one is refused here, without the database."""
    if values and "garage" in values:
        from ..services.garages import garage_id, named_slug  # services import the identity the API uses

        slug = values.pop("garage")
        op = OPERATIONS.get((endpoint or "").partition(".")[2])
        if op is not None and op.roles and not op.operator:
            g.asked_garage_slug = named_slug(slug)
        else:
            g.asked_garage_id = garage_id(slug)


from . import routes  # noqa: E402,F401
