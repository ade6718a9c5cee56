"""Errors the rules raise; the web layers map them to HTTP statuses."""
from __future__ import annotations

from typing import Any

from .money import MAX_PAYMENT_MINOR, format_money
from .words import _


class DomainError(Exception):
    status = 400

    def __init__(self, message: str, field: str | None = None) -> None:
        """`message`: a Text (garage/domain/words.py `_`), English, translated where a page shows it;
        show `exc.message`, never `str(exc)` (the English)."""
        super().__init__(message)
        self.message = message
        self.field = field


class Unauthenticated(DomainError):
    status = 401

    def __init__(self, message: str = _("Authentication required: send Authorization: Bearer <token>")) -> None:
        super().__init__(message)


class Forbidden(DomainError):
    status = 403

    def __init__(self, message: str = _("Your role does not allow this")) -> None:
        super().__init__(message)


class TooManyAttempts(DomainError):
    status = 429


class Malformed(DomainError):
    """A request no form of ours sends (a control character in a field): 400, nothing read."""
    status = 400


class InvalidInput(DomainError):
    status = 422


class NotFound(DomainError):
    status = 404


class NoSuchGarage(NotFound):
    """A garage the caller may not act at answers as one that does not exist (never reveal it)."""

    def __init__(self) -> None:
        super().__init__(_("No such garage"), field="garage")


class SeveralGarages(DomainError):
    """An API token of several garages called a path that names none: it must choose (400)."""

    def __init__(self, slugs: list[str]) -> None:
        super().__init__(_("This token works at several garages: use /api/garages/<slug>/... (%(slugs)s)",
                           slugs=", ".join(slugs)))
        self.slugs = slugs


class Conflict(DomainError):
    status = 409


class GarageFull(Conflict):
    def __init__(self, message: str = _("Garage is full")) -> None:
        super().__init__(message, field="licensePlate")


class PermitRefused(Conflict):
    """The plate's permit does not admit the car now and the garage refuses such cars (issue 19)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="licensePlate")


class AlreadyInside(Conflict):
    """The plate already has an active ticket (one car per plate): `inside`, when known."""

    def __init__(self, message: str, inside: Any = None) -> None:
        super().__init__(message, field="licensePlate")
        self.inside = inside


class ScannedTicket(Conflict):
    """What was entered as a plate is the number of one of the garage's tickets (a ticket scanned into the
    plate field): `number`. The API refuses it (409); the desk looks the ticket up instead."""

    def __init__(self, message: str, number: str) -> None:
        super().__init__(message, field="licensePlate")
        self.number = number


class AlreadyProcessed(Conflict):
    def __init__(self) -> None:
        super().__init__(_("Ticket has already been processed"))


class CorrectedMeanwhile(Conflict):
    """The ticket's vehicle type was corrected, or a validation given, between the exit's read and its
    write: the fee read is not the fee of the ticket now (nothing charged; look it up and quote again)."""

    def __init__(self) -> None:
        super().__init__(_("This ticket was corrected or validated meanwhile: look it up and quote again"))


class FeeTooLarge(Conflict):
    """A fee above what one payment records (money.MAX_PAYMENT_MINOR: a car left for years at a high
    rate): nothing is charged, the ticket stays open, and a manager may void it."""

    def __init__(self, fee_cents: int, currency: str | None = None) -> None:
        super().__init__(_("This fee (%(fee)s) is more than one payment can record (%(most)s); nothing was "
                           "taken. A manager can void the ticket.",
                           fee=format_money(fee_cents, currency), most=format_money(MAX_PAYMENT_MINOR, currency)))


class QuoteChanged(Conflict):
    """The fee moved (an hour boundary passed) between quote and payment. `currency`: the ticket's garage's
    (an API caller's garage is known from its token only inside the exit's statement: the request's own
    context then said USD, and a JPY amount read as cents)."""

    def __init__(self, quoted_cents: int, current_cents: int, currency: str | None = None) -> None:
        super().__init__(_("The amount due changed from %(quoted)s to %(current)s; confirm the new amount",
                           quoted=format_money(quoted_cents, currency), current=format_money(current_cents, currency)))
        self.quoted_cents = quoted_cents
        self.current_cents = current_cents
