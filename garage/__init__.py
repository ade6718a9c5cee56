"""Garage: parking-garage management (Flask + Jinja + HTMX)."""
from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

from .config import Config

ROOT = Path(__file__).resolve().parent.parent

def _secret_key(app: Flask) -> str:
    """SECRET_KEY from the environment; else the key `make run` keeps in
    instance/secret_key; else a throw-away key for debug/tests; else refuse."""
    if app.config.get("SECRET_KEY"):
        return app.config["SECRET_KEY"]
    key_file = Path(app.instance_path) / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    if app.debug or app.testing:
        return secrets.token_hex(32)
    raise RuntimeError("SECRET_KEY is not set. Set it in the environment (see README, Configuration).")


def trust_proxies(app: Flask) -> None:
    """Behind TRUSTED_PROXY_HOPS reverse proxies (nginx...), the client's address and scheme are
    the ones the nearest proxies wrote in X-Forwarded-For / X-Forwarded-Proto: the sign-in
    throttle, the audit log and the session cookie's Secure flag then see the real client; a
    malformed value is answered 400 (garage/proxies.py). With 0 (the default) nothing is
    installed and those headers are ignored (anyone can send them). The Host header is never
    taken from X-Forwarded-Host: the proxy passes Host itself."""
    hops = app.config["TRUSTED_PROXY_HOPS"]
    if hops:
        from .proxies import TrustedProxies

        app.wsgi_app = TrustedProxies(app.wsgi_app, hops)  # type: ignore[method-assign]


def create_app(config: dict[str, Any] | None = None) -> Flask:
    config = dict(config or {})
    app = Flask(__name__, instance_relative_config=True, instance_path=config.pop("INSTANCE_PATH", None),
                template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"))
    app.config.from_object(Config())
    if config:
        app.config.update(config)
    app.config["SECRET_KEY"] = _secret_key(app)
    os.makedirs(app.instance_path, exist_ok=True)
    trust_proxies(app)
    from .observability import logs

    logs.configure(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])  # JSON lines unless LOG_FORMAT=text
    app.logger.setLevel(app.config["LOG_LEVEL"])
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

    from .extensions import csrf, db, migrate
    from .persistence import replica

    replica.configure(app)  # DATABASE_REPLICA_URL: a read-only bind (refused with SQLite), before the engines
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)

    from . import i18n, identity, observability, persistence, templating, web

    persistence.install(app)  # the database implementation, chosen once from the engine's dialect
    observability.install(app)  # request ids, request log, metrics: before every other request hook
    identity.install(app)  # session users and the idle timeout
    web.install(app)
    templating.install(app)
    i18n.install(app)  # languages (Flask-Babel) and the formats of amounts, dates and numbers

    # One blueprint per user-facing area.
    from .admin import bp as admin_bp
    from .api import bp as api_bp
    from .auth import bp as auth_bp
    from .desk import bp as desk_bp
    from .lobby import bp as lobby_bp
    from .meta import bp as meta_bp
    from .ops import bp as ops_bp
    from .reports import bp as reports_bp
    from .operator import bp as operator_bp
    from .permits_page import bp as permits_bp
    from .settings_page import bp as settings_bp

    csrf.exempt(api_bp)  # Bearer-token API: no cookies, so no CSRF
    app.register_blueprint(api_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(meta_bp)
    app.register_blueprint(ops_bp)
    app.register_blueprint(operator_bp)
    # A garage's pages: under /g/<garage>, and the URLs of before sending people there.
    from . import garages_web

    garages_web.install(app, [desk_bp, lobby_bp, reports_bp, permits_bp, settings_bp, admin_bp])

    from .cli import register as register_cli

    register_cli(app)
    return app
