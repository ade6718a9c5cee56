"""Garage settings page (/settings, managers only). The "current rates" fragment
any template may include gets its `rates` from garage/templating.py."""
from flask import Blueprint

bp = Blueprint("settings", __name__)

from . import routes  # noqa: E402,F401
