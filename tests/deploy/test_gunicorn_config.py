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
