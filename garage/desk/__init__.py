"""The attendant desk (/desk): entries, exits and payments on a tablet."""
from flask import Blueprint

bp = Blueprint("desk", __name__, url_prefix="/desk")

from . import amendments, routes, shifts  # noqa: E402,F401
