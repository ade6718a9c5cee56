"""gunicorn.conf.py's hooks, as gunicorn loads them (in a child process: the hook changes the collector)."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import gc, sys
from gunicorn.app.wsgiapp import WSGIApplication

class Probe(WSGIApplication):
    def init(self, parser, opts, args):
        return {}

app = Probe.__new__(Probe)
app.usage, app.prog, app.callable, app.cfg = None, None, None, None
app.load_default_config()
app.load_config_from_file("gunicorn.conf.py")
objects = [[n] for n in range(50_000)]  # what a preloaded app leaves behind, tracked by the collector
before = gc.get_freeze_count()
app.cfg.pre_fork(None, None)  # gunicorn calls it in the master before each fork
print(before, gc.get_freeze_count())
"""


def test_the_preloaded_app_is_frozen_out_of_the_collector_before_workers_fork(tmp_path):
    """A worker's full collections walk only what its requests made, never the preloaded app (a 30-day
    report paid ~60 ms per full collection before: bench/README.md)."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    before, after = map(int, done.stdout.split())
    assert before == 0 and after >= 50_000


WARM = """
import babel.localedata
from gunicorn.app.wsgiapp import WSGIApplication

class Probe(WSGIApplication):
    def init(self, parser, opts, args):
        return {}

class Log:
    def info(self, *args):
        print("logged:", args[0] % args[1:])

class Server:
    log = Log()

app = Probe.__new__(Probe)
app.usage, app.prog, app.callable, app.cfg = None, None, None, None
app.load_default_config()
app.load_config_from_file("gunicorn.conf.py")
app.cfg.when_ready(Server())  # gunicorn calls it in the master once the preloaded app is loaded
from wsgi import app as flask_app
env = flask_app.jinja_env
compiled = []
env.compile = lambda *args, **kwargs: compiled.append(args) or 1 / 0  # a worker compiling anything now fails
for name in env.list_templates():
    env.get_template(name)
print(len(env.list_templates()), len(compiled), " ".join(sorted(babel.localedata._cache)))
"""


def test_workers_start_with_every_template_compiled_and_the_locales_loaded(tmp_path):
    """gunicorn's master compiles every template and loads Babel's data before forking (`when_ready`):
    a fresh worker's first page compiled its templates and loaded its locale first (150-350 ms, measured
    in a fresh gunicorn: the report page's first request in each worker 92-235 ms, then 30-100 ms)."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "SECRET_KEY": "a-test-secret-" + "x" * 32,
           "DATABASE_URL": f"sqlite:///{tmp_path / 'garage.db'}"}
    done = subprocess.run([sys.executable, "-c", WARM], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    *logged, counts = done.stdout.strip().splitlines()
    templates, compiled_after, locales = counts.split(" ", 2)
    assert int(templates) == len([p for p in (ROOT / "templates").rglob("*") if p.is_file()]) > 50
    assert compiled_after == "0"
    assert {"en", "en_US", "de", "root"} <= set(locales.split())
    assert any(f"compiled {templates} templates" in line for line in logged), logged
