"""Idempotency-Key under real concurrency (issue 20): gunicorn with several workers on PostgreSQL, the same
request with the same key fired at the same moment from many threads (a client's retries racing its first
try, or two copies of one integration). Exactly one ticket, exactly one charge; every answer is that one
(201 / 200, replayed) or 409 "still being processed"; never two, never a different one."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections import Counter

import sqlalchemy as sa

from tests.db.test_concurrency import fire, scalar

KEY = "Idempotency-Key"
IN_FLIGHT = "A request with this Idempotency-Key is still being processed: try again in a moment"


def send(method: str, url: str, body: dict, headers: dict[str, str]) -> tuple[int, bytes, str | None]:
    """(status, body bytes, Idempotent-Replayed)."""
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method=method,
                                     headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, r.read(), r.headers.get("Idempotent-Replayed")
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers.get("Idempotent-Replayed")


def assert_one_answer(results: list, status: int) -> bytes:
    """Every answer is the one first answer (given once, then replayed) or 409 in flight; returns its body."""
    counts = Counter(code for code, _, _ in results)
    assert set(counts) <= {status, 409}, counts
    assert all(json.loads(body) == {"message": IN_FLIGHT} for code, body, _ in results if code == 409)
    answers = {body for code, body, _ in results if code == status}
    originals = [replayed for code, _, replayed in results if code == status and replayed is None]
    assert len(answers) == 1 and len(originals) == 1, (counts, originals)
    return answers.pop()


def test_concurrent_duplicates_of_a_keyed_entry_issue_one_ticket(live):
    headers = {**live.token(), KEY: "racing-entry"}
    car = {"licensePlate": "RACE 1", "vehicleType": "Car"}
    results = fire(16, lambda i: send("POST", f"{live.url}/api/tickets", car, headers))
    body = assert_one_answer(results, 201)
    assert scalar(live, "SELECT count(*) FROM tickets") == 1
    assert scalar(live, "SELECT occupied FROM garages") == 1
    assert scalar(live, "SELECT count(*) FROM idempotency_keys") == 1
    assert send("POST", f"{live.url}/api/tickets", car, headers) == (201, body, "true")


def test_concurrent_duplicates_of_a_keyed_exit_charge_once(live):
    token = live.token()
    status, issued, _ = send("POST", f"{live.url}/api/tickets", {"licensePlate": "PAY 1", "vehicleType": "Van"}, token)
    assert status == 201
    url = f"{live.url}/api/garages/main/tickets/{json.loads(issued)['ticketNumber']}/exit"
    headers = {**token, KEY: "racing-exit"}
    results = fire(16, lambda i: send("PUT", url, {"paymentMethod": "Cash"}, headers))
    body = assert_one_answer(results, 200)
    assert json.loads(body)["receiptNumber"] == "R-000001" and json.loads(body)["amountPaid"] == 1000
    assert scalar(live, "SELECT count(*) FROM audit_log WHERE action = 'ticket.paid'") == 1
    assert scalar(live, "SELECT receipt_seq FROM garages") == 1
    assert scalar(live, "SELECT occupied FROM garages") == 0
    assert send("PUT", url, {"paymentMethod": "Cash"}, headers) == (200, body, "true")


def test_different_keys_at_once_do_not_hold_each_other_up(live):
    token = live.token()
    results = fire(12, lambda i: send("POST", f"{live.url}/api/tickets",
                                      {"licensePlate": f"KEY {i % 4}", "vehicleType": "Car"},
                                      {**token, KEY: f"key-{i % 4}"}))
    for k in range(4):
        assert_one_answer([results[i] for i in range(12) if i % 4 == k], 201)
    assert scalar(live, "SELECT count(*) FROM tickets") == 4


def test_a_key_whose_request_is_in_flight_answers_409_until_it_is_done(live):
    """A request holding the key (its transaction holds the key's advisory lock, as the first of two
    duplicates does) makes the duplicate answer 409 at once, without waiting; once it is done, 201."""
    headers = {**live.token(), KEY: "slow"}
    car = {"licensePlate": "SLOW 1", "vehicleType": "Car"}
    owner = scalar(live, "SELECT user_id FROM api_tokens ORDER BY id DESC LIMIT 1")
    engine = sa.create_engine(live.database_url)
    try:
        with engine.connect() as held:  # the first request's transaction, not done yet
            held.execute(sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:text, 0))"),
                         {"text": f"{owner}:1:slow"})
            status, body, _ = send("POST", f"{live.url}/api/tickets", car, headers)
            assert (status, json.loads(body)) == (409, {"message": IN_FLIGHT})
            assert scalar(live, "SELECT count(*) FROM tickets") == 0
            held.rollback()
    finally:
        engine.dispose()
    status, _, replayed = send("POST", f"{live.url}/api/tickets", car, headers)
    assert (status, replayed) == (201, None)
