"""/g/main/admin/users (staff accounts) and /admin/audit (the audit log), managers only."""
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from garage.extensions import db
from garage.models import AuditEvent, Garage, GarageGrant, User
from garage.services import accounts
from garage.identity import Actor
from garage.services.audit import record
from tests.helpers.db import role_at
from tests.helpers.web import HTMX, PASSWORD, csrf_token, post_form, sign_in, signed_in, soup, text


@pytest.fixture
def boss(app, make_user):
    """A signed-in manager's browser."""
    return signed_in(app, make_user, "boss", "manager", ip="198.51.100.4")


def user(name: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.username == name).execution_options(populate_existing=True))


def events(action: str) -> list[AuditEvent]:
    """Rows written by people through the pages (not the fixtures' set-up, done as "system")."""
    return list(db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == action, AuditEvent.username != "system").order_by(AuditEvent.id)))


def rows(response) -> dict[str, list[str]]:
    """Staff table: username -> cell texts."""
    return {tr["data-username"]: [" ".join(td.get_text(" ").split()) for td in tr.find_all("td")]
            for tr in soup(response).select("#staff tbody tr")}


NEW = {"username": "Carol", "role": "attendant", "password": "initial password 1"}


# --- staff list and adding staff ---------------------------------------------------------

def test_staff_page_lists_accounts_with_role_and_status(boss, make_user):
    make_user("dave", "attendant")
    accounts.set_active("dave", False)
    r = boss.get("/g/main/admin/users")
    assert r.status_code == 200
    table = rows(r)
    assert table["boss"][:3] == ["boss (you)", "Manager", "Active"]
    assert table["dave"][:3] == ["dave", "Attendant", "Deactivated"]
    # No way to deactivate or reset yourself from the page.
    own_row = soup(r).select_one('tr[data-username="boss"]')
    assert own_row.find("button") is None
    assert "Vary" in r.headers and "HX-Request" in r.headers["Vary"]


def test_add_attendant_without_javascript_redirects_and_shows_them(boss):
    r = post_form(boss, "/g/main/admin/users", NEW)
    assert r.status_code == 303 and r.headers["Location"] == "/g/main/admin/users"
    page = boss.get("/g/main/admin/users")
    assert "Added attendant carol" in text(page)
    # A success notice, shown once, styled as done rather than as a warning.
    assert "Added attendant carol" in soup(page).select_one("#staff .notice.ok[role=status]").get_text()
    assert "Added attendant carol" not in text(boss.get("/g/main/admin/users"))
    assert rows(page)["carol"][:3] == ["carol", "Attendant", "Active · must change password"]
    carol = user("carol")
    assert role_at("carol") == "attendant" and carol.must_change_password and carol.check_password(NEW["password"])
    created, = events("user.created")
    assert (created.username, created.object_id, created.ip, created.details) == \
        ("boss", "carol", "198.51.100.4", {"role": "attendant"})
    assert NEW["password"] not in str(created.details)


def test_add_manager_with_htmx_swaps_the_staff_section(boss):
    r = post_form(boss, "/g/main/admin/users", {**NEW, "role": "manager"}, htmx=True, page="/g/main/admin/users")
    assert r.status_code == 200
    page = soup(r)
    assert page.find("html") is None and page.select_one("section#staff") is not None
    assert "Added manager carol" in text(r)
    assert rows(r)["carol"][1] == "Manager"
    # the form is fresh again
    assert page.find("input", id="new-username")["value"] == ""


@pytest.mark.parametrize("field, value, status, message", [
    ("password", "short", 422, "Use at least 10 characters"),
    ("username", "bad name!", 422, "letters, digits, dots, dashes or underscores"),
    ("username", "", 422, "letters, digits"),
    ("role", "owner", 422, "Role must be attendant or manager"),
    ("username", "boss", 409, "A user named boss already exists"),
    ("username", "ＢＯＳＳ", 409, "A user named boss already exists"),  # a look-alike is the same name
    ("username", "bοss", 422, "a-z 0-9 . - _"),  # Greek omicron: refused, not a second "boss"
    ("username", "x" * 65, 422, "1-64 letters"),
])
@pytest.mark.parametrize("htmx", [False, True])
def test_invalid_new_user_is_refused_with_the_fields_message(boss, field, value, status, message, htmx):
    before = db.session.scalar(sa.select(sa.func.count(User.id)))
    r = post_form(boss, "/g/main/admin/users", {**NEW, field: value}, htmx=htmx, page="/g/main/admin/users")
    assert r.status_code == status
    page = soup(r)
    assert (page.find("html") is None) == htmx
    error = page.find(id=f"new-{field}-error")
    assert error is not None and message in error.get_text()
    assert page.find(id=f"new-{field}")["aria-invalid"] == "true"
    if field != "username":  # what was typed is kept (never the password)
        assert page.find("input", id="new-username")["value"] == "Carol"
    assert not page.find("input", id="new-password").get("value")
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == before
    assert not events("user.created")


def test_a_look_alike_name_is_stored_as_the_plain_name_and_signs_in_either_way(app, boss):
    r = post_form(boss, "/g/main/admin/users", {**NEW, "username": "１２３"}, page="/g/main/admin/users")
    assert r.status_code == 303
    assert "123" in rows(boss.get("/g/main/admin/users")) and user("１２３") is None
    for typed in ("１２３", "123"):
        assert sign_in(app.test_client(), typed, NEW["password"]).status_code == 303


# --- deactivate / reactivate -------------------------------------------------------------

@pytest.mark.parametrize("htmx", [False, True])
def test_deactivate_signs_them_out_and_reactivate_lets_them_back(app, boss, make_user, htmx):
    desk = signed_in(app, make_user, "dave", "attendant")
    r = post_form(boss, "/g/main/admin/users/dave/deactivate", htmx=htmx, page="/g/main/admin/users")
    if htmx:
        assert r.status_code == 200 and rows(r)["dave"][2] == "Deactivated"
    else:
        assert r.status_code == 303
        assert "Deactivated dave" in text(boss.get("/g/main/admin/users"))
    assert user("dave").active is False
    assert desk.get("/g/main/admin/users").status_code == 302  # their open session ended
    assert sign_in(app.test_client(), "dave").status_code == 401
    assert [(e.username, e.object_id) for e in events("user.deactivated")] == [("boss", "dave")]

    r = post_form(boss, "/g/main/admin/users/dave/reactivate", htmx=htmx, page="/g/main/admin/users")
    assert r.status_code == (200 if htmx else 303)
    assert user("dave").active is True
    assert sign_in(app.test_client(), "dave").status_code == 303
    assert [e.object_id for e in events("user.activated")] == ["dave"]


def test_deactivation_revokes_their_tokens_so_reactivation_does_not_bring_them_back(app, boss, make_user):
    """The page says "API tokens stopped", but the tokens were only checked through the account being
    active: reactivating it revived every token handed out before."""
    from tests.helpers.garages import bearer

    make_user("dave", "attendant")
    tokens = [bearer("dave"), bearer("dave")]
    api = app.test_client()
    assert all(api.get("/api/garage/stats", headers=token).status_code == 200 for token in tokens)
    post_form(boss, "/g/main/admin/users/dave/deactivate", page="/g/main/admin/users")
    post_form(boss, "/g/main/admin/users/dave/reactivate", page="/g/main/admin/users")
    assert user("dave").active is True
    for token in tokens:
        assert api.get("/api/garage/stats", headers=token).status_code == 401
    revoked = events("token.revoked")
    assert [(e.username, e.details["user"], e.details["reason"]) for e in revoked] == [("boss", "dave", "deactivated")] * 2
    # Their manager finds it in the garage's trail, next to the deactivation.
    assert len(audit_rows(boss.get("/g/main/admin/audit?action=token.revoked"))) == 2
    assert api.get("/api/garage/stats", headers=bearer("dave")).status_code == 200  # a new one works


def test_manager_cannot_deactivate_themself(boss):
    for htmx in (False, True):
        r = post_form(boss, "/g/main/admin/users/boss/deactivate", htmx=htmx, page="/g/main/admin/users")
        assert r.status_code == 409
        assert soup(r).find(role="alert").get_text() == \
            "You cannot deactivate your own account; ask another manager"
    assert user("boss").active is True
    assert boss.get("/g/main/admin/users").status_code == 200
    assert not events("user.deactivated")


def test_deactivating_twice_is_audited_once(boss, make_user):
    make_user("dave")
    post_form(boss, "/g/main/admin/users/dave/deactivate", page="/g/main/admin/users")
    post_form(boss, "/g/main/admin/users/dave/deactivate", page="/g/main/admin/users")
    assert len(events("user.deactivated")) == 1


def test_unknown_user_is_404_and_changes_nothing(boss):
    r = post_form(boss, "/g/main/admin/users/nobody/deactivate", page="/g/main/admin/users")
    assert r.status_code == 404 and "No user named 'nobody'" in text(r)
    assert not events("user.deactivated")


# --- password reset ----------------------------------------------------------------------

@pytest.mark.parametrize("htmx", [False, True])
def test_reset_password_shows_a_temporary_password_once(app, boss, make_user, htmx):
    desk = signed_in(app, make_user, "dave", "attendant")
    r = post_form(boss, "/g/main/admin/users/dave/reset-password", htmx=htmx, page="/g/main/admin/users")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    shown = soup(r).select_one("[data-temp-password]")
    temporary = shown.get_text().strip()
    assert len(temporary) >= accounts.MIN_PASSWORD and temporary != PASSWORD
    assert "shown only this once" in text(r)
    assert temporary not in boss.get("/g/main/admin/users").get_data(as_text=True)  # once only

    assert desk.get("/g/main/admin/users").status_code == 302  # their session ended at once
    assert sign_in(app.test_client(), "dave", PASSWORD).status_code == 401
    fresh = app.test_client()
    r = sign_in(fresh, "dave", temporary)
    assert r.status_code == 303 and urlsplit(r.headers["Location"]).path == "/account/password"
    reset, = events("user.password_reset")
    assert (reset.username, reset.object_id) == ("boss", "dave")
    assert temporary not in str(reset.details)


def test_temporary_passwords_differ(boss, make_user):
    make_user("dave")
    seen = set()
    for _ in range(3):
        r = post_form(boss, "/g/main/admin/users/dave/reset-password", page="/g/main/admin/users")
        seen.add(soup(r).select_one("[data-temp-password]").get_text().strip())
    assert len(seen) == 3


def test_manager_cannot_reset_their_own_password_here(app, boss):
    r = post_form(boss, "/g/main/admin/users/boss/reset-password", page="/g/main/admin/users")
    assert r.status_code == 409 and "Use Change password for your own account" in text(r)
    assert boss.get("/g/main/admin/users").status_code == 200
    assert sign_in(app.test_client(), "boss", PASSWORD).status_code == 303
    assert not events("user.password_reset")


# --- CSRF --------------------------------------------------------------------------------

def test_form_post_without_csrf_token_is_400_and_changes_nothing(boss, make_user):
    make_user("dave")
    for path, data in (("/g/main/admin/users", NEW), ("/g/main/admin/users/dave/deactivate", {}),
                       ("/g/main/admin/users/dave/reset-password", {})):
        r = boss.post(path, data=data)
        assert r.status_code == 400 and "Your form expired" in text(r)
        r = boss.post(path, data={**data, "csrf_token": "forged"})
        assert r.status_code == 400
    assert user("carol") is None and user("dave").active and user("dave").check_password(PASSWORD)
    assert not db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action.like("user.%"), AuditEvent.username != "system")).all()


def test_htmx_post_without_csrf_header_is_400_and_changes_nothing(boss, make_user):
    make_user("dave")
    r = boss.post("/g/main/admin/users/dave/deactivate", headers=HTMX)
    assert r.status_code == 400
    r = boss.post("/g/main/admin/users", data=NEW, headers={**HTMX, "X-CSRFToken": "forged"})
    assert r.status_code == 400
    assert user("dave").active and user("carol") is None


def test_pages_carry_the_csrf_token_for_htmx_and_forms(boss):
    page = soup(boss.get("/g/main/admin/users"))
    assert "X-CSRFToken" in page.body["hx-headers"]
    for form in page.select("form[method=post]"):
        assert form.find("input", attrs={"name": "csrf_token"}) is not None, form.get("action")


# --- audit log ---------------------------------------------------------------------------

def at(text_utc: str) -> datetime:
    return datetime.fromisoformat(text_utc).replace(tzinfo=timezone.utc)


def add_event(action: str, when: str, who: str | None = "boss", object_id: str | None = None,
              details: dict | None = None, garage_id: int | None = 1) -> None:
    """An event at the default garage (garage_id None: an operator-level one, e.g. a sign-in)."""
    db.session.add(AuditEvent(at=at(when), username=who, action=action, object_type="user" if object_id else None,
                              object_id=object_id, ip="203.0.113.9", details=details, garage_id=garage_id))
    db.session.commit()


def audit_rows(response) -> list[list[str]]:
    return [[" ".join(td.get_text(" ").split()) for td in tr.find_all("td")]
            for tr in soup(response).select("#audit-results tbody tr")]


@pytest.fixture
def new_york():
    db.session.execute(sa.update(Garage).values(timezone="America/New_York"))
    db.session.commit()


def test_audit_log_is_newest_first_in_local_time(boss, new_york):
    db.session.execute(sa.delete(AuditEvent))
    db.session.commit()
    add_event("ticket.issued", "2024-07-01 12:00:00", "dave")
    add_event("settings.changed", "2024-07-02 03:30:00", details={
        "before": {"totalSpaces": 140, "hourlyRate": 1000}, "after": {"totalSpaces": 150, "hourlyRate": 1000}})
    add_event("settings.changed", "2024-07-02 03:40:00", details={
        "before": {"hourlyRate": 1000, "vehicleRates": {}},
        "after": {"hourlyRate": 1250, "vehicleRates": {"SUV": 1500}}})
    add_event("ticket.paid", "2024-07-02 03:50:00", details={
        "amountCents": 6000, "paymentMethod": "Card", "durationMinutes": 95, "lost": True,
        "timeFeeCents": 2000, "lostFeeCents": 4000})
    r = boss.get("/g/main/admin/audit")
    assert r.status_code == 200
    table = audit_rows(r)
    # Money in dollars (stored as cents), a stay in hours, keys in words: never "amountCents 6000".
    assert table[0][2] == "Exit paid" and table[0][5] == (
        "amount $60.00 payment Card stay 1 h 35 min lost ticket yes time fee $20.00 lost-ticket fee $40.00")
    assert table[1][5] == "hourly rate $10.00 → $12.50 vehicle rates none → SUV $15.00"
    assert table[2][:3] == ["Jul 1, 2024, 11:30:00 PM", "boss", "Settings changed"]  # EDT = UTC-4, en_US
    assert table[2][4] == "203.0.113.9"
    assert table[2][5] == "total spaces 140 → 150"  # only what changed
    assert table[3][:3] == ["Jul 1, 2024, 8:00:00 AM", "dave", "Ticket issued"]
    assert "times in America/New_York" in text(r)


def test_audit_filters_by_action_user_and_local_dates(boss, new_york):
    add_event("ticket.issued", "2024-07-01 03:59:00", "dave")  # June 30 in New York
    add_event("ticket.issued", "2024-07-01 04:00:00", "dave")  # July 1, 00:00 in New York
    add_event("ticket.issued", "2024-07-02 03:59:59", "erin")  # July 1, 23:59:59
    add_event("ticket.issued", "2024-07-02 04:00:00", "dave")  # July 2
    add_event("auth.login_failed", "2024-07-01 12:00:00", None, object_id="dave")
    r = boss.get("/g/main/admin/audit?action=ticket.issued&from=2024-07-01&to=2024-07-01")
    assert [row[0] for row in audit_rows(r)] == ["Jul 1, 2024, 11:59:59 PM", "Jul 1, 2024, 12:00:00 AM"]
    r = boss.get("/g/main/admin/audit?action=ticket.issued&user=DAVE&from=2024-07-01&to=2024-07-01")
    assert [row[:2] for row in audit_rows(r)] == [["Jul 1, 2024, 12:00:00 AM", "dave"]]
    # "User" finds what they did and what was done to them (a failed sign-in has no actor).
    r = boss.get("/g/main/admin/audit?user=dave&from=2024-07-01&to=2024-07-01")
    assert [row[2] for row in audit_rows(r)] == ["Sign-in failed", "Ticket issued"]
    assert audit_rows(r)[0][1] == "—" and audit_rows(r)[0][3] == "user dave"
    # The filters are shown as chosen (bookmarkable URL, full page).
    page = soup(boss.get("/g/main/admin/audit?action=ticket.issued&user=dave&from=2024-07-01&to=2024-07-02"))
    assert page.select_one("#audit-action option[selected]")["value"] == "ticket.issued"
    assert page.select_one("#audit-user")["value"] == "dave"
    assert page.select_one("#audit-from")["value"] == "2024-07-01"
    assert page.select_one("#audit-to")["value"] == "2024-07-02"


def test_audit_htmx_returns_the_results_and_the_url_to_show(boss):
    add_event("ticket.issued", "2024-07-01 12:00:00", "dave")
    r = boss.get("/g/main/admin/audit?action=ticket.issued&user=&from=&to=", headers=HTMX)
    assert r.status_code == 200
    page = soup(r)
    assert page.find("html") is None and page.select_one("section#audit-results") is not None
    assert r.headers["HX-Push-Url"] == "/g/main/admin/audit?action=ticket.issued"
    assert "HX-Request" in r.headers["Vary"]
    # The same filters again (Enter in a field sends change and submit): no second history entry.
    r = boss.get("/g/main/admin/audit?action=ticket.issued&user=", headers={
        **HTMX, "HX-Current-URL": "http://localhost/g/main/admin/audit?action=ticket.issued"})
    assert "HX-Push-Url" not in r.headers and r.headers["HX-Replace-Url"] == "/g/main/admin/audit?action=ticket.issued"
    # Back button after a pushed URL: htmx asks for the whole page.
    r = boss.get("/g/main/admin/audit?action=ticket.issued",
                 headers={**HTMX, "HX-History-Restore-Request": "true"})
    assert soup(r).find("html") is not None


def test_audit_is_paginated(boss):
    db.session.execute(sa.delete(AuditEvent))
    db.session.commit()
    for i in range(55):
        record(Actor(None, "dave", None), "ticket.issued", "ticket", f"T{i:02d}", garage_id=1)
    db.session.commit()
    first = boss.get("/g/main/admin/audit?action=ticket.issued")
    assert len(audit_rows(first)) == 50
    assert "55 events · page 1 of 2" in text(first)
    older = soup(first).select_one("a[rel=next]")["href"]
    assert parse_qs(urlsplit(older).query) == {"action": ["ticket.issued"], "page": ["2"]}
    second = boss.get(older)
    assert [row[3] for row in audit_rows(second)] == [f"ticket T{i:02d}" for i in range(4, -1, -1)]
    assert soup(second).select_one("a[rel=prev]") is not None
    assert soup(second).select_one("a[rel=next]") is None
    r = boss.get("/g/main/admin/audit?action=ticket.issued&page=9")
    assert "No events match" in text(r)
    r = boss.get("/g/main/admin/audit?page=abc")
    assert r.status_code == 422 and "page must be a whole number from 1 to 100000" in text(r)


@pytest.mark.parametrize("query, message", [
    ("from=yesterday", "From: “yesterday” is not a date: use YYYY-MM-DD"),
    ("to=2024-13-01", "To: “2024-13-01” is not a date: use YYYY-MM-DD"),
    ("from=2026-02-30", "From: “2026-02-30” is not a date"),
    ("from=9999-12-31", "From: Dates must be between 2000 and 2100"),
    ("to=0000-01-01", "To: “0000-01-01” is not a date"),
    ("from=２０２６-03-08", "From: “２０２６-03-08” is not a date"),
    ("from=2024-07-02&to=2024-07-01", "To: The end date is before the start date"),
    ("action=drop.tables", "Action: Unknown action"),
])
def test_bad_audit_filters_are_422_with_a_message(boss, query, message):
    for headers in ({}, HTMX):
        r = boss.get(f"/g/main/admin/audit?{query}", headers=headers)
        assert r.status_code == 422
        assert message in text(r)
        assert not audit_rows(r)


def test_audit_page_escapes_what_users_typed(boss):
    add_event("auth.login_failed", "2024-07-01 12:00:00", None, object_id="<script>alert(1)</script>")
    r = boss.get("/g/main/admin/audit")
    assert "<script>alert(1)</script>" not in r.get_data(as_text=True)
    assert "<script>alert(1)</script>" in text(r)


def test_nav_marks_the_page_you_are_on_and_hides_manager_pages_from_attendants(app, boss, make_user):
    for path, label in (("/g/main/admin/users", "Staff"), ("/g/main/admin/audit", "Audit log")):
        nav = soup(boss.get(path)).select_one("nav.nav")
        assert [a.get_text() for a in nav.select("a.active")] == [label]
        assert nav.select_one("a[aria-current=page]").get_text() == label
    attendant = signed_in(app, make_user, "dave", "attendant")
    links = [a.get_text() for a in soup(attendant.get("/account/password")).select("nav.nav a")]
    assert "Staff" not in links and "Audit log" not in links


# --- several garages: a manager manages their own garages' people only (issue 17) ----------------

def test_a_manager_changes_only_accounts_whose_every_garage_they_manage(boss, make_user):
    from tests.helpers.garages import grant, second_garage

    north = second_garage()
    make_user("nina", "attendant")  # at the default garage, then moved to north only
    grant("nina", north, "attendant")
    db.session.execute(sa.delete(GarageGrant).where(GarageGrant.garage_id == 1,
                                                    GarageGrant.user_id == user("nina").id))
    db.session.commit()
    assert "nina" not in rows(boss.get("/g/main/admin/users"))
    for action in ("deactivate", "reset-password"):
        r = post_form(boss, f"/g/main/admin/users/nina/{action}", page="/g/main/admin/users")
        assert r.status_code == 404, action
        assert "No user named 'nina'" in text(r)
    assert user("nina").active and not user("nina").must_change_password
    # Someone who works here as well as at north: one account for both garages, so a reset here would
    # hand over the account at north (an outside check took over a north manager's account this way).
    grant("nina", 1, "attendant")
    for action in ("deactivate", "reset-password"):
        r = post_form(boss, f"/g/main/admin/users/nina/{action}", page="/g/main/admin/users")
        assert r.status_code == 403, action
        assert "also works at a garage you do not manage" in text(r)
    assert user("nina").active and not user("nina").must_change_password
    # A manager of each of their garages may.
    grant("boss", north, "manager")
    assert post_form(boss, "/g/main/admin/users/nina/deactivate", page="/g/main/admin/users").status_code == 303
    assert not user("nina").active


def test_a_managers_audit_log_shows_their_peoples_account_events_not_other_garages_people(app, boss, make_user):
    """Issue 17 left sign-ins and account changes (no garage) to admins: a garage's manager saw none
    of their own staff's. A garage's trail holds the events with no garage of its own people (the
    person an event is about, else the one who did it); another garage's people stay out of it."""
    from tests.helpers.garages import bearer, grant, make_admin, person, second_garage

    north = second_garage()
    make_user("dave", "attendant")  # works at main
    person("nina", {north: "attendant"})  # works at north only
    person("nora", {north: "manager"})
    grant("nora", 1, "attendant")  # works at both: a manager at north, an attendant here
    add_event("ticket.issued", "2024-07-01 12:00:00", "dave", garage_id=1)
    add_event("auth.login", "2024-07-01 12:05:00", "dave", object_id="dave", garage_id=None)
    add_event("auth.login_failed", "2024-07-01 12:06:00", None, object_id="dave", garage_id=None)
    add_event("auth.login", "2024-07-01 12:07:00", "nina", object_id="nina", garage_id=None)
    add_event("auth.login_failed", "2024-07-01 12:08:00", None, object_id="nina", garage_id=None)
    add_event("user.deactivated", "2024-07-01 12:09:00", "nora", object_id="nina", garage_id=None)
    add_event("garage.created", "2024-07-01 12:10:00", "root", garage_id=None)
    bearer("dave")  # token.created about dave's token
    bearer("nina")

    def seen(client, path="/g/main/admin/audit") -> set[tuple[str, str]]:
        return {(row[1], row[2]) for row in audit_rows(client.get(path))}

    mine = seen(boss)
    assert {("dave", "Ticket issued"), ("dave", "Signed in"), ("—", "Sign-in failed"), ("cli", "API token created"),
            ("boss", "Signed in")} <= mine, mine
    # (nina's account was made at main, then moved to north: those two rows are main's own events)
    others = [row for row in audit_rows(boss.get("/g/main/admin/audit"))
              if "nina" in " ".join(row) and row[2] not in ("User created", "Role taken away")]
    assert others == [] and ("root", "Garage created") not in mine
    assert len(audit_rows(boss.get("/g/main/admin/audit?action=token.created"))) == 1
    assert len(audit_rows(boss.get("/g/main/admin/audit?action=auth.login_failed"))) == 1
    # North's manager reads nina's sign-ins and her deactivation there, none of dave's.
    nora = app.test_client()
    assert sign_in(nora, "nora").status_code == 303
    north_trail = " ".join(" ".join(row) for row in audit_rows(nora.get("/g/north/admin/audit")))
    assert "nina" in north_trail and "dave" not in north_trail
    assert len(audit_rows(nora.get("/g/north/admin/audit?action=user.deactivated"))) == 1
    # An admin reads every event with no garage at any garage.
    make_admin("root")
    root = app.test_client()
    assert sign_in(root, "root").status_code == 303
    assert {("nina", "Signed in"), ("root", "Garage created"), ("dave", "Signed in")} <= seen(root)


def test_a_manager_sees_the_deactivation_they_did_from_their_garage_s_page(app, make_user):
    """The outside check's repro: eve, north's manager, deactivates v1 from /g/north; her own trail
    there showed nothing of it."""
    from tests.helpers.garages import person, second_garage

    north = second_garage()
    person("eve", {north: "manager"})
    person("v1", {north: "attendant"})
    eve = app.test_client()
    assert sign_in(eve, "eve").status_code == 303
    assert post_form(eve, "/g/north/admin/users/v1/deactivate", page="/g/north/admin/users").status_code == 303
    [row] = audit_rows(eve.get("/g/north/admin/audit?action=user.deactivated"))
    assert row[1:4] == ["eve", "User deactivated", "user v1"]
    assert audit_rows(eve.get("/g/north/admin/audit?action=auth.login"))


def test_the_audit_filter_takes_every_action_the_app_records_and_offers_the_same(app, boss, make_user):
    """`?action=user.granted` was refused (422) where such rows existed, and the choices differed per garage."""
    from garage.services.audit import ACTIONS
    from tests.helpers.garages import grant, make_admin, revoke, second_garage

    north = second_garage()
    make_user("dave", "attendant")
    grant("dave", north)
    revoke("dave", north)
    grant("dave", 1, "manager")
    offered = [o["value"] for o in soup(boss.get("/g/main/admin/audit")).select("select[name=action] option") if o["value"]]
    assert set(offered) == ACTIONS
    for action in sorted(ACTIONS):
        assert boss.get(f"/g/main/admin/audit?action={action}").status_code == 200, action
    assert len(audit_rows(boss.get("/g/main/admin/audit?action=user.granted"))) == 1
    make_admin("root")
    root = app.test_client()
    assert sign_in(root, "root").status_code == 303
    for slug in ("main", "north"):
        page = soup(root.get(f"/g/{slug}/admin/audit"))
        assert {o["value"] for o in page.select("select[name=action] option") if o["value"]} == ACTIONS, slug
    with pytest.raises(ValueError):
        record(None, "user.renamed")  # a new action must join the list (and so the filter) first


def test_an_admin_grants_and_revokes_a_role_at_any_garage_from_the_staff_page(app, boss, make_user):
    from tests.helpers.db import audit_events
    from tests.helpers.garages import make_admin, second_garage

    north = second_garage()
    make_user("nina", "attendant")
    make_admin("root")
    root = app.test_client()
    assert sign_in(root, "root").status_code == 303
    form = soup(root.get("/g/main/admin/users")).select_one("form.grant")
    assert [o["value"] for o in form.select("select[name=garage] option")] == ["main", "north"]
    r = post_form(root, "/g/main/admin/grants", {"username": "nina", "garage": "north", "role": "manager"}, page="/g/main/admin/users")
    assert r.status_code == 303 and role_at("nina", north) == "manager"
    assert "nina is now manager at North." in text(root.get("/g/main/admin/users"))
    [event] = audit_events("user.granted")
    assert event.garage_id == north and event.username == "root"
    r = post_form(root, "/g/main/admin/grants", {"username": "nina", "garage": "north", "role": "none"},
                  htmx=True, page="/g/main/admin/users")
    assert r.status_code == 200 and "nina no longer works at North." in text(r)
    assert role_at("nina", north) is None
    assert post_form(root, "/g/main/admin/grants", {"username": "nina", "garage": "nowhere", "role": "manager"},
                     page="/g/main/admin/users").status_code == 404
    # A garage's manager has no such form, and may not post it.
    assert soup(boss.get("/g/main/admin/users")).select_one("form.grant") is None
    r = post_form(boss, "/g/main/admin/grants", {"username": "nina", "garage": "north", "role": "manager"}, page="/g/main/admin/users")
    assert r.status_code == 403 and role_at("nina", north) is None
    # Not "at other garages": a change at their own garage is refused as well, and told so.
    assert "Only an admin may grant or change roles" in text(r)
    r = post_form(boss, "/g/main/admin/grants", {"username": "nina", "garage": "main", "role": "manager"}, page="/g/main/admin/users")
    assert r.status_code == 403 and "Only an admin may grant or change roles" in text(r) and role_at("nina", 1) == "attendant"


def test_the_staff_page_offers_a_manager_only_the_changes_the_server_takes(app, boss, make_user):
    """An outside walk: a manager saw Deactivate and Reset password on the operator's admin and on
    someone also working elsewhere, and every tap was refused (403). The page offers exactly what
    accounts.may_manage allows; an admin viewing the same page still gets the buttons."""
    from tests.helpers.garages import grant, make_admin, second_garage

    make_admin("root")
    make_user("dave", "attendant")
    make_user("nina", "attendant")
    grant("nina", second_garage(), "attendant")  # also works at north, which boss does not manage

    def buttons(client) -> dict[str, list[str]]:
        return {tr["data-username"]: [b.get_text(strip=True) for b in tr.select("button")]
                for tr in soup(client.get("/g/main/admin/users")).select("#staff tbody tr")}

    shown = buttons(boss)
    assert rows(boss.get("/g/main/admin/users"))["root"][1] == "Operator admin"
    assert shown["dave"] == ["Deactivate", "Reset password"]
    assert shown["root"] == [] and shown["nina"] == [] and shown["boss"] == []
    assert "Also works at another garage" in rows(boss.get("/g/main/admin/users"))["nina"][4]
    # What is hidden is what the server refuses, and what is shown it takes.
    for name in ("root", "nina"):
        assert post_form(boss, f"/g/main/admin/users/{name}/deactivate", page="/g/main/admin/users").status_code == 403
    assert post_form(boss, "/g/main/admin/users/dave/deactivate", page="/g/main/admin/users").status_code == 303
    assert buttons(boss)["dave"] == ["Reactivate"]

    make_admin("ops")
    root = app.test_client()
    assert sign_in(root, "root").status_code == 303
    shown = buttons(root)
    assert shown["ops"] == shown["nina"] == shown["boss"] == ["Deactivate", "Reset password"]
    assert shown["root"] == []  # yourself: Change password, not here
