"""Thin views. The page renders once; its panel polls `lobby.panel`, which answers
304 while nothing shown has changed (ETag), so an idle screen costs one primary-key
read and a few bytes every few seconds."""
from __future__ import annotations

import hashlib
from functools import lru_cache

from flask import Response, current_app, render_template, request

from ..domain.clock import to_local, utcnow
from ..htmx import fragment_of, poll_ms
from ..identity import current_garage
from ..services.stats import PublicOccupancy, public_occupancy
from ..web import autocommit
from . import bp

PANEL = "lobby/_panel.html"
THEMES = ("light", "dark")
STATE_CLASSES = {"OPEN": "state-open", "ALMOST FULL": "state-almost-full", "FULL": "state-full"}


@lru_cache(maxsize=1)
def _panel_source_hash() -> str:
    """A new panel template (a deploy) must not be answered with 304 for the old one."""
    source, _, _ = current_app.jinja_env.loader.get_source(current_app.jinja_env, PANEL)
    return hashlib.sha256(source.encode()).hexdigest()[:12]


def panel_etag(view: PublicOccupancy) -> str:
    """Everything the panel shows, and nothing else (the clock lives outside it)."""
    o = view.occupancy
    key = "|".join(map(str, (_panel_source_hash(), o.total, o.occupied, view.state, view.garage_name,
                             view.almost_full_percent, view.timezone, o.reserved, o.permit_inside)))
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def panel_context(view: PublicOccupancy) -> dict:
    o = view.occupancy
    fill = 100.0 if o.total <= 0 else min(100.0, round(o.occupied * 100 / o.total, 1))
    return {"view": view, "occupancy": o, "state_class": STATE_CLASSES[view.state], "fill": fill}


@bp.get("")
def index():
    view = public_occupancy(current_garage())
    theme = request.args.get("theme", "light")
    now = to_local(utcnow(), view.timezone)
    interval = poll_ms("lobby.panel")  # LOBBY_POLL_SECONDS (config.py)
    return render_template(
        "lobby/index.html", theme=theme if theme in THEMES else "light", now=now,
        poll_ms=interval, timeout_ms=max(2000, 2 * interval), etag=panel_etag(view),
        **panel_context(view))


@bp.get("/panel")
@fragment_of("lobby.index")
@autocommit
def panel():
    view = public_occupancy(current_garage())
    etag = panel_etag(view)
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        response = Response(render_template(PANEL, **panel_context(view)), mimetype="text/html")
    response.set_etag(etag)
    # The browser may keep it but must ask every time: the poll is the freshness check.
    response.headers["Cache-Control"] = "no-cache"
    return response
