"""Who may reach what, over EVERY route (issue 17): one matrix generated from `app.url_map`.

Every rule × every method it allows × (for pages) a plain and an htmx request × every caller:
signed out; people signed in: an attendant of garage B only, a manager of B only, a manager of A and
B, an attendant of A who manages B, someone taken off A while signed in, a manager of B and C (a
portfolio without A) whose tablet remembers A's slug, an admin; API tokens: of B's attendant and
manager, of the A-and-B manager (scoped to both), one scoped to A whose owner was taken off A, one
whose owner was deactivated. Garage A ("Alpha Secret") holds data with unmistakable markers: a car
inside ("ZZSECRETA1"), a paid ticket ("ZZSECRETA2") with its receipt ("R-004243"), a person working
only there ("alpha-only-user"), and the audit rows all of that wrote. Each garage's rule is asked at
A's slug and at B's; a path naming a ticket or a person names A's.

What each (route, caller) should get comes from POLICY, a small table: each endpoint's class, and
`allowed()` / `refusal()` for a class and a caller. Asserted:
- a caller not allowed is refused with the status the house rules give (`refusal`: 404 for a garage
  where the person has no role, 401/302 signed out, 403 a role too small, ...), never a 2xx;
- a caller with no right at A never sees A's markers, anywhere (body and headers: pages, fragments,
  CSV exports, SVG charts, print pages, JSON), A's name only on the public screens (the lobby), and is
  never sent into A's pages; every marker IS seen by some caller with rights there (else its absence
  would prove nothing);
- where allowed, a page or a GET of the API succeeds (a mutating request with a harmless body is
  at least admitted: neither 401, 403 nor 404); A's ticket or person asked at B is 404 there;
- a mutating request by a caller with no right at A (an attempt on A: `ATTEMPTS`) leaves A's rows
  as they were.
A rule POLICY does not classify fails the completeness test, so the matrix stays complete."""
from __future__ import annotations

import functools
import inspect
import io
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from garage.domain.tickets import format_receipt_number
from garage.extensions import db
from garage.garages_web import DESK_COOKIE
from garage.htmx import PAGE_OF
from garage.identity import Actor
from garage.models import AuditEvent, Garage, GarageGrant, Permit, PermitPayment, Shift, Ticket, User
from garage.services import accounts, permits, shifts, tickets
from garage.services.settings import ensure_settings
from tests.helpers.db import empty_tables
from tests.helpers.garages import add_garage, bearer, make_admin, person, revoke
from tests.helpers.web import HTMX, csrf_token, sign_in

RECEIPT_SEQ = 4242  # A's receipts start there: R-004243 is A's and nobody else's
SECRETS = ("ZZSECRETA1", "ZZSECRETA2", format_receipt_number(RECEIPT_SEQ + 1), "alpha-only-user", "ZZSECRETHOLDER")
NAME = "Alpha Secret"  # A's name: shown on its public screens (the lobby, the lobby's chooser)
A_SLUG, B_SLUG = "alpha", "beta"

# --- the policy ------------------------------------------------------------------------------------
# Classes of routes. "public": anyone. "network": /metrics, allowed by address, not by caller.
# "signed_in": any person signed in. "signed_in_or_token": a person or a live token (the OpenAPI
# document). "staff" / "manager": that role at the garage the URL names. "admin": operator-wide
# admins. "portfolio": admins and managers of two garages or more. "api_public": the API's public
# operations. "api_occupancy": the public occupancy: anyone without a token, and at a garage the path
# names; sent with a token on the seed path, that token's garage (refused as "api_staff" is, any role). "api_staff" / "api_manager": a token acting at the garage (the one the path names, else
# its only garage) with that role. "api_account": any token. "api_admin": an admin's token.
# "moved": the URLs of before (the public /lobby, and the others: signed in). "chooses_a": a person choosing
# garage A on the chooser: who works there.
POLICY: dict[str, str] = {
    "static": "public", "meta.docs_asset": "public", "meta.home": "public", "ops.healthz": "public",
    "ops.readyz": "public", "auth.login": "public", "auth.logout": "public", "lobby.index": "public", "lobby.panel": "public",
    "ops.metrics": "network",
    "meta.openapi": "signed_in_or_token", "meta.docs": "signed_in", "auth.change_password": "signed_in",
    "auth.account": "signed_in",
    "moved.choose": "signed_in", "moved.remember": "chooses_a", "moved.old_url": "moved",
    **{f"desk.{name}": "staff" for name in ("index", "activity", "enter", "lookup", "inside", "live", "rates",
                                             "ticket", "pay", "paid", "print_ticket", "print_receipt",
                                             "shift", "open_shift", "close_shift", "closeout", "print_closeout",
                                             "correct_page", "correct", "void_page", "void", "validate")},
    **{f"desk.{name}": "manager" for name in ("shifts", "reopen_shift", "adjust_shift", "refund_page", "refund")},
    **{f"reports.{name}": "manager" for name in ("index", "chart", "export_rows", "export_tickets", "close",
                                                  "close_day", "print_close", "export_close", "validations",
                                                  "create_validation", "validation_report", "export_validations")},
    **{f"permits.{name}": "manager" for name in ("index", "new", "create", "show", "update", "suspend", "reactivate",
                                                  "renew", "export", "import_page", "import_csv", "report")},
    "settings.index": "manager", "settings.save": "manager", "settings.period": "manager",
    "settings.remove_period": "manager",
    **{f"admin.{name}": "manager" for name in ("audit", "users", "create_user", "deactivate", "reactivate",
                                                "reset_password")},
    "admin.grant": "admin",
    "operator.garages": "admin", "operator.create_garage": "admin",
    "operator.portfolio": "portfolio", "operator.portfolio_live": "portfolio", "operator.export_portfolio": "portfolio",
    "api.status": "api_public", "api.garage_occupancy": "api_occupancy",
    **{f"api.{name}": "api_staff" for name in ("garage_stats", "create_ticket", "get_ticket", "quote_ticket",
                                                "process_exit", "activities", "open_shift", "current_shift",
                                                "get_shift", "close_shift", "correct_ticket", "void_ticket")},
    "api.get_garage_settings": "api_manager", "api.refund_ticket": "api_manager", "api.validate_ticket": "api_staff",
    **{f"api.{name}": "api_manager" for name in ("list_validations", "create_validation", "validation_report")},
    **{f"api.{name}": "api_manager" for name in ("list_permits", "create_permit", "get_permit", "update_permit",
                                                  "renew_permit")},
    "api.get_close": "api_manager", "api.close_day": "api_manager", "api.put_garage_settings": "api_manager",
    "api.list_garages": "api_account", "api.create_garage": "api_admin",
}

PUBLIC_CLASSES = {"public", "api_public", "api_occupancy", "moved_public"}  # A's name may show there (every garage's lobby is public)
# What a request with the harmless body (nothing but a CSRF token) is rightly refused with, where allowed.
REFUSED_WITHOUT_A_BODY = {"auth.login": 401}  # no username, no password: not signed in
# How a route says "no such ticket here" (the desk's lookup: its form again, with the message).
NOT_FOUND = {"desk.lookup": 422}


@dataclass
class Caller:
    name: str
    kind: str  # "anonymous" | "session" | "token"
    roles: dict[str, str] = field(default_factory=dict)  # slug → attendant | manager
    admin: bool = False
    scopes: tuple[str, ...] = ()  # a token's garages
    client: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    csrf: str = ""
    username: str = ""
    active: bool = True  # a token's owner

    def role_at(self, slug: str | None) -> str | None:
        return "manager" if self.admin else self.roles.get(slug or "")

    @property
    def rights_at_a(self) -> bool:
        return self.role_at(A_SLUG) is not None

    def acting_garage(self, slug: str | None) -> str | None:
        """The garage an API request of this token works for: the one the path names, else the only one
        where it may act (its scope ∩ its owner's grants)."""
        if slug is not None:
            return slug if slug in self.scopes else None
        actable = [scope for scope in self.scopes if self.role_at(scope)]
        return actable[0] if len(actable) == 1 else None


def route_class(endpoint: str, rule: str) -> str:
    kind = POLICY[endpoint]
    if kind == "moved":
        return "moved_public" if rule.startswith("/lobby") else "moved_signed_in"
    return kind


def allowed(kind: str, caller: Caller, slug: str | None) -> bool | None:
    """Whether `caller` may use a route of class `kind` at the garage `slug` (None: not asserted)."""
    session, token = caller.kind == "session", caller.kind == "token"
    rules: dict[str, Callable[[], bool | None]] = {
        "public": lambda: True,
        "api_public": lambda: True,
        "api_occupancy": lambda: not token or slug is not None or (
            caller.active and caller.role_at(caller.acting_garage(None)) is not None),
        "network": lambda: None,
        # The URLs of before answer a person by their own garages (a redirect, a chooser, 403 where none
        # of theirs opens that page, 409 naming them for a file): no status asserted, A's markers are.
        "moved_public": lambda: None,
        "moved_signed_in": lambda: None if session else False,
        "signed_in": lambda: session,
        "signed_in_or_token": lambda: session or (token and caller.active),
        "staff": lambda: session and caller.role_at(slug) is not None,
        "manager": lambda: session and caller.role_at(slug) == "manager",
        "admin": lambda: session and caller.admin,
        "chooses_a": lambda: session and caller.rights_at_a,
        "portfolio": lambda: session and (caller.admin or list(caller.roles.values()).count("manager") >= 2),
        "api_staff": lambda: token and caller.role_at(caller.acting_garage(slug)) is not None,
        "api_manager": lambda: token and caller.role_at(caller.acting_garage(slug)) == "manager",
        "api_account": lambda: token and caller.active,
        "api_admin": lambda: token and caller.admin,
    }
    return rules[kind]()


READING = ("GET", "HEAD", "OPTIONS")  # methods that change nothing


# Polled panels (htmx.fragment_of): a request that is not htmx's is sent to the panel's page.
FRAGMENT_ONLY = {"desk.live", "desk.activity", "desk.rates", "lobby.panel", "operator.portfolio_live"}


def refusal(endpoint: str, kind: str, caller: Caller, slug: str | None, htmx: bool, api: bool) -> int:
    """How a caller not allowed is refused. The API: 401 without a live token; a token at a garage the
    path names where it may not act, 404 (that garage's existence is never revealed); on a path naming
    none, 400 for a token of several garages (the caller must name one); else 403. Pages: not signed in,
    to the sign-in page (302; htmx: 401 with its HX-Redirect); a garage's page for a person with no role
    there, 404 (as if it did not exist); the portfolio and the chooser's choice of A, 404; else 403."""
    if api or kind == "signed_in_or_token":
        if caller.kind != "token" or not caller.active:
            return 401
        if kind in ("api_staff", "api_manager", "api_occupancy"):
            if slug is not None and (caller.acting_garage(slug) is None or caller.role_at(slug) is None):
                return 404
            actable = [scope for scope in caller.scopes if caller.role_at(scope)]
            if slug is None and caller.acting_garage(None) is None and len(actable) > 1:
                return 400
        return 403
    if caller.kind == "session" and slug is not None and caller.role_at(slug) is None:
        return 404
    if endpoint in FRAGMENT_ONLY and not htmx:
        return 303  # to the page that holds it, whoever asks (that page then refuses)
    if caller.kind != "session":
        return 401 if htmx else 302
    if kind in ("portfolio", "chooses_a"):
        return 404
    return 403


# --- the data set: one per database ----------------------------------------------------------------

@dataclass
class World:
    app: Any
    a: int
    callers: list[Caller]
    active: str  # A's car inside: its ticket number
    paid: str  # A's paid ticket
    # A's rows after the last mutating request (snapshot); None: changed since by a caller with rights at A,
    # read again before the next request of a caller without (only their requests are compared with it)
    rows_of_a: tuple | None = ()
    shift: int = 0  # A's shift (closed), opened by A's attendant who manages B
    permit: int = 0  # A's permit (its holder is a secret)

    def snapshot(self) -> tuple:
        """A's rows, as they were: tickets (number, status, receipt), audit rows, grants, its settings row,
        and the person working there (active, password, must change it)."""
        tickets_, audit, grants, garage, person_, shifts_, permits_ = snapshot_queries(self.a)
        db.session.rollback()
        rows = (
            db.session.execute(tickets_).all(),
            db.session.scalar(audit),
            db.session.execute(grants).all(),
            db.session.execute(garage).scalar_one().__dict__.items(),
            db.session.execute(person_).one(),
            db.session.execute(shifts_).all(),
            db.session.execute(permits_).all(),
        )
        snap = tuple(tuple(part) if not isinstance(part, int) else part for part in rows[:3])
        garage_row = tuple(sorted((k, repr(v)) for k, v in rows[3] if not k.startswith("_")))
        db.session.rollback()
        return (*snap, garage_row, tuple(rows[4]), tuple(tuple(row) for row in rows[5]),
                tuple(tuple(row) for row in rows[6]))


@functools.cache
def snapshot_queries(a: int) -> tuple:
    """The statements World.snapshot reads A's rows with: built once (a snapshot follows every mutating
    request of a caller without rights at A: building them was about a fifth of its time)."""
    return (
        sa.select(Ticket.ticket_number, Ticket.status, Ticket.receipt_number).where(Ticket.garage_id == a)
        .order_by(Ticket.id),
        sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.garage_id == a),
        sa.select(GarageGrant.user_id, GarageGrant.role).where(GarageGrant.garage_id == a).order_by(GarageGrant.user_id),
        sa.select(Garage).where(Garage.id == a),
        sa.select(User.active, User.password_hash, User.must_change_password).where(User.username == "alpha-only-user"),
        sa.select(Shift.id, Shift.closed_at, Shift.counted_cash_cents, Shift.over_short_cents)
        .where(Shift.garage_id == a).order_by(Shift.id),
        sa.select(Permit.id, Permit.holder, Permit.status, Permit.valid_until,
                  sa.select(sa.func.count(PermitPayment.id)).where(PermitPayment.permit_id == Permit.id)
                  .scalar_subquery()).where(Permit.garage_id == a).order_by(Permit.id),
    )


@pytest.fixture(scope="module")
def world(_app) -> World:
    with _app.app_context():
        empty_tables()
        ensure_settings()
        a = add_garage(A_SLUG, spaces=5, name=NAME)
        b = add_garage(B_SLUG, spaces=5, name="Beta")
        c = add_garage("gamma", spaces=5, name="Gamma")
        db.session.execute(sa.update(Garage).where(Garage.id == a).values(receipt_seq=RECEIPT_SEQ))
        # A rate period at A and B: the period's pages (/settings/periods/1) have one to show.
        db.session.execute(sa.update(Garage).where(Garage.id.in_((a, b))).values(
            rate_periods='[{"kind": "hourly", "name": "ZZ Weekend", "rateCents": 500, "days": ["sat"]}]'))
        db.session.commit()
        person("alpha-only-user", {a: "attendant"})
        person("att-b", {b: "attendant"})
        person("mgr-b", {b: "manager"})
        person("mgr-ab", {a: "manager", b: "manager"})
        person("att-a-mgr-b", {a: "attendant", b: "manager"})
        person("left-a", {a: "attendant", b: "attendant"})  # works at B; A taken away after signing in
        person("gone", {a: "attendant"})  # deactivated after their token was made
        person("mgr-bc", {b: "manager", c: "manager"})  # a portfolio of two garages, not A
        make_admin("root")
        active = tickets.issue_ticket(a, "ZZSECRETA1", "Car").ticket_number
        paid = tickets.issue_ticket(a, "ZZSECRETA2", "Car").ticket_number
        receipt = tickets.process_exit(a, paid, "Cash").receipt_number
        assert format_receipt_number(receipt) == SECRETS[2]
        tickets.issue_ticket(b, "BETA1", "Car")
        paid_b = tickets.issue_ticket(b, "BETA2", "Car").ticket_number
        tickets.process_exit(b, paid_b, "Cash")
        # Shifts (issue 18): A's closed shift, named in the shift pages' paths; an open shift of each token's
        # owner where it may act (its "current shift" answers).
        person_of = lambda name: Actor(db.session.scalar(sa.select(User.id).where(User.username == name)), name)  # noqa: E731
        a_shift = shifts.open_shift(a, person_of("att-a-mgr-b"), 5000).shift.id
        shifts.close_shift(a, a_shift, person_of("att-a-mgr-b"), counted_cents=4000)
        for name, garage_id in (("att-b", b), ("mgr-b", b), ("mgr-ab", a), ("mgr-ab", b), ("left-a", b)):
            shifts.open_shift(garage_id, person_of(name), 0)

        ids = {A_SLUG: a, B_SLUG: b}
        callers = [Caller("signed out", "anonymous"),
                   Caller("attendant of B", "session", {B_SLUG: "attendant"}, username="att-b"),
                   Caller("manager of B", "session", {B_SLUG: "manager"}, username="mgr-b"),
                   Caller("manager of A and B", "session", {A_SLUG: "manager", B_SLUG: "manager"}, username="mgr-ab"),
                   Caller("attendant of A, manager of B", "session", {A_SLUG: "attendant", B_SLUG: "manager"},
                          username="att-a-mgr-b"),
                   Caller("taken off A while signed in", "session", {B_SLUG: "attendant"}, username="left-a"),
                   Caller("manager of B and C, A's slug in their desk cookie", "session",
                          {B_SLUG: "manager", "gamma": "manager"}, username="mgr-bc"),
                   Caller("admin", "session", admin=True, username="root"),
                   Caller("token of B's attendant", "token", {B_SLUG: "attendant"}, scopes=(B_SLUG,), username="att-b"),
                   Caller("token of B's manager", "token", {B_SLUG: "manager"}, scopes=(B_SLUG,), username="mgr-b"),
                   Caller("token of A's and B's manager", "token", {A_SLUG: "manager", B_SLUG: "manager"},
                          scopes=(A_SLUG, B_SLUG), username="mgr-ab"),
                   Caller("token at A of one taken off A", "token", {B_SLUG: "attendant"}, scopes=(A_SLUG, B_SLUG),
                          username="left-a"),
                   Caller("token at A of one deactivated", "token", scopes=(A_SLUG,), username="gone",
                          active=False)]
        for caller in callers:
            caller.client = _app.test_client()
            if caller.kind == "session":
                assert sign_in(caller.client, caller.username).status_code == 303
                caller.csrf = csrf_token(caller.client, "/account/password")
            else:
                caller.csrf = csrf_token(caller.client)
            if caller.kind == "token":
                caller.headers = bearer(caller.username, [ids[slug] for slug in caller.scopes])
            if caller.username == "mgr-bc":
                caller.client.set_cookie(DESK_COOKIE, A_SLUG)  # a tablet last used by someone of A
        revoke("left-a", a)
        accounts.set_active("gone", False)
        a_permit = permits.create_permit(a, person_of("mgr-ab"), holder="ZZSECRETHOLDER", plates=["ZZPERMIT1"],
                                         valid_from=date(2026, 1, 1), valid_until=date(2026, 12, 31),
                                         price_cents=100).id
        world = World(_app, a, callers, active, paid, shift=a_shift, permit=a_permit)
        world.rows_of_a = world.snapshot()
        yield world
        db.session.remove()


# --- the requests ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Request:
    endpoint: str
    rule: str
    method: str
    slug: str | None  # the garage the path names (None: none)
    path: str
    names_a_ticket: bool  # the path names A's ticket (or A's shift, or A's permit)
    names_a_person: bool  # the path names A's person


# Tickets named in paths: a GET shows the paid one (its receipt); a quote, a lookup or a payment the car inside.
ASKS_THE_CAR_INSIDE = {"api.quote_ticket", "desk.lookup"}
QUERIES = {"desk.lookup": "?q={active}", "desk.inside": "?q=ZZSECRET",  # part of A's plate: the filter
           "admin.audit": "?action=ticket.issued"}


def requests_of(app, world: World):
    """Every rule × method, each garage's rule at A's and at B's slug, path parameters filled."""
    values = {"ticket_number": world.active, "number": world.paid, "username": "alpha-only-user",
              "filename": "css/app.css", "shift_id": str(world.shift), "date": CLOSED_DAY,
              "permit_id": str(world.permit), "position": "1"}
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods or ()):  # Werkzeug's HEAD (and OPTIONS, where it answers) too
            inside = method not in READING or rule.endpoint in ASKS_THE_CAR_INSIDE
            number = world.active if inside else world.paid
            filled = {**values, "number": number, "ticket_number": number,
                      "name": "swagger-ui.css" if rule.endpoint == "meta.docs_asset" else "revenue",
                      "rest": "users" if rule.rule.startswith("/admin") else "live"}
            slugs = (A_SLUG, B_SLUG) if "garage" in rule.arguments else (None,)
            for slug in slugs:
                path = rule.rule
                for name in rule.arguments:
                    value = slug if name == "garage" else filled[name]
                    path = path.replace(f"<path:{name}>", value).replace(f"<{name}>", value)
                path += QUERIES.get(rule.endpoint, "").format(active=world.active)
                yield Request(rule.endpoint, rule.rule, method, slug, path,
                              bool({"ticket_number", "number", "shift_id", "permit_id"} & set(rule.arguments))
                              or rule.endpoint == "desk.lookup",
                              "username" in rule.arguments)



# What a caller with no right at A sends: an attempt on A (a car in, A's car out, A's rules changed, a
# grant at A, A chosen), with the caller's own CSRF token; refused, it must leave A as it was.
ATTEMPTS: dict[str, dict[str, Any]] = {
    "desk.enter": {"plate": "ZZATTACK1", "vehicle_type": "Car"},
    "desk.pay": {"payment_method": "Cash"},
    "admin.grant": {"garage": A_SLUG, "username": "mgr-b", "role": "manager"},
    "moved.remember": {"garage": A_SLUG, "next": "/desk"},
    "api.create_ticket": {"licensePlate": "ZZATTACK2", "vehicleType": "Car"},
    "api.process_exit": {"paymentMethod": "Cash"},
    "api.put_garage_settings": {"hourlyRate": 12345},
    "settings.period": {"kind": "hourly", "name": "ZZ Attack", "price": "0.01"},
    "settings.remove_period": {"name": "ZZ Weekend"},
    "api.create_garage": {"slug": "zzattack", "name": "ZZ Attack", "totalSpaces": 3, "timezone": "UTC"},
    # A's shift closed, recounted or reopened (a body that passes the form's checks: only the garage refuses).
    "desk.close_shift": {"counted": "0"}, "desk.adjust_shift": {"counted": "0", "reason": "ZZ attack"},
    "desk.reopen_shift": {"reason": "ZZ attack"}, "api.close_shift": {"countedCashCents": 0},
    "desk.open_shift": {"float": "0"}, "api.open_shift": {"floatCents": 0},
    # A's ticket corrected, voided or refunded.
    "api.correct_ticket": {"licensePlate": "ZZATTACK3", "reason": "ZZ attack"},
    "api.void_ticket": {"reason": "ZZ attack"}, "api.refund_ticket": {"amountCents": 1, "reason": "ZZ attack"},
    # A validation program created at A, or A's ticket validated (by a code A has: see the set-up).
    "api.create_validation": {"name": "ZZ Attack", "kind": "amount_off", "value": 1, "codes": ["ZZATTACK9"]},
    "api.validate_ticket": {"validationCode": "ZZSECRETCODE"},
    "desk.validate": {"validation_code": "ZZSECRETCODE"},
    "reports.create_validation": {"name": "ZZ Attack", "kind": "amount_off", "value": "0.01", "codes": "ZZATTACK8"},
    # A's day closed (a day over: closed by a manager there, audited at A): no body, the path names the day.
    "api.close_day": {}, "reports.close_day": {},
    "desk.correct": {"plate": "ZZATTACK4", "vehicle_type": "SUV", "reason": "ZZ attack"},
    "desk.void": {"reason": "ZZ attack"}, "desk.refund": {"amount": "0.01", "reason": "ZZ attack"},
    # A permit sold at A, or A's permit changed or renewed (issue 19).
    "api.create_permit": {"holder": "ZZ Attack", "plates": ["ZZATTACK5"], "validFrom": "2026-01-01",
                          "validUntil": "2026-01-31", "price": 1},
    "api.update_permit": {"holder": "ZZ Attack"}, "api.renew_permit": {"months": 1},
    "permits.create": {"holder": "ZZ Attack", "plates": "ZZATTACK6", "valid_from": "2026-01-01",
                       "valid_until": "2026-01-31", "price": "1", "payment_method": "Cash"},
    "permits.update": {"holder": "ZZ Attack", "contact": "", "plates": "ZZPERMIT1"},
    "permits.suspend": {}, "permits.reactivate": {},
    "permits.renew": {"months": "1", "price": "1", "payment_method": "Cash"},
    # A file (made anew for each request: an upload is read once).
    "permits.import_csv": {"file": lambda: (io.BytesIO(b"holder,plates,valid_from,valid_until,price\n"
                                                       b"ZZ Attack,ZZATTACK7,2026-01-01,2026-01-31,1\n"), "a.csv")},
}
CLOSED_DAY = "2026-01-05"
# What a caller with rights at A sends: nothing that changes A (the other checks read A afterwards).
HARMLESS: dict[str, dict[str, Any]] = {
    "admin.grant": {"garage": B_SLUG, "username": "att-b", "role": "attendant"},  # as it already is
    "moved.remember": {"garage": A_SLUG, "next": "/desk"},
}


def body(req: Request, caller: Caller) -> dict[str, Any]:
    sent = {name: value() if callable(value) else value
            for name, value in (HARMLESS if caller.rights_at_a else ATTEMPTS).get(req.endpoint, {}).items()}
    if req.endpoint.startswith("api."):
        return {"json": sent}
    return {"data": {**sent, "csrf_token": caller.csrf}}


def scrubbed(response, req: Request) -> str:
    """Body and headers, without the caller's own request echoed back (a sign-in's `next`, "No user
    named 'alpha-only-user'" for the name in the path: the same words as for a name nobody has).
    Whether a page lists A's person is asked by the pages without a name in their path."""
    seen = response.get_data(as_text=True) + "\n" + "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    for echo in (quote(req.path, safe=""), quote(req.path), req.path):
        seen = seen.replace(echo, "")
    if req.names_a_person:
        seen = seen.replace("alpha-only-user", "")
    return seen


def order(req: Request) -> tuple:
    """Signing out last (the caller's session is used by every other request)."""
    return (req.endpoint == "auth.logout", req.endpoint, req.path, req.method)


def check(world: World, req: Request, caller: Caller, htmx: bool, shown_to_a: set[str]) -> list[str]:
    """What is wrong with this caller's answer to this request ([] when nothing). The markers a caller
    with rights at A was shown are added to `shown_to_a` (the markers are really on A's pages)."""
    kind = route_class(req.endpoint, req.rule)
    may = allowed(kind, caller, req.slug)
    headers = {**caller.headers, **(HTMX if htmx else {})}
    mutating = req.method not in READING
    if not caller.rights_at_a and world.rows_of_a is None:
        world.rows_of_a = world.snapshot()  # A as those allowed left it: this caller's requests start from there
    response = caller.client.open(req.path, method=req.method, headers=headers,
                                  **(body(req, caller) if mutating else {}))
    what = f"{req.method} {req.path}{' (htmx)' if htmx else ''} as {caller.name}: {response.status_code}"
    problems = []
    status = response.status_code
    if status >= 500:
        problems.append(f"{what}: a server error")
    if mutating and caller.rights_at_a:
        # What those allowed changed is read when a caller without rights is next (A's people alone: never);
        # the session ends its transaction here as the snapshot did, so the next request starts as before.
        db.session.rollback()
        world.rows_of_a = None
    elif mutating:
        now = world.snapshot()
        if now != world.rows_of_a:
            problems.append(f"{what}: changed A's rows")
        world.rows_of_a = now
    seen = scrubbed(response, req)
    if caller.rights_at_a:
        shown_to_a.update(marker for marker in (*SECRETS, NAME) if marker in seen)
    else:
        shown = [marker for marker in (*SECRETS, *(() if kind in PUBLIC_CLASSES else (NAME,))) if marker in seen]
        if shown:
            problems.append(f"{what}: shows A's {shown}")
        location = response.headers.get("Location", "") + response.headers.get("HX-Redirect", "")
        if caller.kind == "session" and location.startswith(f"/g/{A_SLUG}") and kind not in PUBLIC_CLASSES:
            problems.append(f"{what}: sent into A's pages ({location})")  # for them, A does not exist
    if may is False:
        expected = refusal(req.endpoint, kind, caller, req.slug, htmx, req.endpoint.startswith("api."))
        if status != expected:
            problems.append(f"{what}: not allowed, refused with {status} instead of {expected}")
    at_a = (req.slug or (caller.acting_garage(None) if caller.kind == "token" else None)) == A_SLUG
    manages_a = caller.role_at(A_SLUG) == "manager"  # A's people are theirs to manage from any garage's page
    if may and ((req.names_a_ticket and not at_a) or (req.names_a_person and not manages_a)):
        harmless_refusal = 422 if mutating and caller.rights_at_a else None  # the body was refused first
        if status not in (NOT_FOUND.get(req.endpoint, 404), harmless_refusal):
            problems.append(f"{what}: A's ticket or person asked elsewhere is not 404")
    elif may and not mutating and status >= 400:
        problems.append(f"{what}: allowed, yet refused")
    elif may and mutating and status in (401, 403, 404) and REFUSED_WITHOUT_A_BODY.get(req.endpoint) != status:
        problems.append(f"{what}: allowed, yet refused")
    return problems


# --- the tests -------------------------------------------------------------------------------------

def test_the_policy_classifies_every_route(_app):
    """A new route fails here until POLICY says who may use it (and the matrix then checks it)."""
    endpoints = {rule.endpoint for rule in _app.url_map.iter_rules()}
    assert endpoints - set(POLICY) == set(), "new routes: classify them in POLICY"
    assert set(POLICY) - endpoints == set(), "stale POLICY entries"
    classes = {"public", "network", "signed_in", "signed_in_or_token", "staff", "manager", "admin", "portfolio",
               "chooses_a",
               "api_public", "api_occupancy", "api_staff", "api_manager", "api_account", "api_admin", "moved"}
    assert set(POLICY.values()) <= classes
    fragments = {endpoint for endpoint, view in _app.view_functions.items()  # @fragment_of, not @part_of
                 if getattr(view, PAGE_OF, None) and not getattr(inspect.unwrap(view), PAGE_OF, None)}
    assert fragments == FRAGMENT_ONLY


def caller_groups(callers: list[Caller]) -> list[list[Caller]]:
    """The callers in four groups, so the matrix runs on several workers at once (`pytest -n`): A's
    own people together (the markers they are shown prove the markers are on A's pages), everyone
    else in three groups."""
    outsiders = [caller for caller in callers if not caller.rights_at_a]
    return [[caller for caller in callers if caller.rights_at_a]] + [outsiders[i::3] for i in range(3)]


@pytest.mark.parametrize("group", range(4), ids=["A's people", "others 1", "others 2", "others 3"])
def test_every_route_for_every_caller_keeps_garage_a_to_those_allowed(world, group):
    callers = caller_groups(world.callers)[group]
    assert sum(map(len, caller_groups(world.callers))) == len(world.callers) and len(callers) >= 3
    with world.app.app_context():
        reqs = sorted(requests_of(world.app, world), key=order)
        assert {req.endpoint for req in reqs} == set(POLICY)
        problems: list[str] = []
        shown_to_a: set[str] = set()
        asked = 0
        for req in reqs:
            for htmx in ((False,) if req.endpoint.startswith("api.") else (False, True)):
                for caller in callers:
                    problems += check(world, req, caller, htmx, shown_to_a)
                    asked += 1
        assert asked > 120 * len(callers)
        if group == 0:
            assert shown_to_a == {*SECRETS, NAME}, "a marker is on none of A's pages: its absence proves nothing"
        assert problems == [], f"{len(problems)} problems:\n" + "\n".join(problems)


def test_a_tablet_remembering_a_garage_the_person_does_not_work_at_is_ignored(app):
    """A shared tablet remembers the garage its last person chose (desk_garage); the next person, of
    other garages, works for their own outside /g/ (the API docs, the menu's links), never for that one."""
    from tests.helpers.web import soup

    a, b, c = add_garage(A_SLUG, name=NAME), add_garage(B_SLUG), add_garage("gamma")
    person("alpha-only-user", {a: "attendant"})  # someone works at A
    person("mgr-bc", {b: "manager", c: "manager"})
    client = app.test_client()
    client.set_cookie(DESK_COOKIE, A_SLUG)
    assert sign_in(client, "mgr-bc").status_code == 303
    assert client.get("/docs").status_code == 200
    links = [a["href"] for a in soup(client.get("/account/password")).select("nav a")]
    assert links and not any(link.startswith(f"/g/{A_SLUG}") for link in links)
