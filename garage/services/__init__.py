"""Use cases: each public function is one transaction (commit or rollback)."""
from __future__ import annotations

from typing import Iterable

from markupsafe import escape

from ..domain.words import Text


class Listed(Text):
    """Messages told together, each in the reader's language: "a; b" (not a sentence built of
    pieces: a list of separate messages, each marked on its own)."""

    def __new__(cls, parts: Iterable[str], sep: str = "; ") -> "Listed":
        parts = list(parts)
        self = str.__new__(cls, sep.join(str.__str__(p) for p in parts))
        self.msgid, self.plural, self.n, self.params = str.__str__(self), None, None, {}
        self.parts, self.sep = parts, sep
        return self

    def translated(self) -> str:
        return self.sep.join(p.translated() if isinstance(p, Text) else str.__str__(p) for p in self.parts)

    def __html__(self) -> str:
        return str(escape(self.sep)).join(p.__html__() if isinstance(p, Text) else str(escape(p))
                                          for p in self.parts)


def listed(parts: Iterable[str], sep: str = "; ") -> Listed:
    """`parts` (Text messages, or data) joined by `sep`, translated part by part where shown."""
    return Listed(parts, sep)
