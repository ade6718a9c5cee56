from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..domain.clock import utcnow
from ..domain.errors import InvalidInput
from ..extensions import db
from ..models import AuditEvent
from ..services import accounts, audit
from ..identity import Actor, client_ip, current_actor, end_session, refresh_session, start_session
from ..web import safe_next
from . import bp

PASSWORD_CHANGED = "Your password has been changed."
ACCOUNT_NOTICE = "account"  # flash category base.html shows on any page

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)


def throttled(username: str, ip: str | None) -> bool:
    """Too many failures for this username or this address in the window.
    Counted from the audit log, so it holds across workers and restarts."""
    since = utcnow() - WINDOW
    failures = sa.select(sa.func.count(AuditEvent.id)).where(
        AuditEvent.action == "auth.login_failed", AuditEvent.at >= since)
    by_name = db.session.scalar(failures.where(AuditEvent.object_id == username))
    by_ip = db.session.scalar(failures.where(AuditEvent.ip == ip)) if ip else 0
    return max(by_name or 0, by_ip or 0) >= MAX_FAILURES


@bp.route("/login", methods=["GET", "POST"])
def login():
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(next_url or url_for("meta.home"))
        return render_template("auth/login.html", next=next_url, error=None, username="")
    username = (request.form.get("username") or "").strip().lower()[:64]
    password = request.form.get("password") or ""
    ip = client_ip()
    if throttled(username, ip):
        return render_template("auth/login.html", next=next_url, username=username,
                               error="Too many failed sign-ins. Wait 15 minutes and try again."), 429
    user = accounts.authenticate(username, password)
    if user is None:
        audit.record(Actor(None, None, ip), "auth.login_failed", "user", username)
        db.session.commit()
        return render_template("auth/login.html", next=next_url, username=username,
                               error="Wrong username or password."), 401
    start_session(user)
    audit.record(Actor(user.id, user.username, ip), "auth.login", "user", user.username)
    db.session.commit()
    if user.must_change_password:
        return redirect(url_for("auth.change_password", next=next_url), code=303)
    return redirect(next_url or url_for("meta.home"), code=303)


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        audit.record(current_actor(), "auth.logout", "user", current_user.username)
        db.session.commit()
    end_session()
    return redirect(url_for("auth.login"), code=303)


@bp.route("/account/password", methods=["GET", "POST"])
def change_password():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.path))
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("auth/password.html", next=next_url, errors={})
    errors: dict[str, str] = {}
    current = request.form.get("current_password") or ""
    new = request.form.get("new_password") or ""
    confirm = request.form.get("confirm_password") or ""
    if not current_user.check_password(current):
        errors["current_password"] = "That is not your current password."
    elif new != confirm:
        errors["confirm_password"] = "The two new passwords differ."
    elif new == current:
        errors["new_password"] = "Choose a password different from the current one."
    else:
        try:
            user = current_user._get_current_object()
            accounts.change_password(user, new, current_actor())
            refresh_session(user)  # the session key follows the password
        except InvalidInput as exc:
            errors["new_password"] = exc.message
    if errors:
        return render_template("auth/password.html", next=next_url, errors=errors), 422
    flash(PASSWORD_CHANGED, ACCOUNT_NOTICE)  # shown once, on whichever page comes next (base.html)
    return redirect(next_url or url_for("meta.home"), code=303)
