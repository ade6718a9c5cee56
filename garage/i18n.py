"""The reader's language and the formats they see: the ONE home of both (issue 22).

- **Language** (:func:`language`): the signed-in person's choice (``users.language``), else the
  garage's default (``garages.language``; "" = none), else the browser's ``Accept-Language`` among the
  languages Garage speaks (``garage.domain.locales.LANGUAGES``), else English. Flask-Babel uses it
  for every ``_()`` in templates (``{{ _("Issue ticket") }}``, ``{% trans %}``) and for the domain's
  :class:`garage.domain.words.Text` messages (installed here as their translator).
- **Formats** (:func:`format_locale`): the person's locale (``users.locale``), else the garage's
  (``garages.locale``), else en_US. Amounts, dates, times and numbers on pages are formatted with it
  by the functions below, registered as template globals; CSV files and the API never use them
  (ISO 8601, dot decimals, minor units).
- **Catalogs**: ``translations/<lang>/LC_MESSAGES/messages.po`` is the source (``make translations``
  extracts ``messages.pot`` and updates the catalogs, babel.cfg says where to look). The app
  compiles each catalog once per process into a temporary directory (``_compiled``), so a fresh
  clone, the tests and gunicorn need no compile step and no generated file is committed.
  ``I18N_EXTRA_LANGUAGES`` (config: {code: po path}) adds a catalog, for the pseudo-locale test.
"""
from __future__ import annotations

import atexit
from contextlib import contextmanager
import os
import shutil
import tempfile
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Iterable, Iterator

from babel import Locale, UnknownLocaleError
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, current_app, g, has_request_context, request
from flask_babel import Babel, force_locale, get_locale, get_translations
from flask_login import current_user

from .domain import words
from .domain.clock import to_local
from .domain.locales import DEFAULT_LANGUAGE, LANGUAGES

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CATALOGS = os.path.join(ROOT, "translations")
DEFAULT_LOCALE = "en_US"

_compiled_dir: str | None = None
_compiled: dict[str, float] = {}  # po path → its mtime when compiled


def _remove(directory: str, creator: int) -> None:
    """At exit, by the process that made it only: gunicorn's workers fork from a master that loaded
    the app (preload), and a worker leaving must not take the catalogs from the others."""
    if os.getpid() == creator:
        shutil.rmtree(directory, ignore_errors=True)


def _compile(lang: str, po_path: str) -> None:
    """The catalog of `lang` as a .mo in this process's directory (again only if the .po changed)."""
    global _compiled_dir
    if _compiled_dir is None:
        _compiled_dir = tempfile.mkdtemp(prefix="garage-i18n-")
        atexit.register(_remove, _compiled_dir, os.getpid())
    mtime = os.stat(po_path).st_mtime
    if _compiled.get(po_path) == mtime:
        return
    with open(po_path, "rb") as f:
        catalog = read_po(f, locale=lang)
    target = os.path.join(_compiled_dir, lang, "LC_MESSAGES")
    os.makedirs(target, exist_ok=True)
    tmp = os.path.join(target, "messages.mo.tmp")
    with open(tmp, "wb") as f:
        write_mo(f, catalog, use_fuzzy=False)
    os.replace(tmp, os.path.join(target, "messages.mo"))
    _compiled[po_path] = mtime


def spoken(app: Flask | None = None) -> dict[str, str]:
    """The languages this app speaks: LANGUAGES plus the config's extra catalogs."""
    extra = (app or current_app).config.get("I18N_EXTRA_LANGUAGES") or {}
    return {**LANGUAGES, **{code: code for code in extra}}


def _garage_row():
    """The garage whose language and locale apply: only where a garage is in question — someone
    signed in, or a URL that names one (the lobby /g/<slug>/lobby). The sign-in page, the error
    pages of an anonymous caller and the like read no row (they must answer while the database is
    down) and follow the browser."""
    from .identity import current_garage
    from .services.settings import get_settings
    if not (current_user.is_authenticated or g.get("asked_garage_id") is not None
            or g.get("asked_garage_slug") is not None):
        return None
    return get_settings(current_garage())


def browser_choice(accepted: Iterable[tuple[str, float]], known: Iterable[str]) -> str | None:
    """The language of `known` the browser ranks highest (Accept-Language: the tags with their q, any
    order): each tag in order of its quality, the tag itself, else its primary language ("en-US" is
    English), as RFC 4647's lookup does. Werkzeug's best_match prefers an exact tag of lower quality
    ("en-US,en;q=0.5,de;q=0.9" read German; an outside check)."""
    codes = {code.lower(): code for code in known}
    for tag, quality in sorted(accepted, key=lambda item: -item[1]):  # stable: equal q keep their order
        tag = tag.strip().lower().replace("_", "-")
        if quality <= 0 or tag == "*":
            continue
        for candidate in (tag, tag.partition("-")[0]):
            if candidate in codes:
                return codes[candidate]
    return None


def language() -> str:
    """The language this request is read in (see the module's docstring)."""
    if not has_request_context():
        return DEFAULT_LANGUAGE
    if "language" in g:
        return g.language
    known = spoken()
    chosen = None
    user_choice = getattr(current_user, "language", None) if current_user.is_authenticated else None
    if user_choice in known:
        chosen = user_choice
    if chosen is None:
        try:
            garage_choice = getattr(_garage_row(), "language", "") or ""
        except Exception:  # no database (an error page while it is down): the browser's choice
            garage_choice = ""
        if garage_choice in known:
            chosen = garage_choice
    if chosen is None:
        chosen = browser_choice(request.accept_languages, known) or DEFAULT_LANGUAGE
    g.language = chosen
    return chosen


def format_locale() -> Locale:
    """The locale amounts, dates and numbers are formatted in (see the module's docstring)."""
    if has_request_context() and "format_locale" in g:
        return g.format_locale
    code = None
    if has_request_context() and request.blueprint == "api":
        code = DEFAULT_LOCALE  # the JSON API writes amounts and numbers one way for every garage (docs/api.md)
    elif has_request_context():
        if current_user.is_authenticated:
            code = getattr(current_user, "locale", None) or None
        if code is None:
            try:
                code = getattr(_garage_row(), "locale", None) or None
            except Exception:
                code = None
    try:
        found = Locale.parse(code or DEFAULT_LOCALE)
    except (ValueError, UnknownLocaleError):
        found = Locale.parse(DEFAULT_LOCALE)
    if has_request_context():
        g.format_locale = found
    return found


def _translations() -> Any:
    """Flask-Babel's catalog of the request's current locale, looked up once per request and locale: a
    year's report page translates ~1,000 messages (its charts' hover texts) and get_translations()
    costs ~6 µs each time (its context, its domain, the locale's identifier; issue 21). Kept with the
    locale object it belongs to: inside force_locale() (a receipt in the garage's language) the locale
    is another object, so that block gets its own catalog and the request's is found again after it."""
    locale = get_locale()
    kept = g.get("_translations_of")
    if kept is None or kept[0] is not locale:
        kept = g._translations_of = (locale, get_translations())
    return kept[1]


def _page_translations() -> Any:
    """A template's catalog: the request's (kept, as above), or Flask-Babel's answer outside a request."""
    return _translations() if has_request_context() else get_translations()


def _translate(msgid: str, plural: str | None, n: int | None) -> str:
    """The domain's Text translator: the translated format string (placeholders kept)."""
    if not has_request_context():
        return plural if plural is not None and n != 1 else msgid
    translations = _translations()
    if plural is None:
        return translations.ugettext(msgid)
    return translations.ungettext(msgid, plural, n if n is not None else 0)


def translated(text: Any) -> str:
    """Any message as the reader reads it: a domain Text translated, anything else as it is."""
    return text.translated() if isinstance(text, words.Text) else str(text)


# --- Formats (pages only; never CSV or the API) ------------------------------------------------

def format_number(value: int | float | Decimal) -> str:
    return babel_numbers.format_decimal(value, locale=format_locale())


def format_date(day: date | datetime | None, form: str = "yMMMEd") -> str:
    """A date in the reader's locale by a CLDR skeleton: "yMMMEd" (Sun, Dec 6, 2026 / So., 6. Dez.
    2026), "MMMEd" (no year), "yMMMd", "MMMd", "MMMMEEEEd" (the lobby's long date)."""
    if day is None:
        return ""
    return babel_dates.format_skeleton(form, day, locale=format_locale())


def format_time(moment: datetime | time | None, tz: str | None = None, form: str = "short") -> str:
    """A time of day, 24-hour where the locale uses it (14:05 / 2:05 PM; form "medium": with the
    seconds, 14:05:09); a datetime in `tz`."""
    if moment is None:
        return ""
    if isinstance(moment, datetime) and tz:
        moment = to_local(moment, tz)
    return babel_dates.format_time(moment, form, locale=format_locale())


def format_datetime(moment: datetime | None, tz: str | None = None, form: str = "yMMMdHm") -> str:
    """A moment in the garage's timezone `tz`, by a skeleton (default: date and time to the minute)."""
    if moment is None:
        return ""
    if tz:
        moment = to_local(moment, tz)
    locale = format_locale()
    form, day, clock = _skeleton_parts(locale, form)
    if not day or not clock:
        return babel_dates.format_skeleton(form, moment, locale=locale)
    return str(locale.datetime_formats["medium"]).format(babel_dates.format_skeleton(clock, moment, locale=locale),
                                                         babel_dates.format_skeleton(day, moment, locale=locale))


_TIME_FIELDS = frozenset("HhKkmsaBbj")


def _skeleton_parts(locale: Locale, form: str) -> tuple[str, str, str]:
    """The skeleton in the locale's clock (12 or 24 hours), its date part and its time part. CLDR has few
    skeletons with both a date and a time (Babel finds none for "yMMMdHm"): the two parts are formatted
    apart and joined by the locale's own pattern ("{1}, {0}")."""
    if "H" in form and not _uses_24_hours(locale):
        form = form.replace("H", "h")
    return (form, "".join(ch for ch in form if ch not in _TIME_FIELDS),
            "".join(ch for ch in form if ch in _TIME_FIELDS))


def format_datetimes(moments: list[datetime], form: str = "yMMMdHm") -> list[str]:
    """format_datetime of many local moments (no `tz`: already local) at once, each date's and each
    time of day's part formatted once (a month of hours: 30 dates and 24 times, not 720 of each)."""
    locale = format_locale()
    form, day, clock = _skeleton_parts(locale, form)
    if not day or not clock:
        return [format_datetime(moment, form=form) for moment in moments]
    pattern = str(locale.datetime_formats["medium"])
    days: dict[date, str] = {}
    clocks: dict[tuple[int, int, int], str] = {}
    out = []
    for moment in moments:
        d, t = moment.date(), (moment.hour, moment.minute, moment.second)
        if d not in days:
            days[d] = babel_dates.format_skeleton(day, moment, locale=locale)
        if t not in clocks:
            clocks[t] = babel_dates.format_skeleton(clock, moment, locale=locale)
        out.append(pattern.format(clocks[t], days[d]))
    return out


def _short_time(locale: Locale) -> str:
    """The locale's short time pattern ("h:mm a", "HH:mm", "H:mm"): how it writes the hour."""
    return str(locale.time_formats["short"].pattern)


def _uses_24_hours(locale: Locale) -> bool:
    return "H" in _short_time(locale)


def clock_hour() -> str:
    """How the format locale's short time writes the hour, as Intl's `hour` option (the lobby's clock
    is kept by the browser, static/js/lobby.js): "2-digit" for de_DE's "HH:mm" (00:09), "numeric" for
    en_US's "h:mm a" (2:05 PM) and ja_JP's "H:mm" (0:09), so the clock reads as the server wrote it."""
    pattern = _short_time(format_locale())
    return "2-digit" if "HH" in pattern or "hh" in pattern else "numeric"


def first_weekday() -> int:
    """The first day of the week in the reader's locale: 0 = Monday ... 6 = Sunday."""
    return format_locale().first_week_day


@contextmanager
def for_the_driver(garage: Any) -> Iterator[None]:
    """What a driver takes away (the printed ticket and receipt) reads in the garage's language and
    formats, whatever the attendant chose for their own screens (issue 22); a garage with no default
    language: the attendant's."""
    language_code = getattr(garage, "language", "") or ""
    locale_code = getattr(garage, "locale", "") or DEFAULT_LOCALE
    kept = {name: g.get(name) for name in ("language", "format_locale")}
    try:
        g.format_locale = Locale.parse(locale_code)
    except (ValueError, UnknownLocaleError):
        g.format_locale = Locale.parse(DEFAULT_LOCALE)
    try:
        if language_code in spoken():
            g.language = language_code
            with force_locale(language_code):
                yield
        else:
            yield
    finally:
        for name, value in kept.items():
            if value is None:
                g.pop(name, None)
            else:
                setattr(g, name, value)


def install(app: Flask) -> None:
    """Flask-Babel with :func:`language`; the catalogs compiled; the domain's translator; template
    globals for formats."""
    app.config.setdefault("I18N_EXTRA_LANGUAGES", {})
    for lang in LANGUAGES:
        po = os.path.join(CATALOGS, lang, "LC_MESSAGES", "messages.po")
        if os.path.exists(po):
            _compile(lang, po)
    for lang, po in app.config["I18N_EXTRA_LANGUAGES"].items():
        _compile(lang, po)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = _compiled_dir or CATALOGS
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    Babel(app, locale_selector=language)
    words.set_translator(_translate)
    # The templates' _() and ngettext() through the same per-request catalog as the domain's messages
    # (Flask-Babel's own callables look the catalog up on every call: ~150 times for the portfolio's
    # live panel of 50 garages, a third of its time; issue 21).
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _page_translations().ugettext(s),
        ngettext=lambda s, p, n: _page_translations().ungettext(s, p, n),
        pgettext=lambda c, s: _page_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _page_translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    app.jinja_env.globals.update(
        format_number=format_number, format_date=format_date, format_time=format_time,
        format_datetime=format_datetime, translated=translated, current_language=language, clock_hour=clock_hour,
    )


def load_locales(app: Flask) -> list[str]:
    """Babel's data of the default format locale and of each language spoken, loaded now (gunicorn's
    master, after the app is preloaded: gunicorn.conf.py `when_ready`), so that a forked worker's first
    page does not load them (~35 ms, measured on a report's first drawing in a worker)."""
    codes = [DEFAULT_LOCALE, *spoken(app)]
    for code in codes:
        try:
            Locale.parse(code).first_week_day  # reads (and keeps) the locale's data, its parents' too
        except (ValueError, UnknownLocaleError):
            continue  # an extra catalog under a name Babel has no data for: loaded when used, as before
    return codes
