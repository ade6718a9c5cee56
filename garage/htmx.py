"""htmx in one place: the only module that knows htmx's request and response headers,
our own poll mark, and how often each polling element asks again.

In the spirit of django-htmx (`HtmxDetails`, `django_htmx.http`):

- `details()` reads what htmx says about the request: is it htmx, a history restore,
  boosted, which element triggered it, its target, the page's URL, and whether it is one
  of our own polls (`X-Garage-Poll: 1`: a page asking by itself is not user activity; see
  web.ApiSessionInterface and identity.end_idle_sessions).
- `page_or_fragment()` renders the fragment for htmx and the whole page otherwise, and
  always says `Vary: HX-Request` (one URL, two bodies: a cache must keep both).
- Response helpers: `trigger()` a client event, `push_url()` / `replace_url()` /
  `push_or_replace_url()`, `client_redirect()`.
- `POLL_SECONDS`: every polling element's interval, `REFRESH_ON`: the client events that make
  a polled panel ask at once (a change made here or at another desk, the connection back).
  Templates write a polling element with the `poll()` global defined here (URL + triggers + the
  poll mark), and a link inside one that people tap with `tapped()`: the only two writers of the
  poll mark.
"""
from __future__ import annotations

import json
from functools import wraps
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, make_response, redirect, render_template, request, url_for
from markupsafe import Markup
from werkzeug.exceptions import HTTPException

# --- headers -----------------------------------------------------------------------------------

# Sent by htmx with its requests.
HX_REQUEST = "HX-Request"
HX_BOOSTED = "HX-Boosted"
HX_HISTORY_RESTORE_REQUEST = "HX-History-Restore-Request"
HX_TRIGGER = "HX-Trigger"  # request: the id of the element that triggered it
HX_TRIGGER_NAME = "HX-Trigger-Name"
HX_TARGET = "HX-Target"
HX_CURRENT_URL = "HX-Current-URL"
# Read by htmx in responses.
HX_TRIGGER_EVENT = "HX-Trigger"  # response: client events to fire (same name as above)
HX_PUSH_URL = "HX-Push-Url"
HX_REPLACE_URL = "HX-Replace-Url"
HX_REDIRECT = "HX-Redirect"
HX_RETARGET = "HX-Retarget"
HX_RESWAP = "HX-Reswap"

# Requests a page makes by itself (polling) carry X-Garage-Poll: 1 (written by the poll
# macro of templates/_macros.html). They are not activity: a desk tablet left open still
# signs out after the idle time, and its session cookie is not sent again with every poll.
POLL_HEADER = "X-Garage-Poll"

# --- polling intervals ---------------------------------------------------------------------------

# How often each polling element asks again, by the endpoint it polls (seconds).
POLL_SECONDS: dict[str, int] = {
    "desk.live": 5,        # the desk's counters
    "desk.activity": 10,   # recent entries and exits
    "desk.inside": 60,     # cars inside (their fees grow by the minute)
    "desk.rates": 60,      # the published rates (a manager's change reaches open desks)
    "operator.portfolio_live": 5,  # every garage's occupancy on /portfolio
}
# Intervals a deployer sets (config.py, from the environment), in seconds, possibly fractional:
# the lobby screen's is tuned per site (a TV in the entrance, a tablet at the barrier).
CONFIGURED_POLL_SECONDS: dict[str, str] = {
    "lobby.panel": "LOBBY_POLL_SECONDS",
}

# Client events, fired on <body>, that make polled panels ask at once instead of at their interval:
DESK_CHANGED = "desk-changed"        # this desk's own entry or exit (its response says so)
GARAGE_CHANGED = "garage-changed"    # the live poll saw a change made anywhere (desk.live)
RECONNECTED = "desk-reconnected"     # a request got through again (static/js/desk-connection.js)
REFRESH_ON: dict[str, tuple[str, ...]] = {
    "desk.live": (RECONNECTED,),
    # The own desk's activity comes out-of-band with its entry or exit: no DESK_CHANGED here.
    "desk.activity": (GARAGE_CHANGED, RECONNECTED),
    "desk.inside": (DESK_CHANGED, GARAGE_CHANGED, RECONNECTED),
    "desk.rates": (GARAGE_CHANGED, RECONNECTED),
    "operator.portfolio_live": (RECONNECTED,),
}
# How long a desk waits for any answer (htmx's timeout, set by static/js/desk-connection.js): a
# hung server ends in "No answer" within seconds, as one that refuses the connection ends in "Not
# connected". Longer than the server's own wait for a silent database (DB_REPLY_TIMEOUT, 6 s by
# default), so a database outage ends in the server's own answer (503), not in the desk giving up.
DESK_TIMEOUT_SECONDS = 8


def poll_ms(endpoint: str) -> int:
    """The polling interval of `endpoint` in milliseconds (a configured one clamped to
    0.1 s .. 1 h)."""
    setting = CONFIGURED_POLL_SECONDS.get(endpoint)
    if setting is None:
        return POLL_SECONDS[endpoint] * 1000
    seconds = float(current_app.config.get(setting, 5))
    return int(min(max(seconds, 0.1), 3600) * 1000)


def poll_every(endpoint: str) -> str:
    """The hx-trigger clause of `endpoint`'s polling: "every 5s" (fixed intervals) or
    "every 250ms" (configured ones, which may be fractions of a second)."""
    if endpoint in CONFIGURED_POLL_SECONDS:
        return f"every {poll_ms(endpoint)}ms"
    return f"every {POLL_SECONDS[endpoint]}s"


# --- the request ---------------------------------------------------------------------------------

class HtmxDetails:
    """What htmx says about a request (its headers), as properties."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        self._headers = headers

    def _get(self, name: str) -> str | None:
        return self._headers.get(name) or None

    @property
    def request(self) -> bool:
        """Sent by htmx at all (HX-Request), a history restore included."""
        return self._headers.get(HX_REQUEST) == "true"

    @property
    def history_restore(self) -> bool:
        """The Back button after hx-push-url with nothing cached: htmx asks for the URL
        again and needs the whole page, although it says HX-Request."""
        return self._headers.get(HX_HISTORY_RESTORE_REQUEST) == "true"

    @property
    def fragment(self) -> bool:
        """An htmx request that wants a fragment: htmx, and not a history restore."""
        return self.request and not self.history_restore

    def __bool__(self) -> bool:
        return self.fragment

    @property
    def boosted(self) -> bool:
        return self._headers.get(HX_BOOSTED) == "true"

    @property
    def trigger(self) -> str | None:
        """The id of the element that triggered the request."""
        return self._get(HX_TRIGGER)

    @property
    def trigger_name(self) -> str | None:
        return self._get(HX_TRIGGER_NAME)

    @property
    def target(self) -> str | None:
        """The id of the element the response will be swapped into."""
        return self._get(HX_TARGET)

    @property
    def current_url(self) -> str | None:
        """The browser's URL when the request was sent."""
        return self._get(HX_CURRENT_URL)

    @property
    def current_path(self) -> str:
        """Path and query of current_url ("" if none): what the address bar shows."""
        current = urlsplit(self.current_url or "")
        return current.path + ("?" + current.query if current.query else "")

    @property
    def poll(self) -> bool:
        """One of our pages' own polls (X-Garage-Poll: 1): not user activity."""
        return self._headers.get(POLL_HEADER) == "1"


def details() -> HtmxDetails:
    """htmx's details of the current request."""
    return HtmxDetails(request.headers)


def is_htmx() -> bool:
    """The current request is htmx's and wants a fragment (a history restore wants the page)."""
    return details().fragment


def is_poll() -> bool:
    """The current request is one of our pages' own polls."""
    return details().poll


# --- responses -----------------------------------------------------------------------------------

def vary(response: Response) -> Response:
    """The body depends on HX-Request: caches keep the page and the fragment apart."""
    response.vary.add(HX_REQUEST)
    return response


def page_or_fragment(page_template: str, fragment_template: str, status: int = 200,
                     **context: Any) -> Response:
    """The fragment for htmx, the whole page otherwise (the page includes the fragment);
    always with Vary: HX-Request."""
    template = fragment_template if is_htmx() else page_template
    return vary(make_response(render_template(template, **context), status))


def fragment(fragment_template: str, status: int = 200, **context: Any) -> Response:
    """The fragment alone, for a view that has already chosen it (is_htmx()) because its
    page needs data the fragment does not; with Vary: HX-Request like page_or_fragment."""
    return vary(make_response(render_template(fragment_template, **context), status))


def trigger(response: Response, event: str, detail: Any = None) -> Response:
    """Fire the client event `event` (on <body>) when htmx receives the response; with a
    detail, or with an event already set, the header is htmx's JSON form."""
    existing = response.headers.get(HX_TRIGGER_EVENT)
    if detail is None and existing is None:
        response.headers[HX_TRIGGER_EVENT] = event
        return response
    events: dict[str, Any] = {}
    if existing:
        events = json.loads(existing) if existing.startswith("{") else {existing: None}
    events[event] = detail
    response.headers[HX_TRIGGER_EVENT] = json.dumps(events)
    return response


def push_url(response: Response, url: str) -> Response:
    """Put `url` in the address bar as a new history entry."""
    response.headers[HX_PUSH_URL] = url
    return response


def replace_url(response: Response, url: str) -> Response:
    """Put `url` in the address bar in place of the current entry."""
    response.headers[HX_REPLACE_URL] = url
    return response


def push_or_replace_url(response: Response, url: str) -> Response:
    """Show `url` in the address bar: replace the current entry if it already shows `url`
    (a form sending change and then submit makes one history entry, not two), else push."""
    if url == details().current_path:
        return replace_url(response, url)
    return push_url(response, url)


def out_of_band(response: Response, html: str) -> Response:
    """Add `html` (elements marked hx-swap-oob) after the response's body: htmx swaps each into the
    element of its id, wherever the main content goes."""
    response.set_data(response.get_data(as_text=True) + html)
    return response


def retarget(response: Response, target: str, swap: str = "outerHTML") -> Response:
    """Swap the response into `target` (a CSS selector) instead of the element the request named."""
    response.headers[HX_RETARGET] = target
    response.headers[HX_RESWAP] = swap
    return response


def client_redirect(url: str, status: int = 200) -> Response:
    """An empty response that makes htmx load `url` as a whole page."""
    response = make_response("", status)
    response.headers[HX_REDIRECT] = url
    return response


PAGE_OF = "htmx_page_of"  # a view's attribute: the endpoint of the page it is a fragment of


def fragment_of(page_endpoint: str) -> Callable:
    """Mark a view that serves only a fragment of the page `page_endpoint` (a polled panel).
    Asked for by anything but htmx wanting a fragment (a typed or bookmarked URL, a sign-in's
    `next`, a history restore), it sends the person to the page that contains it (303): a
    fragment URL never becomes the page someone lands on."""
    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not is_htmx():
                return vary(redirect(url_for(page_endpoint), code=303))
            return vary(make_response(view(*args, **kwargs)))
        setattr(wrapper, PAGE_OF, page_endpoint)
        return wrapper
    return decorate


def part_of(page_endpoint: str) -> Callable:
    """Mark a view that answers without JS as a page of its own but that htmx asks for as a part of
    `page_endpoint` (a filter of a list on it, polled too): a sign-in's `next` naming it lands on
    `page_endpoint` (`page_for`), not on the part's own state (a session that ended in a poll or a
    filter sent the desk to /login?next=/desk/inside?q=, issue 15). functools.wraps carries the mark
    to the decorators above."""
    def decorate(view: Callable) -> Callable:
        setattr(view, PAGE_OF, page_endpoint)
        return view
    return decorate


def page_for(target: str) -> str:
    """Where a sign-in's `next` (a local path, web.safe_next) should land: the URL of the page a
    fragment or part belongs to (fragment_of, part_of), else `target` itself."""
    try:
        endpoint, values = current_app.create_url_adapter(request).match(urlsplit(target).path, method="GET")
    except HTTPException:  # no such page (404 later), a redirect, another method: left as it is
        return target
    page = getattr(current_app.view_functions.get(endpoint), PAGE_OF, None)
    if not page:
        return target
    # The page of the same garage (/g/<garage>/desk/live → /g/<garage>/desk), not the caller's.
    return url_for(page, **{name: value for name, value in values.items()
                            if current_app.url_map.is_endpoint_expecting(page, name)})


# The poll mark as htmx sends it (hx-headers): "1" on a polling element; "0" on what people tap
# inside one (htmx merges hx-headers from the ancestors), which is activity, not a poll.
POLL_MARK = Markup("hx-headers='{\"%s\": \"1\"}'" % POLL_HEADER)
TAPPED_MARK = Markup("hx-headers='{\"%s\": \"0\"}'" % POLL_HEADER)


def poll_trigger(endpoint: str, also: str = "") -> str:
    """The hx-trigger of `endpoint`'s polling element: `also` (other triggers), the client events
    of REFRESH_ON[endpoint] (on <body>), then the interval."""
    clauses = [also] if also else []
    clauses += [f"{event} from:body" for event in REFRESH_ON.get(endpoint, ())]
    clauses.append(poll_every(endpoint))
    return ", ".join(clauses)


def poll(endpoint: str, also: str = "", **url_args: Any) -> Markup:
    """The attributes of an element that polls `endpoint` (templates: ``<div {{ poll("desk.live") }}>``):
    hx-get (url_for with `url_args`), hx-trigger (`poll_trigger`: `also`, the events it reloads
    on, its interval) and the poll mark.

    A template global rather than a Jinja macro: polled fragments render every few seconds
    on every open desk, and a macro (with its import) costs several times the Python of this."""
    return Markup('hx-get="{}" hx-trigger="{}" ').format(url_for(endpoint, **url_args),
                                                          poll_trigger(endpoint, also)) + POLL_MARK


def tapped() -> Markup:
    """The mark of a link or button inside a polled element that people tap: activity, not a poll."""
    return TAPPED_MARK


def install(app: Flask) -> None:
    """Templates' `poll(...)`, `tapped()` and `poll_every(endpoint)`."""
    app.jinja_env.globals.update(poll=poll, tapped=tapped, poll_every=poll_every)
