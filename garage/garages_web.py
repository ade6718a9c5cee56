"""Pages per garage (issue 17 stage 2): every page of a garage's areas lives under `/g/<garage>`
(the URL value `garage` holds the garage's slug), and the URLs of before (`/desk`, `/lobby`,
`/reports`, `/settings`, `/admin/...`) send people to their garage's page.

- `install` registers the areas' blueprints under the prefix, with ONE url value preprocessor
  (`resolve`: the slug becomes `g.asked_garage_id`, which `identity.current_garage` honours; an
  unknown slug, or a signed-in person with no role there, is 404: another garage's existence is
  never revealed) and ONE url_defaults (`fill_garage`: inside a garage's pages
  `url_for("desk.index")` is that garage's desk; elsewhere, the caller's garage).
- `bp` (endpoints `moved.*`): the old URLs. GET: 302, anything else 307 (a form posted by a
  tablet open during the upgrade is posted again, not lost); their query strings kept. Only the
  garages where the person may open that page count (none: 403). A person with several gets a
  chooser on a plain page request (a file's URL: a plain 409 naming them); the choice is
  remembered on that tablet (the cookie DESK_COOKIE), and pages outside /g/ work for it too
  (identity.current_garage). The public `/lobby`: the only garage's lobby, or a chooser.
"""
from __future__ import annotations

from typing import Any

from flask import (
    Blueprint, Flask, Response, abort, current_app, g, make_response, redirect, render_template, request, url_for,
)
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from . import htmx, i18n, identity
from .domain.garages import DEFAULT_SLUG
from .domain.words import n_
from .identity import current_garage, login_redirect
from .services import garages as garage_service
from .services.stats import garages_now
from .web import safe_next

PREFIX = "/g/<garage>"
URL_VALUE = "garage"
# The blueprints whose pages belong to one garage; the others (static, auth, ops, meta, api)
# keep their URLs.
AREAS = ("desk", "lobby", "reports", "permits", "settings", "admin")
PUBLIC_AREAS = ("lobby",)  # every garage's lobby screen is public: for a signed-in person too
# The first path segment of each area's pages before stage 2 (settings: /settings itself).
OLD_PREFIXES = ("desk", "lobby", "reports", "settings", "admin")

DESK_COOKIE = identity.GARAGE_COOKIE  # the slug a person with several garages chose on this tablet
DESK_COOKIE_SECONDS = 400 * 24 * 3600  # the most a browser keeps a cookie (RFC 6265bis)

bp = Blueprint("moved", __name__)


# --- the prefix ----------------------------------------------------------------------------------

def resolve(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """The url value preprocessor: `/g/<slug>/...` names the garage the request works for."""
    if not values or URL_VALUE not in values or (endpoint or "").partition(".")[0] not in AREAS:
        return  # not a garage's page (the API resolves its own /api/garages/<slug>, as JSON)
    garage = identity.garage_named(values.pop(URL_VALUE))  # with the signed-in person: one statement
    if garage is None:
        _not_here()
    g.asked_garage_id = garage.id  # before anything loads the user: their role is read for it
    g.garage_slug = garage.slug
    if (current_user.is_authenticated and current_user.garage_role is None
            and (endpoint or "").partition(".")[0] not in PUBLIC_AREAS):
        # No grant there (an admin is a manager everywhere): as if it did not exist. The 404 page
        # (its top bar, its links) is the person's own garage's, not the one they asked for.
        del g.asked_garage_id, g.garage_slug
        identity.place(current_user._get_current_object())
        _not_here()


def _not_here() -> None:
    """404 for a garage that does not exist or where the signed-in person has no grant (the same
    answer for both). To htmx, the whole page is also sent to the person's desk (HX-Redirect: their
    garage, a chooser or the 403 page), so a desk left open after a grant was revoked does not
    go stale in silence (outside check: its polls answered 404 and nothing showed)."""
    if htmx.is_htmx() and current_user.is_authenticated:
        abort(htmx.client_redirect("/desk", status=404))
    abort(404)


def current_slug() -> str:
    """The slug of the garage this request works for (identity.current_garage)."""
    slug = g.get("garage_slug")
    if slug is None:
        slug = g.garage_slug = garage_service.slug_of(current_garage())
    return slug


def fill_garage(endpoint: str, values: dict[str, Any]) -> None:
    """url_defaults: a garage's page links to its own garage's pages unless told otherwise."""
    if URL_VALUE in values or endpoint.partition(".")[0] not in AREAS:
        return
    if current_app.url_map.is_endpoint_expecting(endpoint, URL_VALUE):
        values[URL_VALUE] = current_slug()


def garage_name() -> str | None:
    """The display name of the garage whose page this is (None off a garage's pages)."""
    if g.get("asked_garage_id") is None:
        return None
    from .services.settings import get_settings  # its row was read with the slug: no query

    return get_settings(g.asked_garage_id).garage_name


def several_garages() -> bool:
    """The signed-in person may work at more than one garage (the desk's "Switch garage")."""
    return current_user.is_authenticated and len(garage_service.garages_of(current_user.id)) > 1


# --- the URLs of before ----------------------------------------------------------------------------

def _in_garage(slug: str, path: str) -> str:
    """`path` (an old URL, with its query) in the garage `slug`."""
    return f"/g/{slug}{path}"


def _old_target() -> str:
    return request.full_path if request.query_string else request.path


def _remembered(slugs: list[str]) -> str | None:
    slug = identity.remembered_garage()
    return slug if slug in slugs else None


def _target_view(slug: str) -> tuple[Any, bool]:
    """The view an old URL becomes in a garage, and whether it answers a file or a print page (a
    CSV, an SVG chart, a ticket's print page: never a chooser in its place). (None, False) for
    a URL that is no page of a garage: the garage answers it (404, 405) as for anyone."""
    try:
        rule, _ = current_app.create_url_adapter(request).match(
            _in_garage(slug, request.path), method=request.method, return_rule=True)
    except HTTPException:
        return None, False
    view = current_app.view_functions.get(rule.endpoint)
    named_file = "." in rule.rule.rsplit("/", 1)[-1]  # .../export/rows.csv, .../charts/<name>.svg
    return view, named_file or bool(getattr(view, "framed_by_desk", False))


def _which_garage(garages: list, target: str) -> Response:
    """A file's old URL (CSV, chart, print page) that could mean several garages: a plain answer
    naming each garage's URL, never a page (a download must not turn into a chooser)."""
    said = n_("This address is from before each garage had its own. It could mean %(num)d garage; "
              "open the one you mean:",
              "This address is from before each garage had its own. It could mean %(num)d garages; "
              "open the one you mean:", len(garages))
    lines = [i18n.translated(said), *(f"  {garage.garage_name}: {_in_garage(garage.slug, target)}"
                                      for garage in garages)]
    return Response("\n".join(lines) + "\n", status=409, mimetype="text/plain")


def moved(rest: str = "") -> Response | str:
    """An old URL: to the same page in the person's garage (the public lobby: in the only one).
    Only the garages where the person may open that page count (an attendant is not offered a
    manager's page; none: 403 here); the remembered one, else the only one, else a chooser of
    them (a page) or a plain 409 naming them (a file)."""
    code = 302 if request.method in ("GET", "HEAD") else 307
    public = request.path == "/lobby" or request.path.startswith("/lobby/")
    if not current_user.is_authenticated and not public:
        return login_redirect()  # after signing in, the old URL is resolved for that person
    roles = garage_service.roles_of(current_user.id if current_user.is_authenticated else None)
    if not roles and public:  # a signed-in person with no garage: the public lobby is theirs too
        roles = garage_service.roles_of(None)
    if not roles:  # a person with no garage at all
        return make_response(render_template("errors/403.html"), 403)
    view, a_file = _target_view(roles[0][0].slug)
    garages = [garage for garage, role in roles if identity.admits(view, role)]
    if not garages:  # their role at none of their garages opens this page
        return make_response(render_template("errors/403.html"), 403)
    slugs = [garage.slug for garage in garages]
    slug = _remembered(slugs) or (slugs[0] if len(slugs) == 1 else None)
    if slug is None and (code != 302 or htmx.is_htmx()) and DEFAULT_SLUG in slugs:
        # A form or a poll can only come from a page opened before the upgrade, and that page was the
        # default garage's (the only one then): it goes on there. Not the person's first garage: for
        # someone not at the default garage that would be a guess (an entry or a payment landing in a
        # garage nobody chose).
        slug = DEFAULT_SLUG
    # Several garages and none of the above: htmx sends the whole page to the desk's chooser, nothing
    # done; a file or a form gets a plain 409 naming the garages' addresses.
    if slug is None and htmx.is_htmx():
        return htmx.client_redirect(url_for("moved.choose"), status=409)
    if slug is None and (a_file or code != 302):
        return _which_garage(garages, _old_target())
    if slug is None:
        return _chooser(garages, _old_target(), public)
    return redirect(_in_garage(slug, _old_target()), code=code)


def _chooser(garages: list, target: str, public: bool) -> str:
    """The garages to choose from, each with its free spaces now (from the rows already read)."""
    return render_template("garages/choose.html", garages=garages_now(garages), target=target, public=public)


for _old in OLD_PREFIXES:
    _methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    if _old != "admin":  # /admin itself was never a page
        bp.add_url_rule(f"/{_old}", endpoint="old_url", view_func=moved, methods=_methods)
    bp.add_url_rule(f"/{_old}/<path:rest>", endpoint="old_url", view_func=moved, methods=_methods)


@bp.get("/desk/choose")
def choose():
    """The chooser itself ("Switch garage" on the desk): always shown, whatever was remembered."""
    if not current_user.is_authenticated:
        return login_redirect()
    garages = garage_service.garages_of(current_user.id)
    if not garages:
        abort(404)
    return _chooser(garages, "/desk", public=False)


@bp.post("/desk/choose")
def remember():
    """A person chose a garage: remembered on this tablet, then on to the page they asked for."""
    if not current_user.is_authenticated:
        return login_redirect()
    slugs = [garage.slug for garage in garage_service.garages_of(current_user.id)]
    slug = request.form.get("garage", "")
    if slug not in slugs:
        abort(404)
    target = safe_next(request.form.get("next"))
    if target is None or target.split("?")[0].split("/")[1] not in OLD_PREFIXES:
        target = "/desk"
    response = redirect(_in_garage(slug, target), code=303)
    response.set_cookie(DESK_COOKIE, slug, max_age=DESK_COOKIE_SECONDS, httponly=True, samesite="Lax",
                        secure=current_app.config["SESSION_COOKIE_SECURE"] or request.is_secure)
    return response


def install(app: Flask, blueprints: list[Blueprint]) -> None:
    """Called by the app factory with the areas' blueprints (AREAS), after identity.install."""
    assert sorted(bp.name for bp in blueprints) == sorted(AREAS)
    for area in blueprints:
        app.register_blueprint(area, url_prefix=PREFIX + (area.url_prefix or ""))
    app.register_blueprint(bp)
    app.url_value_preprocessor(resolve)
    app.url_defaults(fill_garage)
    app.jinja_env.globals.update(garage_name=garage_name, several_garages=several_garages)
