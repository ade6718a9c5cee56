"""The seed's own test plan passes against our API served by gunicorn on PostgreSQL."""
import pytest

from tests.helpers.seed_plan import PLAN


@pytest.mark.parametrize("check", PLAN, ids=lambda c: c.__name__)
def test_seed_plan(live, check):
    check(live.url, live.token())
