"""A second garage, a grant there, a token scoped to some garages: each in one line (inside the
test's app context; the `second_garage` fixture in tests/conftest.py is `add_garage("north")`)."""
from __future__ import annotations

from garage.identity import Actor
from garage.services import accounts, garages

OPERATOR = Actor.system("tests")  # the command line's caller: may create garages and grant anywhere


def add_garage(slug: str = "north", spaces: int = 3, name: str | None = None, timezone: str = "UTC") -> int:
    """A new garage (default prices and rules); its id."""
    return garages.create_garage(OPERATOR, slug, name or slug.title(), spaces, timezone).id


def grant(username: str, garage_id: int, role: str = "attendant") -> None:
    garages.grant(OPERATOR, username, garage_id, role)


def revoke(username: str, garage_id: int) -> None:
    garages.revoke(OPERATOR, username, garage_id)


def bearer(username: str, garage_ids: list[int] | None = None) -> dict[str, str]:
    """Headers with a new token of `username`, scoped to `garage_ids` (None: every garage of its owner)."""
    return {"Authorization": f"Bearer {accounts.create_token(username, OPERATOR, garage_ids)[1]}"}
