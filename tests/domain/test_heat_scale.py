"""The heat map's precision and number of colour steps (garage/domain/charts.py heat_scale,
heat_level, heat_legend), worked out by hand: five steps above zero at most, one decimal while
the largest value is 0.5 or more, two down to 0.05, else three, and never more steps than there
are distinct values at that precision (so no two legend entries read the same)."""
from __future__ import annotations

import pytest

from garage.domain.charts import HEAT_COLOURS, heat_legend, heat_level, heat_scale


@pytest.mark.parametrize("top, scale", [
    (0, (3, 0)),        # nothing at all: no steps
    (7.3, (1, 5)),
    (0.5, (1, 5)),      # 0.5 reads 0.5: one decimal is enough for five steps
    (0.46, (2, 5)),     # 4.6 tenths are too few steps: hundredths
    (0.1, (2, 5)),
    (0.08, (2, 5)),     # an average of 0.08 cars reads 0.08, not 0.1
    (0.05, (2, 5)),
    (0.049, (3, 5)),
    (0.004, (3, 4)),    # only four distinct thousandths: four steps
    (0.003, (3, 3)),
    (0.001, (3, 1)),
])
def test_the_scale_follows_the_largest_value(top, scale):
    assert heat_scale(top) == scale


def test_a_colour_uses_the_steps_it_is_given():
    # on a map of five steps, half the top is the middle colour; on one of a single step it is the top colour
    assert heat_level(0.5, 1.0) == heat_level(0.5, 1.0, 5) == HEAT_COLOURS[3]
    assert heat_level(0.5, 1.0, 1) == HEAT_COLOURS[5]
    assert heat_level(0.2, 1.0, 2) == HEAT_COLOURS[0]
    assert heat_level(0.0, 0.0, 3) == HEAT_COLOURS[0]  # an all-zero map: the lightest colour, no division


@pytest.mark.parametrize("top, labels", [
    (1.0, ["≈ 0.0", "≈ 0.2", "≈ 0.4", "≈ 0.6", "≈ 0.8", "≈ 1.0"]),
    (0.08, ["≈ 0.00", "≈ 0.02", "≈ 0.03", "≈ 0.05", "≈ 0.06", "≈ 0.08"]),
    (0.003, ["≈ 0.000", "≈ 0.001", "≈ 0.002", "≈ 0.003"]),
    (0.001, ["≈ 0.000", "≈ 0.001"]),
    (0, ["0"]),
])
def test_the_legend_reads_one_value_per_colour_at_the_shown_precision(top, labels):
    legend = heat_legend(top)
    assert [label for label, _ in legend] == labels
    assert legend[0][1] == HEAT_COLOURS[0] and (top == 0 or legend[-1][1] == HEAT_COLOURS[-1])
    assert len({colour for _, colour in legend}) == len(legend)
