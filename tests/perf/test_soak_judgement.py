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


@given(st.floats(1.0, 1.25))
def test_the_overall_p99_is_the_live_traffics_not_the_edge_of_the_reports(excess):
    """The reports are the slowest kind by far. If they were 1 % of the requests, the overall p99 would sit on
    the edge between them and the rest, and a window that drew a few more reports than its share would move
    it from the live traffic's tail into the reports' (an UPWARD verdict about a coin's throws). A window of
    100,000 requests in the mix's shares, the reports up to a quarter above theirs: the p99 is a live one."""
    from bench.soak import MIX, percentile

    total = sum(weight for _, weight in MIX)
    samples: list[float] = []
    for kind, weight in MIX:
        count = round(100_000 * weight / total * (excess if kind == "report" else 1))
        low, high = (300.0, 600.0) if kind == "report" else (10.0, 50.0)
        samples += [low + (high - low) * i / count for i in range(count)]
    assert percentile(samples, 99) < 300
