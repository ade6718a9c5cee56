"""Staff roles: what a user account (and so its API tokens) may do."""
from __future__ import annotations

ROLE_ATTENDANT = "attendant"  # the desk: entries, exits, payments
ROLE_MANAGER = "manager"      # everything an attendant does, plus settings, reports, staff and audit
ROLES: tuple[str, ...] = (ROLE_ATTENDANT, ROLE_MANAGER)

# Operator-wide (users.role): every garage, with a manager's powers there, and the operator's own
# tasks (creating garages, granting staff anywhere). Not a per-garage role: nobody is granted it.
ROLE_ADMIN = "admin"
ACCOUNT_ROLES: tuple[str, ...] = (ROLE_ADMIN, *ROLES)  # what `users create --role` takes
