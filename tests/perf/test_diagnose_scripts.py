"""The pgbench scripts in bench/diagnose/ are the entry's real statement (generated from
garage/persistence/postgresql.py ISSUE): a change to the statement that is not carried
to them fails here, so a diagnosis never measures a stale copy."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_pgbench_scripts_match_the_statement_the_app_sends():
    run = subprocess.run([sys.executable, "bench/diagnose/pgbench_scripts.py", "--check"], cwd=ROOT,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_check_notices_a_stale_script(tmp_path, monkeypatch):
    sys.path.insert(0, str(ROOT / "bench" / "diagnose"))
    try:
        import pgbench_scripts
    finally:
        sys.path.remove(str(ROOT / "bench" / "diagnose"))
    monkeypatch.setattr(pgbench_scripts, "HERE", tmp_path)
    assert pgbench_scripts.main(["--check"]) == 1  # nothing written yet: stale
    assert pgbench_scripts.main([]) == 0
    assert pgbench_scripts.main(["--check"]) == 0
    (tmp_path / "entry_statement.sql").write_text("-- a hand edit\n")
    assert pgbench_scripts.main(["--check"]) == 1
