"""Idempotency keys (issue 20): a keyed entry or exit runs once; a retry gets the same answer.

The rules (what a key may be, which requests are the same, which answers are kept) are
garage/domain/idempotency.py; the SQL is the store's (garage/persistence: ``claim_key``, ``keep_answer``).
A keyed request is ONE transaction from its first statement to its commit:

1. :func:`claim` — one statement: the token's owner (the rule every API call uses), the answer kept
   for the key, and on PostgreSQL the key held by this transaction (a try-lock: a duplicate in flight
   is refused at once, :class:`KeyInFlight`). A kept answer is given again (or :class:`KeyReused`).
2. the use case itself (services/tickets.py ``issue_ticket`` / ``process_exit``), with the caller the
   claim admitted, calls the :func:`keeper` right before its COMMIT: the answer is written in the
   same transaction as the ticket or payment, so a crash or a lost connection leaves both or neither.
3. a refusal of the use case (rolled back: nothing of it was written) is kept by
   :func:`keep_refusal` in a short transaction of its own.

Whoever keeps an answer for the key first wins (the table's primary key): a request that finds one
kept meanwhile (:class:`AnsweredMeanwhile`) rolls back everything it did and answers that one. So
however retries interleave, a key issues at most one ticket and charges at most once. (The lock is the
quick answer to a duplicate, not the guarantee: an exit with a validation code commits the validation on
its way, which ends the claim's transaction and its lock early; the primary key still lets one answer stand,
and the ticket is paid once by the exit's own rule.)"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

from flask import current_app

from ..domain.clock import utcnow
from ..domain.idempotency import KeyInFlight, KeyReused
from ..extensions import db
from ..identity import Actor, TokenCaller, admit, owner_admitted
from ..persistence import store


@dataclass(frozen=True)
class Claim:
    """A keyed request that runs: the caller as the claim admitted it, at its garage, and its key."""

    garage_id: int
    actor: Actor
    key: str
    request_hash: str


@dataclass(frozen=True)
class Kept:
    """An answer kept for a key: its status and JSON body, exactly as sent. `replayed`: given again."""

    status: int
    body: str
    replayed: bool = True


class AnsweredMeanwhile(Exception):
    """Another request's answer for the key was kept first: roll back, answer that one (:func:`answer_of`)."""


def _fresh_after(now: datetime) -> datetime:
    """Keys kept before this moment are expired (IDEMPOTENCY_TTL_HOURS)."""
    return now - timedelta(hours=current_app.config["IDEMPOTENCY_TTL_HOURS"])


def claim(caller: TokenCaller, key: str, request_hash: str, now: datetime | None = None) -> Claim | Kept:
    """Start a keyed request (see the module): the Claim to run it with, or the answer kept for the key.
    Unauthenticated / Forbidden / NoSuchGarage as any API call; KeyReused (422) for a kept answer of
    another request; KeyInFlight (409) while a request with the key runs. Leaves autocommit (PostgreSQL):
    from here to the commit this request is one transaction, holding the key."""
    if caller.token_hash is None:
        admit(None, caller)  # no token at all: nothing to look up
    store().transaction()
    row = store().claim_key(caller.token_hash, caller.garage_id, caller.garage_slug, key,
                            _fresh_after(now or utcnow()))
    actor, garage_id = owner_admitted(row, caller)
    if row.request_hash is not None:
        db.session.rollback()  # nothing to do: the key's lock (if taken) goes
        if row.request_hash != request_hash:
            raise KeyReused()
        return Kept(row.status, row.body)
    if not row.free:
        db.session.rollback()
        raise KeyInFlight()
    return Claim(garage_id, actor, key, request_hash)


def keep(claim: Claim, status: int, body: str, now: datetime | None = None) -> None:
    """Keep the answer in the caller's transaction, before its COMMIT (AnsweredMeanwhile: another
    request's answer was kept first; the caller rolls back)."""
    now = now or utcnow()
    if not store().keep_answer(claim.garage_id, claim.actor.user_id, claim.key, claim.request_hash, status, body,
                               now, _fresh_after(now)):
        raise AnsweredMeanwhile()


def keeper(claim: Claim | None, status: int, answer: Callable[[Any], str]) -> Callable[[Any], None] | None:
    """What a use case calls with its result right before its COMMIT: keeps `answer(result)` (the JSON body
    the API sends) with status `status` for the claim's key. None without a key (nothing to do)."""
    if claim is None:
        return None
    return lambda result: keep(claim, status, answer(result))


def keep_refusal(claim: Claim, status: int, body: str) -> Kept:
    """Keep a refusal of the use case (which rolled back) in a transaction of its own: the answer to send,
    or, if another request with the key kept its answer first, that one (replayed)."""
    try:
        keep(claim, status, body)
    except AnsweredMeanwhile:
        db.session.rollback()
        return answer_of(claim)
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()
    return Kept(status, body, replayed=False)


def answer_of(claim: Claim) -> Kept:
    """The answer another request kept for the claim's key (after AnsweredMeanwhile): replayed, or
    KeyReused if that request was another one."""
    row = store().kept_answer(claim.garage_id, claim.actor.user_id, claim.key, _fresh_after(utcnow()))
    db.session.rollback()
    if row is None:  # kept and expired within this request: the caller may simply retry
        raise KeyInFlight()
    if row.request_hash != claim.request_hash:
        raise KeyReused()
    return Kept(row.status, row.body)


def purge(now: datetime | None = None) -> int:
    """Delete the expired keys (flask --app garage purge-idempotency): how many."""
    deleted = store().purge_keys(_fresh_after(now or utcnow()))
    db.session.commit()
    return deleted
