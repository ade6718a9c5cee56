"""Every `make drills DRILL_ARGS="..."` example in the Makefile and the docs is a command line
bench/drills.py accepts (one once named an option that does not exist: --seconds)."""
import re
import shlex

import pytest

from bench import drills
from tests.helpers.nginx import ROOT

EXAMPLE = re.compile(r'DRILL_ARGS="([^"]*)"')
PLACES = ["Makefile", "docs/deployment.md", "README.md", "bench/README.md"]


def examples() -> list[tuple[str, str]]:
    return [(place, found) for place in PLACES if (ROOT / place).exists()
            for found in EXAMPLE.findall((ROOT / place).read_text())]


def test_there_are_examples_to_check():
    assert {place for place, _ in examples()} >= {"Makefile", "docs/deployment.md"}


@pytest.mark.parametrize(("place", "example"), examples())
def test_each_drill_args_example_is_accepted(place, example):
    args = drills.arguments(shlex.split(example))
    assert args.chosen and set(args.chosen) <= set(drills.DRILLS)


def test_an_unknown_option_is_refused(capsys):
    with pytest.raises(SystemExit):
        drills.arguments(["--seconds", "10"])
    assert "unrecognized arguments: --seconds" in capsys.readouterr().err
