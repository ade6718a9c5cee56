"""Home redirect, OpenAPI document and the interactive API docs (local files)."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, send_from_directory, url_for
from flask_login import current_user

from ..api.openapi import build_spec

bp = Blueprint("meta", __name__)

SWAGGER_DIR = "vendor/swagger-ui"  # under static/; see its VERSION.md
SWAGGER_FILES = {"swagger-ui.css", "swagger-ui-bundle.js"}


@bp.get("/")
def home():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    if "desk.index" in current_app.view_functions:
        return redirect(url_for("desk.index"))
    return render_template("home.html")


@bp.get("/openapi.json")
def openapi():
    return jsonify(build_spec(current_app))


@bp.get("/docs")
def docs():
    return render_template("docs.html")


@bp.get("/docs/assets/<name>")
def docs_asset(name: str):
    if name not in SWAGGER_FILES:  # a fixed list: no path traversal into the package
        abort(404)
    return send_from_directory(f"{current_app.static_folder}/{SWAGGER_DIR}", name, max_age=86400)
