"""The sign-in throttle's policy (OWASP Authentication Cheat Sheet, "Login Throttling"):
plain numbers; garage/persistence counts and decides atomically, garage/services/accounts.py
applies it.

- **Per account, with backoff**: the first ACCOUNT.free failed sign-ins for a name cost
  nothing; after that the name waits 1 minute before its next attempt is checked, and each
  further failure doubles the wait, up to 15 minutes. A successful sign-in clears it, and a
  series is forgotten an hour after it started. One person's typos lock only their own name.
- **Per address, much higher**: ADDRESS_FAILURES failed sign-ins from one address within
  15 minutes (successes give theirs back) stop further attempts from it for 15 minutes:
  password spraying (one password tried on many names) is stopped, while booth tablets
  sharing one public address are not locked out by each other's typos.
"""
from __future__ import annotations

from dataclasses import dataclass
from math import ceil

from .words import Text, n_

MINUTE = 60


@dataclass(frozen=True)
class Limit:
    """Failures counted for one key (a name or an address)."""

    free: int            # failures without any wait
    first_wait: int      # seconds to wait after failure number `free`
    max_wait: int        # the wait doubles per further failure, up to this
    window: int          # seconds: a series of failures is forgotten this long after it started

    def wait_after(self, failures: int) -> int:
        """Seconds before the next attempt is checked, after `failures` in a series."""
        if failures < self.free:
            return 0
        doublings = min(failures - self.free, 16)
        return min(self.first_wait << doublings, self.max_wait)

    def schedule(self) -> list[tuple[int, int]]:
        """(failures, wait) for every count whose wait is below max_wait, then max_wait for the rest."""
        steps, n = [], self.free
        while self.wait_after(n) < self.max_wait:
            steps.append((n, self.wait_after(n)))
            n += 1
        return steps


ACCOUNT = Limit(free=5, first_wait=MINUTE, max_wait=15 * MINUTE, window=60 * MINUTE)
ADDRESS_FAILURES = 100  # default of SIGN_IN_ADDRESS_FAILURES


def address_limit(failures: int = ADDRESS_FAILURES) -> Limit:
    return Limit(free=failures, first_wait=15 * MINUTE, max_wait=15 * MINUTE, window=15 * MINUTE)


def refused_message(wait_seconds: int) -> Text:
    """What a refused sign-in is told: the same for every name, existing or not."""
    minutes = max(1, ceil(wait_seconds / MINUTE))
    return n_("Too many failed sign-ins. Wait %(num)d minute and try again.",
              "Too many failed sign-ins. Wait %(num)d minutes and try again.", minutes)
