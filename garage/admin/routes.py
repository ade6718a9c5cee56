"""Thin views for /admin/users and /admin/audit (managers only)."""
from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from flask import flash, redirect, request, url_for
from flask_login import current_user

from ..domain.clock import local_day_bounds, to_local
from ..domain.errors import DomainError, InvalidInput
from ..domain.inputs import parse_page
from ..domain.periods import parse_date
from ..domain.roles import ROLE_ATTENDANT
from ..services import accounts
from ..services import audit as audit_service
from ..services import garages as garage_service
from ..services.settings import get_settings
from .. import htmx
from ..htmx import is_htmx
from ..identity import current_garage, current_actor, manager_required
from . import bp
from .present import event_details, moment_text
from .. import i18n
from ..domain.words import N_, _

ACTION_LABELS = {
    "auth.login": N_("Signed in"),
    "auth.login_failed": N_("Sign-in failed"),
    "auth.logout": N_("Signed out"),
    "ticket.issued": N_("Ticket issued"),
    "ticket.paid": N_("Exit paid"),
    "settings.changed": N_("Settings changed"),
    "user.created": N_("User created"),
    "user.deactivated": N_("User deactivated"),
    "user.activated": N_("User reactivated"),
    "user.password_changed": N_("Password changed"),
    "user.password_reset": N_("Password reset"),
    "token.created": N_("API token created"),
    "token.revoked": N_("API token revoked"),
    "user.granted": N_("Role granted"),
    "user.revoked": N_("Role taken away"),
    "garage.created": N_("Garage created"),
    "occupancy.repaired": N_("Occupancy repaired"),
    "shift.opened": N_("Shift opened"),
    "shift.closed": N_("Shift closed"),
    "shift.reopened": N_("Shift reopened"),
    "shift.adjusted": N_("Shift adjusted"),
    "ticket.corrected": N_("Ticket corrected"),
    "ticket.voided": N_("Ticket voided"),
    "ticket.refunded": N_("Refund given"),
    "day.closed": N_("Day closed"),
    "ticket.validated": N_("Ticket validated"),
    "validation.program_created": N_("Validation program created"),
    "permit.created": N_("Permit created"),
    "permit.updated": N_("Permit changed"),
    "permit.renewed": N_("Permit renewed"),
    "user.preferences_changed": N_("Language and formats changed"),
}
PER_PAGE = 50


def action_label(action: str) -> str:
    """An action in words (the reader's language); an action of no label (an old row) from its name."""
    if action in ACTION_LABELS:
        return _(ACTION_LABELS[action])
    return action.replace(".", " ").replace("_", " ").capitalize()


def _local_time(tz: str):
    return lambda moment: moment_text(moment, tz)


def _local_day(tz: str):
    return lambda moment: i18n.format_date(to_local(moment, tz), "yMMMd")


# --- staff ------------------------------------------------------------------------------

def _staff(status: int = 200, **context: Any):
    context.setdefault("form", {})
    context.setdefault("errors", {})
    users = accounts.list_users(current_garage())
    return htmx.page_or_fragment("admin/users.html", "admin/_staff.html", status,
                                 users=users, manageable=accounts.may_manage(users, current_actor()),
                                 roles=accounts.ROLES,
                                 min_password=accounts.MIN_PASSWORD,
                                 garages=garage_service.list_garages(current_actor()) if current_user.is_admin else [],
                                 local_day=_local_day(get_settings(current_garage()).timezone), **context)


def _done(message: str):
    """After a change: a fresh fragment for htmx, else 303 back to the page (no resubmission)."""
    if is_htmx():
        return _staff(notice=message)
    flash(i18n.translated(message))
    return redirect(url_for("admin.users"), code=303)


@bp.get("/users")
@manager_required
def users():
    return _staff()


@bp.post("/users")
@manager_required
def create_user():
    form = {"username": (request.form.get("username") or "").strip(),
            "role": request.form.get("role") or ROLE_ATTENDANT}
    try:
        # The manager knows this password, so the new user chooses their own at first sign-in.
        user = accounts.create_user(form["username"], request.form.get("password") or "", form["role"],
                                    current_actor(), must_change_password=True, garage_id=current_garage())
    except DomainError as exc:
        return _staff(exc.status, form=form, errors={exc.field or "username": exc.message})
    said = (_("Added manager %(username)s. They choose their own password at first sign-in.", username=user.username)
            if user.garage_role == "manager" else
            _("Added attendant %(username)s. They choose their own password at first sign-in.", username=user.username))
    return _done(said)


def _user_action(username: str, change):
    try:
        message = change(username)
    except DomainError as exc:
        return _staff(exc.status, error=exc.message)
    return _done(message)


@bp.post("/users/<username>/deactivate")
@manager_required
def deactivate(username: str):
    def change(name: str) -> str:
        user = accounts.set_active(name, False, current_actor())
        return _("Deactivated %(username)s: signed out everywhere, API tokens stopped.", username=user.username)

    return _user_action(username, change)


@bp.post("/users/<username>/reactivate")
@manager_required
def reactivate(username: str):
    def change(name: str) -> str:
        return _("Reactivated %(username)s.", username=accounts.set_active(name, True, current_actor()).username)

    return _user_action(username, change)


@bp.post("/users/<username>/reset-password")
@manager_required
def reset_password(username: str):
    try:
        user, password = accounts.reset_password(username, current_actor())
    except DomainError as exc:
        return _staff(exc.status, error=exc.message)
    # Shown in this response only (no redirect): parking it in the session for a 303
    # would put the password in a cookie. The page is sent with Cache-Control: no-store.
    return _staff(reset={"username": user.username, "password": password})


@bp.post("/grants")
@manager_required
def grant():
    """An admin gives a person a role at any garage, or takes it away (role "none")."""
    if not current_user.is_admin:
        return _staff(403, error=_("Only an admin may grant or change roles"))
    username = (request.form.get("username") or "").strip()
    role = request.form.get("role") or ""
    try:
        garage = garage_service.find_garage(request.form.get("garage"))
        if role == "none":
            garage_service.revoke(current_actor(), username, garage.id)
            return _done(_("%(username)s no longer works at %(garage)s.", username=username, garage=garage.garage_name))
        garage_service.grant(current_actor(), username, garage.id, role)
    except DomainError as exc:
        return _staff(exc.status, error=exc.message)
    said = (_("%(username)s is now manager at %(garage)s.", username=username, garage=garage.garage_name)
            if role == "manager" else
            _("%(username)s is now attendant at %(garage)s.", username=username, garage=garage.garage_name))
    return _done(said)


# --- audit log --------------------------------------------------------------------------

def _parse_date(name: str, errors: dict[str, str]) -> date | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return parse_date(raw, name)  # the reports' rule: YYYY-MM-DD, years in range
    except InvalidInput as exc:
        errors[name] = exc.message
        return None


@bp.get("/audit")
@manager_required
def audit():
    tz = get_settings(current_garage()).timezone
    everyone = current_user.is_admin  # every event with no garage; a manager: their people's (audit._at)
    known = audit_service.actions(current_garage(), operator_events=everyone)
    errors: dict[str, str] = {}
    action = (request.args.get("action") or "").strip()
    if action and action not in known:
        errors["action"] = _("Unknown action")
    username = (request.args.get("user") or "").strip()[:64]
    first, last = _parse_date("from", errors), _parse_date("to", errors)
    if first and last and last < first:
        errors["to"] = _("The end date is before the start date")
    page = parse_page(request.args.get("page"))  # 422 "page must be a whole number from 1 to ..."
    filters = {"action": action, "user": username, "from": first.isoformat() if first else "",
               "to": last.isoformat() if last else ""}
    context: dict[str, Any] = dict(filters=filters, errors=errors, actions=known,
                                   label=action_label, event_details=event_details, tz=tz, result=None)
    if errors:
        return htmx.page_or_fragment("admin/audit.html", "admin/_audit_results.html", 422, **context)
    query = audit_service.AuditQuery(
        action=action or None, username=username or None,
        start=local_day_bounds(first, tz)[0] if first else None,
        end=local_day_bounds(last, tz)[1] if last else None)
    result = audit_service.search(current_garage(), query, page, PER_PAGE, operator_events=everyone)
    active = {k: v for k, v in filters.items() if v}

    def page_url(n: int) -> str:
        return url_for("admin.audit") + "?" + urlencode({**active, "page": n})

    context.update(result=result, page_url=page_url, local=_local_time(tz))
    response = htmx.page_or_fragment("admin/audit.html", "admin/_audit_results.html", **context)
    if is_htmx():  # the address bar shows the filters: bookmarkable, Back works
        url = page_url(page) if page > 1 else url_for("admin.audit") + ("?" + urlencode(active) if active else "")
        # Enter in a field sends change and submit: one history entry, not two.
        htmx.push_or_replace_url(response, url)
    return response
