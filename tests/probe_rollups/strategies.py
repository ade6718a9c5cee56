"""Hypothesis strategies of the rollup probes: scenarios of ticket traffic around a zone's offset changes,
with events at the hardest instants (exactly local midnight, the change itself, a microsecond either
side) and rollup checkpoints between them."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from hypothesis import strategies as st

from garage.domain.periods import Period
from tests.probe_rollups.harness import (
    METHODS, TYPES, Scenario, Ticket, anchors, events_of, midnight, offset_changes,
)

NUDGES = (timedelta(0), timedelta(microseconds=-1), timedelta(microseconds=1), timedelta(seconds=-1),
          timedelta(seconds=1), timedelta(minutes=-30), timedelta(minutes=30), timedelta(minutes=45),
          timedelta(minutes=15))


@st.composite
def instants(draw, start: datetime, end: datetime, specials: list[datetime]) -> datetime:
    """An instant in [start, end): anywhere (to the second, sometimes with microseconds), or a special
    instant nudged a little."""
    if specials and draw(st.booleans()):
        t = draw(st.sampled_from(specials)) + draw(st.sampled_from(NUDGES))
    else:
        seconds = draw(st.integers(0, int((end - start).total_seconds()) - 1))
        t = start + timedelta(seconds=seconds, microseconds=draw(st.sampled_from((0, 0, 1, 999_999))))
    return min(max(t, start), end - timedelta(microseconds=1))


@st.composite
def scenarios(draw, zones: tuple[str, ...], *, tickets: tuple[int, int] = (1, 7), checkpoints: int = 3,
              tz_changes: tuple[str, ...] = (), anchor: date | None = None, span: int = 2) -> Scenario:
    tz = draw(st.sampled_from(zones))
    day = anchor or draw(st.sampled_from(anchors(tz)))
    first, last = day - timedelta(days=span), day + timedelta(days=span)
    start, end = midnight(first, tz), midnight(last + timedelta(days=1), tz)
    specials = [midnight(first + timedelta(days=i), tz) for i in range((last - first).days + 2)]
    specials += [c for c in offset_changes(tz) if start <= c < end]
    when = instants(start, end, specials)
    out: list[Ticket] = []
    permit_car_used = False
    for _ in range(draw(st.integers(*tickets))):
        entered = draw(when)
        fate = draw(st.sampled_from(("exit", "exit", "exit", "lost", "void", "inside")))
        t = Ticket(entered, draw(st.sampled_from(TYPES)), fate, method=draw(st.sampled_from(METHODS)))
        if fate == "void":
            t.left = entered + timedelta(minutes=draw(st.integers(0, 90)))
        elif fate in ("exit", "lost"):
            if draw(st.booleans()):
                t.left = draw(when)
            if t.left is None or t.left <= entered:
                t.left = entered + timedelta(minutes=draw(st.integers(0, 4000)), seconds=draw(st.integers(0, 59)))
        if t.left is None or t.left > entered + timedelta(minutes=1):
            if draw(st.integers(0, 4)) == 0:
                t.correct_to = draw(st.sampled_from([k for k in TYPES if k != t.kind]))
        if fate in ("exit", "lost", "inside") and (t.left is None or t.left > entered + timedelta(minutes=2)):
            t.validated = draw(st.integers(0, 5)) == 0
        if fate in ("exit", "lost") and draw(st.integers(0, 2)) == 0:
            later = draw(when)
            if later <= t.left:
                later = t.left + timedelta(hours=draw(st.floats(0.01, 72)))
            t.refund = (later, draw(st.floats(0.01, 1.0)))
        if not permit_car_used and fate != "void" and draw(st.integers(0, 6)) == 0:
            t.permit_car = permit_car_used = True
        out.append(t)
    sale = draw(when) if draw(st.integers(0, 3)) == 0 else None
    s = Scenario(tz, first, last, out, sale)
    n = len(events_of(s))
    days = [first - timedelta(days=3) + timedelta(days=i) for i in range((last - first).days + 7)]
    kinds = ["catch_up", "build", "report", "rebuild"] + (["tz"] * 2 if tz_changes else [])
    for _ in range(draw(st.integers(1 if not tz_changes else 2, checkpoints))):
        at = draw(st.integers(0, n))
        kind = draw(st.sampled_from(kinds))
        arg = None
        if kind == "build":
            arg = sorted(draw(st.sets(st.sampled_from(days), min_size=1, max_size=6)))
        elif kind == "report":
            a = draw(st.sampled_from(days))
            b = a + timedelta(days=draw(st.integers(0, 6)))
            arg = Period(a, b, draw(st.sampled_from(("day", "hour"))))
        elif kind == "tz":
            arg = draw(st.sampled_from(tz_changes))
        s.checkpoints.append((at, kind, arg))
    return s
