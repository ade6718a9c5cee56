from __future__ import annotations

from flask import flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user

from ..domain import clock
from ..domain.errors import DomainError, InvalidInput
from ..domain.locales import FORMAT_LOCALES, LANGUAGES, locale_name
from ..domain.words import N_, _
from .. import i18n
from ..identity import (
    SESSION_ENDED, client_ip, current_actor, end_session, login_redirect, session_secret, start_session,
)
from ..services import accounts
from ..web import next_page
from . import bp

PASSWORD_CHANGED = N_("Your password has been changed.")
PREFERENCES_SAVED = N_("Your language and formats have been saved.")
# /login?reason= (identity.login_redirect): the only messages the sign-in page shows for it.
LOGIN_REASONS = {SESSION_ENDED: N_("Your session ended — sign in again")}
ACCOUNT_NOTICE = "account"  # flash category base.html shows on any page
# Signed in with a one-time password just now: the forced change that follows does not ask for it
# again (it was typed seconds earlier). Kept in this browser's signed session cookie only, as
# [user id, Unix seconds], for PROVEN_SECONDS; start_session clears it (docs/security.md).
ONE_TIME_PROVEN = "one_time_password_proven"
PROVEN_SECONDS = 300


def _now() -> int:
    return int(clock.utcnow().timestamp())


def _just_proved_one_time_password() -> bool:
    """This session signed in with the user's one-time password within PROVEN_SECONDS, and the
    user still has to change it. An ordinary change always asks for the current password."""
    proven = session.get(ONE_TIME_PROVEN)
    if not (current_user.is_authenticated and current_user.must_change_password
            and isinstance(proven, list) and len(proven) == 2 and all(isinstance(v, int) for v in proven)):
        return False
    user_id, at = proven
    return user_id == current_user.id and 0 <= _now() - at <= PROVEN_SECONDS


def _reason(key: str):
    return _(LOGIN_REASONS[key]) if key in LOGIN_REASONS else None


@bp.route("/login", methods=["GET", "POST"])
def login():
    next_url = next_page(request.values.get("next"))
    if request.method != "POST":  # GET, and Werkzeug's HEAD: never a sign-in (CSRF checks only POST)
        if current_user.is_authenticated:
            return redirect(next_url or url_for("meta.home"))
        return render_template("auth/login.html", next=next_url, error=None, username="",
                               reason=_reason(request.args.get("reason", "")))
    username = request.form.get("username") or ""
    password = request.form.get("password") or ""
    try:
        user = accounts.sign_in(username, password, client_ip())
    except DomainError as exc:
        return (render_template("auth/login.html", next=next_url, username=username.strip()[:64], error=exc.message),
                exc.status)
    start_session(user)
    if user.must_change_password:
        session[ONE_TIME_PROVEN] = [user.id, _now()]
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
        return login_redirect()  # as every page: htmx told to load it, an ended session said so, the query kept
    next_url = next_page(request.values.get("next"))
    ask_current = not _just_proved_one_time_password()
    if request.method != "POST":  # GET and HEAD: never a change (CSRF checks only POST)
        return render_template("auth/password.html", next=next_url, errors={}, ask_current=ask_current)
    errors: dict[str, str] = {}
    current = request.form.get("current_password") or ""
    new = request.form.get("new_password") or ""
    confirm = request.form.get("confirm_password") or ""
    if ask_current and not current_user.check_password(current):
        errors["current_password"] = _("That is not your current password.")
    elif new != confirm:
        errors["confirm_password"] = _("The two new passwords differ.")
    elif new == current or (not ask_current and current_user.check_password(new)):
        errors["new_password"] = _("Choose a password different from the current one.")
    else:
        try:
            user = current_user._get_current_object()
            accounts.change_password(user, new, current_actor(), keep_signed_in=True)
            start_session(user)  # every session of the user ended: this browser gets a new one
        except InvalidInput as exc:
            errors["new_password"] = exc.message
    if errors:
        return render_template("auth/password.html", next=next_url, errors=errors, ask_current=ask_current), 422
    flash(i18n.translated(_(PASSWORD_CHANGED)), ACCOUNT_NOTICE)  # shown once, on whichever page comes next (base.html)
    return redirect(next_url or url_for("meta.home"), code=303)


def _account_page(status: int = 200, **context):
    user = current_user._get_current_object()
    context.setdefault("form", {"language": user.language or "", "locale": user.locale or ""})
    context.setdefault("errors", {})
    return render_template("auth/account.html", languages=LANGUAGES, example_day=clock.utcnow(),
                           locales=[(code, locale_name(code)) for code in FORMAT_LOCALES], **context), status


@bp.route("/account", methods=["GET", "POST"])
def account():
    """The person's own language and formats ("" each: the garage's); their password is a link away."""
    if not current_user.is_authenticated:
        return login_redirect()
    if request.method != "POST":  # GET and HEAD: never a change (CSRF checks only POST)
        return _account_page()
    form = {name: (request.form.get(name) or "").strip()[:16] for name in ("language", "locale")}
    try:
        accounts.set_preferences(current_user._get_current_object(), form["language"], form["locale"],
                                 current_actor())
    except InvalidInput as exc:
        return _account_page(422, form=form, errors={exc.field or "language": exc.message})
    g.pop("language", None)  # the notice is read in the language just chosen
    g.pop("format_locale", None)
    flash(i18n.translated(_(PREFERENCES_SAVED)), ACCOUNT_NOTICE)
    return redirect(url_for("auth.account"), code=303)
