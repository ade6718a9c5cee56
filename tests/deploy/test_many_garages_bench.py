"""`make bench BENCH_ARGS="--scenario garages"` (bench/many_garages.py, bench/lua/garages.lua) is
not run by the tests (minutes of load); what is checked: its plan is built from the options in a
moment, every argument it hands the Lua script is one the script reads, and the script, run by
wrk for a second against a stub server, sends each request to a garage with that garage's token,
spread over the garages asked for, with a plate no other request used."""
import json
import re
import shlex
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench import many_garages, run
from tests.helpers.nginx import ROOT, required

SCRIPT = ROOT / "bench" / "lua" / "garages.lua"


def test_the_dry_run_plans_one_and_many_garages_without_a_database(capsys):
    run.main(["--scenario", "garages", "--dry-run", "--garages", "3", "--rounds", "2", "--duration", "4",
              "--admin-url", "postgresql://nobody@127.0.0.1:1/none"])
    out = capsys.readouterr().out
    assert "3 garages (g001..g003)" in out
    for round_no in (1, 2):
        for row in ("entry, 1 garage", "entry, 3 garages", "exit, 1 garage", "exit, 3 garages"):
            assert f"round {round_no}: {row}: wrk -t2 -c16 -d2s -s bench/lua/garages.lua" in out


def test_every_argument_the_plan_passes_is_read_by_the_script(tmp_path):
    read = set(re.findall(r"opts\.(\w+)", SCRIPT.read_text())) | {"threads"}
    files = {"garages": tmp_path / "g", "exit1": tmp_path / "e1", "exit5": tmp_path / "e5"}
    for mode, garages in (("entry", 1), ("entry", 5), ("exit", 1), ("exit", 5)):
        passed = {arg.split("=", 1)[0] for arg in many_garages.wrk_args(mode, garages, files, "api")}
        assert passed <= read, f"{mode}: {passed - read} not read by {SCRIPT.name}"


@pytest.mark.parametrize("place", ["Makefile", "bench/README.md", "docs/scaling.md"])
def test_each_bench_args_example_is_accepted(place):
    found = re.findall(r'BENCH_ARGS="([^"]*)"', (ROOT / place).read_text())
    assert found
    for example in found:
        run.arguments().parse_args(shlex.split(example))


def test_a_garage_count_below_one_is_refused(capsys):
    with pytest.raises(SystemExit):
        run.main(["--scenario", "garages", "--dry-run", "--garages", "0"])
    assert "--garages must be at least 1" in capsys.readouterr().err


# --- the Lua script under wrk, against a stub server -----------------------------------------------

def wrk_path() -> str:
    return required(shutil.which("wrk"), "wrk is not installed (make bench-tools installs Debian's wrk as root)",
                    "bench script's")


class Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[tuple[str, str, str, str, str]] = []

    def answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        self.seen.append((self.command, self.path, self.headers.get("Authorization", ""),
                          self.headers.get("Content-Type", ""), body))
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = do_PUT = answer

    def log_message(self, *args) -> None:
        pass


def requests_sent(tmp_path, *args: str) -> list[tuple[str, str, str, str, str]]:
    Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        proc = subprocess.run([wrk_path(), "-t2", "-c2", "-d1s", "-s", "bench/lua/garages.lua",
                               f"http://127.0.0.1:{server.server_port}", "--", "threads=2", *args],
                              cwd=ROOT, capture_output=True, text=True, timeout=30)
    finally:
        server.shutdown()
        server.server_close()
    assert proc.returncode == 0 and "BENCHRESULT" in proc.stdout, proc.stderr
    assert Recorder.seen
    return list(Recorder.seen)


@pytest.fixture
def garages_file(tmp_path):
    path = tmp_path / "garages.txt"
    path.write_text("".join(f"g00{i} token-{i}\n" for i in range(1, 6)))
    return path


def test_entries_go_round_the_garages_asked_for_each_with_its_token(tmp_path, garages_file):
    seen = requests_sent(tmp_path, "mode=entry", f"file={garages_file}", "garages=3", "tag=QX", "path=api")
    by_path = {(path, auth) for _, path, auth, _, _ in seen}
    assert by_path == {(f"/api/garages/g00{i}/tickets", f"Bearer token-{i}") for i in (1, 2, 3)}
    assert {(method, kind) for method, _, _, kind, _ in seen} == {("POST", "application/json")}
    plates = [json.loads(body)["licensePlate"] for *_, body in seen]
    assert len(set(plates)) == len(plates) and all(p.startswith("QX") for p in plates)


def test_one_garage_means_every_entry_there(tmp_path, garages_file):
    seen = requests_sent(tmp_path, "mode=entry", f"file={garages_file}", "garages=1", "path=seed")
    assert {(path, auth) for _, path, auth, _, _ in seen} == {("/api/tickets", "Bearer token-1")}


def test_exits_pay_each_car_at_its_own_garage(tmp_path):
    cars = tmp_path / "cars.txt"
    cars.write_text("".join(f"g00{n % 3 + 1} token-{n % 3 + 1} PX-{n}\n" for n in range(40)))
    seen = requests_sent(tmp_path, "mode=exit", f"file={cars}", "path=api")
    expected = {(f"/api/garages/g00{n % 3 + 1}/tickets/PX-{n}/exit", f"Bearer token-{n % 3 + 1}") for n in range(40)}
    assert {method for method, *_ in seen} == {"PUT"}
    assert {(path, auth) for _, path, auth, _, _ in seen} == expected  # each car, at its garage
    assert all(json.loads(body)["paymentMethod"] for *_, body in seen)
