"""Operator-wide pages (no garage in their URL): /garages (admins: every garage, and a new one)
and /portfolio (every garage the caller may see, live and over a period)."""
from flask import Blueprint

bp = Blueprint("operator", __name__)

from . import routes  # noqa: E402,F401
