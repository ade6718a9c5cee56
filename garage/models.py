"""Database models (typed SQLAlchemy 2). Table and column names follow the seed."""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .domain.amendments import DEFAULT_VOID_WINDOW_MINUTES, MAX_VOID_WINDOW_MINUTES
from .domain.clock import utcnow
from .domain.garage_settings import ADDRESS_MAX, TAX_ID_MAX
from .domain.garages import DEFAULT_GARAGE_NAME
from .domain.occupancy import DEFAULT_ALMOST_FULL_PERCENT
from .domain.pricing import DEFAULT_HOURLY_RATE_CENTS, LOST_REPLACE, MAX_RULE_TEXT, Tariff
from .domain import rate_periods as period_rules
from .domain.tax import MAX_RATE_BP
from .domain.roles import ROLE_ADMIN, ROLE_MANAGER
from .domain.tickets import STATUS_ACTIVE
from .extensions import db


class UTCDateTime(sa.types.TypeDecorator):
    """timestamptz on PostgreSQL; on SQLite (no tz type) values are stored as
    UTC and given their UTC tzinfo back when read."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


ACTIVE = sa.text("status = 'active'")
HAS_EXIT = sa.text("exit_time IS NOT NULL")
HAS_SHIFT = sa.text("shift_id IS NOT NULL")
SHIFT_OPEN = sa.text("closed_at IS NULL")
# A sum of payments (migration 0021): bigint on PostgreSQL; SQLite's INTEGER already holds 64 bits, and
# its columns were created INTEGER, so the model says so there (the migrations test compares both).
WIDE_MONEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
PERMIT_INSIDE = sa.text("status = 'active' AND permit_id IS NOT NULL")


class User(UserMixin, db.Model):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    # The operator-wide role: 'admin' (every garage, with a manager's powers and more) or None.
    # What a person may do at one garage is their grant there (GarageGrant, migration 0007).
    role: Mapped[str | None] = mapped_column(sa.String(16))
    active: Mapped[bool] = mapped_column(default=True)
    must_change_password: Mapped[bool] = mapped_column(default=False)
    # The person's own language and formats (issue 22, garage/i18n.py); None: the garage's.
    language: Mapped[str | None] = mapped_column(sa.String(8))
    locale: Mapped[str | None] = mapped_column(sa.String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.CheckConstraint("role IS NULL OR role = 'admin'", name="ck_users_role"),)

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method=current_app.config.get("PASSWORD_HASH", "scrypt"))

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    # The secret of the session this object was signed in or loaded with (not a column; see
    # UserSession): Flask-Login's id, kept in the signed cookie.
    session_secret = None

    def get_id(self) -> str:
        """Flask-Login session id: this sign-in's secret (identity.load_user finds its
        user_sessions row). Ending the row ends the session, whatever the cookie says."""
        if not self.session_secret:
            raise RuntimeError("a user is signed in through identity.start_session, with a session secret")
        return self.session_secret

    @property
    def is_active(self) -> bool:  # Flask-Login: a deactivated user is signed out at once
        return bool(self.active)

    # The garage this request works for and the role there (not columns: set by
    # identity.load_user for a signed-in user; see identity.current_garage).
    garage_id = None
    garage_role = None
    garage_count = 0  # garages the person manages (identity.load_user)

    @property
    def is_admin(self) -> bool:
        return self.role == ROLE_ADMIN

    @property
    def is_manager(self) -> bool:
        """A manager at the garage this request works for (an admin is one everywhere)."""
        return self.garage_role == ROLE_MANAGER

    @property
    def sees_portfolio(self) -> bool:
        """/portfolio is for admins and for people who manage two garages or more."""
        return self.is_admin or (self.garage_count or 0) >= 2


class UserSession(db.Model):
    """One row per signed-in browser: the server's half of a session cookie. Sign-out
    deletes this session's row; deactivation, a password reset or change delete the
    user's rows. Only the secret's SHA-256 is stored (like an API token's), so a copy of
    the table opens no session. last_seen_at is refreshed at most every few minutes
    (identity.TOUCH_SECONDS) and lets abandoned rows be pruned."""

    __tablename__ = "user_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class SignInThrottle(db.Model):
    """Failed sign-ins of one key ("user:<name>" or "ip:<address>") in the current series,
    counted and decided by one conditional upsert (garage/persistence), so the limit holds
    across workers. Times are Unix seconds: the statement does its arithmetic on integers
    the same way on every database."""

    __tablename__ = "sign_in_throttle"
    key: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    failures: Mapped[int]
    started_at: Mapped[int] = mapped_column(sa.BigInteger)  # first failure of the series
    next_at: Mapped[int] = mapped_column(sa.BigInteger)  # no attempt is checked before this


class ApiToken(db.Model):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user: Mapped[User] = relationship()


class GarageGrant(db.Model):
    """What one person may do at one garage: 'manager' or 'attendant' (an admin needs none)."""

    __tablename__ = "garage_grants"
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    garage_id: Mapped[int] = mapped_column(sa.ForeignKey("garages.id"), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(sa.String(16))

    __table_args__ = (sa.CheckConstraint("role IN ('attendant', 'manager')", name="ck_garage_grants_role"),)


class ApiTokenGarage(db.Model):
    """A token's scope: the garages it may act at (with its owner's role there, if any)."""

    __tablename__ = "api_token_garages"
    token_id: Mapped[int] = mapped_column(sa.ForeignKey("api_tokens.id"), primary_key=True)
    garage_id: Mapped[int] = mapped_column(sa.ForeignKey("garages.id"), primary_key=True, index=True)


class Ticket(db.Model):
    __tablename__ = "tickets"
    id: Mapped[int] = mapped_column(primary_key=True)
    garage_id: Mapped[int] = mapped_column(sa.ForeignKey("garages.id"))
    ticket_number: Mapped[str] = mapped_column(sa.String(16))
    license_plate: Mapped[str] = mapped_column(sa.String(40))
    plate_key: Mapped[str] = mapped_column(sa.String(12))
    vehicle_type: Mapped[str] = mapped_column(sa.String(32))
    entry_time: Mapped[datetime] = mapped_column(UTCDateTime)
    exit_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_minutes: Mapped[int | None]
    amount_paid: Mapped[int | None]  # cents
    status: Mapped[str] = mapped_column(sa.String(16), default=STATUS_ACTIVE)
    payment_method: Mapped[str | None] = mapped_column(sa.String(32))
    # Closed without the paper ticket; the lost-ticket fee charged (part of amount_paid).
    lost: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    lost_fee_cents: Mapped[int | None]
    # Drawn from garages.receipt_seq by the exit's own statement: gap-free, one per
    # payment (NULL while active, and for tickets paid before migration 0005).
    receipt_number: Mapped[int | None] = mapped_column(sa.Integer)
    # The tax rate in force when it was paid (basis points; 0: none): a receipt printed
    # again later shows the tax of the day it was paid (garage/domain/tax.py).
    tax_rate_bp: Mapped[int | None] = mapped_column(sa.Integer)
    # Whether that tax was added to the price (else included): kept as the rate is (issue 22).
    tax_added: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Latest of entry and exit: the activity feed's order, kept indexable.
    last_event_at: Mapped[datetime] = mapped_column(UTCDateTime)
    issued_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # The payer's shift the payment was taken in (migration 0009): written by the exit's own
    # statement, only while that shift is open; NULL for an active ticket and where none was open.
    shift_id: Mapped[int | None] = mapped_column(sa.ForeignKey("shifts.id", name="fk_tickets_shift_id"))
    # Given back of amount_paid so far (the refunds table has each refund; migration 0010): raised by
    # one conditional UPDATE per refund, so two refunds together can never exceed the payment.
    refunded_cents: Mapped[int] = mapped_column(default=0, server_default="0")
    # A voided ticket (status 'voided', issued by mistake): why; exit_time is when it was voided
    # (its space was freed then) and closed_by_id who voided it. amount_paid stays NULL.
    void_reason: Mapped[str | None] = mapped_column(sa.String(500))
    # Merchant validations on it (ticket_validations rows: migration 0012), counted here so that an
    # exit of an unvalidated ticket reads nothing more, and the exit's write can require the count it
    # priced with; and what they took off the fee at the payment (part of the fee, not of amount_paid).
    validations: Mapped[int] = mapped_column(default=0, server_default="0")
    discount_cents: Mapped[int] = mapped_column(default=0, server_default="0")
    # A permit ticket (migration 0014): the permit its car entered on, in the permit holders' pool
    # (garages.occupied_permit) until it leaves; NULL for a visitor. At most one active per permit.
    permit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("permits.id", name="fk_tickets_permit_id"))
    # The rule that produced the time fee ("Night rate", "Standard rate": pricing.Quote.rule), written
    # by the exit's own statement (migration 0013): a receipt printed later shows it. NULL: active, or
    # paid before rate periods.
    price_rule: Mapped[str | None] = mapped_column(sa.String(MAX_RULE_TEXT))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    issued_by: Mapped[User | None] = relationship(foreign_keys=[issued_by_id])
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])

    __table_args__ = (
        sa.CheckConstraint("status IN ('active', 'completed', 'voided')", name="ck_tickets_status"),
        sa.CheckConstraint("refunded_cents >= 0 AND refunded_cents <= COALESCE(amount_paid, 0)",
                           name="ck_tickets_refunded"),
        # Every key and lookup leads with the garage (migration 0007): each rule holds per garage,
        # and one garage's queries read only its own index entries.
        # Ticket numbers are unique per garage.
        sa.Index("uq_tickets_garage_number", "garage_id", "ticket_number", unique=True),
        # One active ticket per plate in each garage, enforced by the database.
        sa.Index("uq_tickets_active_plate", "garage_id", "plate_key", unique=True,
                 postgresql_where=ACTIVE, sqlite_where=ACTIVE),
        sa.Index("ix_tickets_active_entry", "garage_id", "entry_time", postgresql_where=ACTIVE, sqlite_where=ACTIVE),
        # Completed tickets only: every range query on exit_time implies one; amount and stay
        # ride along so that today's figures need no table page (migration 0003).
        sa.Index("ix_tickets_exit_time", "garage_id", "exit_time", "amount_paid", "duration_minutes",
                 postgresql_where=HAS_EXIT, sqlite_where=HAS_EXIT),
        sa.Index("ix_tickets_entry_time", "garage_id", "entry_time"),
        # Every ticket of a plate, newest last: the desk's lookup by plate finds a departed
        # car's latest ticket (migration 0006).
        sa.Index("ix_tickets_plate_latest", "garage_id", "plate_key", "entry_time"),
        sa.Index("ix_tickets_last_event_at", "garage_id", "last_event_at"),
        # Receipt numbers: gap-free per garage (garages.receipt_seq).
        sa.Index("uq_tickets_receipt_number", "garage_id", "receipt_number", unique=True),
        # A shift's payments: its X report and the close's expected cash (migration 0009).
        sa.Index("ix_tickets_shift", "garage_id", "shift_id", postgresql_where=HAS_SHIFT, sqlite_where=HAS_SHIFT),
        # Anti-passback (issue 19): one car of a permit inside at a time, enforced by the database.
        sa.Index("uq_tickets_permit_inside", "permit_id", unique=True,
                 postgresql_where=PERMIT_INSIDE, sqlite_where=PERMIT_INSIDE),
    )


class Garage(db.Model):
    """One garage: its name and address, settings, pricing, and its occupancy counter and receipt
    sequence (each garage's own row: its entries and exits lock no other garage's). Id 1 is the
    default garage (the one a single-garage deployment has had since before migration 0007)."""

    __tablename__ = "garages"
    id: Mapped[int] = mapped_column(primary_key=True)
    # In URLs (stage 2) and on the command line; the rule is garage/domain/garages.py.
    slug: Mapped[str] = mapped_column(sa.String(40), unique=True)
    total_spaces: Mapped[int] = mapped_column(default=140)
    hourly_rate: Mapped[int] = mapped_column(default=DEFAULT_HOURLY_RATE_CENTS)  # cents
    timezone: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    garage_name: Mapped[str] = mapped_column(sa.String(80), default=DEFAULT_GARAGE_NAME)
    # On receipts: the address (lines joined by "\n"), the tax rate in basis points
    # (prices include it; 0: no tax line) and the tax/VAT id ("" : none).
    garage_address: Mapped[str] = mapped_column(sa.String(ADDRESS_MAX), default="", server_default="")
    tax_rate_bp: Mapped[int] = mapped_column(default=0, server_default="0")
    tax_id: Mapped[str] = mapped_column(sa.String(TAX_ID_MAX), default="", server_default="")
    # The last receipt number drawn: the exit adds one in the statement that frees the
    # space (the same row, already locked by it), so numbers have no gaps and no repeats.
    receipt_seq: Mapped[int] = mapped_column(default=0, server_default="0")
    # Moved by every write that changes what the garage's reports show, in that write's transaction
    # (services/rollups.touched says which): the key a rendered report is kept under (reports/cache.py).
    report_revision: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    almost_full_percent: Mapped[int] = mapped_column(default=DEFAULT_ALMOST_FULL_PERCENT)
    # Pricing rules (garage/domain/pricing.py); the defaults keep "rate per started hour".
    grace_minutes: Mapped[int] = mapped_column(default=0, server_default="0")
    daily_max_cents: Mapped[int | None]  # None: no daily maximum
    lost_ticket_fee_cents: Mapped[int] = mapped_column(default=0, server_default="0")  # 0: none
    lost_ticket_mode: Mapped[str] = mapped_column(sa.String(8), default=LOST_REPLACE,
                                                  server_default=LOST_REPLACE)
    # Payments need the payer's open shift (issue 18): True for garages created from
    # services.garages.create_garage on; False for garages before migration 0009 and for the
    # default garage of a new deployment (the API's seed flow and the quick start keep working).
    payments_require_shift: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # An attendant may void a ticket issued by mistake this many minutes after its entry (0: never);
    # later only a manager (garage/domain/amendments.py).
    void_window_minutes: Mapped[int] = mapped_column(default=DEFAULT_VOID_WINDOW_MINUTES,
                                                     server_default=str(DEFAULT_VOID_WINDOW_MINUTES))
    # Rate periods (issue 19, migration 0013): JSON text checked by garage/domain/rate_periods.py when
    # saved (on this row: the exit's one statement reads them with it), and how a price is chosen
    # among the candidates: "lowest" (the driver pays the lowest) or "first" (the first listed).
    rate_periods: Mapped[str] = mapped_column(sa.Text, default="[]", server_default="[]")
    pricing_choice: Mapped[str] = mapped_column(sa.String(8), default=period_rules.LOWEST,
                                                server_default=period_rules.LOWEST)
    # Cars inside, maintained in the same transaction as every entry and exit;
    # the conditional UPDATE on it is what enforces capacity under concurrency.
    occupied: Mapped[int] = mapped_column(default=0)
    # Reserved spaces (issue 19, migration 0014): this many of total_spaces are kept for permit
    # holders; occupied_permit counts the permit cars among `occupied` (the entry's and the exit's
    # statements keep it, like occupied). permit_policy: a plate whose permit is not valid now enters
    # as a 'visitor' or is 'refuse'd (garage/domain/permits.py).
    reserved_spaces: Mapped[int] = mapped_column(default=0, server_default="0")
    occupied_permit: Mapped[int] = mapped_column(default=0, server_default="0")
    permit_policy: Mapped[str] = mapped_column(sa.String(8), default="visitor", server_default="visitor")
    permit_max_plates: Mapped[int] = mapped_column(default=5, server_default="5")  # plates per permit here
    # Outside the US (issue 22, migration 0015): the currency (ISO 4217; amounts are its minor units),
    # the locale its pages write amounts, dates and numbers in, its default language ("": the
    # browser's) and the lobby's second language ("": none), the company on receipts ("": its name),
    # and whether tax is added to prices (else they include it; garage/domain/tax.py).
    currency: Mapped[str] = mapped_column(sa.String(3), default="USD", server_default="USD")
    locale: Mapped[str] = mapped_column(sa.String(16), default="en_US", server_default="en_US")
    language: Mapped[str] = mapped_column(sa.String(8), default="", server_default="")
    lobby_language: Mapped[str] = mapped_column(sa.String(8), default="", server_default="")
    legal_name: Mapped[str] = mapped_column(sa.String(120), default="", server_default="")
    tax_added: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        sa.CheckConstraint("occupied >= 0", name="ck_settings_occupied_nonneg"),
        sa.CheckConstraint("occupied <= total_spaces", name="ck_settings_occupied_capacity"),
        sa.CheckConstraint("total_spaces >= 1", name="ck_settings_total_positive"),
        sa.CheckConstraint("hourly_rate >= 0", name="ck_settings_rate_nonneg"),
        sa.CheckConstraint("grace_minutes >= 0", name="ck_settings_grace_nonneg"),
        sa.CheckConstraint("daily_max_cents IS NULL OR daily_max_cents > 0", name="ck_settings_daily_max_pos"),
        sa.CheckConstraint("lost_ticket_fee_cents >= 0", name="ck_settings_lost_fee_nonneg"),
        sa.CheckConstraint("lost_ticket_mode IN ('replace', 'add')", name="ck_settings_lost_mode"),
        sa.CheckConstraint(f"tax_rate_bp >= 0 AND tax_rate_bp <= {MAX_RATE_BP}", name="ck_settings_tax_rate"),
        sa.CheckConstraint("receipt_seq >= 0", name="ck_settings_receipt_seq_nonneg"),
        sa.CheckConstraint(f"void_window_minutes >= 0 AND void_window_minutes <= {MAX_VOID_WINDOW_MINUTES}",
                           name="ck_garages_void_window"),
        sa.CheckConstraint("reserved_spaces >= 0 AND reserved_spaces <= total_spaces", name="ck_garages_reserved"),
        sa.CheckConstraint("occupied_permit >= 0 AND occupied_permit <= occupied", name="ck_garages_occupied_permit"),
        sa.CheckConstraint("permit_policy IN ('visitor', 'refuse')", name="ck_garages_permit_policy"),
        sa.CheckConstraint("permit_max_plates >= 1 AND permit_max_plates <= 10", name="ck_garages_permit_max_plates"),
        sa.CheckConstraint("pricing_choice IN ('lowest', 'first')", name="ck_garages_pricing_choice"),
        sa.CheckConstraint("length(currency) = 3", name="ck_garages_currency"),
    )

    def tariff(self, vehicle_rates: dict[str, int] | None = None) -> Tariff:
        """The pricing rules; ``vehicle_rates``: the vehicle_rates table as {type: cents}."""
        return Tariff(hourly_rate_cents=self.hourly_rate, grace_minutes=self.grace_minutes or 0,
                      daily_max_cents=self.daily_max_cents,
                      vehicle_rates=tuple((vehicle_rates or {}).items()),
                      lost_ticket_fee_cents=self.lost_ticket_fee_cents or 0,
                      lost_ticket_mode=self.lost_ticket_mode or LOST_REPLACE,
                      periods=period_rules.loads(self.rate_periods), choice=self.pricing_choice or period_rules.LOWEST,
                      timezone=self.timezone or "UTC", tax_rate_bp=self.tax_rate_bp or 0,
                      tax_added=bool(self.tax_added))


class Shift(db.Model):
    """An attendant's shift at one garage and its cash drawer (garage/domain/shifts.py): opened
    with a float; closed with the counted cash (a total, or per denomination: JSON text
    {"cents": pieces}), the expected cash and the over/short computed then. One open shift per
    person per garage (partial unique index). Reopening or adjusting is an audited event."""

    __tablename__ = "shifts"
    id: Mapped[int] = mapped_column(primary_key=True)
    garage_id: Mapped[int] = mapped_column(sa.ForeignKey("garages.id"))
    opened_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    float_cents: Mapped[int]
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    counted_cash_cents: Mapped[int | None] = mapped_column(WIDE_MONEY)
    counted_by_denomination: Mapped[str | None] = mapped_column(sa.Text)
    expected_cash_cents: Mapped[int | None] = mapped_column(WIDE_MONEY)  # sums of payments (and the count): 64-bit
    over_short_cents: Mapped[int | None] = mapped_column(WIDE_MONEY)

    opened_by: Mapped[User] = relationship(foreign_keys=[opened_by_id])
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])

    __table_args__ = (
        sa.CheckConstraint("float_cents >= 0", name="ck_shifts_float_nonneg"),
        sa.CheckConstraint("counted_cash_cents IS NULL OR counted_cash_cents >= 0", name="ck_shifts_counted_nonneg"),
        sa.CheckConstraint("(closed_at IS NULL) = (counted_cash_cents IS NULL)", name="ck_shifts_closed_counted"),
        sa.Index("uq_shifts_open_per_person", "garage_id", "opened_by_id", unique=True,
                 postgresql_where=SHIFT_OPEN, sqlite_where=SHIFT_OPEN),
        sa.Index("ix_shifts_garage_opened", "garage_id", "opened_at"),
    )


class Refund(db.Model):
    """Money given back of one payment (issue 18): part or all of it, in the payment's own method,
    by a manager with a reason. In the refunder's open shift at the garage, if any (a cash refund
    leaves that drawer: the close's expected cash subtracts it). Append-only, like the audit log;
    tickets.refunded_cents is the running total the database checks against amount_paid."""

    __tablename__ = "refunds"
    id: Mapped[int] = mapped_column(primary_key=True)
    garage_id: Mapped[int] = mapped_column(sa.ForeignKey("garages.id"))
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id"), index=True)
    amount_cents: Mapped[int]
    payment_method: Mapped[str] = mapped_column(sa.String(32))
    reason: Mapped[str] = mapped_column(sa.String(500))
    refunded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    refunded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    shift_id: Mapped[int | None] = mapped_column(sa.ForeignKey("shifts.id"))

    ticket: Mapped[Ticket] = relationship()
    refunded_by: Mapped[User | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint("amount_cents > 0", name="ck_refunds_amount_pos"),
        sa.Index("ix_refunds_garage_at", "garage_id", "refunded_at"),
        sa.Index("ix_refunds_shift", "garage_id", "shift_id", postgresql_where=HAS_SHIFT, sqlite_where=HAS_SHIFT),
    )


class DailyClose(db.Model):
    """A garage's local day closed by a manager (issue 18): the day's figures as they stood then (JSON
    text, garage/services/closes.py), kept. Later corrections to that day are shown against it as
    after-close adjustments, never written into it. One close per garage and local day."""

    __tablename__ = "daily_closes"
    id: Mapped[int] = mapped_column(primary_key=True)
    garage_id: Mapped[int] = mapped_column(sa.ForeignKey("garages.id"))
    day: Mapped[date] = mapped_column(sa.Date)
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    figures: Mapped[str] = mapped_column(sa.Text)

    closed_by: Mapped[User | None] = relationship()

    __table_args__ = (sa.Index("uq_daily_closes_garage_day", "garage_id", "day", unique=True),)


class ValidationProgram(db.Model):
    """A merchant validation program of one garage (issue 18; the rules: garage/domain/validations.py):
    what it gives (kind and value), when (local dates, inclusive; NULL: open-ended), an optional cap
    on the tickets it validates (used_count, raised by one conditional UPDATE per validation: the
    database checks it), and whether it stacks with other validations on one ticket."""

    __tablename__ = "validation_programs"
    id: Mapped[int] = mapped_column(primary_key=True)
    garage_id: Mapped[int] = mapped_column(sa.ForeignKey("garages.id"))
    name: Mapped[str] = mapped_column(sa.String(80))
    merchant: Mapped[str] = mapped_column(sa.String(80), default="", server_default="")
    kind: Mapped[str] = mapped_column(sa.String(16))
    value: Mapped[int]  # minutes, cents or percent, by kind
    valid_from: Mapped[date | None] = mapped_column(sa.Date)
    valid_until: Mapped[date | None] = mapped_column(sa.Date)
    usage_cap: Mapped[int | None]
    used_count: Mapped[int] = mapped_column(default=0, server_default="0")
    stacks: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("kind IN ('free_minutes', 'flat_price', 'amount_off', 'percent_off')",
                           name="ck_validation_programs_kind"),
        sa.CheckConstraint("value > 0", name="ck_validation_programs_value"),
        sa.CheckConstraint("usage_cap IS NULL OR used_count <= usage_cap", name="ck_validation_programs_cap"),
        sa.Index("uq_validation_programs_garage_name", "garage_id", "name", unique=True),
    )


class ValidationCode(db.Model):
    """A code of a program that a merchant hands out (printed, or as a barcode): single-use (the
    database keeps used_count at most 1) or reusable; unique per garage, stored as its key (letters
    and digits, upper case: domain.validations.code_key)."""

    __tablename__ = "validation_codes"
    id: Mapped[int] = mapped_column(primary_key=True)
    garage_id: Mapped[int] = mapped_column(sa.ForeignKey("garages.id"))
    program_id: Mapped[int] = mapped_column(sa.ForeignKey("validation_programs.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(40))
    reusable: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    used_count: Mapped[int] = mapped_column(default=0, server_default="0")

    __table_args__ = (
        sa.CheckConstraint("reusable OR used_count <= 1", name="ck_validation_codes_single_use"),
        sa.Index("uq_validation_codes_garage_code", "garage_id", "code", unique=True),
    )


class TicketValidation(db.Model):
    """A validation on a ticket (a merchant's stamp), by the code given; what it took off the fee is
    written by the exit's own statement (NULL until the ticket is paid). One per program per ticket."""

    __tablename__ = "ticket_validations"
    id: Mapped[int] = mapped_column(primary_key=True)
    garage_id: Mapped[int] = mapped_column(sa.ForeignKey("garages.id"))
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id"))
    program_id: Mapped[int] = mapped_column(sa.ForeignKey("validation_programs.id"))
    code_id: Mapped[int] = mapped_column(sa.ForeignKey("validation_codes.id"))
    discount_cents: Mapped[int | None]
    validated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    validated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    __table_args__ = (
        sa.Index("uq_ticket_validations_ticket_program", "ticket_id", "program_id", unique=True),
        sa.Index("ix_ticket_validations_program", "garage_id", "program_id"),
    )


class Permit(db.Model):
    """A monthly permit (season pass) at one garage (issue 19; rules garage/domain/permits.py):
    its holder, validity (local days, both included), the price of its latest sale and its status
    ('active' or 'suspended'; expired is an active permit past valid_until). Its plates are
    permit_plates rows; its sales and renewals permit_payments rows."""

    __tablename__ = "permits"
    id: Mapped[int] = mapped_column(primary_key=True)
    garage_id: Mapped[int] = mapped_column(sa.ForeignKey("garages.id"), index=True)
    holder: Mapped[str] = mapped_column(sa.String(80))
    contact: Mapped[str] = mapped_column(sa.String(120), default="", server_default="")
    status: Mapped[str] = mapped_column(sa.String(16), default="active")
    valid_from: Mapped[date] = mapped_column(sa.Date)
    valid_until: Mapped[date] = mapped_column(sa.Date)
    price_cents: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    plates: Mapped[list["PermitPlate"]] = relationship(order_by="PermitPlate.id", cascade="all, delete-orphan")

    __table_args__ = (
        sa.CheckConstraint("status IN ('active', 'suspended')", name="ck_permits_status"),
        sa.CheckConstraint("valid_until >= valid_from", name="ck_permits_period"),
        sa.CheckConstraint("price_cents >= 0", name="ck_permits_price"),
    )


class PermitPlate(db.Model):
    """A plate of a permit; a plate is on at most one permit of a garage (uq_permit_plates_garage_key)."""

    __tablename__ = "permit_plates"
    id: Mapped[int] = mapped_column(primary_key=True)
    garage_id: Mapped[int] = mapped_column(sa.ForeignKey("garages.id"))
    permit_id: Mapped[int] = mapped_column(sa.ForeignKey("permits.id"), index=True)
    license_plate: Mapped[str] = mapped_column(sa.String(40))
    plate_key: Mapped[str] = mapped_column(sa.String(12))

    __table_args__ = (sa.Index("uq_permit_plates_garage_key", "garage_id", "plate_key", unique=True),)


class PermitPayment(db.Model):
    """A permit's sale or renewal: revenue, with its payment method, in the taker's open shift at the
    garage if any (a cash one counts in that drawer's expected cash)."""

    __tablename__ = "permit_payments"
    id: Mapped[int] = mapped_column(primary_key=True)
    garage_id: Mapped[int] = mapped_column(sa.ForeignKey("garages.id"))
    permit_id: Mapped[int] = mapped_column(sa.ForeignKey("permits.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(8))  # 'sale' | 'renewal'
    amount_cents: Mapped[int]
    payment_method: Mapped[str] = mapped_column(sa.String(32))
    period_from: Mapped[date] = mapped_column(sa.Date)
    period_until: Mapped[date] = mapped_column(sa.Date)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    taken_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    shift_id: Mapped[int | None] = mapped_column(sa.ForeignKey("shifts.id"))

    __table_args__ = (
        sa.CheckConstraint("kind IN ('sale', 'renewal')", name="ck_permit_payments_kind"),
        sa.CheckConstraint("amount_cents >= 0", name="ck_permit_payments_amount"),
        sa.Index("ix_permit_payments_taken", "garage_id", "taken_at"),
    )


class VehicleRate(db.Model):
    """An hourly rate for one vehicle type at one garage; types without a row pay the garage's
    default rate. A table rather than a JSON column: the database keeps each rate an integer,
    non-negative, and at most one per type and garage, exactly like the default rate."""

    __tablename__ = "vehicle_rates"
    garage_id: Mapped[int] = mapped_column(sa.ForeignKey("garages.id"), primary_key=True)
    vehicle_type: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    hourly_rate: Mapped[int]  # cents

    __table_args__ = (sa.CheckConstraint("hourly_rate >= 0", name="ck_vehicle_rates_nonneg"),)


class AuditEvent(db.Model):
    """Append-only: the app only ever inserts here."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # The garage it happened at; None for operator-level events (a user or a garage created).
    garage_id: Mapped[int | None] = mapped_column(sa.ForeignKey("garages.id"))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    username: Mapped[str | None] = mapped_column(sa.String(64))
    action: Mapped[str] = mapped_column(sa.String(40), index=True)
    object_type: Mapped[str | None] = mapped_column(sa.String(40))
    object_id: Mapped[str | None] = mapped_column(sa.String(64))
    ip: Mapped[str | None] = mapped_column(sa.String(64))
    details: Mapped[dict | None] = mapped_column(sa.JSON)

    __table_args__ = (sa.Index("ix_audit_log_garage_at", "garage_id", "at"),)


# --- report rollups (issue 21) -----------------------------------------------------------------
# What the report pages read for a garage's complete local days instead of its ticket rows: built by
# garage/services/rollups.py (an idempotent catch-up: whole days recomputed from the source rows and
# replaced), read by garage/services/reports.py. A day is rolled up when its report_days row is not
# dirty and names the garage's timezone of now; its hours, stays and breakdowns are replaced with it.

class ReportDay(db.Model):
    """One garage's local day as the reports count it (services.reports.SummaryParts): the marker that
    the day is rolled up (`dirty` False, `timezone` the garage's) and the day's summary figures."""

    __tablename__ = "report_days"
    garage_id: Mapped[int] = mapped_column(sa.ForeignKey("garages.id"), primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    timezone: Mapped[str] = mapped_column(sa.String(64))  # the local days of this timezone
    dirty: Mapped[bool] = mapped_column(default=True)  # True: to be (re)built from the ticket rows
    built_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    entries: Mapped[int] = mapped_column(default=0)
    departures: Mapped[int] = mapped_column(default=0)  # every ticket with its exit time in the day
    exits: Mapped[int] = mapped_column(default=0)  # of them, those paid (count(amount_paid))
    revenue_cents: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    lost_tickets: Mapped[int] = mapped_column(default=0)
    lost_fee_cents: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    permit_exits: Mapped[int] = mapped_column(default=0)
    permit_free_exits: Mapped[int] = mapped_column(default=0)
    refunds: Mapped[int] = mapped_column(default=0)
    refunded_cents: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    permit_sales: Mapped[int] = mapped_column(default=0)
    permit_sales_cents: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    # The day's report row without its hours (migration 0018; domain.figures.DayOccupancy): its exits'
    # minutes, its peak occupancy and its car-seconds, both counted from the cars inside at its start.
    stay_minutes: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    peak_running: Mapped[int | None]
    occupancy_seconds: Mapped[float] = mapped_column(sa.Double, default=0.0, server_default="0")


class ReportHour(db.Model):
    """One real hour of a rolled-up day, with or without events (domain.figures.HourEvents and the exits'
    sums); `max_running` counts from the day's start (the report shifts it to its period's), as does
    `average_offset` (the hour's average occupancy less the cars inside at the day's start);
    `hour_of_week`: the local weekday (Monday 0) × 24 + the local hour (migration 0018)."""

    __tablename__ = "report_hours"
    garage_id: Mapped[int] = mapped_column(sa.ForeignKey("garages.id"), primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    hour_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    entries: Mapped[int] = mapped_column(default=0)
    exits: Mapped[int] = mapped_column(default=0)
    voids: Mapped[int] = mapped_column(default=0)
    signed_seconds: Mapped[float] = mapped_column(sa.Double, default=0.0)
    max_running: Mapped[int | None]
    first_seconds: Mapped[float | None] = mapped_column(sa.Double)
    revenue_cents: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    stay_minutes: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    lost_tickets: Mapped[int] = mapped_column(default=0)
    lost_fee_cents: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    refunded_cents: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    hour_of_week: Mapped[int | None] = mapped_column(sa.SmallInteger)
    average_offset: Mapped[float] = mapped_column(sa.Double, default=0.0, server_default="0")


class ReportStay(db.Model):
    """How many tickets that left in a rolled-up day stayed exactly so many minutes (the median's input)."""

    __tablename__ = "report_stays"
    garage_id: Mapped[int] = mapped_column(sa.ForeignKey("garages.id"), primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    duration_minutes: Mapped[int] = mapped_column(primary_key=True)
    tickets: Mapped[int]


class ReportMonth(db.Model):
    """A calendar month of rolled-up days whose stays and breakdowns are added up (report_month_stays,
    report_month_breakdowns; migration 0018): once every one of its days is built in `timezone`, and
    again with any of them rebuilt (garage/persistence/rollups.py `replace`)."""

    __tablename__ = "report_months"
    garage_id: Mapped[int] = mapped_column(sa.ForeignKey("garages.id"), primary_key=True)
    month: Mapped[date] = mapped_column(sa.Date, primary_key=True)  # its first day
    timezone: Mapped[str] = mapped_column(sa.String(64))


class ReportMonthStay(db.Model):
    """report_stays of a ReportMonth's days added up: a year's median stay from ~15,000 rows, not ~200,000."""

    __tablename__ = "report_month_stays"
    garage_id: Mapped[int] = mapped_column(sa.ForeignKey("garages.id"), primary_key=True)
    month: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    duration_minutes: Mapped[int] = mapped_column(primary_key=True)
    tickets: Mapped[int]


class BreakdownFigures:
    """Paid exits by payment method, vehicle type and who closed them (a day's or a month's)."""

    payment_method: Mapped[str | None] = mapped_column(sa.String(32))
    vehicle_type: Mapped[str | None] = mapped_column(sa.String(32))
    closed_by_id: Mapped[int | None]  # no foreign key: a name read with the report, as the live path does
    exits: Mapped[int]
    revenue_cents: Mapped[int] = mapped_column(sa.BigInteger)


class ReportBreakdown(BreakdownFigures, db.Model):
    """A rolled-up day's paid exits by payment method, vehicle type and who closed them."""

    __tablename__ = "report_breakdowns"
    id: Mapped[int] = mapped_column(primary_key=True)
    garage_id: Mapped[int] = mapped_column(sa.ForeignKey("garages.id"))
    day: Mapped[date] = mapped_column(sa.Date)

    __table_args__ = (sa.Index("ix_report_breakdowns_garage_day", "garage_id", "day"),)


class ReportMonthBreakdown(BreakdownFigures, db.Model):
    """report_breakdowns of a ReportMonth's days added up (migration 0018)."""

    __tablename__ = "report_month_breakdowns"
    id: Mapped[int] = mapped_column(primary_key=True)
    garage_id: Mapped[int] = mapped_column(sa.ForeignKey("garages.id"))
    month: Mapped[date] = mapped_column(sa.Date)

    __table_args__ = (sa.Index("ix_report_month_breakdowns_garage_month", "garage_id", "month"),)


class IdempotencyKey(db.Model):
    """The answer kept for an API client's Idempotency-Key (issue 20, garage/domain/idempotency.py): one
    per garage, caller (the token's owner) and key, written in the same transaction as the ticket or the
    payment it answers (garage/services/idempotency.py), so neither exists without the other. Only a
    hash of the request is kept, and the answer's status and JSON body as sent. Rows older than
    IDEMPOTENCY_TTL_HOURS are dead: ignored, replaced by a new use of the key, and deleted by
    `flask --app garage purge-idempotency`. No foreign keys: a row is a day's memory of an answer, and
    creating them would lock `garages`, which every entry updates (migration 0016)."""

    __tablename__ = "idempotency_keys"
    garage_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    key: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[int] = mapped_column(sa.SmallInteger)
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class KeptReport(db.Model):
    """A report page's section as drawn (issue 21, garage/reports/cache.py), shared by every worker and
    instance: one per garage and key digest (the key holds the garage's report revision and the UTC
    minute, so a row serves only that minute and revision; the rows of earlier minutes are deleted when
    the garage's next report is kept). Kept beside the data it describes, so a restore or a failover
    keeps the two consistent. No foreign keys, as idempotency_keys: creating a row would lock `garages`,
    which every entry updates (migration 0020)."""

    __tablename__ = "kept_reports"
    garage_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    digest: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    minute: Mapped[int] = mapped_column(sa.BigInteger)
    body: Mapped[str] = mapped_column(sa.Text)
