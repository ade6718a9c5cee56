"""nginx in front of app instances, for tests and drills: the site config rendered from
deploy/nginx/ (deploy/nginx/render.py) inside a minimal main config, run by a process of ours
(`nginx -p <tmpdir> -c <conf> -g 'daemon off;'`, logs and temp files in the tmpdir, no system
path touched), and `Client`, an HTTP client bound to a source address (loopback is a /8, so a
test can be "127.0.0.7" to nginx)."""
from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import urlencode, urlsplit

import pytest

from tests.helpers.live import free_port
from tests.helpers.postgres import IN_CI

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "deploy" / "nginx"))
import render  # noqa: E402  (deploy/nginx/render.py: what an operator runs)

MIME_TYPES = Path("/etc/nginx/mime.types")


def nginx_binary() -> str:
    """The nginx executable; without one the test is skipped, or fails under CI=true."""
    found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)
    return required(found, "nginx is not installed (make nginx installs Debian's nginx-light as root)", "nginx")


def required(found: str | None, message: str, tests: str) -> str:
    """`found` (a tool's path); when None the test is skipped, or fails under CI=true."""
    if found is None:
        if IN_CI:
            pytest.fail(message + f"; under CI=true the {tests} tests must run", pytrace=False)
        pytest.skip(message)
    return found


def main_config(tmp: Path, site: Path) -> str:
    """The minimal nginx.conf around the site: everything in `tmp`. As root the workers run as
    nobody (nginx's default), as production's www-data would."""
    types = f"include {MIME_TYPES};" if MIME_TYPES.exists() else (
        "types { text/html html; text/css css; application/javascript js; image/svg+xml svg; }")
    temp = "\n".join(f"    {kind}_temp_path {tmp / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return f"""worker_processes 1;
error_log {tmp / 'error.log'} info;
pid {tmp / 'nginx.pid'};
events {{ worker_connections 1024; }}
http {{
    {types}
    default_type application/octet-stream;
    sendfile on;
    gzip on;  # as Debian's nginx.conf: the site must turn it off for pages itself
{temp}
    include {site};
}}
"""


@dataclass
class Nginx:
    dir: Path
    port: int
    instances: list[str]
    proc: subprocess.Popen
    tls_port: int | None = None
    keepalive: int = 0
    edit: Callable[[Path], None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def access_log(self) -> Path:
        return self.dir / "garage-access.log"

    def records(self, at_least: int = 0, timeout: float = 3) -> list[dict[str, Any]]:
        """The access log, one dict per request (the site's garage_json format). nginx writes a
        request's line just after its response: wait until there are `at_least` lines."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.access_log.read_text() if self.access_log.exists() else ""
            found = [json.loads(line) for line in text.splitlines() if line.strip()]
            if len(found) >= at_least or time.monotonic() > deadline:
                return found
            time.sleep(0.02)

    def error_log(self) -> str:
        path = self.dir / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def drain(self, down: list[str]) -> None:
        """Re-render with `down` instances marked down and reload nginx (a graceful reload:
        requests in flight finish on the old workers)."""
        render.render(self.dir / "site", ROOT, self.instances, down=down, listen=f"127.0.0.1:{self.port}",
                      log_dir=str(self.dir), keepalive=self.keepalive)
        if self.edit is not None:
            self.edit(self.dir / "site")
        self.proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)  # the new workers take over within milliseconds; old ones finish their requests


@contextmanager
def nginx_server(instances: list[str], tls: tuple[str, str] | None = None, keepalive: int = 0,
                 edit: Callable[[Path], None] | None = None) -> Iterator[Nginx]:
    """nginx serving Garage's site config for `instances` (ports or host:port) on a free port.
    `keepalive`: render.py's --keepalive; `edit(folder)` may change the rendered files before nginx
    starts (the bench lifts the per-address API limit: all its load comes from one address)."""
    binary = nginx_binary()
    tmp = Path(tempfile.mkdtemp(prefix="garage-nginx-"))
    tmp.chmod(0o755)  # nobody (the workers, as root) reads the rendered site and writes temp files here
    port, tls_port = free_port(), (free_port() if tls else None)
    site = render.render(tmp / "site", ROOT, instances, listen=f"127.0.0.1:{port}", log_dir=str(tmp),
                         tls=tls, tls_listen=f"127.0.0.1:{tls_port}", keepalive=keepalive)
    if edit is not None:
        edit(tmp / "site")
    conf = tmp / "nginx.conf"
    conf.write_text(main_config(tmp, site))
    test = subprocess.run([binary, "-p", str(tmp), "-c", str(conf), "-t"], capture_output=True, text=True)
    if test.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        raise RuntimeError(f"nginx -t refused the rendered config:\n{test.stderr}")
    proc = subprocess.Popen([binary, "-p", str(tmp), "-c", str(conf), "-g", "daemon off;"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    server = Nginx(tmp, port, instances, proc, tls_port, keepalive, edit)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).connect()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"nginx did not start:\n{server.error_log()[-3000:]}")
                time.sleep(0.05)
        yield server
    finally:
        proc.send_signal(signal.SIGQUIT)  # graceful stop
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")

    def json(self) -> Any:
        return json.loads(self.body)


class Client:
    """An HTTP client from `source` (an address of this machine), keeping the session cookie."""

    def __init__(self, base: str, source: str = "127.0.0.1", cookie: str = "") -> None:
        self.base, self.source, self.cookie = base, source, cookie

    def request(self, method: str, path: str, *, form: dict[str, str] | None = None, body: Any = None,
                headers: dict[str, str] | None = None, base: str | None = None, timeout: float = 30) -> Response:
        parts = urlsplit(base or self.base)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout,
                                          source_address=(self.source, 0))
        sent = dict(headers or {})
        data = None
        if form is not None:
            data, sent["Content-Type"] = urlencode(form).encode(), "application/x-www-form-urlencoded"
        elif body is not None:
            data, sent["Content-Type"] = json.dumps(body).encode(), "application/json"
        if self.cookie:
            sent.setdefault("Cookie", self.cookie)
        try:
            conn.request(method, path, body=data, headers=sent)
            r = conn.getresponse()
            response = Response(r.status, r.headers, r.read())
        finally:
            conn.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            if header.startswith("session="):
                self.cookie = header.split(";", 1)[0]
        return response
