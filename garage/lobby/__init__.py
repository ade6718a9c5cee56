"""Public lobby screen: free spaces, fill bar and OPEN / ALMOST FULL / FULL (no login)."""
from flask import Blueprint

bp = Blueprint("lobby", __name__, url_prefix="/lobby")

from . import routes  # noqa: E402,F401
