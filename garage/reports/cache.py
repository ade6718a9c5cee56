"""Rendered reports kept while nothing they show changes (issue 21): ONE home for the report page's cache.

A report of a month or a year costs ~70–100 ms of CPU (its rollups read, its charts of up to ~1,500 SVG
elements drawn, ~160 kB of HTML); the same report asked again shows the same thing until the garage's
figures change. So the report as drawn (templates/reports/_report.html: the period form with its presets,
the figures, tables and charts; not the page around it, which has the reader's name and CSRF token) is
kept, per process, under a key that holds everything it depends on:

- the garage and its **report revision** (`garages.report_revision`), moved in the same transaction by
  every write that changes what a report shows (services/rollups.touched lists them; a settings change
  moves it too), and read with the garage's row before the report is computed: a report computed
  after a write that moved it is kept under the revision before (a little newer than its key), never
  shown for the revision after;
- the **minute** (UTC): the current hour's average occupancy changes with the clock alone, without any
  write, so a kept report is at most a minute behind the clock (never behind a write) and is drawn
  again in the next minute;
- the period (first day, last day, rows per) and the note on it ("a year is shown by the day"), the
  reader's language and formats (the week's first day of the presets too), and the garage's address in
  URLs (its slug, the script root). Today's date, which the presets and the default period follow, is the
  minute's in the garage's timezone (a settings change moves the revision).

Only a report read from the primary is kept (a replica's may be behind the revision read from the
primary; it says its own age). Least recently used first out, at most REPORT_CACHE_ENTRIES bodies per
process (0: nothing kept); each worker keeps its own (a miss costs what a report cost before).
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime
from typing import Any, Callable, Hashable

from flask import current_app, request
from markupsafe import Markup

from .. import i18n
from ..domain.periods import Period
from ..garages_web import current_slug

EXTENSION = "garage.report_cache"


class KeptPages:
    """At most `entries` rendered bodies, the least recently used dropped first; thread-safe."""

    def __init__(self, entries: int) -> None:
        self.entries = entries
        self._kept: OrderedDict[Hashable, Markup] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Markup | None:
        with self._lock:
            body = self._kept.get(key)
            if body is not None:
                self._kept.move_to_end(key)
            return body

    def put(self, key: Hashable, body: Markup) -> None:
        if self.entries <= 0:
            return
        with self._lock:
            self._kept[key] = body
            self._kept.move_to_end(key)
            while len(self._kept) > self.entries:
                self._kept.popitem(last=False)

    def __len__(self) -> int:
        return len(self._kept)


def report_key(garage_id: int, revision: int, now: datetime, period: Period, note: Any) -> tuple:
    """Everything a drawn report depends on (the module's docstring): `revision` read with the garage's
    row before the report is computed, `now` the moment it is computed at."""
    return (garage_id, revision, int(now.timestamp()) // 60, period.first, period.last, period.group, str(note),
            i18n.language(), str(i18n.format_locale()), current_slug(), request.script_root)


def kept_pages() -> KeptPages:
    """This app's kept report bodies (made on first use)."""
    pages = current_app.extensions.get(EXTENSION)
    if pages is None:
        pages = current_app.extensions[EXTENSION] = KeptPages(current_app.config["REPORT_CACHE_ENTRIES"])
    return pages


def body(key: Hashable, draw: Callable[[], tuple[Markup, bool]]) -> Markup:
    """The body kept under `key`, else `draw()`'s (body, may_keep), kept if it may be."""
    pages = kept_pages()
    kept = pages.get(key)
    if kept is not None:
        return kept
    drawn, may_keep = draw()
    if may_keep:
        pages.put(key, drawn)
    return drawn
