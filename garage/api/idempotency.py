"""The Idempotency-Key header on the API's entry and exit (issue 20; docs/api.md "Retrying safely").

``@idempotent`` (under ``@operation``, right above the view) reads the header. Without it nothing
changes: no statement more, the entry still ONE statement in autocommit. With it, the request becomes
one transaction around the claim (garage/services/idempotency.py): a kept answer is sent again with
``Idempotent-Replayed: true`` (status and body as first sent), else the view runs with the caller the claim
admitted (:func:`caller`) and passes :func:`keeper` to its use case, which keeps the answer before its
COMMIT; a refusal of the use case is kept too. What may be a key and which answers are kept:
garage/domain/idempotency.py."""
from __future__ import annotations

from functools import wraps
from typing import Any, Callable

from flask import Response, current_app, g, request

from ..domain.errors import DomainError
from ..domain.idempotency import HEADER, KEY_PATTERN, REPLAYED, InvalidKey, fingerprint, kept, read_key
from ..identity import Actor, TokenCaller
from ..services import idempotency as keys
from .operation import ApiError, client_message

# What /openapi.json says of the header and of the answers it adds (the operations' own 409 and 422 too).
KEY_PARAMETER = {
    "name": HEADER, "in": "header", "required": False, "schema": {"type": "string", "pattern": KEY_PATTERN},
    "description": "Optional, 1-255 visible ASCII characters (a UUID is best): a retry with the same key and the "
                   "same request gets the first answer again (status and body) with `Idempotent-Replayed: true`, "
                   "and nothing is done twice. Kept IDEMPOTENCY_TTL_HOURS (24 by default). Never kept: a 5xx answer."}
KEY_CONFLICT = "a request with the same Idempotency-Key is still being processed (try again)"
KEY_REUSED = "the Idempotency-Key was used with a different request"
KEY_MALFORMED = "a malformed Idempotency-Key"
KEY_OUTAGE = ("The database is unreachable or timed out; it may have done the request before it went: send the same "
              "request again (after Retry-After seconds) with the same Idempotency-Key")


def idempotent(view: Callable) -> Callable:
    """Put right above the view, under @operation (the body is parsed and the token known, unchecked)."""

    @wraps(view)
    def run(*args: Any, **kwargs: Any):
        raw = request.headers.get(HEADER)
        g.idempotency = None  # this request's (an app context a test keeps open may have served another)
        if raw is None:
            return view(*args, **kwargs)
        try:
            key = read_key(raw)
        except InvalidKey as exc:
            raise ApiError(exc.status, exc.message) from None  # a stranger is told 401 first (@operation)
        request_hash = fingerprint(request.method, request.path, request.get_json(silent=True))
        started = keys.claim(g.caller, key, request_hash)
        if isinstance(started, keys.Kept):
            return answer(started)
        g.idempotency = started
        try:
            return view(*args, **kwargs)
        except DomainError as exc:  # the use case's refusal (rolled back): kept, unless another answer was first
            if not kept(exc.status):
                raise
            return answer(keys.keep_refusal(started, exc.status, body_of({"message": client_message(exc.message)})))
        except keys.AnsweredMeanwhile:  # rolled back: a duplicate's answer was kept first
            return answer(keys.answer_of(started))

    return run


def caller() -> tuple[int | None, Actor | TokenCaller]:
    """The garage and the caller a keyed view passes to its use case: the claim's (admitted already) with
    a key, else the token caller its own statement checks (token_in_statement)."""
    claim = g.get("idempotency")
    return (claim.garage_id, claim.actor) if claim is not None else (g.caller.garage_id, g.caller)


def keeper(status: int, build: Callable[[Any], Any]) -> Callable[[Any], None] | None:
    """For the use case: keeps the body `build(result)` with `status` before its COMMIT (None: no key)."""
    return keys.keeper(g.get("idempotency"), status, lambda result: body_of(build(result)))


def body_of(data: Any) -> str:
    """The JSON body exactly as jsonify sends it (so a replay is byte for byte the first answer)."""
    return current_app.json.response(data).get_data(as_text=True)


def answer(kept_answer: keys.Kept) -> Response:
    response = current_app.response_class(kept_answer.body, status=kept_answer.status, mimetype="application/json")
    if kept_answer.replayed:
        response.headers[REPLAYED] = "true"
    return response
