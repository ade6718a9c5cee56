"""The database-level rules under real concurrency: gunicorn with several worker
processes on PostgreSQL, requests fired at the same moment from many threads."""
from __future__ import annotations

import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter

import sqlalchemy as sa

from tests.helpers.live import call, login_form, page


def fire(n: int, request) -> list[tuple[int, dict]]:
    """Run `request(i)` in n threads released together; return their answers."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        results[i] = request(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def scalar(live, sql: str):
    engine = sa.create_engine(live.database_url.replace("postgresql://", "postgresql+psycopg2://", 1))
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql)).scalar()
    finally:
        engine.dispose()


def test_concurrent_entries_never_exceed_capacity(live):
    live.reset(total_spaces=5)
    headers = live.token()
    results = fire(40, lambda i: call("POST", f"{live.url}/api/tickets",
                                      {"licensePlate": f"CC{i:03d}", "vehicleType": "Car"}, headers))
    statuses = Counter(status for status, _ in results)
    assert statuses == {201: 5, 409: 35}, statuses
    assert all(body == {"message": "Garage is full"} for status, body in results if status == 409)
    assert scalar(live, "SELECT count(*) FROM tickets WHERE status = 'active'") == 5
    assert scalar(live, "SELECT occupied FROM garages") == 5


def test_concurrent_entries_of_one_plate_issue_one_ticket(live):
    headers = live.token()
    results = fire(12, lambda i: call("POST", f"{live.url}/api/tickets",
                                      {"licensePlate": "SAME 1", "vehicleType": "Car"}, headers))
    statuses = Counter(status for status, _ in results)
    assert statuses == {201: 1, 409: 11}, statuses
    assert scalar(live, "SELECT count(*) FROM tickets") == 1
    assert scalar(live, "SELECT occupied FROM garages") == 1


def test_concurrent_payments_of_one_ticket_charge_once(live):
    headers = live.token()
    status, ticket = call("POST", f"{live.url}/api/tickets", {"licensePlate": "PAY1", "vehicleType": "Van"}, headers)
    assert status == 201
    url = f"{live.url}/api/tickets/{ticket['ticketNumber']}/exit"
    results = fire(12, lambda i: call("PUT", url, {"paymentMethod": "Cash"}, headers))
    statuses = Counter(status for status, _ in results)
    assert statuses == {200: 1, 409: 11}, statuses
    assert all(body == {"message": "Ticket has already been processed"}
               for status, body in results if status == 409)
    assert scalar(live, "SELECT count(*) FROM audit_log WHERE action = 'ticket.paid'") == 1
    assert scalar(live, "SELECT occupied FROM garages") == 0
    assert scalar(live, "SELECT amount_paid FROM tickets") == 1000


def test_parallel_wrong_passwords_for_one_user_check_exactly_five(live):
    """The throttle counts and decides in one statement: 30 attempts at the same moment,
    on three workers, and exactly five passwords are checked (the rest wait, unchecked)."""
    live.user("ann", "attendant")
    cookie, token = login_form(live.url)
    form = {"username": "ann", "password": "wrong password", "csrf_token": token}
    results = fire(30, lambda i: page("POST", f"{live.url}/login", cookie, form)[0])
    assert Counter(results) == {401: 5, 429: 25}, Counter(results)
    assert scalar(live, "SELECT count(*) FROM audit_log WHERE action = 'auth.login_failed'") == 5
    right = {**form, "password": "correct horse battery"}
    assert page("POST", f"{live.url}/login", cookie, right)[0] == 429


def test_a_session_signed_out_on_one_worker_is_refused_by_every_worker(live):
    live.user("boss", "manager")
    cookie, token = login_form(live.url)
    status, cookie, _ = page("POST", f"{live.url}/login", cookie,
                             {"username": "boss", "password": "correct horse battery", "csrf_token": token})
    assert status == 303
    copied = cookie
    assert {page("GET", f"{live.url}/g/main/settings", copied)[0] for _ in range(6)} == {200}
    _, cookie, body = page("GET", f"{live.url}/g/main/settings", cookie)  # the session now holds a CSRF token
    token = re.search(r'name="csrf_token" value="([^"]+)"', body).group(1)
    assert page("POST", f"{live.url}/logout", cookie, {"csrf_token": token})[0] == 303
    answers = fire(9, lambda i: page("GET", f"{live.url}/g/main/settings", copied))
    assert {(status, 'href="/login?' in body) for status, _, body in answers} == {(302, True)}


def test_concurrent_exits_draw_gap_free_receipt_numbers_and_refused_ones_draw_none(live):
    """Twelve tickets paid at the same moment on three workers, each twice, plus a payment of
    each refused for a changed quote: twelve payments, twelve numbers 1..12, none shared, none
    skipped (the number is drawn by the exit's own statement, on the counter's row)."""
    headers = live.token()
    numbers = []
    for i in range(12):
        status, ticket = call("POST", f"{live.url}/api/tickets", {"licensePlate": f"RN{i:03d}", "vehicleType": "Car"},
                              headers)
        assert status == 201
        numbers.append(ticket["ticketNumber"])

    def request(i: int):
        number, kind = numbers[i % 12], i // 12
        body = {"paymentMethod": "Cash"} if kind < 2 else {"paymentMethod": "Cash", "expectedAmount": 1}
        return call("PUT", f"{live.url}/api/tickets/{number}/exit", body, headers)

    results = fire(36, request)
    assert Counter(status for status, _ in results) == {200: 12, 409: 24}, Counter(s for s, _ in results)
    drawn = sorted(body["receiptNumber"] for status, body in results if status == 200)
    assert drawn == [f"R-{n:06d}" for n in range(1, 13)]
    assert scalar(live, "SELECT receipt_seq FROM garages") == 12
    assert scalar(live, "SELECT count(DISTINCT receipt_number) FROM tickets") == 12
    assert scalar(live, "SELECT occupied FROM garages") == 0
    assert scalar(live, "SELECT count(*) FROM audit_log WHERE action = 'ticket.paid'") == 12


def test_two_garages_racing_entries_each_fill_only_their_own_capacity(live):
    """Entries at two garages at once, each garage with 5 spaces: each takes exactly its own 5 (its
    own counter row), whatever the other does; the same plates enter both."""
    from garage.extensions import db
    from garage.identity import Actor
    from garage.services import accounts, garages

    live.reset(total_spaces=5)
    with live.app.app_context():
        north = garages.create_garage(Actor.system("cli"), "north", "North", 5).id
        db.session.remove()
    main_headers = live.token()  # an attendant of the default garage, its token scoped there
    north_name = "north-attendant"
    live.user(north_name, "attendant")
    with live.app.app_context():
        garages.grant(Actor.system("cli"), north_name, north, "attendant")
        garages.revoke(Actor.system("cli"), north_name, 1)
        north_headers = {"Authorization": f"Bearer {accounts.create_token(north_name)[1]}"}
        db.session.remove()
    results = fire(40, lambda i: call("POST", f"{live.url}/api/tickets",
                                      {"licensePlate": f"CC{i // 2:03d}", "vehicleType": "Car"},
                                      main_headers if i % 2 else north_headers))
    by_garage = Counter(("main" if i % 2 else "north", status) for i, (status, _) in enumerate(results))
    assert by_garage == {("main", 201): 5, ("main", 409): 15, ("north", 201): 5, ("north", 409): 15}, by_garage
    assert scalar(live, "SELECT string_agg(occupied::text, ',' ORDER BY id) FROM garages") == "5,5"
    assert scalar(live, f"SELECT count(*) FROM tickets WHERE status = 'active' AND garage_id = {north}") == 5
    assert scalar(live, "SELECT count(*) FROM tickets WHERE status = 'active' AND garage_id = 1") == 5


def test_a_payment_racing_a_shift_close_lands_in_the_shift_or_is_refused(live):
    """Issue 18: at a garage that takes payments only in a shift, ten payments of one attendant and
    the close of their shift at the same moment, round after round on three workers. A payment
    either lands in the shift (and the close's expected cash counts it) or is refused with nothing
    written ("Open a shift before taking payments"); never in a closed shift, never uncounted."""
    from garage.extensions import db

    live.reset()
    with live.app.app_context():
        db.session.execute(sa.text("UPDATE garages SET payments_require_shift = true"))
        db.session.commit()
        db.session.remove()
    headers = live.token()
    landed_in_total = refused_in_total = 0
    for round_ in range(8):
        status, shift = call("POST", f"{live.url}/api/shifts", {"floatCents": 5000}, headers)
        assert status == 201, shift
        numbers = []
        for i in range(10):
            status, ticket = call("POST", f"{live.url}/api/tickets",
                                  {"licensePlate": f"R{round_}C{i}", "vehicleType": "Car"}, headers)
            assert status == 201, ticket
            numbers.append(ticket["ticketNumber"])

        def request(i: int):
            if i == 5:  # the close, in the middle of the payments
                return call("POST", f"{live.url}/api/shifts/{shift['id']}/close", {"countedCashCents": 0}, headers)
            return call("PUT", f"{live.url}/api/tickets/{numbers[i if i < 5 else i - 1]}/exit",
                        {"paymentMethod": "Cash"}, headers)

        results = fire(11, request)
        close_status, closed = results[5]
        assert close_status == 200, closed
        payments = results[:5] + results[6:]
        landed = [body for status, body in payments if status == 200]
        refused = [body for status, body in payments if status != 200]
        assert all(body == {"message": "Open a shift before taking payments"} for body in refused), refused
        in_shift = scalar(live, f"SELECT count(*) FROM tickets WHERE shift_id = {shift['id']}")
        cash_in_shift = scalar(live, f"SELECT coalesce(sum(amount_paid), 0) FROM tickets WHERE shift_id = {shift['id']}")
        assert in_shift == len(landed)
        assert closed["expectedCashCents"] - 5000 == cash_in_shift == closed["cashPaymentsCents"]
        assert closed["overShortCents"] == -closed["expectedCashCents"]
        landed_numbers = [body["ticketNumber"] for body in landed]
        assert scalar(live, "SELECT count(*) FROM tickets WHERE status = 'completed' AND shift_id IS NULL") == 0
        assert sorted(landed_numbers) == sorted(n for n in numbers if scalar(
            live, f"SELECT status FROM tickets WHERE ticket_number = '{n}'") == "completed")
        assert scalar(live, "SELECT count(*) FROM audit_log WHERE action = 'ticket.paid' AND "
                            f"details->>'shiftId' = '{shift['id']}'") == len(landed)
        landed_in_total += len(landed)
        refused_in_total += len(refused)
    # the receipt numbers drawn are exactly the payments taken: a refused payment drew none
    assert scalar(live, "SELECT receipt_seq FROM garages") == landed_in_total
    assert landed_in_total + refused_in_total == 80
    assert landed_in_total and refused_in_total  # the close did land among the payments


def test_concurrent_refunds_of_one_payment_never_give_back_more_than_was_paid(live):
    """Issue 18: twelve managers' refunds of $3 each against one $10 payment, at the same moment on
    three workers: exactly three land ($9), the others are told what is left; the ticket's total, the
    refund rows and the audit trail agree."""
    live.reset()
    attendant, boss = live.token(), live.token("manager")
    status, ticket = call("POST", f"{live.url}/api/tickets", {"licensePlate": "REF1", "vehicleType": "Car"}, attendant)
    assert status == 201
    number = ticket["ticketNumber"]
    assert call("PUT", f"{live.url}/api/tickets/{number}/exit", {"paymentMethod": "Cash"}, attendant)[0] == 200
    results = fire(12, lambda i: call("POST", f"{live.url}/api/tickets/{number}/refund",
                                      {"amountCents": 300, "reason": f"refund {i}"}, boss))
    statuses = Counter(status for status, _ in results)
    assert statuses[201] == 3 and statuses[201] + statuses[409] + statuses[422] == 12, statuses
    assert all("$1.00" in body["message"] for status, body in results if status != 201), results
    assert scalar(live, "SELECT refunded_cents FROM tickets") == 900
    assert scalar(live, "SELECT sum(amount_cents) FROM refunds") == 900
    assert scalar(live, "SELECT count(*) FROM audit_log WHERE action = 'ticket.refunded'") == 3


def test_a_cash_refund_racing_the_close_of_its_shift_is_counted_by_it_or_not_in_it(live):
    """Issue 18: a manager's cash refunds and the close of their own shift at the same moment: a refund
    taken in the shift is in the close's expected cash; one after the close is in no shift (the default
    garage does not require one); never in a closed shift uncounted."""
    live.reset()
    attendant, boss = live.token(), live.token("manager")
    for round_ in range(5):
        numbers = []
        for i in range(6):
            status, ticket = call("POST", f"{live.url}/api/tickets",
                                  {"licensePlate": f"RC{round_}X{i}", "vehicleType": "Car"}, attendant)
            numbers.append(ticket["ticketNumber"])
            assert call("PUT", f"{live.url}/api/tickets/{ticket['ticketNumber']}/exit",
                        {"paymentMethod": "Cash"}, attendant)[0] == 200
        status, shift = call("POST", f"{live.url}/api/shifts", {"floatCents": 5000}, boss)
        assert status == 201, shift

        def request(i: int):
            if i == 3:
                return call("POST", f"{live.url}/api/shifts/{shift['id']}/close", {"countedCashCents": 0}, boss)
            return call("POST", f"{live.url}/api/tickets/{numbers[i if i < 3 else i - 1]}/refund",
                        {"amountCents": 100, "reason": "race"}, boss)

        results = fire(7, request)
        close_status, closed = results[3]
        assert close_status == 200, closed
        refunds = results[:3] + results[4:]
        assert all(status == 201 for status, _ in refunds), refunds
        in_shift = [body for _, body in refunds if body["shiftId"] == shift["id"]]
        assert scalar(live, f"SELECT coalesce(sum(amount_cents), 0) FROM refunds WHERE shift_id = {shift['id']}") \
            == 100 * len(in_shift) == closed["cashRefundsCents"] == 5000 - closed["expectedCashCents"]


def test_a_void_racing_a_payment_of_the_same_ticket_lets_exactly_one_land(live):
    """Issue 18: a manager voids a ticket while an attendant pays it, round after round: one of the two
    lands, the other is refused (409); the space is freed once."""
    live.reset()
    attendant, boss = live.token(), live.token("manager")
    outcomes = Counter()
    for round_ in range(8):
        status, ticket = call("POST", f"{live.url}/api/tickets",
                              {"licensePlate": f"VP{round_}", "vehicleType": "Car"}, attendant)
        url = f"{live.url}/api/tickets/{ticket['ticketNumber']}"
        results = fire(2, lambda i: call("PUT", f"{url}/exit", {"paymentMethod": "Cash"}, attendant) if i == 0
                       else call("POST", f"{url}/void", {"reason": "race"}, boss))
        assert sorted(status for status, _ in results) == [200, 409], results
        outcomes["paid" if results[0][0] == 200 else "voided"] += 1
        assert scalar(live, "SELECT occupied FROM garages") == 0
    assert scalar(live, "SELECT count(*) FROM tickets WHERE status = 'completed'") == outcomes["paid"]
    assert scalar(live, "SELECT count(*) FROM tickets WHERE status = 'voided'") == outcomes["voided"]


def test_a_validation_cap_holds_under_parallel_exits(live):
    """Issue 18: twelve exits at once, each with the same reusable code of a program capped at three
    tickets: exactly three are validated and paid with the discount, the others are refused with
    nothing charged; a single-use code given at two exits at once validates one."""
    live.reset()
    attendant, boss = live.token(), live.token("manager")
    status, _ = call("POST", f"{live.url}/api/validations",
                     {"name": "Capped", "kind": "amount_off", "value": 300, "codes": ["CAP-ALL"], "reusable": True,
                      "usageCap": 3}, boss)
    assert status == 201
    numbers = [call("POST", f"{live.url}/api/tickets", {"licensePlate": f"VC{i}", "vehicleType": "Car"},
                    attendant)[1]["ticketNumber"] for i in range(12)]
    results = fire(12, lambda i: call("PUT", f"{live.url}/api/tickets/{numbers[i]}/exit",
                                      {"paymentMethod": "Cash", "validationCode": "CAP-ALL"}, attendant))
    statuses = Counter(status for status, _ in results)
    assert statuses == {200: 3, 409: 9}, results
    assert all(body["amountPaid"] == 700 for status, body in results if status == 200)
    # a refused exit leaves no use behind (its validation's writes are one transaction, also inside the
    # exit's autocommit request): the code's, the program's and the tickets' counts are the rows'
    assert scalar(live, "SELECT used_count FROM validation_programs") == 3
    assert scalar(live, "SELECT used_count FROM validation_codes") == 3
    assert scalar(live, "SELECT sum(validations) FROM tickets") == 3
    assert scalar(live, "SELECT count(*) FROM ticket_validations") == 3
    assert scalar(live, "SELECT count(*) FROM tickets WHERE status = 'completed'") == 3
    assert scalar(live, "SELECT sum(discount_cents) FROM ticket_validations") == 900

    # Round after round, six exits at once against a cap of one: the losers' reads often pass the cap
    # before the winner commits, and their writes must then leave nothing behind.
    for round_ in range(6):
        call("POST", f"{live.url}/api/validations", {"name": f"One{round_}", "kind": "amount_off", "value": 100,
                                                     "codes": [f"ONE-{round_}"], "reusable": True, "usageCap": 1}, boss)
        batch = [call("POST", f"{live.url}/api/tickets", {"licensePlate": f"VR{round_}X{i}", "vehicleType": "Car"},
                      attendant)[1]["ticketNumber"] for i in range(6)]
        results = fire(6, lambda i: call("PUT", f"{live.url}/api/tickets/{batch[i]}/exit",
                                         {"paymentMethod": "Cash", "validationCode": f"ONE-{round_}"}, attendant))
        assert Counter(status for status, _ in results) == {200: 1, 409: 5}, results
    assert scalar(live, "SELECT sum(used_count) FROM validation_codes") == 3 + 6
    assert scalar(live, "SELECT sum(validations) FROM tickets") == 3 + 6
    assert scalar(live, "SELECT count(*) FROM ticket_validations") == 3 + 6

    call("POST", f"{live.url}/api/validations",
         {"name": "Once", "kind": "amount_off", "value": 100, "codes": ["ONCE-1"]}, boss)
    pair = [call("POST", f"{live.url}/api/tickets", {"licensePlate": f"VO{i}", "vehicleType": "Car"},
                 attendant)[1]["ticketNumber"] for i in range(2)]
    results = fire(2, lambda i: call("POST", f"{live.url}/api/tickets/{pair[i]}/validations",
                                     {"validationCode": "ONCE-1"}, attendant))
    assert sorted(status for status, _ in results) == [201, 409], results
    # the same code given at two desks for one ticket at the same moment: one validation, both told so
    call("POST", f"{live.url}/api/validations",
         {"name": "Twice", "kind": "amount_off", "value": 100, "codes": ["TWICE-1"]}, boss)
    same = call("POST", f"{live.url}/api/tickets", {"licensePlate": "VT1", "vehicleType": "Car"},
                attendant)[1]["ticketNumber"]
    results = fire(4, lambda i: call("POST", f"{live.url}/api/tickets/{same}/validations",
                                     {"validationCode": "TWICE-1"}, attendant))
    assert [status for status, _ in results] == [201] * 4, results
    assert scalar(live, f"SELECT validations FROM tickets WHERE ticket_number = '{same}'") == 1


def test_the_same_desk_entry_posted_at_once_issues_one_ticket_and_every_answer_shows_it(live):
    """A double tap, a resent form: the same attendant's entry of one plate arrives several times at the
    same moment on three workers. One ticket is issued; every answer shows that ticket (the others say it
    was issued just now), none shows a refusal with the plate left in the field."""
    live.user("ann", "attendant")
    cookie, token = login_form(live.url)
    status, cookie, _ = page("POST", f"{live.url}/login", cookie,
                             {"username": "ann", "password": "correct horse battery", "csrf_token": token})
    assert status == 303
    _, cookie, body = page("GET", f"{live.url}/g/main/desk", cookie)
    token = re.search(r'name="csrf_token" value="([^"]+)"', body).group(1)
    form = urllib.parse.urlencode({"plate": "TAP 2", "vehicle_type": "Car", "csrf_token": token}).encode()

    def tap(i: int) -> tuple[int, str]:  # as htmx sends it (its answer is the entry panel)
        req = urllib.request.Request(f"{live.url}/g/main/desk/entries", data=form, method="POST",
                                     headers={"Cookie": cookie, "HX-Request": "true"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    results = fire(8, tap)
    number = scalar(live, "SELECT ticket_number FROM tickets")
    assert scalar(live, "SELECT count(*) FROM tickets") == 1
    assert scalar(live, "SELECT occupied FROM garages") == 1
    assert Counter(status for status, _ in results) == {200: 8}
    assert all(f"data-ticket-number>{number}<" in body for _, body in results)
    resent = sum("no second ticket" in body for _, body in results)
    assert resent == 7, resent
