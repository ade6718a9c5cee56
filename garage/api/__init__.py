"""JSON API blueprint (/api/...), the seed's contract plus settings, per garage too.

Every operation on a garage's data is declared once (:func:`route` and ``@operation`` in
routes.py) and answers at two paths: the seed's (``/api/tickets``: the garage of the caller's
token, when it has exactly one) and the same path under ``/api/garages/<garage>`` (the garage's
slug: ``/api/garages/north/tickets``). The slug becomes ``g.asked_garage_id``, the garage the
request names, which identity.current_garage() and the token's check honour."""
from typing import Callable

from flask import Blueprint, g

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
    """The garage a per-garage path names (unknown: 404 "No such garage", before anything else)."""
    if values and "garage" in values:
        from ..services.garages import garage_id  # services import the identity the API uses

        g.asked_garage_id = garage_id(values.pop("garage"))


from . import routes  # noqa: E402,F401
