"""Staff roles: what a user account (and so its API tokens) may do."""
from __future__ import annotations

from .words import N_

ROLE_ATTENDANT = "attendant"  # the desk: entries, exits, payments
ROLE_MANAGER = "manager"      # everything an attendant does, plus settings, reports, staff and audit
ROLES: tuple[str, ...] = (ROLE_ATTENDANT, ROLE_MANAGER)

# Operator-wide (users.role): every garage, with a manager's powers there, and the operator's own
# tasks (creating garages, granting staff anywhere). Not a per-garage role: nobody is granted it.
ROLE_ADMIN = "admin"
ACCOUNT_ROLES: tuple[str, ...] = (ROLE_ADMIN, *ROLES)  # what `users create --role` takes

# What a page shows for a role (the stored value stays the key): {{ _(ROLE_LABELS[role]) }}.
ROLE_LABELS: dict[str, str] = {ROLE_ATTENDANT: N_("Attendant"), ROLE_MANAGER: N_("Manager"),
                               ROLE_ADMIN: N_("Operator admin")}
