"""What a garage's slug may be (garage/domain/garages.py)."""
import pytest

from garage.domain.errors import InvalidInput
from garage.domain.garages import SLUG_MAX, SLUG_MESSAGE, clean_slug


@pytest.mark.parametrize("typed", ["main", "north-2", "7", "a" * SLUG_MAX, "  spaced  "])
def test_a_slug_of_lower_case_letters_digits_and_hyphens_is_kept(typed):
    assert clean_slug(typed) == typed.strip()


@pytest.mark.parametrize("typed", [None, "", "-north", "North", "a" * (SLUG_MAX + 1), "nörd", "a_b", "a b"])
def test_anything_else_is_refused_under_the_slug_field(typed):
    with pytest.raises(InvalidInput) as refused:
        clean_slug(typed)
    assert refused.value.field == "slug"
    assert refused.value.message == SLUG_MESSAGE and "lower-case letters, digits and hyphens" in SLUG_MESSAGE
