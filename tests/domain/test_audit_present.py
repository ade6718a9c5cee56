"""How the audit log's details read (garage/admin/present.py, plain Python, no app)."""
from garage.admin.present import DetailLine, Details, event_details, value_text


def test_money_keys_read_in_dollars_everything_else_as_stored():
    assert value_text("amountCents", 1050) == "$10.50"
    assert value_text("hourlyRate", 1000) == "$10.00"  # a settings snapshot: cents, like the column
    assert value_text("dailyMaxCents", None) == "none"
    assert value_text("vehicleRates", {"Motorcycle": 400, "SUV": 1500}) == "Motorcycle $4.00, SUV $15.00"
    assert value_text("vehicleRates", {}) == "none"
    assert value_text("durationMinutes", 61) == "1 h 01 min"
    assert value_text("graceMinutes", 10) == "10 min"
    assert value_text("almostFullPercent", 90) == "90 %"
    assert value_text("lost", False) == "no"
    assert value_text("totalSpaces", 140) == "140"
    assert value_text("plate", "ABC 123") == "ABC 123"


def test_a_change_lists_only_what_changed_with_both_values():
    shown = event_details({"before": {"totalSpaces": 140, "lostTicketFeeCents": 0, "garageName": "A"},
                           "after": {"totalSpaces": 140, "lostTicketFeeCents": 2500, "garageName": "B"}})
    assert shown == Details([DetailLine("lost-ticket fee", "none", "$25.00"), DetailLine("garage name", "A", "B")],
                            change=True)
    assert event_details({"before": {"totalSpaces": 140}, "after": {"totalSpaces": 140}}) == Details([], change=True)


def test_plain_details_keep_their_order_and_unknown_keys_show_as_they_are():
    assert event_details({"plate": "X 1", "vehicleType": "Car", "somethingNew": 3}) == Details([
        DetailLine("plate", "X 1"), DetailLine("vehicle", "Car"), DetailLine("somethingNew", "3")])
    assert event_details(None) == Details([]) and event_details({}) == Details([])
    assert event_details(["odd"]) == Details([DetailLine("details", "['odd']")])  # never a 500 on the audit page


def test_a_fee_set_or_removed_reads_the_same_whatever_column_it_is():
    """The lost-ticket fee stores 0 for none, the daily maximum null: both read "none" (old rows too)."""
    shown = event_details({"before": {"dailyMaxCents": None, "lostTicketFeeCents": 0},
                           "after": {"dailyMaxCents": 3000, "lostTicketFeeCents": 2500}})
    assert [(line.text, line.after) for line in shown.lines] == [("none", "$30.00"), ("none", "$25.00")]
    removed = event_details({"before": {"dailyMaxCents": 3000, "lostTicketFeeCents": 2500},
                             "after": {"dailyMaxCents": None, "lostTicketFeeCents": 0}})
    assert [(line.text, line.after) for line in removed.lines] == [("$30.00", "none"), ("$25.00", "none")]
    assert value_text("lostFeeCents", 0) == "$0.00"  # what a lost ticket was charged: an amount, even nothing
    assert value_text("hourlyRate", 0) == "$0.00"  # free parking is a rate


def test_receipt_details_read_as_on_the_receipt():
    assert value_text("receiptNumber", 42) == "R-000042"
    assert value_text("taxRateBp", 725) == "7.25 %" and value_text("taxRateBp", 0) == "0 %"
    assert value_text("garageAddress", "12 Main St\nSpringfield") == "12 Main St, Springfield"
    assert value_text("garageAddress", "") == "none" and value_text("taxId", "") == "none"
    paid = event_details({"amountCents": 1000, "receiptNumber": 7})
    assert paid.lines[-1] == DetailLine("receipt", "R-000007")


def test_a_shift_adjusted_shows_its_reason_then_what_changed_in_dollars():
    shown = event_details({"reason": "Recounted", "before": {"countedCashCents": 4500, "overShortCents": -500,
                                                             "expectedCashCents": 5000},
                           "after": {"countedCashCents": 5000, "overShortCents": 0, "expectedCashCents": 5000}})
    assert shown == Details([DetailLine("reason", "Recounted"), DetailLine("counted cash", "$45.00", "$50.00"),
                             DetailLine("over/short", "-$5.00", "$0.00")], change=True)


def test_a_shift_count_by_denomination_reads_as_pieces_and_dollars_zero_counts_left_out():
    assert value_text("countedByDenomination", {"10000": 10, "5000": 0, "100": 3, "25": 0}) == "10 × $100, 3 × $1"
    assert value_text("countedByDenomination", {"5": 4, "2000": 1}) == "1 × $20, 4 × 5¢"
    assert value_text("countedByDenomination", {"10000": 0}) == "none"
    assert value_text("countedByDenomination", {"x": 1}) == "{'x': 1}"  # not the app's: as it is, never a 500


def test_a_shift_closing_time_reads_in_the_garage_timezone_like_the_rest_of_the_page():
    assert value_text("closedAt", "2026-12-06T01:45:00.105971+00:00", "Pacific/Auckland") == "Dec 6, 2026, 2:45:00 PM"  # the reader's format (en_US here)
    assert value_text("closedAt", "2026-12-06T01:45:00+00:00") == "Dec 6, 2026, 1:45:00 AM"
    assert value_text("closedAt", "yesterday", "Pacific/Auckland") == "yesterday"
    reopened = event_details({"reason": "Wrong drawer", "before": {"closedAt": "2026-12-06T01:45:00+00:00",
                                                                   "countedByDenomination": {"100": 3}},
                              "after": {"closedAt": None, "countedByDenomination": None}}, "Pacific/Auckland")
    assert reopened.lines[1:] == [DetailLine("closed at", "Dec 6, 2026, 2:45:00 PM", "none"),
                                  DetailLine("counted by denomination", "3 × $1", "none")]


def test_a_permits_sale_reads_in_dollars_with_its_number_and_plates():
    assert value_text("priceCents", 12000) == "$120.00"
    assert value_text("permitId", 2) == "P-00002"
    assert value_text("plates", ["ML 4521", "JB 100"]) == "ML 4521, JB 100"
