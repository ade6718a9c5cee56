"""Staff roles: what a user account (and so its API tokens) may do."""
from __future__ import annotations

ROLE_ATTENDANT = "attendant"  # the desk: entries, exits, payments
ROLE_MANAGER = "manager"      # everything an attendant does, plus settings, reports, staff and audit
ROLES: tuple[str, ...] = (ROLE_ATTENDANT, ROLE_MANAGER)
