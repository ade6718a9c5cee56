"""Thin views. The page renders once; its panel polls `lobby.panel`, which answers
304 while nothing shown has changed (ETag), so an idle screen costs one primary-key
read and a few bytes every few seconds.

Two languages, airport style (issue 22): with the garage's `lobby_language` set, every word of the
panel is rendered in the screen's language (the garage's, else the browser's) and in that one, each
in a <span lang>; static/js/lobby.js shows one, then the other, every ALTERNATE_MS. The words come
with each polled panel, so a screen left on for weeks needs no reload when they change."""
from __future__ import annotations

import hashlib
from functools import lru_cache

from flask import Response, current_app, render_template, request
from flask_babel import force_locale
from markupsafe import Markup

from ..domain.clock import to_local, utcnow
from ..htmx import fragment_of, poll_ms
from ..identity import current_garage
from .. import i18n
from ..services.settings import get_settings
from ..services.stats import PublicOccupancy, public_occupancy
from ..web import autocommit
from . import bp

PANEL = "lobby/_panel.html"
THEMES = ("light", "dark")
STATE_CLASSES = {"OPEN": "state-open", "ALMOST FULL": "state-almost-full", "FULL": "state-full"}
ALTERNATE_MS = 10_000  # each language's turn on a two-language screen


def languages(garage_id: int) -> list[str]:
    """The screen's languages: the page's own, then the garage's lobby language if it is another
    one Garage speaks (the garage's row is the one the panel reads anyway)."""
    first = i18n.language()
    second = get_settings(garage_id).lobby_language or ""
    return [first] + ([second] if second != first and second in i18n.spoken() else [])


def in_language(language: str, render) -> Markup:
    """`render()` (a Jinja call block) with its words in `language`."""
    with force_locale(language):
        return Markup(render())


@lru_cache(maxsize=1)
def _panel_source_hash() -> str:
    """A new panel template (a deploy) must not be answered with 304 for the old one."""
    source, _, _ = current_app.jinja_env.loader.get_source(current_app.jinja_env, PANEL)
    return hashlib.sha256(source.encode()).hexdigest()[:12]


def panel_etag(view: PublicOccupancy, spoken: list[str]) -> str:
    """Everything the panel shows, and nothing else (the clock lives outside it): its languages too."""
    o = view.occupancy
    key = "|".join(map(str, (_panel_source_hash(), o.total, o.occupied, view.state, view.garage_name,
                             view.almost_full_percent, view.timezone, o.reserved, o.permit_inside,
                             ",".join(spoken))))
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def panel_context(view: PublicOccupancy, spoken: list[str]) -> dict:
    o = view.occupancy
    fill = 100.0 if o.total <= 0 else min(100.0, round(o.occupied * 100 / o.total, 1))
    return {"view": view, "occupancy": o, "state_class": STATE_CLASSES[view.state], "fill": fill,
            "languages": spoken, "in_language": in_language}


@bp.get("")
def index():
    view = public_occupancy(current_garage())
    spoken = languages(current_garage())
    theme = request.args.get("theme", "light")
    now = to_local(utcnow(), view.timezone)
    interval = poll_ms("lobby.panel")  # LOBBY_POLL_SECONDS (config.py)
    return render_template(
        "lobby/index.html", theme=theme if theme in THEMES else "light", now=now,
        poll_ms=interval, timeout_ms=max(2000, 2 * interval), etag=panel_etag(view, spoken),
        alternate_ms=ALTERNATE_MS, **panel_context(view, spoken))


@bp.get("/panel")
@fragment_of("lobby.index")
@autocommit
def panel():
    view = public_occupancy(current_garage())
    spoken = languages(current_garage())
    etag = panel_etag(view, spoken)
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        response = Response(render_template(PANEL, **panel_context(view, spoken)), mimetype="text/html")
    response.set_etag(etag)
    # The browser may keep it but must ask every time: the poll is the freshness check.
    response.headers["Cache-Control"] = "no-cache"
    return response
