"""Configuration from the environment, and the vendored static files."""
import hashlib
import re
from pathlib import Path

import pytest

from garage import create_app
from garage.config import Config, normalise_database_url

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("given, expected", [
    ("postgres://u:p@h:5432/db", "postgresql+psycopg2://u:p@h:5432/db"),
    ("postgresql://u@h/db", "postgresql+psycopg2://u@h/db"),
    ("postgresql+psycopg2://u@h/db", "postgresql+psycopg2://u@h/db"),
    ("sqlite:///x.db", "sqlite:///x.db"),
])
def test_database_urls_are_mapped_to_psycopg2(given, expected):
    assert normalise_database_url(given) == expected


def test_default_database_is_sqlite_under_instance(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app({"TESTING": True})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite:///garage.db"
    from garage.extensions import db
    with app.app_context():
        assert db.engine.url.database == str(Path(app.instance_path) / "garage.db")


def test_production_refuses_to_start_without_secret_key(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/x.db")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"INSTANCE_PATH": str(tmp_path)})
    (tmp_path / "secret_key").write_text("from-make-run")  # what `make run` writes
    assert create_app({"INSTANCE_PATH": str(tmp_path)}).config["SECRET_KEY"] == "from-make-run"


def test_environment_settings_are_read(monkeypatch):
    monkeypatch.setenv("GARAGE_TIMEZONE", "Europe/Paris")
    monkeypatch.setenv("PORT", "6000")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    config = Config()
    assert (config.GARAGE_TIMEZONE, config.PORT, config.LOG_LEVEL) == ("Europe/Paris", 6000, "DEBUG")


def test_sign_in_address_limit_is_read_and_must_be_positive(monkeypatch):
    assert Config().SIGN_IN_ADDRESS_FAILURES == 100
    monkeypatch.setenv("SIGN_IN_ADDRESS_FAILURES", "400")
    assert Config().SIGN_IN_ADDRESS_FAILURES == 400
    monkeypatch.setenv("SIGN_IN_ADDRESS_FAILURES", "0")
    with pytest.raises(ValueError, match="SIGN_IN_ADDRESS_FAILURES"):
        Config()


def test_a_read_replica_is_configured_and_refused_at_start_without_postgresql(monkeypatch, tmp_path):
    """DATABASE_REPLICA_URL (garage/persistence/replica.py): none by default; PostgreSQL on both sides, else
    the app does not start (a SQLite file has no replica)."""
    assert (Config().DATABASE_REPLICA_URL, Config().REPLICA_MAX_LAG_SECONDS) == (None, 30)
    monkeypatch.setenv("DATABASE_REPLICA_URL", "postgres://reader@replica/garage")
    monkeypatch.setenv("REPLICA_MAX_LAG_SECONDS", "5")
    config = Config()
    assert (config.DATABASE_REPLICA_URL, config.REPLICA_MAX_LAG_SECONDS) == (
        "postgresql+psycopg2://reader@replica/garage", 5)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/x.db")
    with pytest.raises(ValueError, match="DATABASE_REPLICA_URL is for PostgreSQL"):
        create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path)})
    with pytest.raises(ValueError, match="DATABASE_REPLICA_URL must be a PostgreSQL URL"):
        create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path), "DATABASE_REPLICA_URL": "sqlite:///copy.db",
                    "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg2://app@primary/garage"})
    monkeypatch.setenv("REPLICA_MAX_LAG_SECONDS", "soon")
    with pytest.raises(ValueError, match="REPLICA_MAX_LAG_SECONDS"):
        Config()


@pytest.mark.parametrize("zone", ["Mars/Olympus", "localtime", "Factory", "EST5EDT"])
def test_unknown_timezone_is_refused(monkeypatch, zone):
    """The first garage's timezone follows the garages' rule: a region's name or UTC."""
    monkeypatch.setenv("GARAGE_TIMEZONE", zone)
    with pytest.raises(ValueError, match=zone):
        Config()


@pytest.mark.parametrize("folder, files", [
    ("static/vendor/htmx", ["htmx.min.js"]),
    ("static/vendor/swagger-ui", ["swagger-ui-bundle.js", "swagger-ui.css"]),
])
def test_vendored_files_match_their_recorded_checksums(folder, files):
    record = (ROOT / folder / "VERSION.md").read_text()
    assert "Licence" in record and (ROOT / folder / "LICENSE").exists()
    for name in files:
        digest = hashlib.sha256((ROOT / folder / name).read_bytes()).hexdigest()
        assert re.search(rf"`{re.escape(name)}`.*`{digest}`|{digest}", record), name


def test_passwords_are_hashed_with_full_strength_scrypt_unless_configured(monkeypatch, tmp_path):
    """Production: werkzeug's scrypt at its own cost (N=2**15). The tests' cheaper setting is theirs
    only; a hash method werkzeug would refuse stops the start, not the first sign-in."""
    monkeypatch.delenv("PASSWORD_HASH", raising=False)
    assert Config().PASSWORD_HASH == "scrypt"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"})
    from garage.models import User
    with app.app_context():
        user = User(username="boss")
        user.set_password("a long password")
        assert user.password_hash.startswith("scrypt:32768:8:1$")
        assert user.check_password("a long password") and not user.check_password("a long passwore")
    for bad in ("md5", "plain", "scrypt:1", "scrypt:x:8:1", "pbkdf2:sha1"):
        monkeypatch.setenv("PASSWORD_HASH", bad)
        with pytest.raises(ValueError, match="PASSWORD_HASH"):
            Config()
