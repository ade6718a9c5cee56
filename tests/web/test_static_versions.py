"""Static URLs carry the file's version (garage/templating.py), so the proxy in front may cache
them for a year (deploy/nginx/garage.conf) and a browser never keeps an old stylesheet after a deploy."""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from flask import url_for

from garage import create_app
from tests.helpers.web import soup

ROOT = Path(__file__).resolve().parents[2]


def test_every_static_link_on_a_page_names_the_hash_of_its_file(desk):
    doc = soup(desk.client.get("/g/main/desk").get_data(as_text=True))
    urls = [t.get("href") or t.get("src") for t in doc.select("link[href], script[src]")]
    static = [u for u in urls if u.startswith("/static/")]
    assert len(static) >= 4, urls  # favicon, app.css, htmx, app.js, desk.css, desk-pay.js
    for url in static:
        parts = urlsplit(url)
        data = (ROOT / parts.path.removeprefix("/")).read_bytes()
        assert parse_qs(parts.query) == {"v": [hashlib.sha256(data).hexdigest()[:12]]}, url
        assert desk.client.get(url).status_code == 200


def test_a_changed_file_gets_a_new_url_and_a_missing_one_none(tmp_path):
    static = tmp_path / "static"
    shutil.copytree(ROOT / "static" / "css", static / "css")
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "DEBUG": True})
    app.static_folder = str(static)
    with app.test_request_context():
        before = url_for("static", filename="css/app.css")
        (static / "css" / "app.css").write_text("body { color: red }\n")
        after = url_for("static", filename="css/app.css")
        assert url_for("static", filename="css/nothing.css") == "/static/css/nothing.css"
    assert before.startswith("/static/css/app.css?v=") and after.startswith("/static/css/app.css?v=")
    assert after != before
    assert after.endswith(hashlib.sha256(b"body { color: red }\n").hexdigest()[:12])
