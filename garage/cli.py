"""Operator commands: flask --app garage (init | verify | users ... | tokens ...)."""
from __future__ import annotations

import secrets
import sys

import click
import sqlalchemy as sa
from flask import Flask

from .domain.errors import DomainError
from .domain.roles import ROLE_MANAGER, ROLES
from .extensions import db
from .models import ApiToken, User
from .services import accounts, verification
from .identity import Actor
from .services.settings import ensure_settings

CLI = Actor.system("cli")


def _fail(exc: DomainError) -> None:
    raise click.ClickException(exc.message)


def bootstrap_admin() -> str | None:
    """Create `admin` with a random one-time password when no manager exists."""
    has_manager = db.session.scalar(sa.select(User.id).where(User.role == ROLE_MANAGER).limit(1))
    if has_manager is not None:
        return None
    if db.session.scalar(sa.select(User.id).where(User.username == "admin")) is not None:
        return None
    password = secrets.token_urlsafe(12)
    accounts.create_user("admin", password, ROLE_MANAGER, CLI, must_change_password=True)
    return password


def register(app: Flask) -> None:
    @app.cli.command("init")
    def init_command() -> None:
        """Create default settings and, if no manager exists, the first admin."""
        ensure_settings()
        password = bootstrap_admin()
        if password:
            click.echo("=" * 64)
            click.echo("First run: created manager account 'admin'.")
            click.echo(f"One-time password: {password}")
            click.echo("Sign in at /login; you will be asked to choose a new password.")
            click.echo("This password is shown only once.")
            click.echo("=" * 64)

    @app.cli.command("verify")
    @click.option("--repair-counter", is_flag=True,
                  help="First set the occupancy counter to the cars inside (audited).")
    def verify_command(repair_counter: bool) -> None:
        """Check the data's invariants (after a restore): exit status 1 if any fails."""
        if repair_counter:
            try:
                repair = verification.repair_counter(CLI)
            except DomainError as exc:
                _fail(exc)
            if repair.before == repair.after:
                click.echo(f"Counter already equals the cars inside ({repair.after}): nothing changed")
            else:
                click.echo(f"Counter repaired: {repair.before} -> {repair.after} (the cars inside)")
        results = verification.check()
        for result in results:
            click.echo(f"{'OK  ' if result.ok else 'FAIL'}  {result.name}: {result.detail}")
        failed = sum(not result.ok for result in results)
        if failed:
            click.echo(f"{failed} of {len(results)} checks failed", err=True)
            sys.exit(1)
        click.echo(f"All {len(results)} checks passed")

    users = click.Group("users", help="Staff accounts.")
    tokens = click.Group("tokens", help="API tokens (Authorization: Bearer ...).")
    app.cli.add_command(users)
    app.cli.add_command(tokens)

    @users.command("create")
    @click.argument("username")
    @click.option("--role", type=click.Choice(ROLES), required=True)
    @click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
    def users_create(username: str, role: str, password_stdin: bool) -> None:
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        try:
            user = accounts.create_user(username, password, role, CLI)
        except DomainError as exc:
            _fail(exc)
        click.echo(f"Created {user.role} {user.username}")

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
        for user in db.session.scalars(sa.select(User).order_by(User.username)):
            state = "active" if user.active else "deactivated"
            click.echo(f"{user.username:<24} {user.role:<10} {state}")

    @tokens.command("create")
    @click.argument("username")
    def tokens_create(username: str) -> None:
        try:
            token, secret = accounts.create_token(username, CLI)
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
