"""Several garages in one line each (issue 17): a second garage, a person's role there, an admin.
Inside the test's app context (the `app` fixture)."""
from __future__ import annotations

from garage.identity import Actor
from garage.models import User
from garage.services import accounts, garages
from tests.helpers.web import PASSWORD

CLI = Actor.system("cli")


def second_garage(slug: str = "north", name: str = "North", spaces: int = 3, timezone: str = "UTC") -> int:
    """A new garage (as the command line creates it); its id."""
    return garages.create_garage(CLI, slug, name, spaces, timezone).id


def grant(username: str, garage_id: int, role: str = "manager") -> None:
    """Give an existing person `role` at the garage."""
    garages.grant(CLI, username, garage_id, role)


def make_admin(username: str = "root", password: str = PASSWORD) -> User:
    """An operator-wide admin (a manager at every garage)."""
    return accounts.create_user(username, password, "admin", CLI, allow_admin=True)
