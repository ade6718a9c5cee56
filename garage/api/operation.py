"""One declaration per API operation: what it takes, answers and who may call it.

``@operation(...)`` both **enforces** and **documents**: the roles it names are the
ones checked on every request (garage/identity.py) and the ones /openapi.json shows
(garage/api/openapi.py builds the document from the same records), so the two cannot
drift. It also parses the declared JSON body and hands it to the view as ``body``.

How the caller is checked:
- ``roles=None``: public (no token looked at).
- ``roles=None, token_picks_garage=True``: public, on a garage's data (the occupancy): a request that
  sends a token on a path naming no garage works for the token's garage, as a checked operation's
  would (identity.token_garage: 401 for a token that is not live, 400 naming them for several);
  without a token, the default garage; on a garage's own path, that garage, token or not.
- ``roles=(...)``: the token is looked up before anything else; the view finds the caller
  as ``g.actor``. A stranger gets 401 (403 for a role not admitted) before the body is read.
- ``roles=ADMINS`` or ``ANY_ACCOUNT``, ``operator=True``: an operator-level operation (no garage:
  /api/garages); the token's owner is checked by account (identity.holder_for), found as ``g.holder``.
- ``roles=(...), token_in_statement=True``: the busiest operations (entry, exit) check
  the token inside their own database statement (one round trip fewer); the view finds
  the unchecked caller as ``g.caller`` and passes it to the service. If the request is
  refused for its body or a field before that statement ran, the token is looked up then,
  so a stranger is still told 401/403 first, never the rules of the body.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import wraps
from typing import Any, Callable

from flask import g, request
from flask_babel import force_locale
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import RequestEntityTooLarge

from .. import i18n, identity
from ..domain.errors import InvalidInput
from ..domain.inputs import CONTROL_MESSAGE, MULTILINE_FIELDS, has_control
from ..domain.locales import DEFAULT_LANGUAGE
from ..domain.words import _
from ..services import listed


class ApiError(Exception):
    """A request the API refuses before any service ran: answered {"message": ...}."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def client_message(message: str) -> str:
    """An answer's {"message": ...}: English, the API's own language (integrations compare it), unless
    the request sends an Accept-Language naming a language Garage speaks: then in that language. The
    header alone chooses (never the token owner's or the garage's language), so an integration that
    does not ask never sees a change."""
    if "Accept-Language" not in request.headers:
        return str.__str__(message)
    language = request.accept_languages.best_match(list(i18n.spoken()))
    if language is None or language == DEFAULT_LANGUAGE:
        return str.__str__(message)
    with force_locale(language):
        return i18n.translated(message)


# What a request can be refused for before its caller is known (see token_in_statement).
REFUSED_BEFORE_THE_CALLER = (ApiError, RequestEntityTooLarge, InvalidInput)


@dataclass
class Operation:
    endpoint: str
    summary: str
    body: type[BaseModel] | None
    responses: dict[int, tuple[str, Any]]
    roles: tuple[str, ...] | None
    params: list[dict[str, Any]] = field(default_factory=list)
    operator: bool = False  # no garage: the caller is checked by account (identity.holder_for)
    token_picks_garage: bool = False  # public; a token sent chooses the garage (identity.token_garage)


OPERATIONS: dict[str, Operation] = {}


def parse(model: type[BaseModel]) -> BaseModel:
    """The request's JSON body validated by `model` (400 unreadable, 422 invalid).
    The only place the API reads a body: a body nested too deep for the parser is
    unreadable (400), not a RecursionError; no string in it may hold a control character."""
    try:
        data = request.get_json(silent=True)
    except RecursionError:
        data = None
    if data is None:
        if not request.is_json and request.get_data(cache=True)[:1]:  # a body, but not said to be JSON
            raise ApiError(400, _("The request body must be a JSON object, sent with Content-Type: application/json"))
        raise ApiError(400, _("The request body must be a JSON object"))
    if not isinstance(data, dict):
        raise ApiError(422, _("The request body must be a JSON object"))
    _refuse_control_characters(data)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ApiError(422, listed(_describe(e) for e in exc.errors())) from None


def _refuse_control_characters(body: dict[str, Any]) -> None:
    """Every string of the body, keys too; iterative (a body may be nested hundreds deep)."""
    pending: list[tuple[Any, str]] = [(body, "body")]
    while pending:
        value, where = pending.pop()
        if isinstance(value, str):
            if has_control(value, multiline=where in MULTILINE_FIELDS):
                raise ApiError(422, CONTROL_MESSAGE.format(field=where))
        elif isinstance(value, dict):
            for key, item in value.items():
                pending += [(key, where), (item, key if where == "body" else f"{where}.{key}")]
        elif isinstance(value, list):
            pending += [(item, f"{where}.{i}") for i, item in enumerate(value)]


def _describe(error: dict[str, Any]) -> str:
    """One problem of a body: the field's path (the API's own names: never translated), then what is
    wrong (pydantic's own words, in English, for the checks of a field's type)."""
    where = ".".join(str(p) for p in error["loc"]) or "body"
    if error["type"] == "extra_forbidden":
        return _("%(field)s: unknown field", field=where)
    if error["type"] == "missing":
        return _("%(field)s: field required", field=where)
    if "input" in error and error["input"] is None:  # the fields where null means something accept it
        return _("%(field)s: may not be null", field=where)
    return _("%(field)s: %(problem)s", field=where, problem=error["msg"])


def operation(summary: str, *, roles: tuple[str, ...] | None = None, body: type[BaseModel] | None = None,
              responses: dict[int, tuple[str, Any]] | None = None, params: list[dict[str, Any]] | None = None,
              token_in_statement: bool = False, operator: bool = False,
              token_picks_garage: bool = False) -> Callable:
    """Declare an API operation (put it under the route and @autocommit)."""

    def wrap(view: Callable) -> Callable:
        OPERATIONS[view.__name__] = Operation(view.__name__, summary, body, dict(responses or {}), roles,
                                              list(params or []), operator, token_picks_garage)
        if roles is None:
            if body is None and not token_picks_garage:
                return view

            @wraps(view)
            def public(*args: Any, **kwargs: Any):
                if token_picks_garage:
                    identity.token_garage()
                if body is not None:
                    kwargs["body"] = parse(body)
                return view(*args, **kwargs)

            return public

        @wraps(view)
        def checked(*args: Any, **kwargs: Any):
            caller = identity.bearer_caller(roles)
            if operator:
                g.holder = identity.holder_for(caller)
                g.actor = g.holder.actor
                if body is not None:
                    kwargs["body"] = parse(body)
                return view(*args, **kwargs)
            if not token_in_statement:
                g.actor = identity.actor_for(caller)
                if body is not None:
                    kwargs["body"] = parse(body)
                return view(*args, **kwargs)
            g.caller = caller
            try:
                if body is not None:
                    kwargs["body"] = parse(body)
                return view(*args, **kwargs)
            except REFUSED_BEFORE_THE_CALLER:
                identity.actor_for(caller)  # a stranger gets 401/403, never the rules of the body or its fields
                raise

        return checked

    return wrap


def refuse_stranger(op: Operation) -> None:
    """401/403 (or 404 at a garage it may not act at) for a caller the operation does not admit:
    before anything about the request is answered (garage/web.py)."""
    caller = identity.bearer_caller(op.roles or ())
    if op.operator:
        identity.holder_for(caller)
    else:
        identity.actor_for(caller)
