"""Home redirect, OpenAPI document and the interactive API docs (local files).

The API's description is for staff and integrations, not the public: /docs needs
a signed-in user, /openapi.json a signed-in user or an API token."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, send_from_directory, url_for
from flask_login import current_user

from .. import identity
from ..api.openapi import served_spec
from ..identity import staff_required

bp = Blueprint("meta", __name__)

SWAGGER_DIR = "vendor/swagger-ui"  # under static/; see its VERSION.md
SWAGGER_FILES = {"swagger-ui.css", "swagger-ui-bundle.js"}


@bp.get("/")
def home():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(url_for("moved.old_url"))  # /desk: their garage's desk, or the chooser


@bp.get("/openapi.json")
def openapi():
    if not current_user.is_authenticated:
        if identity.owner_of(identity.bearer_token_hash()) is None:
            response = jsonify(message="Sign in, or send Authorization: Bearer <token>")
            response.headers["WWW-Authenticate"] = 'Bearer realm="garage"'
            return response, 401
    return jsonify(served_spec(current_app))


@bp.get("/docs")
@staff_required
def docs():
    return render_template("docs.html")


@bp.get("/docs/assets/<name>")
def docs_asset(name: str):
    if name not in SWAGGER_FILES:  # a fixed list: no path traversal into the package
        abort(404)
    return send_from_directory(f"{current_app.static_folder}/{SWAGGER_DIR}", name, max_age=86400)
