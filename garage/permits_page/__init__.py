"""Monthly permits' pages (issue 19, managers): list and search, sell, change, suspend, renew, the
holders' CSV export and import, the permits report. Under /g/<garage>/permits (garages_web.AREAS)."""
from flask import Blueprint

bp = Blueprint("permits", __name__, url_prefix="/permits")

from . import routes  # noqa: E402,F401
