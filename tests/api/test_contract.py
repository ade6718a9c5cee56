"""/openapi.json tells the truth, on SQLite and PostgreSQL: every status it lists for an operation
can happen and every status that happens is listed (credentials, malformed and oversized bodies,
missing resources), the plate rules are the domain's, null and numbers mean what the API does."""
from __future__ import annotations

import re

import jsonschema_rs
import pytest
from hypothesis import example, given, settings, strategies as st

from garage.api.schemas import SettingsUpdate, TicketCreate
from garage.domain.errors import InvalidInput
from garage.domain.tickets import PLATE_MAX, PLATE_PATTERN, PLATE_TYPED_MAX, clean_plate
from tests.helpers.api import enter, issue, quote
from tests.helpers.db import backdate, ticket_count

METHODS = ("get", "put", "post", "delete", "patch")


def operations(spec: dict):
    """(method, path, operation) for every operation the document lists."""
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                yield method, path, op


@pytest.fixture
def spec(client, staff) -> dict:
    return client.get("/openapi.json", headers=staff).get_json()


def concrete(path: str, garage: str = "main") -> str:
    """A path of the document with a ticket number and a shift that do not exist, at `garage` (the tokens' own)."""
    return (path.replace("{ticket_number}", "PS-ZZZZZZ").replace("{shift_id}", "999999").replace("{date}", "2026-02-30")
            .replace("{permit_id}", "999999")
            .replace("{garage}", garage))


def test_the_document_is_built_once_and_is_the_one_the_routes_make(app, client, staff, monkeypatch):
    """/openapi.json is built once per app and kept (a build costs ~0.5 s): three answers, at most one
    build, and each answer is the document a fresh build of the app's routes gives."""
    from garage.api import openapi

    real, builds = openapi.build_spec, []
    monkeypatch.setattr(openapi, "build_spec", lambda *a, **k: builds.append(1) or real(*a, **k))
    answers = [client.get("/openapi.json", headers=staff).get_json() for _ in range(3)]
    assert len(builds) <= 1
    assert answers[0] == answers[1] == answers[2] == real(app) and answers[0]["paths"]


# --- credentials ---------------------------------------------------------------------------

def test_every_operation_that_needs_a_token_says_401_and_403_and_answers_them(client, spec, token_for):
    attendant = token_for("attendant")
    manager_only = 0
    for method, path, op in operations(spec):
        statuses = set(op["responses"])
        if not op["security"]:
            assert not statuses & {"401", "403"}, (method, path)
            continue
        assert {"401", "403"} <= statuses, (method, path)
        if {} in op["security"]:  # public, but a token sent picks the garage: it must be live (the occupancy)
            dead = client.open(concrete(path), method=method.upper(), headers={"Authorization": "Bearer gar_dead"})
            assert dead.status_code == 401 and dead.get_json()["message"], (method, path)
            assert client.open(concrete(path), method=method.upper()).status_code == 200, (method, path)
            continue
        stranger = client.open(concrete(path), method=method.upper(), json={})
        assert stranger.status_code == 401 and stranger.get_json()["message"], (method, path)
        if "manager" not in op["description"] or "attendant" in op["description"]:
            continue
        manager_only += 1
        refused = client.open(concrete(path), method=method.upper(), json={}, headers=attendant)
        assert refused.status_code == 403 and refused.get_json()["message"], (method, path)
    assert manager_only >= 4  # the settings, read and written, at the seed's path and per garage
    for method, path, op in operations(spec):
        if op["security"] and op["description"] == "Roles: admin":  # creating a garage
            refused = client.open(concrete(path), method=method.upper(), json={}, headers=token_for("manager"))
            assert refused.status_code == 403 and refused.get_json()["message"], (method, path)


# --- bodies and path parameters -----------------------------------------------------------

def test_every_operation_with_a_body_says_and_answers_400_413_and_422(client, spec, manager, app):
    from garage.services import accounts
    from tests.helpers.garages import bearer

    accounts.create_user("root", "correct horse battery", "admin", allow_admin=True)
    admin = bearer("root")
    with_body = [(m, p, op) for m, p, op in operations(spec) if "requestBody" in op]
    # entry, exit, settings, opening and closing a shift, correcting, voiding, refunding and validating a ticket,
    # a new validation program, selling, changing and renewing a permit, at the seed's path and per garage;
    # a new garage
    assert len(with_body) == 27
    before = ticket_count()
    for method, path, op in with_body:
        assert {"400", "413", "422"} <= set(op["responses"]), (method, path)
        caller = admin if op["description"] == "Roles: admin" else manager
        send = lambda **kw: client.open(concrete(path), method=method.upper(), headers=caller, **kw)  # noqa: E731
        malformed = send(data="{not json", content_type="application/json")
        assert malformed.status_code == 400 and "JSON" in malformed.get_json()["message"], (method, path)
        huge = send(data=b"{" + b" " * app.config["MAX_CONTENT_LENGTH"] + b"}", content_type="application/json")
        assert huge.status_code == 413 and huge.get_json() == {"message": "Request body too large"}
        invalid = send(json={"noSuchField": 1})
        assert invalid.status_code == 422 and "noSuchField: unknown field" in invalid.get_json()["message"]
    assert ticket_count() == before


def valid_body(method: str, path: str) -> dict | None:
    """A body each operation with a path parameter accepts (so the answer is about the path)."""
    if method == "put":
        return {"paymentMethod": "Cash"}
    if method == "patch" and "{permit_id}" in path:
        return {"holder": "H"}
    if method == "patch":
        return {"licensePlate": "A1", "reason": "r"}
    if path.endswith("/renew"):
        return {"months": 1}
    if path.endswith("/void"):
        return {"reason": "r"}
    if path.endswith("/refund"):
        return {"amountCents": 1, "reason": "r"}
    if path.endswith("/tickets/{ticket_number}/validations"):
        return {"validationCode": "ABC1"}
    if path.endswith("/validations") and method == "post":
        return {"name": "N", "kind": "amount_off", "value": 1, "codes": ["ABC1"]}
    return {"countedCashCents": 0} if method == "post" else None


def test_every_operation_with_a_path_parameter_says_and_answers_404(client, spec, manager):
    with_parameter = [(m, p, op) for m, p, op in operations(spec) if "{" in p]
    # the ticket's seven, the shift's two, the day close's two, the permit's three; every garage operation per garage
    assert len(with_parameter) == 7 + 2 + 2 + 3 + 27
    for method, path, op in with_parameter:
        assert "404" in op["responses"], (method, path)
        body = valid_body(method, path)
        if "{ticket_number}" in path or "{shift_id}" in path or "{date}" in path or "{permit_id}" in path:
            r = client.open(concrete(path), method=method.upper(), json=body, headers=manager)
            assert r.status_code == 404 and r.get_json()["message"], (method, path)
        if "{garage}" in path:
            r = client.open(concrete(path, "nowhere"), method=method.upper(), json=body, headers=manager)
            assert (r.status_code, r.get_json()) == (404, {"message": "No such garage"}), (method, path)


# --- the plate ----------------------------------------------------------------------------

PLATE = TicketCreate.model_json_schema()["properties"]["licensePlate"]
PLATE_VALIDATOR = jsonschema_rs.validator_for(PLATE)  # ECMA-262 patterns, as any client reads them


def test_the_documented_plate_rules_come_from_the_domain(spec):
    documented = spec["components"]["schemas"]["TicketCreate"]["properties"]["licensePlate"]
    assert documented["pattern"] == PLATE_PATTERN and documented["maxLength"] == PLATE_TYPED_MAX
    assert f"1 to {PLATE_MAX} of them" in documented["description"]


PLATE_EXAMPLES = ["ABC 123", "  7-xyz-001 ", "AB\tC", "ABC\n", "\nABC", "-", " ", "A" * PLATE_MAX,
                  "A" * (PLATE_MAX + 1), "A" + " " * (PLATE_TYPED_MAX - 1), "A" + " " * PLATE_TYPED_MAX, "١٢٣",
                  "MÜ 1", "ÆØÅ", "АВС", "ｍü", "\x85A", "A\x9f"]


def with_plate_examples(test):
    for typed in PLATE_EXAMPLES:
        test = example(typed)(test)
    return test


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from("aZ09 -\t\n_.Ä٣²\x00\x85") | st.characters(codec="utf-8"),
               max_size=PLATE_TYPED_MAX + 3))
@with_plate_examples
def test_the_documented_plate_schema_admits_every_plate_the_domain_accepts(typed):
    """The schema is a superset of the rule (it cannot say NFKC or scripts): a client that checks
    it never refuses a real plate, and whatever it refuses the API refuses too."""
    try:
        clean_plate(typed)
        accepted = True
    except InvalidInput:
        accepted = False
    valid = PLATE_VALIDATOR.is_valid(typed)
    assert valid == (re.fullmatch(PLATE_PATTERN, typed) is not None and 1 <= len(typed) <= PLATE_TYPED_MAX), typed
    if accepted:
        assert valid, typed
    if not valid:
        assert not accepted, typed


@pytest.mark.parametrize("plate, message", [
    ("AB\tC", "licensePlate: control characters"),  # refused for every text field, before the plate rule
    ("AB_C", "only letters, digits, spaces, dashes and dots (Latin letters A-Z, also with accents such as Ä"),
    ("АВС 1", "Type the plate in Latin letters: А is a Cyrillic letter"),
    ("A" * (PLATE_MAX + 1), f"at most {PLATE_MAX} letters and digits"),
    ("A" + " " * PLATE_TYPED_MAX, f"at most {PLATE_TYPED_MAX} characters"),
])
def test_a_plate_outside_the_schema_is_refused_with_the_domains_message(client, staff, plate, message):
    r = enter(client, staff, plate)
    assert r.status_code == 422 and message in r.get_json()["message"]
    assert ticket_count() == 0


def test_an_international_plate_is_one_car_through_the_api(client, staff):
    r = enter(client, staff, "mü-ab 12")
    assert r.status_code == 201 and r.get_json()["licensePlate"] == "MÜ-AB 12"
    again = enter(client, staff, "MÜ.AB.12")
    assert again.status_code == 409 and r.get_json()["ticketNumber"] in again.get_json()["message"]
    assert enter(client, staff, "MU-AB 12").status_code == 201 and ticket_count() == 2


# --- null in a partial update -------------------------------------------------------------

NULL_MEANS_SOMETHING = {"dailyMaximum"}  # and a vehicle type's rate inside vehicleRates


def nullable(prop: dict) -> bool:
    return prop.get("type") == "null" or any(branch.get("type") == "null" for branch in prop.get("anyOf", []))


@pytest.mark.parametrize("field", sorted(SettingsUpdate.model_fields))
def test_null_is_refused_where_it_means_nothing_and_the_schema_says_so(client, manager, spec, field):
    prop = spec["components"]["schemas"]["SettingsUpdate"]["properties"][field]
    before = client.get("/api/garage/settings", headers=manager).get_json()
    r = client.put("/api/garage/settings", json={field: None}, headers=manager)
    if field in NULL_MEANS_SOMETHING:
        assert nullable(prop) and r.status_code == 200
        return
    assert not nullable(prop) and "default" not in prop, prop
    assert r.status_code == 422 and r.get_json() == {"message": f"{field}: may not be null"}
    assert client.get("/api/garage/settings", headers=manager).get_json() == before


def test_null_for_the_daily_maximum_or_a_vehicle_rate_means_none_or_the_default(client, manager):
    client.put("/api/garage/settings", json={"dailyMaximum": 4000, "vehicleRates": {"SUV": 1500}}, headers=manager)
    r = client.put("/api/garage/settings", json={"dailyMaximum": None, "vehicleRates": {"SUV": None}},
                   headers=manager)
    assert r.status_code == 200
    assert r.get_json()["dailyMaximum"] is None and r.get_json()["vehicleRates"] == {}


# --- numbers ------------------------------------------------------------------------------

def test_a_whole_number_written_with_a_fraction_of_zero_is_that_number(client, staff, manager):
    r = client.put("/api/garage/settings", json={"totalSpaces": 150.0, "vehicleRates": {"Van": 1200.0}},
                   headers=manager)
    assert r.status_code == 200
    assert r.get_json()["totalSpaces"] == 150 and r.get_json()["vehicleRates"] == {"Van": 1200}
    number = issue(client, staff)
    backdate(number, minutes=61)
    due = quote(client, staff, number)["amountDue"]
    paid = client.put(f"/api/tickets/{number}/exit", json={"paymentMethod": "Cash", "expectedAmount": float(due)},
                      headers=staff)
    assert paid.status_code == 200 and paid.get_json()["amountPaid"] == due


@pytest.mark.parametrize("value", [150.5, True, "150", 1e300, -1.0])
def test_anything_else_is_not_a_whole_number(client, manager, value):
    r = client.put("/api/garage/settings", json={"totalSpaces": value}, headers=manager)
    assert r.status_code == 422 and r.get_json()["message"].startswith("totalSpaces: ")
    assert client.get("/api/garage/settings", headers=manager).get_json()["totalSpaces"] == 140


def test_a_blank_limit_is_refused_like_any_other_non_number(client, staff):
    """Absent: the default; present, blank included, it must be a whole number (the schema's integer)."""
    assert client.get("/api/activities", headers=staff).status_code == 200
    r = client.get("/api/activities?limit=", headers=staff)
    assert r.status_code == 422 and "limit must be a whole number from 1 to 100" in r.get_json()["message"]


def test_the_schema_says_what_the_app_refuses_in_paths_and_timezones(client, staff):
    """What Schemathesis flagged: a control character in a path segment (400) and an empty
    timezone (422) must be outside the published schema, not accepted by it."""
    spec = client.get("/openapi.json", headers=staff).get_json()
    quote = spec["paths"]["/api/tickets/{ticket_number}/quote"]["get"]
    number = next(p for p in quote["parameters"] if p["name"] == "ticket_number")["schema"]
    assert re.fullmatch(number["pattern"].strip("^$"), "PS-ABC234")
    assert not re.search(number["pattern"], "\x02AB")
    assert client.get("/api/tickets/%02AB/quote", headers=staff).status_code == 400
    timezone = spec["components"]["schemas"]["SettingsUpdate"]["properties"]["timezone"]
    assert timezone["minLength"] == 1
