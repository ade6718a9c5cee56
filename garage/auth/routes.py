from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..domain.errors import DomainError, InvalidInput
from ..identity import client_ip, current_actor, end_session, session_secret, start_session
from ..services import accounts
from ..web import safe_next
from . import bp

PASSWORD_CHANGED = "Your password has been changed."
ACCOUNT_NOTICE = "account"  # flash category base.html shows on any page

@bp.route("/login", methods=["GET", "POST"])
def login():
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(next_url or url_for("meta.home"))
        return render_template("auth/login.html", next=next_url, error=None, username="")
    username = request.form.get("username") or ""
    password = request.form.get("password") or ""
    try:
        user = accounts.sign_in(username, password, client_ip())
    except DomainError as exc:
        return (render_template("auth/login.html", next=next_url, username=username.strip()[:64], error=exc.message),
                exc.status)
    start_session(user)
    if user.must_change_password:
        return redirect(url_for("auth.change_password", next=next_url), code=303)
    return redirect(next_url or url_for("meta.home"), code=303)


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        accounts.sign_out(current_actor(), session_secret())  # this browser only
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
            accounts.change_password(user, new, current_actor(), keep_signed_in=True)
            start_session(user)  # every session of the user ended: this browser gets a new one
        except InvalidInput as exc:
            errors["new_password"] = exc.message
    if errors:
        return render_template("auth/password.html", next=next_url, errors=errors), 422
    flash(PASSWORD_CHANGED, ACCOUNT_NOTICE)  # shown once, on whichever page comes next (base.html)
    return redirect(next_url or url_for("meta.home"), code=303)
