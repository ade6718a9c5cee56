"""gunicorn settings for production: gunicorn -c gunicorn.conf.py wsgi:app"""
import gc
import multiprocessing
import os
import shutil
import tempfile
from pathlib import Path

# Metrics from every worker (garage/observability/metrics.py): prometheus_client's multiprocess
# mode keeps each worker's values in files under PROMETHEUS_MULTIPROC_DIR. It must be set before
# anything imports prometheus_client (the app is preloaded below): a fresh folder of our own
# unless the environment names one (e.g. systemd's RuntimeDirectory), which is emptied at start.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="garage-metrics-")
    os.environ["GARAGE_OWN_METRICS_DIR"] = "1"  # removed on exit (survives a reload, which re-reads this file)

bind = os.environ.get("GUNICORN_BIND") or f"127.0.0.1:{os.environ.get('PORT', '5001')}"
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)
threads = int(os.environ.get("GUNICORN_THREADS") or 1)
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 30)
graceful_timeout = 20
keepalive = 5
preload_app = True
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# gunicorn's control socket (gunicornc, gunicorn >= 25.1) is off: its default path,
# $XDG_RUNTIME_DIR/gunicorn.ctl or ~/.gunicorn/gunicorn.ctl, is one for every instance on the host
# (each master, and each worker replacement, takes it over from the others), and under the systemd
# unit's ProtectHome/ProtectSystem it cannot be created at all. GUNICORN_CONTROL_SOCKET turns it on
# at a path of this instance's own (e.g. /run/garage/5001/gunicorn.ctl).
control_socket_disable = not os.environ.get("GUNICORN_CONTROL_SOCKET")
if not control_socket_disable:
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
# Error and access logs as JSON lines (LOG_FORMAT=text for the classic ones), with the request id,
# user and route the app saw (garage/observability/logs.py).
logger_class = "garage.observability.logs.GunicornLogger"


def on_starting(server):
    """A new master: no values left over from an earlier run (counters start at zero)."""
    folder = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    for leftover in folder.glob("*.db"):
        leftover.unlink()


def when_ready(server):
    """The preloaded app's templates compiled and its locales' data loaded once here, before any worker is
    forked: each worker starts with them (garage/templating.py compile_all, garage/i18n.py load_locales),
    not spending 150-350 ms on them on its first request for a page."""
    from garage.i18n import load_locales
    from garage.templating import compile_all
    from wsgi import app

    server.log.info("compiled %d templates; loaded locales %s", compile_all(app), ", ".join(load_locales(app)))


def pre_fork(server, worker):
    """What the preloaded app made (modules, SQLAlchemy's mappers, templates: ~140,000 objects)
    lives as long as the worker: frozen, Python's collector never walks it again, so a full collection
    in a worker scans only what its requests made, and the memory stays shared with the master (a
    walk writes to every object's header). Measured (bench/README.md): a 30-day report's full
    collections cost ~60 ms each; p90 126 -> 69 ms in-process, and the pages' p99 under load fell."""
    gc.freeze()


def post_fork(server, worker):
    """The preloaded app may hold connections opened in the master: a forked
    worker must never share them, so each worker starts with an empty pool."""
    from garage.extensions import db
    from wsgi import app

    with app.app_context():
        db.engine.dispose(close=False)


def child_exit(server, worker):
    """A worker that exits leaves the live gauges (its counters stay in the totals)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if os.environ.get("GARAGE_OWN_METRICS_DIR"):
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
