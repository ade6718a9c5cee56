"""bench/soak.py's verdicts (make soak, outside make test): what it calls a trend."""
import math

from hypothesis import given, strategies as st

from bench.soak import trend


def test_a_rise_beyond_the_allowed_share_of_the_first_window_is_upward():
    assert trend([100, 105, 98, 103, 101, 99], 25) == "flat"  # noise around a level
    assert trend([100, 110, 120, 130, 140, 150], 25) == "UPWARD"  # +50 % over the run
    assert trend([100, 90, 80, 70, 60, 50], 25) == "flat"  # getting faster is no trend to alarm on
    assert trend([100, 300, 100, 100, 100, 100], 25) == "flat"  # one slow window early is not a trend
    assert trend([100, 100, 100, 100, 100, 300], 25) == "UPWARD"  # ... but a jump at the end is


def test_a_window_without_such_requests_is_not_judged():
    assert trend([100, math.nan, 100], 25) == "-"
    assert trend([], 25) == "-"


@given(st.lists(st.floats(1, 10_000), min_size=2, max_size=12), st.floats(0, 100))
def test_a_steady_climb_is_upward_and_a_level_series_flat(values, allowed):
    first = values[0]
    assert trend([first] * len(values), allowed) == "flat"
    climbing = [first * (1 + (allowed / 100 + 0.5) * i / (len(values) - 1)) for i in range(len(values))]
    assert trend(climbing, allowed) == "UPWARD"
