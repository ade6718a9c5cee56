"""Operator commands: flask --app garage (init | verify | purge-idempotency | garages ... | users ... | tokens ...)."""
from __future__ import annotations

import secrets
import sys

import click
import sqlalchemy as sa
from flask import Flask

from .domain.errors import DomainError
from .domain.garages import DEFAULT_GARAGE_ID
from .domain.roles import ACCOUNT_ROLES, ROLE_ADMIN, ROLES
from .extensions import db
from .models import ApiToken, Garage, GarageGrant, User
from .services import accounts, garages as garage_service, idempotency, verification
from .identity import Actor
from .services.settings import ensure_settings

CLI = Actor.system("cli")


def _fail(exc: DomainError) -> None:
    raise click.ClickException(exc.message)


def bootstrap_admin() -> str | None:
    """Create the operator admin `admin` with a random one-time password when there is
    neither an admin nor a manager anywhere."""
    has_manager = db.session.scalar(
        sa.select(User.id).where(User.role == ROLE_ADMIN).limit(1)) or db.session.scalar(
        sa.select(GarageGrant.user_id).where(GarageGrant.role == "manager").limit(1))
    if has_manager is not None:
        return None
    if db.session.scalar(sa.select(User.id).where(User.username == "admin")) is not None:
        return None
    password = secrets.token_urlsafe(12)
    accounts.create_user("admin", password, ROLE_ADMIN, CLI, must_change_password=True, allow_admin=True)
    return password


def _garage_id(slug: str | None) -> int:
    """The garage a command names (--garage SLUG), else the default garage."""
    if slug is None:
        return DEFAULT_GARAGE_ID
    try:
        return garage_service.find_garage(slug).id
    except DomainError as exc:
        _fail(exc)
        raise  # not reached


def register(app: Flask) -> None:
    @app.cli.command("init")
    def init_command() -> None:
        """Create default settings and, if no manager exists, the first admin."""
        ensure_settings()
        password = bootstrap_admin()
        if password:
            click.echo("=" * 64)
            click.echo("First run: created the admin account 'admin' (every garage, staff and settings).")
            click.echo(f"One-time password: {password}")
            click.echo("Sign in at /login; you will be asked to choose a new password.")
            click.echo("This password is shown only once.")
            click.echo("=" * 64)

    @app.cli.command("verify")
    @click.option("--repair-counter", is_flag=True,
                  help="First set the occupancy counter to the cars inside (audited).")
    @click.option("--garage", "slug", help="Only this garage (default: every garage).")
    def verify_command(repair_counter: bool, slug: str | None) -> None:
        """Check the data's invariants of every garage (after a restore): exit status 1 if any fails."""
        every = verification.garages() or [(DEFAULT_GARAGE_ID, None)]
        chosen = [(garage_id, name) for garage_id, name in every if slug is None or name == slug]
        if not chosen:
            raise click.ClickException(f"No garage {slug!r}")
        several = len(every) > 1
        failed = total = 0
        for garage_id, name in chosen:
            where = f"[{name}] " if several else ""
            if repair_counter:
                try:
                    repair = verification.repair_counter(garage_id, CLI)
                except DomainError as exc:
                    _fail(exc)
                if repair.before == repair.after:
                    click.echo(f"{where}Counter already equals the cars inside ({repair.after}): nothing changed")
                else:
                    click.echo(f"{where}Counter repaired: {repair.before} -> {repair.after} (the cars inside)")
                if repair.permit_before != repair.permit_after:
                    click.echo(f"{where}Permit counter repaired: {repair.permit_before} -> {repair.permit_after} "
                               "(the permit cars inside)")
            results = verification.check(garage_id)
            for result in results:
                click.echo(f"{where}{'OK  ' if result.ok else 'FAIL'}  {result.name}: {result.detail}")
            failed += sum(not result.ok for result in results)
            total += len(results)
        if failed:
            click.echo(f"{failed} of {total} checks failed", err=True)
            sys.exit(1)
        click.echo(f"All {total} checks passed")

    @app.cli.command("purge-idempotency")
    def purge_idempotency_command() -> None:
        """Delete the API's expired Idempotency-Keys (older than IDEMPOTENCY_TTL_HOURS): run it daily."""
        click.echo(f"Deleted {idempotency.purge()} expired idempotency keys")

    garages = click.Group("garages", help="Garages (each with its own spaces, prices and staff).")
    users = click.Group("users", help="Staff accounts.")
    tokens = click.Group("tokens", help="API tokens (Authorization: Bearer ...).")
    app.cli.add_command(garages)
    app.cli.add_command(users)
    app.cli.add_command(tokens)

    @garages.command("create")
    @click.argument("slug")
    @click.option("--name", required=True, help="The name shown on pages and receipts.")
    @click.option("--spaces", type=int, required=True, help="Total parking spaces.")
    @click.option("--timezone", default="UTC", show_default=True, help="IANA time zone, e.g. Europe/Berlin.")
    def garages_create(slug: str, name: str, spaces: int, timezone: str) -> None:
        try:
            garage = garage_service.create_garage(CLI, slug, name, spaces, timezone)
        except DomainError as exc:
            _fail(exc)
        click.echo(f"Created garage {garage.slug} ({garage.garage_name}, {garage.total_spaces} spaces, "
                   f"{garage.timezone})")

    @garages.command("list")
    def garages_list() -> None:
        for garage in garage_service.list_garages(CLI):
            click.echo(f"{garage.slug:<24} {garage.garage_name:<32} {garage.occupied}/{garage.total_spaces} "
                       f"{garage.timezone}")

    @users.command("create")
    @click.argument("username")
    @click.option("--role", type=click.Choice(ACCOUNT_ROLES), required=True)
    @click.option("--garage", "slug", help="The garage of a manager or attendant (default: the default garage).")
    @click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
    def users_create(username: str, role: str, slug: str | None, password_stdin: bool) -> None:
        if role == ROLE_ADMIN and slug is not None:
            raise click.ClickException("An admin works at every garage: no --garage")
        garage_id = _garage_id(slug)
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        try:
            user = accounts.create_user(username, password, role, CLI, garage_id=garage_id, allow_admin=True)
        except DomainError as exc:
            _fail(exc)
        click.echo(f"Created {role} {user.username}" + (f" at {slug}" if slug else ""))

    @users.command("grant")
    @click.argument("username")
    @click.option("--garage", "slug", required=True)
    @click.option("--role", type=click.Choice(ROLES), required=True)
    def users_grant(username: str, slug: str, role: str) -> None:
        try:
            garage_service.grant(CLI, username, _garage_id(slug), role)
        except DomainError as exc:
            _fail(exc)
        click.echo(f"{username} is now {role} at {slug}")

    @users.command("deactivate")
    @click.argument("username")
    def users_deactivate(username: str) -> None:
        try:
            accounts.set_active(username, False, CLI)
        except DomainError as exc:
            _fail(exc)
        click.echo(f"Deactivated {username}; their sessions and tokens stop working now.")

    @users.command("list")
    def users_list() -> None:
        grants: dict[int, list[tuple[str, str]]] = {}
        for user_id, slug, role in db.session.execute(
                sa.select(GarageGrant.user_id, Garage.slug, GarageGrant.role)
                .join(Garage, Garage.id == GarageGrant.garage_id).order_by(Garage.id)):
            grants.setdefault(user_id, []).append((slug, role))
        several = len(garage_service.list_garages(CLI)) > 1  # one garage: the role alone, as before
        for user in db.session.scalars(sa.select(User).order_by(User.username)):
            state = "active" if user.active else "deactivated"
            held = [f"{role}@{slug}" if several else role for slug, role in grants.get(user.id, [])]
            roles = ROLE_ADMIN if user.is_admin else (",".join(held) or "-")
            click.echo(f"{user.username:<24} {roles:<10} {state}")

    @tokens.command("create")
    @click.argument("username")
    @click.option("--garage", "slugs", multiple=True,
                  help="A garage the token may act at (repeat for several; default: every garage its owner "
                       "holds a grant at; an admin's: the default garage).")
    def tokens_create(username: str, slugs: tuple[str, ...]) -> None:
        garage_ids = [_garage_id(slug) for slug in slugs] or None
        try:
            token, secret = accounts.create_token(username, CLI, garage_ids)
        except DomainError as exc:
            _fail(exc)
        click.echo(f"Token {token.id} for {username} (shown once, store it now):")
        click.echo(secret)

    @tokens.command("revoke")
    @click.argument("token_id", type=int)
    def tokens_revoke(token_id: int) -> None:
        try:
            accounts.revoke_token(token_id, CLI)
        except DomainError as exc:
            _fail(exc)
        click.echo(f"Revoked token {token_id}")

    @tokens.command("list")
    def tokens_list() -> None:
        rows = db.session.execute(sa.select(ApiToken, User.username).join(User).order_by(ApiToken.id))
        for token, username in rows:
            state = "revoked" if token.revoked_at else "active"
            click.echo(f"{token.id:<6} {username:<24} {token.prefix}…  {state}")
