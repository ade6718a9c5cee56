"""The guard that keeps issue 14 §1 closed: hostile values in every query parameter, path
segment, form field and API body never produce a 5xx or a traceback, on both databases.

- **Routes** come from `app.url_map`, so a new route is driven automatically; the test
  fails until RECIPES names the query parameters it reads (and VALID a good value for
  each path parameter it takes), so no new route escapes.
- **Forms** come from the rendered pages' `<form>` elements (their real action and field
  names, with the page's own CSRF token), so a new form or field is driven automatically;
  every POST route of the pages must be the action of some form found.
- **API bodies** come from the operations' declared models (garage/api/operation.py).

Signed in as an admin (a manager everywhere, and the operator pages'), so nothing is refused
for lack of a role. Each known bad value of
the outside probe is an explicit example; the generated ones are few and bounded (the
whole guard is budgeted at well under a minute on both databases).
(Schemathesis against /openapi.json is a separate test.)"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any, Callable
from urllib.parse import quote, urlencode

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings, strategies as st

from garage.api.operation import OPERATIONS
from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN
from garage.extensions import db
from garage.identity import Actor
from garage.models import User
from garage.services import accounts, permits, settings as settings_service, shifts, tickets
from tests.helpers.api import issue
from tests.helpers.garages import make_admin
from tests.helpers.web import PASSWORD, csrf_token, sign_in, signed_in, soup

# --- hostile values ------------------------------------------------------------------------

KNOWN_BAD = [
    "a\x00b", "/\r\nX", "/a\nb", "\t\x1b[31m\x7f", "²", "٣", "８", "1e309", "-0", "99999999999999999999",
    "9999-12-31", "0000-01-01", "2026-02-30", "A" * 5000,
]
NUMERALS = ["²", "٣", "８", "１２", "1e309", "-0", "-1", "0", "+1", "1_000", "NaN", "inf", "0x1F",
            "99999999999999999999", "9" * 400, "1.5", " 7 "]
DATES = ["9999-12-31", "0000-01-01", "2026-02-30", "2026-13-01", "1999-12-31", "2100-12-31", "2026-3-8",
         "2026-W10-1", "20260308"]

_printable = st.characters(exclude_categories=("Cs",))  # a lone surrogate cannot be sent as UTF-8 text
TEXT = st.one_of(
    st.text(_printable, max_size=30),
    st.builds(lambda a, c, b: a + c + b, st.text(_printable, max_size=6),  # a control character inside
              st.characters(categories=("Cc",)), st.text(_printable, max_size=6)),
    st.builds(lambda c, n: c * n, _printable, st.integers(200, 6000)),  # very long
)
NUMBERS = st.one_of(st.sampled_from(NUMERALS), st.integers(-(10 ** 30), 10 ** 30).map(str),
                    st.floats().map(str), st.text(st.characters(categories=("Nd", "No")), min_size=1, max_size=4))
DATE_TEXT = st.one_of(st.sampled_from(DATES), st.dates().map(date.isoformat),
                      st.tuples(st.integers(0, 99999), st.integers(0, 99), st.integers(0, 99))
                      .map(lambda t: f"{t[0]:04d}-{t[1]:02d}-{t[2]:02d}"))
HOSTILE = st.one_of(TEXT, NUMBERS, DATE_TEXT)
SLOTS = 8  # values drawn per request: enough for the widest form on its own; more fields reuse them
GUARD = settings(max_examples=10, deadline=None, database=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def known_bad_examples(run: Callable) -> Callable:
    """Every known bad value in every slot at once, then mixed: one example each."""
    for value in KNOWN_BAD:
        run = example(values=[value] * SLOTS, hostile=[True] * SLOTS, htmx=False)(run)
    return example(values=KNOWN_BAD[:SLOTS], hostile=[True] * SLOTS, htmx=True)(run)


# --- what each route reads -----------------------------------------------------------------------

# endpoint → the query parameters it reads (path parameters come from the rule itself).
RECIPES: dict[str, tuple[str, ...]] = {
    "static": (), "meta.home": (), "meta.openapi": (), "meta.docs": (), "meta.docs_asset": (),
    "ops.healthz": (), "ops.readyz": (), "ops.metrics": (),
    "auth.login": ("next",), "auth.logout": (), "auth.change_password": ("next",), "auth.account": (),
    "desk.index": (), "desk.live": ("seen",), "desk.activity": ("rows",), "desk.rates": (), "desk.inside": ("q", "page"),
    "desk.enter": (), "desk.ticket": (), "desk.lookup": ("q", "lost"), "desk.pay": (), "desk.paid": (),
    "desk.print_ticket": (), "desk.print_receipt": (),
    "desk.shift": ("next",), "desk.open_shift": (), "desk.close_shift": (), "desk.closeout": (), "desk.print_closeout": (),
    "desk.shifts": (), "desk.reopen_shift": (), "desk.adjust_shift": (),
    "desk.correct_page": (), "desk.correct": (), "desk.void_page": (), "desk.void": (), "desk.refund_page": (),
    "desk.refund": (), "desk.validate": (),
    "lobby.index": ("theme",), "lobby.panel": (),
    "reports.index": ("from", "to", "group"), "reports.chart": ("from", "to", "group"),
    "reports.export_rows": ("from", "to", "group"), "reports.export_tickets": ("from", "to", "group"),
    "reports.close": ("day",), "reports.close_day": (), "reports.print_close": (), "reports.export_close": (),
    "reports.validations": (), "reports.create_validation": (), "reports.validation_report": ("from", "to"),
    "reports.export_validations": ("from", "to"),
    "permits.index": ("q", "status", "days", "page"), "permits.new": (), "permits.create": (), "permits.show": (),
    "permits.update": (), "permits.suspend": (), "permits.reactivate": (), "permits.renew": (), "permits.export": (),
    "permits.import_page": (), "permits.import_csv": (), "permits.report": ("from", "to", "days"),
    "settings.index": (), "settings.save": (), "settings.period": (), "settings.remove_period": (),
    "admin.users": (), "admin.create_user": (), "admin.deactivate": (), "admin.reactivate": (),
    "admin.reset_password": (), "admin.audit": ("action", "user", "from", "to", "page"), "admin.grant": (),
    "moved.old_url": (), "moved.choose": (), "moved.remember": (),
    "operator.garages": (), "operator.create_garage": (), "operator.portfolio": ("from", "to"),
    "operator.portfolio_live": (), "operator.export_portfolio": ("from", "to"),
    "api.status": (), "api.garage_stats": (), "api.garage_occupancy": (), "api.create_ticket": (),
    "api.get_ticket": (), "api.quote_ticket": ("lost",), "api.process_exit": (), "api.activities": ("limit",),
    "api.get_garage_settings": (), "api.put_garage_settings": (), "api.list_garages": (), "api.create_garage": (),
    "api.open_shift": (), "api.current_shift": (), "api.get_shift": (), "api.close_shift": (),
    "api.correct_ticket": (), "api.void_ticket": (), "api.refund_ticket": (),
    "api.get_close": (), "api.close_day": (),
    "api.validate_ticket": (), "api.list_validations": (), "api.create_validation": (),
    "api.validation_report": ("from", "to"),
    "api.list_permits": ("q", "status", "page"), "api.create_permit": (), "api.get_permit": (),
    "api.update_permit": (), "api.renew_permit": (),
}

# A good value for each parameter name, so generated requests also get past the first check.
VALID: dict[str, str] = {
    "next": "/g/main/desk", "q": "GUARD1", "page": "1", "lost": "1", "theme": "dark", "from": "2026-03-01",
    "to": "2026-03-08", "group": "day", "action": "auth.login", "user": "boss", "limit": "10",
    "number": "{ticket}", "ticket_number": "{ticket}", "username": "dave", "name": "occupancy",
    "filename": "css/app.css", "rows": "50", "seen": "0.0.0", "garage": "main", "rest": "live",
    "shift_id": "1", "day": "2026-03-01", "date": "2026-03-01", "permit_id": "1", "status": "valid", "days": "14",
    "position": "1",
}


@dataclass
class Guarded:
    """The admin's browser, a manager's API token and the data the values point at."""

    browser: Any
    anonymous: Any
    token: dict[str, str]
    ticket: str
    paid: str  # a paid ticket (the refund form)
    permit: int = 0  # a permit (its page's forms)
    suspended: int = 0  # a suspended permit (its Reactivate form)

    def valid(self, name: str) -> str:
        return VALID.get(name, "x").format(ticket=self.ticket)


@pytest.fixture
def guarded(app, client, make_user, token_for) -> Guarded:
    make_admin("boss")
    browser = app.test_client()
    assert sign_in(browser, "boss").status_code == 303
    make_user("dave")
    make_user("eve")
    accounts.set_active("eve", False)  # the staff page shows its Reactivate form
    token = token_for("manager")
    dave = Actor(db.session.scalar(sa.select(User.id).where(User.username == "dave")), "dave")
    shifts.close_shift(MAIN, shifts.open_shift(MAIN, dave, 0).shift.id, dave, counted_cents=0)  # shift 1: closed
    shifts.open_shift(MAIN, dave, 0)  # shift 2: open (the shift pages' forms: adjust, reopen, close)
    paid = issue(client, token, "GUARD2")
    tickets.process_exit(MAIN, paid, "Cash")
    # A rate period: the settings page shows its Remove form, /settings/periods/1 its form.
    settings_service.update_settings(MAIN, dave, rate_periods=[{"kind": "hourly", "name": "W", "rateCents": 500}])
    permit = permits.create_permit(MAIN, dave, holder="Guard Holder", plates=["GUARDP1"], valid_from=date(2026, 1, 1),
                                   valid_until=date(2026, 12, 31), price_cents=100).id
    suspended = permits.create_permit(MAIN, dave, holder="Guard Held", plates=["GUARDP2"], valid_from=date(2026, 1, 1),
                                      valid_until=date(2026, 12, 31), price_cents=100).id
    permits.update_permit(MAIN, suspended, dave, {"status": "suspended"})
    return Guarded(browser, app.test_client(), token, issue(client, token, "GUARD1"), paid, permit, suspended)


def assert_no_server_error(response, what: str) -> None:
    body = response.get_data(as_text=True)
    assert response.status_code < 500, f"{response.status_code} for {what}"
    for leak in ("Traceback (most recent call last)", "psycopg2.", "sqlalchemy.exc", 'File "/'):
        assert leak not in body, f"{leak!r} in the answer to {what}"


def page_routes(app):
    """(rule, method) for every route and method (HEAD and OPTIONS are Werkzeug's own)."""
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_route_has_a_recipe_and_every_path_parameter_a_good_value(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - set(RECIPES) == set(), "new routes: say which query parameters they read"
    assert set(RECIPES) - endpoints == set(), "stale recipes"
    for rule in app.url_map.iter_rules():
        assert set(rule.arguments) <= set(VALID), f"{rule.rule}: no good value for its path parameters"


# --- every query parameter and path segment ------------------------------------------------------

def get_with_hostile_values(guarded: Guarded, rule) -> Callable[[], None]:
    """A Hypothesis run over one GET route: each path and query parameter hostile or good."""
    names = [*sorted(rule.arguments), *RECIPES[rule.endpoint]]
    api = rule.endpoint.startswith("api.")

    @GUARD
    @given(values=st.lists(HOSTILE, min_size=SLOTS, max_size=SLOTS),
           hostile=st.lists(st.booleans(), min_size=SLOTS, max_size=SLOTS), htmx=st.booleans())
    def run(values, hostile, htmx):
        chosen = {name: values[i % SLOTS] if hostile[i % SLOTS] else guarded.valid(name)
                  for i, name in enumerate(names)}
        path = rule.rule
        for name in rule.arguments:
            segment = quote(chosen[name], safe="")
            path = path.replace(f"<{name}>", segment).replace(f"<path:{name}>", segment)
        query = {name: chosen[name] for name in RECIPES[rule.endpoint]}
        url = path + ("?" + urlencode(query) if query else "")
        headers = dict(guarded.token) if api else {}
        if htmx:
            headers |= {"HX-Request": "true", "HX-Current-URL": values[0].replace("\r", "").replace("\n", "")}
        assert_no_server_error(guarded.browser.get(url, headers=headers), f"GET {url[:300]}")

    return known_bad_examples(run)


def test_query_parameters_and_path_segments_never_fail(app, guarded):
    """GET every route (the API with the manager's token) with hostile path segments and query values."""
    for rule, method in page_routes(app):
        if method == "GET":  # POST and PUT: the forms and the API bodies below
            get_with_hostile_values(guarded, rule)()


# --- every form of every page ----------------------------------------------------------------------

FORM_PAGES = ("/g/main/desk", "/g/main/desk/exit?q=GUARD1", "/g/main/desk/tickets/{ticket}", "/g/main/admin/users",
              "/g/main/admin/audit", "/g/main/settings", "/g/main/reports", "/account/password", "/account", "/desk/choose",
              "/garages", "/portfolio", "/g/main/desk/shift", "/g/main/desk/shifts/1", "/g/main/desk/shifts/2",
              "/g/main/reports/close", "/g/main/reports/validations",
              "/g/main/permits", "/g/main/permits/new", "/g/main/permits/{permit}",
              "/g/main/permits/{suspended}", "/g/main/permits/import",
              "/g/main/permits/report",
              "/g/main/desk/tickets/{ticket}/correct", "/g/main/desk/tickets/{ticket}/void",
              "/g/main/desk/tickets/{paid}/refund", "/g/main/settings/periods/new", "/g/main/settings/periods/1")


@dataclass(frozen=True)
class Form:
    page: str
    action: str
    method: str
    fields: tuple[str, ...]
    defaults: tuple[tuple[str, str], ...]


def forms_on(client, page: str) -> list[Form]:
    found = []
    for form in soup(client.get(page)).find_all("form"):
        names, defaults = [], {}
        for field in form.find_all(["input", "select", "textarea"]):
            name = field.get("name")
            if not name or name == "csrf_token":
                continue
            if name not in names:
                names.append(name)
            if field.name == "select":
                option = field.find("option", selected=True) or field.find("option")
                defaults.setdefault(name, option.get("value", "") if option else "")
            elif field.get("type") not in ("radio", "checkbox") or field.has_attr("checked"):
                defaults.setdefault(name, field.get("value", ""))
        found.append(Form(page, form["action"], form.get("method", "get").lower(), tuple(names),
                          tuple(defaults.items())))
    return found


def drive(client, form: Form, token: str) -> None:
    """Hypothesis over one form: each field hostile or the page's own value."""
    if not form.fields:  # a button (deactivate, sign out): nothing to vary
        r = client.post(form.action, data={"csrf_token": token})
        assert_no_server_error(r, f"POST {form.action}")
        return

    @GUARD
    @given(values=st.lists(HOSTILE, min_size=SLOTS, max_size=SLOTS),
           hostile=st.lists(st.booleans(), min_size=SLOTS, max_size=SLOTS), htmx=st.booleans())
    def run(values, hostile, htmx):
        defaults = dict(form.defaults)
        data = {name: values[i % SLOTS] if hostile[i % SLOTS] else defaults.get(name, "")
                for i, name in enumerate(form.fields)}
        headers = {"HX-Request": "true"} if htmx else {}
        if form.method == "post":
            r = client.post(form.action, data={**data, "csrf_token": token}, headers=headers)
        else:
            r = client.get(form.action, query_string=data, headers=headers)
        assert_no_server_error(r, f"{form.method.upper()} {form.action} from {form.page} with {data!r:.300}")

    known_bad_examples(run)()


def test_every_form_on_every_page_never_fails(app, guarded, make_user):
    browser = guarded.browser
    pages = [page.format(ticket=guarded.ticket, paid=guarded.paid, permit=guarded.permit,
                         suspended=guarded.suspended) for page in FORM_PAGES]
    forms = {form.action: form for page in pages for form in forms_on(browser, page)}
    forms.update({form.action: form for form in forms_on(guarded.anonymous, "/login")})
    posted = {app.url_map.bind("localhost").match(action.split("?")[0], method="POST")[0]
              for action, form in forms.items() if form.method == "post"}
    # The URLs of before stage 2 (moved.old_url) take any method only to redirect it (307).
    page_posts = {rule.endpoint for rule, method in page_routes(app) if method in ("POST", "PUT")
                  and not rule.endpoint.startswith("api.") and rule.endpoint != "moved.old_url"}
    assert page_posts - posted == set(), "a POST route with no form on the pages: add its page to FORM_PAGES"
    for action, form in forms.items():
        if action == "/logout":  # it would sign the manager out: a browser of its own
            leaving = signed_in(app, make_user, "lou", "manager")
            drive(leaving, form, csrf_token(leaving, "/g/main/desk"))
        elif action == "/login":
            drive(guarded.anonymous, form, csrf_token(guarded.anonymous, "/login"))
        else:
            drive(browser, form, csrf_token(browser, form.page))


# --- every API operation's body ---------------------------------------------------------------------

RAW_BODIES = [
    b"[" * 1200 + b"]" * 1200, b'{"a": ' + b"[" * 5000 + b"]" * 5000 + b"}",
    b'{"licensePlate": "\\ud800", "vehicleType": "Car"}', b'{"licensePlate": "A\\u0000B", "vehicleType": "Car"}',
    b'{"garageName": "\\udfff"}', b"1e309", b"NaN", b'{"totalSpaces": 1e309}', b'{"totalSpaces": NaN}',
    b'{"expectedAmount": ' + b"9" * 5000 + b"}", b'{"paymentMethod": "Cash", "expectedAmount": ' + b"9" * 30 + b"}",
    b'{"vehicleRates": {"Car": 99999999999999999999}}', b'{"timezone": "../../etc/passwd"}',
    b"", b"{", b"\xff\xfe{}", b'{"licensePlate": "\xff", "vehicleType": "Car"}', b'{"a": 1, "a": 2}',
]
JSON_LEAF = st.one_of(st.none(), st.booleans(), st.integers(-(2 ** 70), 2 ** 70), st.floats(allow_nan=False),
                      HOSTILE)
JSON_VALUE = st.recursive(JSON_LEAF, lambda inner: st.lists(inner, max_size=3)
                          | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=6)


def body_strategy(model) -> st.SearchStrategy:
    fields = list(model.model_fields)
    return st.one_of(
        st.fixed_dictionaries({}, optional={name: JSON_VALUE for name in fields}),
        JSON_VALUE,
    ).map(lambda value: json.dumps(value).encode())  # ASCII: lone surrogates travel as \\ud800


def send_hostile_bodies(guarded: Guarded, method: str, url: str, model) -> Callable[[], None]:
    send = getattr(guarded.anonymous, method.lower())

    @GUARD
    @given(body=body_strategy(model))
    def run(body):
        r = send(url, data=body, headers={**guarded.token, "Content-Type": "application/json"})
        assert_no_server_error(r, f"{method} {url} with {body[:300]!r}")
        assert r.status_code < 300 or "message" in (r.get_json(silent=True) or {}), r.get_data(as_text=True)

    for raw in RAW_BODIES:
        run = example(body=raw)(run)
    return run


def test_every_api_body_never_fails(app, guarded):
    """Every operation that takes a body, with the manager's token (admitted everywhere)."""
    for rule, method in page_routes(app):
        op = OPERATIONS.get(rule.endpoint.split(".", 1)[1]) if rule.endpoint.startswith("api.") else None
        if op is not None and op.body is not None:
            send_hostile_bodies(guarded, method, rule.rule.replace("<ticket_number>", guarded.ticket), op.body)()
