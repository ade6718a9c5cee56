"""gunicorn settings for production: gunicorn -c gunicorn.conf.py wsgi:app"""
import multiprocessing
import os

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


def post_fork(server, worker):
    """The preloaded app may hold connections opened in the master: a forked
    worker must never share them, so each worker starts with an empty pool."""
    from garage.extensions import db
    from wsgi import app

    with app.app_context():
        db.engine.dispose(close=False)
