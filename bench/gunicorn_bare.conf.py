"""gunicorn settings for bench/bare_app.py: exactly gunicorn.conf.py (workers,
threads, keep-alive, preload), with the fork hook pointed at the bare app."""
from pathlib import Path

exec(compile((Path(__file__).resolve().parent.parent / "gunicorn.conf.py").read_text(), "gunicorn.conf.py", "exec"))


def post_fork(server, worker):  # noqa: F811  (replaces the app's hook)
    from bench.bare_app import app, db

    with app.app_context():
        db.engine.dispose(close=False)
