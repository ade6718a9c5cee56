"""A second garage, a person with grants, a token scoped to some garages: each in one line (issue 17;
inside the test's app context; the `second_garage` fixture in tests/conftest.py is `add_garage("north")`).
Garages and grants are made as the command line makes them."""
from __future__ import annotations

from garage.domain.garages import DEFAULT_GARAGE_ID
from garage.extensions import db
from garage.identity import Actor
from garage.models import User
from garage.services import accounts, garages

OPERATOR = CLI = Actor.system("cli")  # the command line's caller: may create garages and grant anywhere
PASSWORD = "correct horse battery"


def add_garage(slug: str = "north", spaces: int = 3, name: str | None = None, timezone: str = "UTC",
               shifts_required: bool = False) -> int:
    """A new garage (default prices and rules); its id. A garage created so takes payments only in a
    shift (issue 18); the garages' tests pay without one unless `shifts_required` (the shift rule
    has its own tests: tests/db/test_shifts.py, tests/api/test_shifts_api.py)."""
    garage = garages.create_garage(OPERATOR, slug, name or slug.title(), spaces, timezone)
    if not shifts_required:
        garage.payments_require_shift = False
        db.session.commit()
    return garage.id


def second_garage(slug: str = "north", name: str = "North", spaces: int = 3, timezone: str = "UTC") -> int:
    """`add_garage` with the name first (the pages' tests name their garages)."""
    return add_garage(slug, spaces, name, timezone)


def person(username: str, roles: dict[int, str]) -> None:
    """`username` with `roles` ({garage id: "attendant" | "manager"}) and no grant elsewhere."""
    first, *_ = roles.values()
    accounts.create_user(username, PASSWORD, first, OPERATOR, garage_id=DEFAULT_GARAGE_ID)
    if DEFAULT_GARAGE_ID not in roles:
        garages.revoke(OPERATOR, username, DEFAULT_GARAGE_ID)
    for garage_id, role in roles.items():
        garages.grant(OPERATOR, username, garage_id, role)


def grant(username: str, garage_id: int, role: str = "attendant") -> None:
    garages.grant(OPERATOR, username, garage_id, role)


def revoke(username: str, garage_id: int) -> None:
    garages.revoke(OPERATOR, username, garage_id)


def bearer(username: str, garage_ids: list[int] | None = None) -> dict[str, str]:
    """Headers with a new token of `username`, scoped to `garage_ids` (None: every garage of its owner)."""
    return {"Authorization": f"Bearer {accounts.create_token(username, OPERATOR, garage_ids)[1]}"}


def make_admin(username: str = "root", password: str = PASSWORD) -> User:
    """An operator-wide admin (a manager at every garage)."""
    return accounts.create_user(username, password, "admin", OPERATOR, allow_admin=True)
