"""Rate periods (issue 19) without Flask or a database: the issue's examples (night $8, early bird $15,
weekend hourly rates, an event), how they compose with grace, the daily maximum, the lost-ticket fee
and the garage's choice, the local clock across DST, and properties over arbitrary stays and rule
sets checked by Hypothesis (across midnight, across DST in New York and Berlin, multi-day)."""
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings, strategies as st

from garage.domain import rate_periods as rp
from garage.domain.pricing import LOST_ADD, Tariff, describe, flat_price, quote, recorded
from garage.domain.rate_periods import EventRate, FlatWindow, HourlyPeriod

NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
NIGHT = FlatWindow("Night rate", 800, time(18), time(3), leave_by=time(8))
EARLY = FlatWindow("Early bird", 1500, time(6), time(9), leave_by=time(19), leave_from=time(15))
WEEKEND = HourlyPeriod("Weekend rate", 500, days=(5, 6))


def ny(*args) -> datetime:
    return datetime(*args, tzinfo=NY)


def tariff(*periods, **kw) -> Tariff:
    return Tariff(**{"hourly_rate_cents": 1000, "timezone": "America/New_York", "periods": periods, **kw})


# --- the examples ----------------------------------------------------------------------

@pytest.mark.parametrize("entry, exit, cents, rule", [
    (ny(2026, 12, 7, 19), ny(2026, 12, 8, 7, 59), 800, "Night rate"),      # Monday evening → Tuesday morning
    (ny(2026, 12, 7, 18), ny(2026, 12, 8, 8), 800, "Night rate"),          # both ends included
    (ny(2026, 12, 8, 2), ny(2026, 12, 8, 7), 800, "Night rate"),           # after midnight, inside the window
    (ny(2026, 12, 7, 19), ny(2026, 12, 8, 8, 1), 14000, "Standard rate"),  # left after 08:00: hourly
    (ny(2026, 12, 7, 17, 59), ny(2026, 12, 8, 7), 1000 * 14, "Standard rate"),  # entered before 18:00
    (ny(2026, 12, 7, 19), ny(2026, 12, 7, 19, 30), 800, "Night rate"),    # even half an hour: $8 < $10
])
def test_night_rate(entry, exit, cents, rule):
    q = quote(entry, exit, tariff(NIGHT))
    assert (q.amount_cents, q.rule) == (cents, rule)


@pytest.mark.parametrize("entry, exit, cents, rule", [
    (ny(2026, 12, 7, 7), ny(2026, 12, 7, 17), 1500, "Early bird"),
    (ny(2026, 12, 7, 6), ny(2026, 12, 7, 15), 1500, "Early bird"),
    (ny(2026, 12, 7, 9), ny(2026, 12, 7, 19), 1500, "Early bird"),
    (ny(2026, 12, 7, 7), ny(2026, 12, 7, 14, 59), 8000, "Standard rate"),  # left before 15:00
    (ny(2026, 12, 7, 7), ny(2026, 12, 7, 19, 1), 13000, "Standard rate"),  # left after 19:00
    (ny(2026, 12, 7, 9, 1), ny(2026, 12, 7, 16), 7000, "Standard rate"),   # entered after 09:00
])
def test_early_bird(entry, exit, cents, rule):
    q = quote(entry, exit, tariff(EARLY))
    assert (q.amount_cents, q.rule) == (cents, rule)


def test_weekend_hours_are_charged_at_the_weekend_rate():
    # Friday 22:00 to Saturday 02:00: two Friday hours at $10, two Saturday hours at $5
    q = quote(ny(2026, 12, 4, 22), ny(2026, 12, 5, 2), tariff(WEEKEND))
    assert (q.amount_cents, q.rule) == (3000, "Standard rate + Weekend rate")
    q = quote(ny(2026, 12, 5, 10), ny(2026, 12, 5, 13), tariff(WEEKEND))
    assert (q.amount_cents, q.rule) == (1500, "Weekend rate")


def test_the_daily_maximum_still_caps_weekend_hours():
    q = quote(ny(2026, 12, 5, 0), ny(2026, 12, 6, 0), tariff(WEEKEND, daily_max_cents=8000))
    assert q.amount_cents == 8000
    q = quote(ny(2026, 12, 5, 0), ny(2026, 12, 6, 0), tariff(HourlyPeriod("Surge", 2000), daily_max_cents=8000))
    assert q.amount_cents == 8000


def test_an_event_replaces_every_other_rule_for_its_first_day():
    event = EventRate("Stadium concert", 4000, (date(2026, 12, 31),))
    t = tariff(NIGHT, event)
    q = quote(ny(2026, 12, 31, 19), ny(2027, 1, 1, 2), t)   # the night rate would be $8: the event replaces it
    assert (q.amount_cents, q.rule) == (4000, "Stadium concert")
    q = quote(ny(2026, 12, 31, 19), ny(2027, 1, 1, 21), t)  # 26 hours: the event, then 2 hours at $10
    assert (q.amount_cents, q.rule) == (6000, "Stadium concert")
    q = quote(ny(2026, 12, 30, 19), ny(2026, 12, 31, 2), t)  # entered the day before: not the event's
    assert q.rule == "Night rate"


def test_first_choice_takes_the_first_flat_window_listed():
    expensive = FlatWindow("Evening", 2500, time(17), time(23), leave_by=time(8))
    lowest = tariff(expensive, NIGHT)
    first = tariff(expensive, NIGHT, choice="first")
    entry, exit = ny(2026, 12, 7, 19), ny(2026, 12, 8, 7)
    assert quote(entry, exit, lowest).rule == "Night rate"
    assert (quote(entry, exit, first).amount_cents, quote(entry, exit, first).rule) == (2500, "Evening")


def test_a_vehicle_type_rule_applies_to_that_type_only():
    moto_night = FlatWindow("Motorcycle night", 300, time(18), time(3), leave_by=time(8), vehicle_type="Motorcycle")
    t = tariff(moto_night)
    entry, exit = ny(2026, 12, 7, 19), ny(2026, 12, 8, 7)
    assert quote(entry, exit, t, vehicle_type="Motorcycle").rule == "Motorcycle night"
    assert quote(entry, exit, t, vehicle_type="Car").rule == "Standard rate"


def test_grace_comes_first_and_the_lost_fee_last():
    t = tariff(NIGHT, grace_minutes=15, lost_ticket_fee_cents=2500)
    assert (quote(ny(2026, 12, 7, 19), ny(2026, 12, 7, 19, 10), t).amount_cents,
            quote(ny(2026, 12, 7, 19), ny(2026, 12, 7, 19, 10), t).rule) == (0, "Grace period")
    lost = quote(ny(2026, 12, 7, 19), ny(2026, 12, 8, 7), t, lost=True)
    assert (lost.amount_cents, lost.rule) == (2500, "Lost-ticket fee")
    added = quote(ny(2026, 12, 7, 19), ny(2026, 12, 8, 7), tariff(NIGHT, lost_ticket_fee_cents=2500,
                                                                    lost_ticket_mode=LOST_ADD), lost=True)
    assert (added.amount_cents, added.rule) == (3300, "Night rate")


def test_a_flat_price_above_the_daily_maximum_is_capped():
    t = tariff(FlatWindow("Evening", 9000, time(17), time(23), leave_by=time(8)), daily_max_cents=5000,
               choice="first")
    assert quote(ny(2026, 12, 7, 19), ny(2026, 12, 8, 7), t).amount_cents == 5000


def test_old_tickets_have_no_rule_and_the_tariff_without_periods_is_unchanged():
    assert recorded(60, 1000).rule is None
    q = quote(ny(2026, 12, 7, 19), ny(2026, 12, 7, 21), Tariff())
    assert (q.amount_cents, q.rule) == (2000, "Standard rate")


# --- the local clock across DST ----------------------------------------------------------------

def test_hours_are_real_hours_across_dst():
    surge = HourlyPeriod("Small hours", 100, start=time(1), end=time(4))
    t = tariff(surge)
    # spring forward (2026-03-08 02:00 → 03:00): 01:00 to 04:00 local is two real hours, both in the window
    assert quote(ny(2026, 3, 8, 1), ny(2026, 3, 8, 4), t).amount_cents == 200
    # fall back (2026-11-01 02:00 → 01:00): 00:30 to 02:30 local is three real hours
    q = quote(ny(2026, 11, 1, 0, 30), ny(2026, 11, 1, 2, 30), t)
    assert q.billable_hours == 3 and q.amount_cents == 1000 + 100 + 100


def test_windows_at_times_that_do_not_exist_or_repeat_do_not_crash():
    odd = FlatWindow("Odd", 100, time(2, 30), time(2, 45), leave_by=time(2, 15))
    for zone, day in (("America/New_York", date(2026, 3, 8)), ("America/New_York", date(2026, 11, 1)),
                      ("Europe/Berlin", date(2026, 3, 29)), ("Europe/Berlin", date(2026, 10, 25))):
        t = Tariff(timezone=zone, periods=(odd, HourlyPeriod("H", 50, time(2, 30), time(2, 45))))
        start = datetime.combine(day, time(0), tzinfo=ZoneInfo(zone))
        for minutes in range(0, 6 * 60, 15):
            entry = start + timedelta(minutes=minutes)
            quote(entry, entry + timedelta(hours=25), t)


def test_the_night_rate_holds_across_a_dst_night():
    assert quote(ny(2026, 3, 7, 19), ny(2026, 3, 8, 7, 59), tariff(NIGHT)).rule == "Night rate"
    berlin = Tariff(timezone="Europe/Berlin", periods=(NIGHT,))
    entry = datetime(2026, 10, 24, 19, tzinfo=BERLIN)
    assert quote(entry, datetime(2026, 10, 25, 8, tzinfo=BERLIN), berlin).rule == "Night rate"
    assert quote(entry, datetime(2026, 10, 25, 8, 1, tzinfo=BERLIN), berlin).rule == "Standard rate"


# --- checking and wording ----------------------------------------------------------------------

def test_parse_reads_what_dumps_writes():
    periods = (NIGHT, EARLY, WEEKEND, EventRate("Concert", 4000, (date(2026, 12, 31),), "Car"))
    assert rp.loads(rp.dumps(periods)) == periods


@pytest.mark.parametrize("item, field", [
    ({"kind": "weekly"}, "kind"),
    ({"kind": "flat", "name": "", "priceCents": 800, "enterFrom": "18:00", "enterUntil": "03:00", "leaveBy": "08:00"},
     "name"),
    ({"kind": "flat", "name": "N", "priceCents": -1, "enterFrom": "18:00", "enterUntil": "03:00", "leaveBy": "08:00"},
     "priceCents"),
    ({"kind": "flat", "name": "N", "priceCents": 800, "enterFrom": "24:00", "enterUntil": "03:00", "leaveBy": "08:00"},
     "enterFrom"),
    ({"kind": "flat", "name": "N", "priceCents": 800, "enterFrom": "18:00", "enterUntil": "18:00", "leaveBy": "08:00"},
     "enterUntil"),
    ({"kind": "flat", "name": "N", "priceCents": 800, "enterFrom": "18:00", "enterUntil": "03:00"}, "leaveBy"),
    ({"kind": "hourly", "name": "W", "rateCents": 500, "days": ["saturday"]}, "days"),
    ({"kind": "hourly", "name": "W", "rateCents": 500, "vehicleType": "Tank"}, "vehicleType"),
    ({"kind": "hourly", "name": "W", "rateCents": True}, "rateCents"),
    ({"kind": "event", "name": "E", "priceCents": 4000, "dates": ["2026-02-30"]}, "dates"),
    ({"kind": "event", "name": "E", "priceCents": 4000, "dates": []}, "dates"),
    ({"kind": "event", "name": "Standard rate", "priceCents": 4000, "dates": ["2026-12-31"]}, "name"),
    ({"kind": "event", "name": "E", "priceCents": 4000, "dates": ["2026-12-31"], "extra": 1}, "extra"),
])
def test_parse_says_what_is_wrong_with_which_period(item, field):
    periods, errors = rp.parse([item])
    assert periods == () and f"1.{field}" in errors and errors[f"1.{field}"].startswith("Period 1: ")


def test_two_periods_may_not_share_a_name():
    item = {"kind": "hourly", "name": "Weekend", "rateCents": 500}
    assert "2.name" in rp.parse([item, dict(item, name="weekend")])[1]


def test_describe_words_the_periods():
    lines = describe(tariff(NIGHT, EARLY, WEEKEND))
    assert "Night rate: $8.00 for entering 18:00–03:00 (any day) and leaving by 08:00" in lines
    assert "Early bird: $15.00 for entering 06:00–09:00 (any day) and leaving 15:00–19:00" in lines
    assert "Weekend rate: $5.00 per started hour, all day, Saturday and Sunday" in lines
    assert lines[-1] == "You pay the lowest price that applies"


# --- properties over arbitrary stays and rule sets ---------------------------------------------

ZONES = ("America/New_York", "Europe/Berlin")
# Near the 2026 DST changes of both zones, and an ordinary winter week.
ANCHORS = [datetime(2026, 3, 8, 7, tzinfo=timezone.utc), datetime(2026, 3, 29, 1, tzinfo=timezone.utc),
           datetime(2026, 10, 25, 1, tzinfo=timezone.utc), datetime(2026, 11, 1, 6, tzinfo=timezone.utc),
           datetime(2026, 12, 4, 12, tzinfo=timezone.utc)]
entries = st.builds(lambda anchor, minutes: anchor + timedelta(minutes=minutes),
                    st.sampled_from(ANCHORS), st.integers(-2 * 24 * 60, 2 * 24 * 60))
# Seconds: often under 30 hours (where flat windows apply), up to four days.
stays = st.one_of(st.integers(0, 30 * 3600), st.integers(0, 4 * 24 * 3600))
clocks = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45, 59]))
day_sets = st.lists(st.integers(0, 6), max_size=7, unique=True).map(lambda d: tuple(sorted(d)))
types = st.sampled_from([None, None, "Car", "Motorcycle"])
names = iter(range(10**9))


def _flat():
    return st.builds(lambda price, a, b, by, frm, days, kind: FlatWindow(f"Flat {next(names)}", price, a,
                                                                          b if b != a else time((a.hour + 1) % 24),
                                                                          by, frm, days, kind),
                     st.integers(0, 20_000), clocks, clocks, clocks, st.none() | clocks, day_sets, types)


def _hourly():
    return st.builds(lambda rate, a, b, days, kind: HourlyPeriod(f"Hourly {next(names)}", rate, a, b, days, kind),
                     st.integers(0, 3000), clocks, clocks, day_sets, types)


def _event():
    return st.builds(lambda price, days, kind: EventRate(f"Event {next(names)}", price,
                                                         tuple(sorted({date(2026, 1, 1) + timedelta(d) for d in days})),
                                                         kind),
                     st.integers(0, 20_000), st.lists(st.sampled_from([66, 67, 87, 88, 297, 298, 304, 305, 337, 338]),
                                                      min_size=1, max_size=3), types)


def tariffs(kinds):
    return st.builds(lambda rate, grace, cap, periods, choice, zone: Tariff(
        hourly_rate_cents=rate, grace_minutes=grace, daily_max_cents=cap, periods=tuple(periods), choice=choice,
        timezone=zone),
        st.integers(0, 3000), st.sampled_from([0, 0, 10, 60]), st.none() | st.integers(1, 40_000),
        st.lists(st.one_of(*kinds), max_size=4), st.sampled_from(["lowest", "first"]), st.sampled_from(ZONES))


def _without_flats(t: Tariff) -> Tariff:
    return Tariff(hourly_rate_cents=t.hourly_rate_cents, grace_minutes=t.grace_minutes,
                  daily_max_cents=t.daily_max_cents, vehicle_rates=t.vehicle_rates, timezone=t.timezone,
                  periods=tuple(p for p in t.periods if isinstance(p, HourlyPeriod)))


vehicles = st.sampled_from(["Car", "Motorcycle", "Standard Vehicle"])


@settings(max_examples=200, deadline=None)
@given(tariffs([_hourly(), _event()]), entries, stays, stays, vehicles)
def test_without_flat_windows_a_longer_stay_never_pays_less(t, entry, a, b, kind):
    short, long_ = sorted((a, b))
    assert quote(entry, entry + timedelta(seconds=short), t, kind).amount_cents <= \
        quote(entry, entry + timedelta(seconds=long_), t, kind).amount_cents


@settings(max_examples=200, deadline=None)
@given(tariffs([_hourly(), _flat()]), entries, stays, vehicles)
def test_the_daily_maximum_caps_each_24_hours(t, entry, stay, kind):
    q = quote(entry, entry + timedelta(seconds=stay), t, kind)
    if t.daily_max_cents is not None:
        days = -(-q.billable_hours // 24)
        assert q.time_fee_cents <= days * t.daily_max_cents


@settings(max_examples=200, deadline=None)
@given(tariffs([_hourly(), _flat()]), entries, stays, vehicles)
def test_lowest_never_charges_more_than_the_schedule_or_an_applicable_flat_price(t, entry, stay, kind):
    exit = entry + timedelta(seconds=stay)
    q = quote(entry, exit, t, kind)
    schedule = quote(entry, exit, _without_flats(t), kind)
    zone = ZoneInfo(t.timezone)
    applicable = [p for p in t.periods if isinstance(p, FlatWindow) and rp.applies_to(p, kind)
                  and p.applies(entry, exit, zone)]
    if q.rule == "Grace period":
        assert q.amount_cents == 0
        return
    if t.choice == "lowest":
        assert q.amount_cents <= schedule.amount_cents
        assert all(q.amount_cents <= flat_price(p, t) for p in applicable)
    # the named rule is the one whose price was charged
    named = [p for p in applicable if p.name == q.rule]
    if named:
        assert q.amount_cents == flat_price(named[0], t)
    else:
        assert (q.amount_cents, q.rule) == (schedule.amount_cents, schedule.rule)


@settings(max_examples=200, deadline=None)
@given(tariffs([_hourly(), _flat(), _event()]), entries, stays, vehicles)
def test_every_quote_names_a_rule_and_the_stored_form_round_trips(t, entry, stay, kind):
    q = quote(entry, entry + timedelta(seconds=stay), t, kind)
    assert q.rule and q.amount_cents >= 0
    assert rp.loads(rp.dumps(t.periods)) == t.periods
