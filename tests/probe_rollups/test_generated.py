"""Probes of the report rollups (issue 21) by generated scenarios: whatever the traffic, the zone, the
order in which days were rolled up and the writes back-dated into them, every figure of every report
(and of the portfolio) equals the recount from the ticket rows. Both databases."""
from __future__ import annotations

import os
from datetime import date

import pytest
from hypothesis import HealthCheck, Phase, given, settings, strategies as st

from garage.identity import Actor
from tests.helpers.garages import add_garage
from tests.probe_rollups.harness import (
    WHOLE_HOUR_ZONES, differences, first_lines, play, window_periods,
)
from tests.probe_rollups.strategies import scenarios

# PROBE_EXPLORE=N: N times the examples, seeded at random (the committed runs are derandomised).
EXPLORE = int(os.environ.get("PROBE_EXPLORE", "0"))
SETTINGS = dict(deadline=None, database=None, derandomize=not EXPLORE, print_blob=False,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large],
                phases=[Phase.explicit, Phase.generate])
STATS: dict[str, int] = {}
DAYS_AROUND_CHANGES = (date(2026, 3, 8), date(2026, 3, 29), date(2026, 4, 5), date(2026, 9, 6), date(2026, 9, 27),
                       date(2026, 10, 25), date(2026, 11, 1))


@pytest.fixture
def people(app, make_user):
    return Actor(make_user("ann", "attendant").id, "ann"), Actor(make_user("mia", "manager").id, "mia")


def run(app, monkeypatch, people, scenario, name: str) -> None:
    STATS[name] = STATS.get(name, 0) + 1
    staff, boss = people
    played = play(scenario, staff, boss, app)
    companion = add_garage(f"{played.slug}u", 5)  # the portfolio: another garage beside it
    diffs = differences(app, monkeypatch, played.garage_id, window_periods(scenario.first, scenario.last),
                        garages=[played.garage_id, companion])
    assert not diffs, f"{scenario.describe()}\nskipped: {played.skipped}\n{first_lines(diffs)}"


def examples(n: int) -> int:
    return n * EXPLORE if EXPLORE else n


@settings(max_examples=examples(6), **SETTINGS)
@given(scenario=scenarios(WHOLE_HOUR_ZONES))
def test_whole_hour_zones_every_figure_is_the_recount(app, monkeypatch, people, scenario):
    """Zones whose offsets change by whole hours (DST at 02:00 or at midnight, 30/45-minute standard
    offsets, the date line), events at midnight and at the change, rollups built between them."""
    run(app, monkeypatch, people, scenario, "whole-hour")


@settings(max_examples=examples(5), **SETTINGS)
@given(scenario=scenarios(WHOLE_HOUR_ZONES, tz_changes=("Pacific/Apia", "Pacific/Kiritimati", "America/St_Johns",
                                                        "Asia/Kathmandu", "Europe/Berlin", "UTC"), checkpoints=5))
def test_timezone_changes_between_writes(app, monkeypatch, people, scenario):
    """The garage's timezone changed (across the date line, twice, and back) between rollups and
    back-dated writes."""
    run(app, monkeypatch, people, scenario, "tz-change")


PAIRS = ("Asia/Kathmandu", "America/St_Johns", "Pacific/Kiritimati", "Pacific/Chatham", "America/Santiago",
         "Europe/Berlin", "UTC")


@settings(max_examples=examples(4), **SETTINGS)
@given(data=st.data())
def test_portfolio_of_two_garages_in_two_zones(app, monkeypatch, people, data):
    """Two garages with traffic over the same dates in different zones (their local days cover different
    UTC ranges), each rolled up at its own moments: the portfolio's figures per garage and day."""
    anchor = data.draw(st.sampled_from(DAYS_AROUND_CHANGES))
    first = data.draw(scenarios(PAIRS, anchor=anchor, tickets=(1, 5)))
    second = data.draw(scenarios(tuple(z for z in PAIRS if z != first.tz), anchor=anchor, tickets=(1, 5)))
    a, b = (play(s, *people, app) for s in (first, second))
    diffs = differences(app, monkeypatch, a.garage_id, window_periods(first.first, first.last),
                        garages=[a.garage_id, b.garage_id])
    assert not diffs, f"{first.describe()}\n{second.describe()}\n{first_lines(diffs)}"
