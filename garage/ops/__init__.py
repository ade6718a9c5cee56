"""What operations ask of a running instance: is the process alive (/healthz), may it take
traffic (/readyz), what has it done (/metrics: only from METRICS_ALLOW networks or with
METRICS_TOKEN). For nginx, load balancers and systemd; not part of the JSON API (not in
/openapi.json; /api/status stays the seed's health check). Public, and they say nothing an
outsider could use: no versions, no revisions, no error text."""
from flask import Blueprint

bp = Blueprint("ops", __name__)

from . import routes  # noqa: E402,F401
