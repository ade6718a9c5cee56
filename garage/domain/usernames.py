"""What a username is: the one rule for creating, finding and signing in as a user.

A name is normalised before anything else (Unicode NFKC, then lower case, surrounding
spaces dropped), so ``ＢＯＳＳ``, ``Boss`` and ``boss`` are one name, and then must be
1-64 of the ASCII characters ``a-z 0-9 . _ -``. Look-alikes (``１２３``, ``²``, Cyrillic
``а``) therefore never become a *different* account: they either normalise to the ASCII
name or are refused."""
from __future__ import annotations

import re
import unicodedata

from .errors import InvalidInput
from .words import _

MAX_LENGTH = 64
_VALID = re.compile(r"[a-z0-9._-]{1,64}")
MESSAGE = _("Usernames are 1-%(max)d letters, digits, dots, dashes or underscores: a-z 0-9 . - _", max=MAX_LENGTH)


def normalise(raw: str | None) -> str:
    """The canonical form of what someone typed (not yet checked)."""
    return unicodedata.normalize("NFKC", raw or "").strip().lower()


def is_valid(name: str) -> bool:
    return _VALID.fullmatch(name) is not None


def clean_username(raw: str | None) -> str:
    """The name to store for a new user, or InvalidInput (field "username")."""
    name = normalise(raw)
    if not is_valid(name):
        raise InvalidInput(MESSAGE, field="username")
    return name


def lookup_key(raw: str | None) -> str | None:
    """The name to look a user up by, or None when no user can have it (then nothing is
    looked up). Names stored before the character set existed may be non-ASCII: they are
    still found, as long as the name could have been stored (no control characters)."""
    name = normalise(raw)
    if not name or len(name) > MAX_LENGTH:
        return None
    if is_valid(name):
        return name
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in name):
        return None
    return name


def for_display(raw: str | None) -> str:
    """What someone typed, fit to record or show (normalised, no control characters, at most 64)."""
    return "".join(c for c in normalise(raw) if c.isprintable())[:MAX_LENGTH]
