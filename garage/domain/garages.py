"""Garages: what a garage's slug may be, and the default garage.

One deployment serves several garages (issue 17). Each has a slug: lower-case letters, digits
and hyphens, starting with a letter or digit, 1-40 characters (`^[a-z0-9][a-z0-9-]{0,39}$`), used
in URLs and on the command line. The garage a single-garage deployment had before migration 0007
is id 1 with the slug ``main``: a fixed word rather than one made from its name, so that no name
(empty, non-Latin, changed later) makes the migration or the URLs depend on it."""
from __future__ import annotations

import re

from .errors import InvalidInput
from .words import _

DEFAULT_GARAGE_ID = 1
DEFAULT_SLUG = "main"
# The name the first start gives the default garage (a manager renames it in Settings). Not "Garage":
# in the top bar that read as the app's own name. Rows made before keep the name they have.
DEFAULT_GARAGE_NAME = "Main garage"
SLUG_MAX = 40
SLUG_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
SLUG_MESSAGE = _("Use 1-%(max)d lower-case letters, digits and hyphens, starting with a letter or digit "
                "(for example north-2)", max=SLUG_MAX)


def clean_slug(typed: str | None) -> str:
    """The slug as typed, trimmed; InvalidInput (field "slug") unless it follows the rule.
    Nothing is changed for the caller (no lower-casing): a slug is typed as it will be used."""
    slug = (typed or "").strip()
    if not SLUG_PATTERN.fullmatch(slug):
        raise InvalidInput(SLUG_MESSAGE, field="slug")
    return slug
