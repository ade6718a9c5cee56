"""What every template may use, registered once by the app factory
(``create_app`` calls :func:`install`):

- ``money(minor_units)``: an amount as people read it in the garage's currency and the reader's locale,
  "$1,234.50", "1.234,50 €", "￥1,234" (garage.domain.money, whose context :func:`money_context` is);
- ``currency_symbol()``: the garage's currency's sign ("$", "€") for a form's label or prefix;
  ``money_data_attributes()``: its currency, locale and decimals as data attributes for a script;
- ``available_endpoints``: the app's view functions, for links to optional pages;
- ``rates``: the current pricing rules, one line each, for
  ``{% include "settings/_rates.html" %}`` (a view passing its own ``rates`` wins);
- the ticket status and staff role constants (and the plate's length), so templates compare against
  ``STATUS_ACTIVE`` or ``ROLE_MANAGER`` instead of string literals;
- the filter ``ticket_numbers_whole``: a message with its ticket numbers kept on one line (field errors);
- versioned static URLs: ``url_for('static', filename=...)`` adds ``?v=<hash of the file>``, so a
  proxy may cache static files for a year (deploy/nginx/garage.conf) and a changed file gets a new URL.

Blueprint-specific helpers stay with their blueprint (``desk_helpers`` in desk/routes.py)."""
from __future__ import annotations

import hashlib
import os
from typing import Any, Callable, Iterator

from babel.numbers import get_currency_symbol
from flask import Flask, current_app, g, has_request_context, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup, escape

from .domain.occupancy import ALMOST_FULL, FULL, OPEN
from .domain.permits import number_of as permit_number
from .domain.words import _ as words_
from . import i18n
from .domain import money as money_rules
from .domain.money import DEFAULT_CURRENCY, format_money
from .domain.pricing import describe
from .domain.roles import ROLE_ATTENDANT, ROLE_MANAGER
from .domain.tickets import PLATE_TYPED_MAX, STATUS_ACTIVE, STATUS_COMPLETED, STATUS_VOIDED, TICKET_NUMBER_IN_TEXT
from .garages_web import current_slug
from .identity import current_garage
from .services import settings as settings_service


class _Rates:
    """The current rules as lines, read from the database only if a template
    actually shows them (so pages without the panel cost no query)."""

    def __init__(self) -> None:
        self._lines: list[str] | None = None

    def _load(self) -> list[str]:
        if self._lines is None:
            self._lines = describe(settings_service.current_tariff(current_garage()))
        return self._lines

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())

    def __bool__(self) -> bool:
        return bool(self._load())


def current_rates() -> dict[str, Any]:
    """`rates` for {% include "settings/_rates.html" %} in any template: a fresh,
    lazy reader for each render."""
    return {"rates": _Rates()}


def static_versions(app: Flask):
    """A `url_defaults` callback: ``url_for('static', filename=f)`` gets ``v=`` the first 12 hex
    digits of the SHA-256 of the file. Hashed once per file and process (a deploy restarts the
    processes); in debug mode again whenever the file's modification time changes."""
    known: dict[str, tuple[float, str]] = {}

    def add_version(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint != "static" or "v" in values or "filename" not in values:
            return
        filename = values["filename"]
        cached = known.get(filename)
        if cached is not None and not app.debug:
            values["v"] = cached[1]
            return
        path = os.path.join(app.static_folder, filename)
        try:
            mtime = os.stat(path).st_mtime
        except OSError:
            return  # no such file: the URL stays as asked (and answers 404)
        if cached is None or cached[0] != mtime:
            with open(path, "rb") as f:
                cached = known[filename] = (mtime, hashlib.sha256(f.read()).hexdigest()[:12])
        values["v"] = cached[1]

    return add_version


def ticket_numbers_whole(message: str) -> Markup:
    """A message (escaped) with each ticket number in it in <span class="ticket-no">, which never
    breaks at its dash: "... on ticket PS-9EB9RV" does not wrap inside the number (issue 15)."""
    return Markup(TICKET_NUMBER_IN_TEXT.sub(lambda m: f'<span class="ticket-no">{m.group(0)}</span>',
                                            str(escape(message))))


def money_context() -> tuple[str, Any]:
    """garage.domain.money's context: the current garage's currency (USD where no garage is in
    question) and the reader's format locale (garage.i18n.format_locale). Read once per request
    (update_settings forgets it when the currency or locale changes)."""
    if not has_request_context():
        return DEFAULT_CURRENCY, i18n.DEFAULT_LOCALE
    if "money_context" in g:
        return g.money_context
    try:
        row = i18n._garage_row()
        if row is None and g.get("garage_id") is not None:  # an API token's garage
            row = settings_service.get_settings(current_garage())
    except Exception:  # no database (an error page while it is down): the default
        row = None
    found = (getattr(row, "currency", None) or DEFAULT_CURRENCY, i18n.format_locale())
    if row is not None:  # kept once the garage is known (an API caller's after its token is read)
        g.money_context = found
    return found


def currency_symbol() -> str:
    """The garage's currency's sign in the reader's locale: "$", "€", "￥", "BHD" (a form's label)."""
    currency, locale = money_context()
    return get_currency_symbol(currency, locale)


def money_data_attributes() -> Markup:
    """``data-currency``, ``data-locale`` and ``data-exponent`` of the garage's money, for a script that
    formats amounts with ``Intl.NumberFormat`` (static/js/shift-count.js)."""
    currency, locale = money_context()
    tag = str(locale).replace("_", "-")
    return Markup(f'data-currency="{escape(currency)}" data-locale="{escape(tag)}" '
                  f'data-exponent="{money_rules.exponent(currency)}"')


def garage_label(name: str, slug: str, name_class: str = "garage-name") -> Markup:
    """A garage's name (up to 80 characters with no space: it wraps anywhere) and its slug beside it,
    muted: two garages may have the same name, never the same slug. A global, not a macro: the
    portfolio's live panel draws one per garage on every poll, and a macro call costs ~10 µs."""
    # Plain formatting of escaped parts: Markup.format costs ~5 times as much for the same text.
    # dir="auto": a name in Arabic or Hebrew keeps its own direction and does not reorder the slug after it.
    return Markup(f'<span class="{escape(name_class)}" dir="auto">{escape(name)}</span> '
                  f'<span class="slug">{escape(slug)}</span>')


GARAGE_MARK = "0-garage-0"  # a slug (domain/garages.SLUG_PATTERN) no garage can be mistaken for in a URL


def garage_urls(endpoint: str) -> Callable[[str], str]:
    """url_for(endpoint, garage=slug) for a list of garages: built once, each garage's slug put in its
    place (a slug is URL-safe by its rule). One url_for per row cost a panel of 50 garages ~2.5 ms."""
    # The last mark: a proxy's prefix (the script root, before it) may hold the same text.
    head, tail = url_for(endpoint, garage=GARAGE_MARK).rsplit(GARAGE_MARK, 1)
    return lambda slug: head + slug + tail


def state_words() -> dict[str, str]:
    """The occupancy states (domain/occupancy.py: OPEN, ALMOST FULL, FULL) as the reader reads them,
    translated once for a panel that shows one per garage: {{ words[g.state] }}."""
    return {state: i18n.translated(words_(state)) for state in (OPEN, ALMOST_FULL, FULL)}


NAV_MENUS = "garage.nav_menus"  # app.extensions: {key: the menu as drawn}
NAV_MENUS_KEPT = 512  # keys (pages × roles × languages × garages) kept before starting over


def nav_menu(marked: bool = True) -> Markup:
    """The staff menu (templates/_nav.html) as drawn for this page and reader, kept per process under
    everything it reads: the page it marks as the one you are on (the request's endpoint; none on an
    error page, `marked=False`: a 404 for another garage's desk is not your desk), the reader's roles
    (here: manager, attendant or none; admin; portfolio), the language of its words, and the garage and script root of its
    links. Drawn once per key, not on every page (a dozen url_for and translations each time; issue 21)."""
    here = (request.endpoint or "") if marked else ""
    key = (here, current_user.garage_role, current_user.is_admin, current_user.sees_portfolio,
           i18n.language(), current_slug(), request.script_root)
    menus = current_app.extensions.setdefault(NAV_MENUS, {})
    menu = menus.get(key)
    if menu is None:
        if len(menus) >= NAV_MENUS_KEPT:
            menus.clear()
        menu = menus[key] = Markup(render_template("_nav.html", here=here))
    return menu


def install(app: Flask) -> None:
    money_rules.set_context(money_context)
    app.url_defaults(static_versions(app))
    app.jinja_env.globals.update(
        money=format_money, available_endpoints=app.view_functions,
        STATUS_ACTIVE=STATUS_ACTIVE, STATUS_COMPLETED=STATUS_COMPLETED, STATUS_VOIDED=STATUS_VOIDED,
        ROLE_ATTENDANT=ROLE_ATTENDANT, ROLE_MANAGER=ROLE_MANAGER, PLATE_TYPED_MAX=PLATE_TYPED_MAX,
        permit_number=permit_number, currency_symbol=currency_symbol, money_data_attributes=money_data_attributes,
        nav_menu=nav_menu, garage_label=garage_label, garage_urls=garage_urls, state_words=state_words,
    )
    app.jinja_env.filters["ticket_numbers_whole"] = ticket_numbers_whole
    app.context_processor(current_rates)


def compile_all(app: Flask) -> int:
    """Compile every template now, into the app's Jinja cache; returns how many. Called in gunicorn's
    master after the app is preloaded (gunicorn.conf.py `when_ready`): each worker forked from it starts
    with them compiled. Otherwise each worker compiles a page's templates on its first request for it:
    110 ms for the report page's three (measured), 150–350 ms for a fresh worker's first page, after
    every start or deploy, once per worker and page."""
    env = app.jinja_env
    names = env.list_templates()
    if env.cache is not None and getattr(env.cache, "capacity", len(names)) < len(names):
        raise RuntimeError(f"{len(names)} templates do not fit Jinja's cache of {env.cache.capacity}")
    for name in names:
        env.get_template(name)
    return len(names)
