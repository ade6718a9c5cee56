"""bench/run.py's verdicts on issue 21's targets (make bench, outside make test): what it calls met."""
import pytest

from bench.run import LIVE, Result, targets

BIG = "10M tickets"


def results(live_alone_p99: float | None, live_loaded_p99: float = 150.0, ratio: float = 0.95,
            entry: float = 900.0, exit_: float = 800.0) -> list[Result]:
    """A run of both databases: the live pages at `ratio` of the empty database's req/s, their p99 under
    16 clients `live_loaded_p99` and alone `live_alone_p99` (None: not measured alone)."""
    out = [Result("empty", name, rps=400.0, p99_ms=100.0) for name in LIVE]
    for name in LIVE:
        out.append(Result(BIG, name, rps=400.0 * ratio, p99_ms=live_loaded_p99))
        if live_alone_p99 is not None:
            out.append(Result(BIG, f"{name}, alone", rps=100.0, p99_ms=live_alone_p99))
    out += [Result(BIG, "bare Flask insert", rps=1000.0, p99_ms=90.0),
            Result(BIG, "entry", rps=entry, p99_ms=60.0), Result(BIG, "exit", rps=exit_, p99_ms=60.0)]
    return out


def verdict(text: str, name: str) -> str:
    line = next(line for line in text.splitlines() if line.startswith("- ") and f" {name}:" in line)
    return line.split()[1]


@pytest.mark.parametrize("name", LIVE)
def test_a_live_page_is_judged_by_its_own_p99_alone_with_the_queue_as_context(name):
    text = targets(results(live_alone_p99=12.0, live_loaded_p99=150.0))
    assert verdict(text, name) == "MET"
    line = next(line for line in text.splitlines() if f" {name}:" in line)
    assert "p99 alone 12.0 ms" in line and "under 16 clients 150.0 ms" in line and "bare insert's 90.0 ms" in line
    assert verdict(targets(results(live_alone_p99=50.0)), name) == "MISSED"  # < 50, not <= 50


@pytest.mark.parametrize("name", LIVE)
def test_a_live_page_slower_on_the_big_history_misses_whatever_its_p99(name):
    assert verdict(targets(results(live_alone_p99=5.0, ratio=0.79)), name) == "MISSED"
    assert verdict(targets(results(live_alone_p99=5.0, ratio=0.80)), name) == "MET"


@pytest.mark.parametrize("name", LIVE)
def test_without_an_alone_run_the_loaded_p99_decides(name):
    """A run limited with --only to the loaded scenarios: judged as before, by the p99 under load."""
    assert verdict(targets(results(live_alone_p99=None, live_loaded_p99=49.0)), name) == "MET"
    assert verdict(targets(results(live_alone_p99=None, live_loaded_p99=150.0)), name) == "MISSED"


def test_the_entry_and_the_exit_are_judged_against_the_bare_insert():
    text = targets(results(live_alone_p99=10.0, entry=850.0, exit_=749.0))
    assert verdict(text, "entry") == "MET" and verdict(text, "exit") == "MISSED"


def test_a_misspelt_scenario_is_refused_before_anything_starts(capsys):
    """`--only "stats,alone"` (the comma inside the name) ran no scenario after seeding and printed an empty
    table; it is refused at once with the names there are. `--rounds 0` stops the run before any database."""
    from bench.run import REFERENCES, SCENARIOS, main

    with pytest.raises(SystemExit) as refused:
        main(["--only", "stats,alone", "--rounds", "0"])
    said = capsys.readouterr().err
    assert refused.value.code == 2 and "no scenario named 'stats,alone'" in said
    assert all(repr(s.name) in said for s in SCENARIOS) and all(repr(r) in said for r in REFERENCES)
    # every real name passes that check (then --rounds 0 is what stops it)
    with pytest.raises(SystemExit):
        main(["--only", *(s.name for s in SCENARIOS), *REFERENCES, "--rounds", "0"])
    assert "no scenario named" not in capsys.readouterr().err
