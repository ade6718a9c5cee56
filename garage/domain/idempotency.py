"""Idempotency keys (issue 20): what a key may be, which requests are "the same", which answers are kept.
Pure Python: no Flask, no database.

An API client sends ``Idempotency-Key: <key>`` with an entry or an exit; a retry with the same key (same
caller, same garage) gets the first answer again instead of a second ticket or a second charge. The
rules follow the IETF draft "The Idempotency-Key HTTP Header Field" and Stripe's practice:

- **A key** is 1 to 255 visible ASCII characters (``!`` to ``~``: no space, no control character) other
  than a double quote or a comma. The draft's form, a Structured Field string in double quotes
  (``"8e03978e-..."``), is read without its quotes, so a client of either kind sends its key as it has
  it; ``""`` is an empty key. A comma is refused because a server joins two headers of one name with one
  (``a, b``): a request with two keys is refused, not read as a third. Anything else:
  :class:`InvalidKey` (400).
- **The same request** is the same method, path and JSON body (keys in any order, spacing aside): its
  :func:`fingerprint`. The same key with another request: :class:`KeyReused` (422), nothing done.
- **A request still in flight** with that key (a concurrent duplicate): :class:`KeyInFlight` (409); the
  client simply retries a moment later.
- **Kept** (:func:`kept`): every answer the use case gave once the caller was known and admitted: the
  success and its refusals (404, 409 full / already inside / already paid, 422 a bad plate), each replayed
  as it was. Never kept: a 5xx (the transaction failed or its outcome is unknown: a retry really runs
  again), and what is answered before the use case (401/403, a bad key, an unreadable body, 409 in
  flight, 422 key reused).
- Keys expire after ``IDEMPOTENCY_TTL_HOURS`` (24 by default): an older key is a new key.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

from .errors import Conflict, DomainError, InvalidInput
from .words import _

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"  # set to "true" on an answer given again (Stripe's header)
KEY_MAX = 255
# The header's value as the OpenAPI document publishes it: a key, or a key in double quotes (read_key).
KEY_PATTERN = '^(?:[!#-+\\--~]{1,255}|"[!#-+\\--~]{1,255}")$'
DEFAULT_TTL_HOURS = 24


class InvalidKey(DomainError):
    """400, saying what is wrong with the key: empty, too long, two keys, or which character."""

    status = 400

    def __init__(self, key: str) -> None:
        bad = next((c for c in key if not "!" <= c <= "~" or c in '",'), None)
        if not key:
            message = _("Idempotency-Key is empty: send one key of 1 to 255 visible ASCII characters")
        elif bad == ",":
            message = _("Idempotency-Key holds a comma: send one key per request (1 to 255 visible ASCII "
                        "characters, no comma)")
        elif bad is not None:
            message = _("Idempotency-Key may not hold %(character)s: a key has 1 to 255 visible ASCII characters "
                        "(letters, digits, punctuation other than the double quote and the comma)",
                        character=_character(bad))
        else:
            message = _("Idempotency-Key is %(length)s characters long: a key has 1 to 255", length=len(key))
        super().__init__(message, field=HEADER)


def _character(c: str) -> str:
    """A character named so that a person sees it: a space, a double quote, else U+XXXX (and itself if visible)."""
    if c == " ":
        return _("a space")
    if c == '"':
        return _("a double quote")
    return f"U+{ord(c):04X}" if not c.isprintable() else f"{c} (U+{ord(c):04X})"


class KeyReused(InvalidInput):
    """The key was used with another request (method, path or body): 422, nothing done."""

    def __init__(self) -> None:
        super().__init__(_("This Idempotency-Key was used with a different request: send the same request "
                           "again, or use a new key for a new request"), field=HEADER)


class KeyInFlight(Conflict):
    """A request with the same key is still being processed (a concurrent duplicate): 409, try again."""

    def __init__(self) -> None:
        super().__init__(_("A request with this Idempotency-Key is still being processed: try again in a "
                           "moment"), field=HEADER)


def read_key(raw: str) -> str:
    """The key a header value carries (the draft's quoted form without its quotes), else InvalidKey."""
    key = raw[1:-1] if len(raw) >= 2 and raw[0] == raw[-1] == '"' else raw
    if not 1 <= len(key) <= KEY_MAX or not all("!" <= c <= "~" and c not in '",' for c in key):
        raise InvalidKey(key)
    return key


def fingerprint(method: str, path: str, body: Any) -> str:
    """What makes two requests the same: the method, the path and the JSON body, canonical (sorted keys,
    no spacing), as a SHA-256 hex digest (64 characters: what the table keeps, never the body)."""
    canonical = json.dumps([method.upper(), path, body], sort_keys=True, separators=(",", ":"),
                           ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def kept(status: int) -> bool:
    """Whether an answer of the use case is kept for a retry with the same key (see the module)."""
    return status < 500
