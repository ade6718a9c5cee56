"""The systemd unit of an app instance (deploy/systemd/garage@.service): systemd itself accepts it
(`systemd-analyze verify`, no warning), and it keeps the settings the deployment guide relies on."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers.postgres import IN_CI

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "deploy" / "systemd" / "garage@.service"
ENV_EXAMPLE = ROOT / "deploy" / "systemd" / "garage.env.example"


def settings(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.lstrip().startswith(("#", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def test_systemd_analyze_verify_accepts_the_instance_unit_without_a_warning(tmp_path):
    binary = shutil.which("systemd-analyze")
    if binary is None:
        if IN_CI:
            pytest.fail("systemd-analyze is missing: under CI=true the unit must be verified", pytrace=False)
        pytest.skip("systemd-analyze is not installed (package systemd): the unit is not verified")
    # An instance of the template, pointing at this checkout (verify checks ExecStart exists).
    unit = tmp_path / "garage@5001.service"
    unit.write_text(UNIT.read_text().replace("/srv/garage", str(ROOT)))
    result = subprocess.run([binary, "verify", str(unit)], capture_output=True, text=True, timeout=60)
    complaints = [line for line in (result.stdout + result.stderr).splitlines() if "garage@" in line]
    assert result.returncode == 0 and complaints == [], result.stdout + result.stderr


def test_the_unit_runs_one_hardened_instance_per_port_from_the_env_file():
    unit = settings(UNIT.read_text())
    assert unit["ExecStart"] == ["/srv/garage/.venv/bin/gunicorn -c gunicorn.conf.py wsgi:app"]
    assert "GUNICORN_BIND=127.0.0.1:%i" in unit["Environment"]  # garage@5001 listens on 5001
    assert "PROMETHEUS_MULTIPROC_DIR=/run/garage/%i" in unit["Environment"]  # writable, per instance
    assert unit["RuntimeDirectory"] == ["garage/%i"]
    assert unit["EnvironmentFile"] == ["/etc/garage/garage.env"]
    assert unit["Type"] == ["notify"]  # restart returns once gunicorn listens (rolling deploy)
    assert unit["Restart"] == ["always"] and unit["KillSignal"] == ["SIGTERM"]  # graceful stop
    assert unit["User"] == ["garage"]
    for key, value in {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
                       "PrivateTmp": "yes", "CapabilityBoundingSet": ""}.items():
        assert unit[key] == [value], key


def test_the_example_environment_names_only_documented_settings():
    readme = (ROOT / "README.md").read_text()
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", readme, flags=re.M))
    keys = set(settings(ENV_EXAMPLE.read_text()))
    assert {"DATABASE_URL", "SECRET_KEY", "SESSION_COOKIE_SECURE"} <= keys
    assert keys - documented == set()


@pytest.mark.parametrize(("unit", "base"), [
    # Debian's patroni.service, reduced to what verify needs; the drop-in is ours.
    ("patroni.service", "[Unit]\nDescription=Patroni\n\n[Service]\nUser=postgres\nExecStart=/bin/true\nKillMode=process\n"),
    ("garage@5001.service", None),  # our own instance unit, as in production
], ids=["patroni", "garage@"])
def test_the_high_availability_drop_ins_are_accepted(tmp_path, unit, base):
    """deploy/systemd/patroni.service.d/ and garage@.service.d/ (docs/operations.md, High availability)."""
    binary = shutil.which("systemd-analyze")
    if binary is None:
        if IN_CI:
            pytest.fail("systemd-analyze is missing: under CI=true the drop-ins must be verified", pytrace=False)
        pytest.skip("systemd-analyze is not installed (package systemd): the drop-ins are not verified")
    template = re.sub(r"@[^.]*", "@", unit)  # garage@5001.service -> garage@.service
    (tmp_path / unit).write_text(base or UNIT.read_text().replace("/srv/garage", str(ROOT)))
    drop_in = tmp_path / f"{template}.d"
    drop_in.mkdir()
    for conf in (ROOT / "deploy" / "systemd" / f"{template}.d").glob("*.conf"):
        (drop_in / conf.name).write_text(conf.read_text())
    assert list(drop_in.iterdir()), "the repository has a drop-in for " + template
    result = subprocess.run([binary, "verify", str(tmp_path / unit)], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "SYSTEMD_UNIT_PATH": f"{tmp_path}:"})
    said = result.stdout + result.stderr
    assert result.returncode == 0 and ".conf:" not in said and unit not in said, said
