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

Kept twice: in the worker (least recently used first out, at most REPORT_CACHE_ENTRIES bodies per process;
0: nothing kept anywhere) and in the database (table kept_reports, persistence/kept_reports.py), where every
worker and instance finds it: a report missing in a worker is read from there, and when nobody has kept it
yet the first worker draws it while the others asking for it wait and read its drawing (one drawing per
minute and key for the whole deployment, not one per worker). Only a report read from the primary is kept
(a replica's may be behind the revision read from the primary; it says its own age); with a replica
configured, nobody waits for another's drawing.

A database restored under running workers, or a failover that lost its last commits, can bring a garage's
revision back to one a worker kept a report under: that worker may show it until the minute turns. The
database's copy is restored with the data it describes.
"""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from datetime import date, datetime
from typing import Any, Callable, Hashable, NamedTuple

from flask import current_app, request
from markupsafe import Markup

from .. import i18n
from ..domain.periods import Period
from ..garages_web import current_slug
from ..persistence import kept_reports, replica

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


class ReportKey(NamedTuple):
    """Everything a drawn report depends on (the module's docstring)."""

    garage_id: int
    revision: int
    minute: int  # UTC minutes since the epoch
    first: date
    last: date
    group: str
    note: str
    language: str
    format_locale: str
    slug: str | None
    script_root: str

    def digest(self) -> str:
        """The key as the database keeps it (kept_reports.digest): the same in every worker and instance."""
        return hashlib.sha256(repr(tuple(self)).encode()).hexdigest()


def report_key(garage_id: int, revision: int, now: datetime, period: Period, note: Any) -> ReportKey:
    """The key of the report drawn now: `revision` read with the garage's row before the report is
    computed, `now` the moment it is computed at."""
    return ReportKey(garage_id, revision, int(now.timestamp()) // 60, period.first, period.last, period.group,
                     str(note), i18n.language(), str(i18n.format_locale()), current_slug(), request.script_root)


def kept_pages() -> KeptPages:
    """This app's kept report bodies (made on first use)."""
    pages = current_app.extensions.get(EXTENSION)
    if pages is None:
        pages = current_app.extensions[EXTENSION] = KeptPages(current_app.config["REPORT_CACHE_ENTRIES"])
    return pages


def body(key: ReportKey, draw: Callable[[], tuple[Markup, bool]]) -> Markup:
    """The body kept under `key` (this worker's, else the database's, waiting while another worker draws
    it), else `draw()`'s (body, may_keep), kept if it may be."""
    pages = kept_pages()
    kept = pages.get(key)
    if kept is not None:
        return kept
    if pages.entries <= 0:
        return draw()[0]
    digest = key.digest()
    with kept_reports.turn(key.garage_id, digest, wait=not replica.configured()) as shared:
        if shared is not None:
            kept = Markup(shared)
            pages.put(key, kept)
            return kept
        drawn, may_keep = draw()
        if may_keep:
            kept_reports.keep(key.garage_id, digest, key.minute, str(drawn))
            pages.put(key, drawn)
        return drawn
