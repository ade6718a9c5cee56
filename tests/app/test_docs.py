"""The documentation a newcomer reads: every relative link and image in README.md,
bench/README.md and docs/*.md resolves, and the README stays a five-minute read."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_relative_link_in_the_docs_resolves():
    run = subprocess.run([sys.executable, "docs/check_links.py", "."], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout
    assert " 0 broken" in run.stdout


def test_the_link_check_notices_a_broken_link(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "README.md").write_text("# Bench\n")
    (tmp_path / "docs" / "guide.md").write_text("# Guide\n\nSee [the README](../README.md#quick-start).\n")
    (tmp_path / "README.md").write_text("# Garage\n\n## Quick start\n\n[guide](docs/guide.md), [gone](docs/gone.md)\n")
    run = subprocess.run([sys.executable, str(ROOT / "docs" / "check_links.py"), str(tmp_path)],
                         capture_output=True, text=True)
    assert run.returncode == 1 and "missing docs/gone.md" in run.stdout and "1 broken" in run.stdout


def test_the_readme_is_short_and_points_to_the_architecture():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 150
    assert "docs/architecture.md" in readme and "make run" in readme and "make test" in readme
