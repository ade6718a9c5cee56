"""Use cases: each public function is one transaction (commit or rollback)."""
from __future__ import annotations

from ..domain.words import Listed, listed  # noqa: F401  (messages told together: garage/domain/words.py)
