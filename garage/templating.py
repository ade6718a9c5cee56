"""What every template may use, registered once by the app factory
(``create_app`` calls :func:`install`):

- ``dollars(cents)``: money as "$1,234.50" (garage.domain.money);
- ``available_endpoints``: the app's view functions, for links to optional pages;
- ``rates``: the current pricing rules, one line each, for
  ``{% include "settings/_rates.html" %}`` (a view passing its own ``rates`` wins);
- the ticket status and staff role constants (and the plate's length), so templates compare against
  ``STATUS_ACTIVE`` or ``ROLE_MANAGER`` instead of string literals.

Blueprint-specific helpers stay with their blueprint (``desk_helpers`` in desk/routes.py)."""
from __future__ import annotations

from typing import Any, Iterator

from flask import Flask

from .domain.money import format_dollars
from .domain.pricing import describe
from .domain.roles import ROLE_ATTENDANT, ROLE_MANAGER
from .domain.tickets import PLATE_TYPED_MAX, STATUS_ACTIVE, STATUS_COMPLETED
from .services import settings as settings_service


class _Rates:
    """The current rules as lines, read from the database only if a template
    actually shows them (so pages without the panel cost no query)."""

    def __init__(self) -> None:
        self._lines: list[str] | None = None

    def _load(self) -> list[str]:
        if self._lines is None:
            self._lines = describe(settings_service.current_tariff())
        return self._lines

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())

    def __bool__(self) -> bool:
        return bool(self._load())


def current_rates() -> dict[str, Any]:
    """`rates` for {% include "settings/_rates.html" %} in any template: a fresh,
    lazy reader for each render."""
    return {"rates": _Rates()}


def install(app: Flask) -> None:
    app.jinja_env.globals.update(
        dollars=format_dollars, available_endpoints=app.view_functions,
        STATUS_ACTIVE=STATUS_ACTIVE, STATUS_COMPLETED=STATUS_COMPLETED,
        ROLE_ATTENDANT=ROLE_ATTENDANT, ROLE_MANAGER=ROLE_MANAGER, PLATE_TYPED_MAX=PLATE_TYPED_MAX,
    )
    app.context_processor(current_rates)
