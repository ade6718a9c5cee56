"""A drawer counted in the garage's currency (issue 22): its notes and coins, their labels, and a
currency without a list counted by amount only. Pure Python (the money context set by hand)."""
import pytest
from hypothesis import given, strategies as st

from garage.domain.errors import InvalidInput
from garage.domain.money import set_context
from garage.domain.shifts import (
    DENOMINATIONS, EUR_DENOMINATIONS, JPY_DENOMINATIONS, count_denominations, denomination_label, denominations_of,
)


@pytest.fixture
def garage_money():
    def use(currency: str, locale: str) -> None:
        set_context(lambda: (currency, locale))
    yield use
    set_context(None)


def test_every_currency_s_list_is_largest_first_and_ends_with_its_smallest_piece():
    for code, pieces in DENOMINATIONS.items():
        assert list(pieces) == sorted(set(pieces), reverse=True), code
    assert EUR_DENOMINATIONS[0] == 50000 and EUR_DENOMINATIONS[-1] == 1  # €500 … 1 cent
    assert JPY_DENOMINATIONS[0] == 10000 and JPY_DENOMINATIONS[-1] == 1  # ¥10,000 … ¥1 (no minor unit)


def test_labels_in_the_garage_s_currency(garage_money):
    garage_money("EUR", "de_DE")
    assert denominations_of() == EUR_DENOMINATIONS
    assert [denomination_label(d) for d in (50000, 50, 1)] == ["500\xa0€", "0,50\xa0€", "0,01\xa0€"]
    garage_money("JPY", "ja_JP")
    assert [denomination_label(d) for d in (10000, 1)] == ["￥10,000", "￥1"]


@given(st.dictionaries(st.sampled_from(JPY_DENOMINATIONS), st.integers(0, 50), min_size=1, max_size=10))  # {}: no count
def test_a_yen_drawer_totals_in_yen(counts):
    set_context(lambda: ("JPY", "ja_JP"))
    try:
        pieces, total = count_denominations({str(d): n for d, n in counts.items()})
        assert list(pieces) == list(JPY_DENOMINATIONS) and total == sum(d * n for d, n in counts.items())
    finally:
        set_context(None)


def test_a_usd_coin_is_no_euro_coin_and_an_unlisted_currency_counts_by_amount(garage_money):
    garage_money("EUR", "de_DE")
    with pytest.raises(InvalidInput, match="not a denomination"):
        count_denominations({"25": 1})
    garage_money("BHD", "ar_BH")
    assert denominations_of() == ()
    with pytest.raises(InvalidInput, match="count the drawer by amount"):
        count_denominations({"1000": 1})
