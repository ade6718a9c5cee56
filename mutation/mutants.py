"""make mutants: mutation testing of the business rules with mutmut (docs/testing.md).

Two phases, each in its own work directory under .mutants/ (git-ignored), so each has its
own mutmut configuration, cache and results:

  domain    garage/domain/*.py                      against tests/domain (the fast tests)
  services  the capacity / plate / pay-once / pricing code of the services and the portable
            (SQLite) store, against the SQLite half of the app tests that exercise it

Usage:  python mutation/mutants.py [run|rerun|scores|survivors] [domain|services ...]
        run        fresh mutmut run of the phases (default: both), then the scores
        rerun      re-run only the last run's unlisted survivors, with the tests as they are now
        scores     the scores of the last run
        survivors  the diff of every surviving mutant not listed in mutation/equivalents.txt

A mutant listed in mutation/equivalents.txt (one line each: name, then the reason) is judged
equivalent: it cannot change what anyone sees. The score is killed / (total - equivalent).
"""
from __future__ import annotations

import ast
import difflib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".mutants"
EQUIVALENTS = ROOT / "mutation" / "equivalents.txt"
MUTMUT = Path(sys.executable).parent / "mutmut"
MAX_CHILDREN = os.environ.get("MUTANTS_MAX_CHILDREN", "2")
# What every phase's copy of the project needs for its tests to run (mutmut copies tests/).
SHARED = ["garage", "tests", "templates", "static", "migrations", "pytest.ini", "docs", "README.md", "bench",
          "wsgi.py", "gunicorn.conf.py"]
ALSO_COPY = ["pytest.ini", "templates", "static", "migrations", "docs", "README.md", "bench", "wsgi.py",
             "gunicorn.conf.py"]
GOAL, FLOOR = 95.0, 85.0


@dataclass
class Phase:
    name: str
    modules: list[str]  # files to mutate
    tests: list[str]  # what the stats run executes; each mutant then runs the tests that reach it
    env: dict[str, str] = field(default_factory=dict)
    # Only these functions of a module are mutated, run and scored (the rules); a module not
    # listed here: all of it.
    scope: dict[str, list[str]] = field(default_factory=dict)


PHASES = {
    "domain": Phase("domain", ["garage/domain/*.py"], ["tests/domain"]),
    "services": Phase(
        "services",
        ["garage/services/tickets.py", "garage/services/settings.py", "garage/persistence/portable.py"],
        ["tests/web/test_desk.py", "tests/web/test_settings_page.py", "tests/api/test_api.py",
         "tests/api/test_pricing_rules.py", "tests/db/test_interleaving.py", "tests/db/test_service_rules.py",
         "tests/domain/test_rules.py", "tests/perf/test_query_counts.py",
         "tests/api/test_receipts.py", "tests/web/test_receipts.py",  # the receipt number an exit draws
         "tests/db/test_garages.py",  # every rule above holds per garage (issue 17)
         "tests/db/test_shifts.py", "tests/api/test_shifts_api.py"],  # the exit's shift (issue 18)
        env={"GARAGE_TEST_DATABASES": "sqlite"},
        scope={
            "garage/services/tickets.py": ["_refuse_if_inside", "issue_ticket", "quote_for", "process_exit",
                                           "find_inside_by_plate", "find_active", "_by_number", "find_ticket"],
            "garage/services/settings.py": ["update_settings", "current_tariff", "_set_vehicle_rate"],
            "garage/persistence/portable.py": ["PortableStore.issue", "PortableStore.close"],
        },
    ),
}


def _toml_list(values: list[str]) -> str:
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


def prepare(phase: Phase) -> Path:
    """A fresh work directory: links to the project and the phase's mutmut configuration."""
    home = WORK / phase.name
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    for name in SHARED:
        if (ROOT / name).exists():
            (home / name).symlink_to(ROOT / name)
    (home / "pyproject.toml").write_text(
        "[tool.mutmut]\n"
        'source_paths = ["garage"]\n'
        f"only_mutate = {_toml_list(phase.modules)}\n"
        'do_not_mutate = ["garage/domain/__init__.py", "garage/domain/roles.py"]\n'
        f"pytest_add_cli_args_test_selection = {_toml_list(phase.tests)}\n"
        f"also_copy = {_toml_list(ALSO_COPY)}\n"
        "use_git_change_detection = false\n"
    )
    return home


def run(phase: Phase, only: list[str] | None = None) -> None:
    """A fresh run of the phase; `only`: re-run these mutants in the last run's directory
    (same code, the tests as they are now: after writing a test for a survivor)."""
    home = WORK / phase.name if only else prepare(phase)
    env = {**os.environ, **phase.env}
    print(f"== mutmut: {phase.name} ({', '.join(phase.modules)}) against {' '.join(phase.tests)}", flush=True)
    log = home / "mutmut.log"  # mutmut's progress spinner: kept out of the terminal
    started = time.monotonic()
    with log.open("w") as out:
        done = subprocess.run([str(MUTMUT), "run", "--max-children", MAX_CHILDREN, *(only or _globs(phase))],
                              cwd=home, env=env, stdout=out, stderr=subprocess.STDOUT)
    last = log.read_text(errors="replace").replace("\r", "\n").strip().splitlines()[-3:]
    print(f"   {phase.name}: {time.monotonic() - started:.0f} s; " + " | ".join(line.strip() for line in last))
    if done.returncode != 0:
        raise SystemExit(f"mutmut failed ({done.returncode}): see {log}")


def _globs(phase: Phase) -> list[str]:
    """mutmut's names for the scoped functions (only those are mutated and run):
    garage.services.tickets.x_issue_ticket*, garage.persistence.portable.xǁPortableStoreǁissue*"""
    globs = []
    for module, functions in phase.scope.items():
        dotted = module[: -len(".py")].replace("/", ".")
        for function in functions:
            cls, _, name = function.rpartition(".")
            globs.append(f"{dotted}.xǁ{cls}ǁ{name}*" if cls else f"{dotted}.x_{function}*")
    return globs


def equivalents() -> dict[str, str]:
    listed = {}
    for line in EQUIVALENTS.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, reason = line.partition(" ")
            listed[name] = reason.strip()
    return listed


def _status(code) -> str:
    return {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", None: "not checked",
            36: "timeout", 24: "timeout", -24: "timeout", 152: "timeout", 255: "timeout"}.get(code, "other")


def results(phase: Phase) -> dict[str, dict[str, str]]:
    """{module: {mutant name: status}} of the phase's last run, restricted to its scope."""
    out: dict[str, dict[str, str]] = {}
    for meta in sorted((WORK / phase.name / "mutants").glob("garage/**/*.py.meta")):
        module = str(meta.relative_to(WORK / phase.name / "mutants"))[: -len(".meta")]
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        wanted = phase.scope.get(module)
        for name, code in codes.items():
            if wanted is not None and _function(name) not in wanted:
                continue
            out.setdefault(module, {})[name] = _status(code)
    return out


def _function(mutant: str) -> str:
    """garage.services.tickets.x_issue_ticket__mutmut_3 -> issue_ticket;
    garage.persistence.portable.xǁPortableStoreǁissue__mutmut_1 -> PortableStore.issue"""
    last = mutant.rsplit("__mutmut_", 1)[0].split(".")[-1]
    if last.startswith("xǁ"):
        return ".".join(last[2:].split("ǁ"))
    return last[2:] if last.startswith("x_") else last


def scores(names: list[str]) -> bool:
    listed = equivalents()
    ok = True
    total_killed = total_counted = 0
    print(f"\n{'module':40} {'killed':>6} {'equiv':>6} {'surv':>5} {'no test':>7} {'t/o':>4} {'score':>7}")
    for phase_name in names:
        for module, statuses in results(PHASES[phase_name]).items():
            killed = sum(s in ("killed", "timeout") for s in statuses.values())
            equivalent = [n for n, s in statuses.items() if n in listed and s not in ("killed", "timeout")]
            survived = sum(s == "survived" and n not in listed for n, s in statuses.items())
            untested = sum(s == "no tests" and n not in listed for n, s in statuses.items())
            timeouts = sum(s == "timeout" for s in statuses.values())
            counted = len(statuses) - len(equivalent)
            score = 100.0 * killed / counted if counted else 100.0
            total_killed += killed
            total_counted += counted
            ok &= score >= FLOOR
            print(f"{module:40} {killed:6} {len(equivalent):6} {survived:5} {untested:7} {timeouts:4} {score:6.1f}%")
    overall = 100.0 * total_killed / total_counted if total_counted else 100.0
    ok &= overall >= GOAL
    print(f"{'all (non-equivalent mutants killed)':40} {total_killed:6} {'':6} {'':5} {'':7} {'':4} {overall:6.1f}%")
    print(f"goal: {GOAL:.0f}% overall, every module >= {FLOOR:.0f}%: {'met' if ok else 'NOT met'}")
    stale = [n for n in listed if any(results(PHASES[p]).get(_module(n), {}).get(n) == "killed" for p in names)]
    for name in stale:
        print(f"note: {name} is listed as equivalent but is killed now: remove it from {EQUIVALENTS.name}")
    return ok


def _module(mutant: str) -> str:
    return "/".join(mutant.rsplit("__mutmut_", 1)[0].split(".")[:-1]) + ".py"


def _diffs(mutated_file: Path) -> dict[str, str]:
    """{mutant name suffix: the changed lines} from mutmut's mutated copy of a module (fast: no
    mutmut process per mutant; `mutmut show NAME` in .mutants/<phase> shows the same)."""
    tree = ast.parse(mutated_file.read_text())
    source = mutated_file.read_text()
    functions = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and "__mutmut_" in node.name:
            functions[node.name] = ast.get_source_segment(source, node).splitlines()
    out = {}
    for name, lines in functions.items():
        base, _, number = name.rpartition("__mutmut_")
        original = functions.get(f"{base}__mutmut_orig")
        if number == "orig" or original is None:
            continue
        lines = [lines[0].replace(name, f"{base}__mutmut_orig")] + lines[1:]
        changed = [line for line in difflib.unified_diff(original, lines, lineterm="", n=0)
                   if line[:1] in "+-" and not line.startswith(("+++", "---"))]
        out[name] = "\n".join(changed)
    return out


def survivors(names: list[str]) -> None:
    listed = equivalents()
    for phase_name in names:
        for module, statuses in results(PHASES[phase_name]).items():
            diffs = _diffs(WORK / phase_name / "mutants" / module)
            for name, status in statuses.items():
                if status in ("survived", "no tests") and name not in listed:
                    print(f"--- {status}: {name}\n{diffs.get(name.rsplit('.', 1)[-1], '?')}")


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "run"
    names = argv[1:] or list(PHASES)
    if command == "run":
        for name in names:
            run(PHASES[name])
        scores(names)
        return 0
    if command == "scores":
        scores(names)
        return 0
    if command == "rerun":
        listed = equivalents()
        for name in names:
            left = [n for statuses in results(PHASES[name]).values() for n, status in statuses.items()
                    if status in ("survived", "no tests", "not checked") and n not in listed]
            if left:
                run(PHASES[name], only=left)
        scores(names)
        return 0
    if command == "survivors":
        survivors(names)
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
