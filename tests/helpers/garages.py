"""A second garage and grants in one line each (issue 17): `second_garage(...)` creates a garage
(as the command line would) and returns its id; `person(...)` creates a person with a role at each
garage named (and none elsewhere)."""
from __future__ import annotations

from garage.domain.garages import DEFAULT_GARAGE_ID
from garage.identity import Actor
from garage.services import accounts, garages

CLI = Actor.system("cli")
PASSWORD = "correct horse battery"


def second_garage(slug: str = "north", name: str = "North", spaces: int = 3, timezone: str = "UTC") -> int:
    """A new garage (the default prices and rules); its id."""
    return garages.create_garage(CLI, slug, name, spaces, timezone).id


def person(username: str, roles: dict[int, str]) -> None:
    """`username` with `roles` ({garage id: "attendant" | "manager"}) and no grant elsewhere."""
    first, *_ = roles.values()
    accounts.create_user(username, PASSWORD, first, CLI, garage_id=DEFAULT_GARAGE_ID)
    if DEFAULT_GARAGE_ID not in roles:
        garages.revoke(CLI, username, DEFAULT_GARAGE_ID)
    for garage_id, role in roles.items():
        garages.grant(CLI, username, garage_id, role)
