"""Chart geometry (garage/domain/charts.py) on small charts whose every number can be worked
out by hand: the plot is 960 × 320 with margins 80 / 16 / 36 / 56, so it is 864 wide (x from
80 to 944) and 228 high (y from 36 down to 264); the heat map is 888 × 216 (56..944, 36..252).
The templates draw exactly these numbers, so a wrong one is a wrong picture."""
from __future__ import annotations

from dataclasses import asdict

import pytest

from garage.domain.charts import (
    HEAT_COLOURS, NO_DATA_COLOUR, Rect, Tick, bar_chart, cut, heat_level, heat_map, line_chart, nice_ticks, text_width,
)


@pytest.mark.parametrize("top, ticks", [
    (0, [0, 1]), (-3, [0, 1]),
    (1, [0, 0.2, 0.4, 0.6, 0.8, 1.0]),        # 1/5 = 0.2: a round step already
    (5, [0, 1, 2, 3, 4, 5]),                  # the top itself is the last tick, not one beyond
    (7, [0, 2, 4, 6, 8]),                     # 7/5 = 1.4 -> the next round step is 2
    (12, [0, 2.5, 5, 7.5, 10, 12.5]),         # 2.4 -> 2.5
    (23, [0, 5, 10, 15, 20, 25]),             # 4.6 -> 5
    (45, [0, 10, 20, 30, 40, 50]),            # 9 -> 10
    (100, [0, 20, 40, 60, 80, 100]),
    (1234, [0, 250, 500, 750, 1000, 1250]),   # 246.8 -> 250 (2.5 x 100)
])
def test_the_y_axis_counts_in_round_steps_up_to_the_top(top, ticks):
    assert nice_ticks(top) == pytest.approx(ticks)


def test_a_bar_chart_of_two_days_and_two_series():
    chart = bar_chart("rev", "Revenue", "desc", ["Mon", "Tue"], [("Cash", [10, 20]), ("Card", [5, 0])],
                      "Day", "$", fmt=lambda v: f"${v:g}")
    # a slot of 864 / 2 = 432 per day, 15 % of it (64.8) as the gap, two bars of (432 - 64.8) / 2 = 183.6;
    # the axis goes 0..20 by 5, so 10 is half way up: y = 264 - 114 = 150
    assert chart.bars == [
        Rect(112.4, 150.0, 183.6, 114.0, "#0b5cd5", "Mon: Cash $10"),
        Rect(544.4, 36.0, 183.6, 228.0, "#0b5cd5", "Tue: Cash $20"),
        Rect(296.0, 207.0, 183.6, 57.0, "#e07b00", "Mon: Card $5"),
        Rect(728.0, 264.0, 183.6, 0.0, "#e07b00", "Tue: Card $0"),
    ]
    assert chart.y_ticks == [Tick(264.0, "$0"), Tick(207.0, "$5"), Tick(150.0, "$10"), Tick(93.0, "$15"),
                             Tick(36.0, "$20")]
    assert chart.x_ticks == [Tick(296.0, "Mon"), Tick(728.0, "Tue")]  # the centre of each slot
    assert (chart.kind, chart.slug, chart.title, chart.description, chart.x_label, chart.y_label) == (
        "bar", "rev", "Revenue", "desc", "Day", "$")
    assert chart.legend == [("Cash", "#0b5cd5"), ("Card", "#e07b00")]
    assert chart.table_head == ["Day", "Cash", "Card"]
    assert chart.table_rows == [["Mon", "$10", "$5"], ["Tue", "$20", "$0"]]


def test_bars_keep_a_gap_while_a_slot_is_4_wide_and_never_get_thinner_than_half_a_unit():
    at_four = bar_chart("r", "R", "d", ["x"] * 216, [("S", [1] * 216)], "X", "Y")  # 864 / 216 = 4
    assert (at_four.bars[1].x, at_four.bars[1].width) == (84.3, 3.4)
    below = bar_chart("r", "R", "d", ["x"] * 288, [("S", [1] * 288)], "X", "Y")  # 3: no gap
    assert (below.bars[1].x, below.bars[1].width) == (83.0, 3.0)
    thin = bar_chart("r", "R", "d", ["x"] * 2000, [("S", [1] * 2000)], "X", "Y")
    assert thin.bars[0].width == 0.5


def test_an_axis_shows_at_most_12_labels_evenly_spread_and_never_a_blank_one():
    chart = bar_chart("r", "R", "d", [str(i) for i in range(30)], [("S", [1] * 30)], "X", "Y")
    assert [t.label for t in chart.x_ticks] == [str(i) for i in range(0, 30, 3)]
    assert chart.x_ticks[1].pos == 180.8  # slot 28.8: the centre of the fourth is 80 + 3.5 x 28.8
    hourly = bar_chart("r", "R", "d", ["00", "", "", "03", "", ""], [("S", [1] * 6)], "X", "Y")
    assert [t.label for t in hourly.x_ticks] == ["00", "03"]
    relabelled = bar_chart("r", "R", "d", ["a", "b"], [("S", [1, 2])], "X", "Y", axis_labels=["A", ""])
    assert relabelled.x_ticks == [Tick(296.0, "A")]


def test_positions_are_rounded_to_a_hundredth():
    chart = bar_chart("r", "R", "d", ["a"] * 7, [("S", [1, 1234, 0, 0, 0, 0, 0])], "X", "Y")
    # slots of 864 / 7 = 123.428...; the axis goes to 1250, so 1 is 228 / 1250 = 0.1824 above the bottom
    assert chart.x_ticks[0].pos == 141.71
    # the gap is 15 % of a slot (18.51...), the bar the rest: 104.914...
    assert (chart.bars[0].x, chart.bars[0].y, chart.bars[0].width, chart.bars[0].height) == (
        89.26, 263.82, 104.91, 0.18)
    line = line_chart("o", "O", "d", list("abcdefgh"), [("A", [1] * 8)], "X", "Y")  # 864 / 7 apart
    assert line.x_ticks[1].pos == 203.43
    assert line.lines[0].segments[0].startswith("80.0,36.0 203.43,36.0 326.86,36.0 ")


def test_a_chart_with_nothing_to_show_has_an_axis_from_0_to_1():
    for chart in (bar_chart("r", "R", "d", [], [("S", [])], "X", "Y"),
                  line_chart("o", "O", "d", [], [("S", [])], "X", "Y")):
        assert chart.y_ticks == [Tick(264.0, "0"), Tick(36.0, "1")]
        assert chart.bars == [] and chart.table_rows == []
    empty = heat_map("h", "H", "d", ["Mon"], ["00"], [[None]], "Hour", "Day")
    assert [label for label, _ in empty.legend] == ["0", "no data"]  # one value, one label (no "≈ 0.0" six times)


def test_one_bar_fills_the_plot_and_two_points_span_it():
    one = bar_chart("r", "R", "d", ["Mon"], [("S", [4])], "X", "Y")
    assert (one.bars[0].x, one.bars[0].width) == (144.8, 734.4)  # a slot of 864, a gap of 129.6
    two = line_chart("o", "O", "d", ["a", "b"], [("A", [1, 2])], "X", "Y")
    assert two.lines[0].segments == ["80.0,150.0 944.0,36.0"]


def test_a_line_breaks_where_a_value_is_missing_and_the_ceiling_is_dashed():
    chart = line_chart("occ", "Occupancy", "d", ["00", "01", "02"], [("Peak", [1, None, 3])], "Hour", "Cars",
                       ceiling=("Total spaces", 4))
    # three points 432 apart; the axis goes to the ceiling (4): 1 is at 264 - 57
    assert [asdict(line) for line in chart.lines] == [
        {"name": "Peak", "colour": "#0b5cd5", "segments": ["80.0,207.0", "944.0,93.0"], "dashed": False},
        {"name": "Total spaces", "colour": "#b3141b", "segments": ["80,36.0 944,36.0"], "dashed": True},
    ]
    assert chart.legend == [("Peak", "#0b5cd5"), ("Total spaces", "#b3141b")]
    assert chart.x_ticks == [Tick(80.0, "00"), Tick(512.0, "01"), Tick(944.0, "02")]
    assert [t.label for t in chart.y_ticks] == ["0", "1", "2", "3", "4"]
    assert chart.table_head == ["Hour", "Peak"]
    assert chart.table_rows == [["00", "1"], ["01", ""], ["02", "3"]]
    assert (chart.kind, chart.slug, chart.title, chart.description, chart.x_label, chart.y_label) == (
        "line", "occ", "Occupancy", "d", "Hour", "Cars")


def test_a_line_of_one_point_is_drawn_in_the_middle_and_an_unbroken_one_is_one_segment():
    one = line_chart("o", "O", "d", ["00"], [("Peak", [2])], "Hour", "Cars")
    assert one.lines[0].segments == ["512.0,36.0"] and one.x_ticks == [Tick(512.0, "00")]
    two = line_chart("o", "O", "d", ["a", "b", "c"], [("A", [1, 2, 2]), ("B", [None, 0, None])], "X", "Y")
    assert two.lines[0].segments == ["80.0,150.0 512.0,36.0 944.0,36.0"]
    broken = line_chart("o", "O", "d", ["a", "b", "c", "d"], [("A", [1, 2, None, 2])], "X", "Y")
    assert broken.lines[0].segments == ["80.0,150.0 368.0,36.0", "944.0,36.0"]
    assert two.lines[1].segments == ["512.0,264.0"] and two.lines[1].colour == "#e07b00"


def test_a_heat_map_of_two_days_by_three_hours():
    chart = heat_map("heat", "Heat", "d", ["Mon", "Tue"], ["00", "01", "02"],
                     [[0.0, 5.0, None], [2.5, 1.0, 4.0]], "Hour", "Day")
    # cells of 888 / 3 = 296 by 216 / 2 = 108, drawn one unit smaller; the darkest colour is the top value
    assert chart.cells == [
        Rect(56.0, 36.0, 295.0, 107.0, "#eef3fb", "Mon 00: 0.0"),
        Rect(352.0, 36.0, 295.0, 107.0, "#123f8c", "Mon 01: 5.0"),
        Rect(648.0, 36.0, 295.0, 107.0, "#f1f1f1", "Mon 02: no data"),
        Rect(56.0, 144.0, 295.0, 107.0, "#5b8fdc", "Tue 00: 2.5"),
        Rect(352.0, 144.0, 295.0, 107.0, "#c9dbf5", "Tue 01: 1.0"),
        Rect(648.0, 144.0, 295.0, 107.0, "#2c64c2", "Tue 02: 4.0"),
    ]
    assert chart.x_ticks == [Tick(204.0, "00"), Tick(796.0, "02")]  # every other hour
    assert chart.y_ticks == [Tick(90.0, "Mon"), Tick(198.0, "Tue")]
    assert chart.legend == [("≈ 0.0", "#eef3fb"), ("≈ 1.0", "#c9dbf5"), ("≈ 2.0", "#94b8eb"),
                            ("≈ 3.0", "#5b8fdc"), ("≈ 4.0", "#2c64c2"), ("≈ 5.0", "#123f8c"),
                            ("no data", "#f1f1f1")]
    assert chart.table_head == ["Day", "00", "01", "02"]
    assert chart.table_rows == [["Mon", "0.0", "5.0", ""], ["Tue", "2.5", "1.0", "4.0"]]
    assert (chart.kind, chart.slug, chart.title, chart.description, chart.x_label, chart.y_label) == (
        "heat", "heat", "Heat", "d", "Hour", "Day")
    assert (chart.width, chart.height, chart.left, chart.bottom) == (960, 300, 56, 252)


def test_a_week_heat_map_rounds_its_cells_to_a_hundredth():
    hours = [f"{h:02d}" for h in range(7)]
    chart = heat_map("h", "H", "d", ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"], hours,
                     [[1.0] * 7 for _ in range(7)], "Hour", "Day")
    # 888 / 7 = 126.857... wide, 216 / 7 = 30.857... high
    assert chart.cells[8] == Rect(182.86, 66.86, 125.86, 29.86, HEAT_COLOURS[5], "Tue 01: 1.0")
    assert chart.x_ticks[1] == Tick(373.14, "02") and chart.y_ticks[1] == Tick(82.29, "Tue")


@pytest.mark.parametrize("value, top, colour", [
    (None, 5, NO_DATA_COLOUR), (3, 0, HEAT_COLOURS[0]), (0, 5, HEAT_COLOURS[0]), (0.49, 5, HEAT_COLOURS[0]),
    (0.5, 5, HEAT_COLOURS[1]), (5, 5, HEAT_COLOURS[5]), (9, 5, HEAT_COLOURS[5]), (0.5, 0.5, HEAT_COLOURS[5]),
])
def test_a_heat_colour_is_the_nearest_of_six_levels(value, top, colour):
    assert heat_level(value, top) == colour


# --- the x axis's labels: flat while they clear each other, else turned 45° ---------------------
# Widths are estimated generously in ems of the 12-unit font: W M m w and anything outside ASCII 1,
# other capitals 0.8, narrow letters (i l j t f r I . , : ; ' ! | and the space) 0.42, the rest 0.65.

def test_a_labels_width_is_estimated_wide_enough_for_the_widest_letters():
    assert text_width("Mon") == 27.6  # (1 + 0.65 + 0.65) x 12
    assert text_width("Garage 01") == 66.48  # 0.8 + 0.65 + 0.42 + 0.65 + 0.65 + 0.65 + 0.42 + 0.65 + 0.65 = 5.54 em
    assert text_width("W" * 80) == 960 and text_width("É") == 12  # an accented capital as wide as a W


def test_eleven_garages_named_flat_and_twelve_turned_with_room_below_for_them():
    garages = [f"Garage {i:02d}" for i in range(1, 13)]
    # eleven: slots of 864 / 11 = 78.55, and two neighbours need 66.48 / 2 x 2 + 6 = 72.48: flat
    eleven = bar_chart("p", "P", "d", garages[:11], [("S", [1] * 11)], "X", "Y")
    assert (eleven.x_angle, eleven.height, eleven.x_label_y) == (0, 320, 282)
    assert [t.label for t in eleven.x_ticks] == garages[:11]
    # twelve: slots of 72 < 72.48, so turned: each ends at its slot's centre (80 + 36 = 116, 188, ...),
    # 12 below the axis (264 + 12 = 276); the chart grows to 264 + 12 + 66.48 x sin 45° (47.01) + 28
    twelve = bar_chart("p", "P", "d", garages, [("S", [1] * 12)], "X", "Y")
    assert (twelve.x_angle, twelve.height, twelve.x_label_y, twelve.bottom) == (-45, 352, 276, 264)
    assert twelve.x_ticks[:2] == [Tick(116.0, "Garage 01"), Tick(188.0, "Garage 02")]
    assert len(twelve.x_ticks) == 12  # 72 x sin 45° = 50.9 across between two: every one stays


def test_a_name_too_long_for_its_place_is_cut_and_keeps_its_whole_self_as_its_title():
    wide = "W" * 80
    chart = bar_chart("p", "P", "d", [wide, "Docks"], [("S", [1, 2])], "X", "Y")
    # flat, 960 wide, it would run 480 left of its centre (296) and out of the picture: turned, and
    # cut to 140 at most: ten W's and "…" (11 x 12 = 132); "Docks" (40.8) whole
    assert chart.x_angle == -45
    assert chart.x_ticks == [Tick(296.0, "W" * 10 + "…", wide), Tick(728.0, "Docks")]
    assert chart.height == 398  # 264 + 12 + 132 x sin 45° (93.34) + 28, rounded up
    # Near the left edge the room is what keeps its start in the picture: the first of 50 slots is
    # centred at 88.64, so at most 88.64 / sin 45° - 12 = 113.36 along the turned line
    assert cut(wide, 113.36) == "W" * 8 + "…"


def test_turned_labels_closer_than_a_line_across_are_thinned():
    # 50 slots of 17.28: two neighbours turned would be 17.28 x sin 45° = 12.2 apart across, under
    # a line (15); every other candidate is then labelled, so of the two only the first
    labels = ["Garage 01", "Garage 02"] + [""] * 48
    chart = bar_chart("p", "P", "d", labels, [("S", [1] * 50)], "X", "Y")
    assert chart.x_angle == -45 and chart.x_ticks == [Tick(88.64, "Garage 01")]


def test_twelve_names_that_just_clear_each_other_stay_flat():
    # "Airport 01" is A 0.8 + i r r t space 0.42 x 5 + p o 0 1 0.65 x 4 = 5.5 em = 66 wide; twelve slots of 72:
    # 66 / 2 + 66 / 2 + 6 = 72, exactly the room between two centres, so flat
    airports = [f"Airport {i:02d}" for i in range(1, 13)]
    assert text_width("Airport 01") == 66
    chart = bar_chart("p", "P", "d", airports, [("S", [1] * 12)], "X", "Y")
    assert (chart.x_angle, chart.height) == (0, 320)
    assert [t.label for t in chart.x_ticks] == airports


def test_a_flat_label_must_stay_inside_the_picture_on_either_side():
    # 28 points are 864 / 27 = 32 apart: the third is at 80 + 64 = 144, so a flat label centred
    # there may be 288 wide (24 W's reach the picture's left edge exactly) and no wider
    def third_label(label):
        return line_chart("p", "P", "d", ["", "", label] + [""] * 25, [("S", [1] * 28)], "X", "Y")
    assert third_label("W" * 24).x_angle == 0
    assert third_label("W" * 24).x_ticks == [Tick(144.0, "W" * 24)]
    assert third_label("W" * 25).x_angle == -45  # 300 / 2 = 150 > 144
    assert third_label("W" * 25).x_ticks == [Tick(144.0, "W" * 10 + "…", "W" * 25)]
    # the last point is 16 from the right edge: "Sun" (25.2 wide, half 12.6) fits, "Today" (40.8) does not
    assert line_chart("p", "P", "d", ["Mon", "Sun"], [("S", [1, 2])], "X", "Y").x_angle == 0
    today = line_chart("p", "P", "d", ["Mon", "Today"], [("S", [1, 2])], "X", "Y")
    assert today.x_angle == -45 and today.x_ticks == [Tick(80.0, "Mon"), Tick(944.0, "Today")]


def test_turned_labels_are_thinned_to_every_other_one_wherever_they_touch():
    # 50 slots of 17.28 (12.2 across when turned, under a line of 15): every other labelled slot,
    # 34.56 apart (24.4 across), is enough
    first_four = [f"Garage {i:02d}" for i in range(1, 5)] + [""] * 46
    chart = bar_chart("p", "P", "d", first_four, [("S", [1] * 50)], "X", "Y")
    assert chart.x_ticks == [Tick(88.64, "Garage 01"), Tick(123.2, "Garage 03")]
    # the same two neighbours anywhere on the axis: the second and third slots (centres 105.92, 123.2)
    second_and_third = ["", "Garage 02", "Garage 03"] + [""] * 47
    chart = bar_chart("p", "P", "d", second_and_third, [("S", [1] * 50)], "X", "Y")
    assert chart.x_angle == -45 and chart.x_ticks == [Tick(105.92, "Garage 02")]


def test_a_turned_label_near_the_left_edge_is_cut_so_that_its_start_stays_in_the_picture():
    # the first of 50 slots is centred at 88.64: 88.64 / sin 45° - 12 = 113.36 along the turned line,
    # so eight W's and "…" (108), not the ten that the 140 limit would allow
    wide = "W" * 80
    chart = bar_chart("p", "P", "d", [wide] + [""] * 49, [("S", [1] * 50)], "X", "Y")
    assert chart.x_ticks == [Tick(88.64, "W" * 8 + "…", wide)]


def test_turned_positions_are_rounded_to_a_hundredth():
    # seven slots of 864 / 7 = 123.428...: centres 141.71, 265.14, ...; 12 W's (144 + 6 > 123.43) turn
    chart = bar_chart("p", "P", "d", ["W" * 12] * 7, [("S", [1] * 7)], "X", "Y")
    assert chart.x_angle == -45
    assert [t.pos for t in chart.x_ticks] == [141.71, 265.14, 388.57, 512.0, 635.43, 758.86, 882.29]


@pytest.mark.parametrize("text, room, shown", [
    ("Mon", 27.6, "Mon"),                   # exactly as wide as its room: whole
    ("WWWW", 36, "WW…"),                    # "WW…" is exactly 36: it fits
    ("W" * 80, 96, "W" * 7 + "…"),          # 7 x 12 + 12 = 96: one letter at a time, not two
    ("North Docks", 53, "North…"),          # "North …" (52.32) fits, but not its trailing space
    ("  Docks", 40, "  Do…"),               # leading spaces are the label's own
])
def test_a_cut_keeps_the_longest_start_that_fits_with_its_ellipsis(text, room, shown):
    assert cut(text, room) == shown
