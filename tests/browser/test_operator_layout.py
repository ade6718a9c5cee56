"""An admin's operator pages with many garages on a tablet (issue 17, an outside tester's findings), in
Chromium against gunicorn on PostgreSQL: twelve garages, one named with 80 "W"s (no space: the longest
name a garage may have, garage_settings.NAME_MAX) and two with the same name. At 1024x768 landscape and
768x1024 portrait no page scrolls sideways (/garages, /portfolio, the staff page, the chooser), the
portfolio's chart labels never overlap, every control is finger-sized, and same-named garages are told
apart by their slugs. The viewports are the tablet's screen less the ~80 px its browser's bars take."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from garage.domain.garage_settings import NAME_MAX
from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN
from garage.extensions import db
from garage.services import tickets as ticket_service
from tests.helpers.browser import signed_in, small_targets
from tests.helpers.garages import add_garage, make_admin

pytestmark = pytest.mark.browser

LANDSCAPE = {"width": 1024, "height": 768 - 80}
PORTRAIT = {"width": 768, "height": 1024 - 80}
ORIENTATIONS = pytest.mark.parametrize("viewport", [LANDSCAPE, PORTRAIT], ids=["landscape", "portrait"])

WIDE = "W" * NAME_MAX  # the widest letter, as many as a name may have, nowhere to break
GARAGES = [  # (slug, name): with the default garage, twelve
    ("wide", WIDE), ("main-berlin", "Main Berlin"), ("north-auckland", "North Auckland"),
    ("central-east", "Central"), ("central-west", "Central"), ("harbour", "Harbour Street Multi-Storey Car Park"),
    ("airport-long-stay-terminal-2-level-minus", "Airport"), ("docks", "Docks"), ("old-town", "Old Town"),
    ("station", "Station Square"), ("stadium", "Stadium"),
]

ZONES = {"north-auckland": "Pacific/Auckland", "main-berlin": "Europe/Berlin",
         "airport-long-stay-terminal-2-level-minus": "America/Argentina/Buenos_Aires"}

PAGE_WIDTH = "({page: document.documentElement.scrollWidth, screen: innerWidth})"

# Each x-axis label of each chart as the polygon it covers on the screen (its box in its own
# coordinates, carried through its rotation), and whether any two of one chart overlap: two convex
# polygons are apart when some edge of either separates them (the separating axis test).
CHART_LABELS = """() => {
    const corners = t => { const b = t.getBBox(), m = t.getScreenCTM();
        return [[b.x, b.y], [b.x + b.width, b.y], [b.x + b.width, b.y + b.height], [b.x, b.y + b.height]]
            .map(([x, y]) => [m.a * x + m.c * y + m.e, m.b * x + m.d * y + m.f]); };
    const apart = (p, q) => [p, q].some(poly => poly.some((a, i) => {
        const b = poly[(i + 1) % poly.length], axis = [a[1] - b[1], b[0] - a[0]];
        const span = s => s.map(([x, y]) => x * axis[0] + y * axis[1]);
        const sp = span(p), sq = span(q);
        return Math.max(...sp) <= Math.min(...sq) + 0.5 || Math.max(...sq) <= Math.min(...sp) + 0.5; }));
    return [...document.querySelectorAll('svg.chart')].map(svg => {
        const texts = [...svg.querySelectorAll('.x-axis text')], boxes = texts.map(corners);
        const shown = texts.map(t => t.firstChild.nodeValue);
        const svgBox = svg.getBoundingClientRect(), overlaps = [], outside = [];
        boxes.forEach((p, i) => {
            if (p.some(([x, y]) => x < svgBox.left - 0.5 || x > svgBox.right + 0.5 || y > svgBox.bottom + 0.5))
                outside.push(shown[i]);
            boxes.slice(i + 1).forEach((q, j) => { if (!apart(p, q)) overlaps.push([shown[i], shown[i + 1 + j]]); }); });
        return {chart: svg.querySelector('title').textContent, shown, overlaps, outside,
                titles: texts.map(t => t.querySelector('title')?.textContent)};
    });
}"""


@pytest.fixture
def many_garages(live):
    with live.app.app_context():
        make_admin("root")
        ids = {slug: add_garage(slug, spaces=40, name=name, timezone=ZONES.get(slug, "UTC")) for slug, name in GARAGES}
        for slug, cars in (("wide", 3), ("main-berlin", 5), ("north-auckland", 2), ("central-east", 1)):
            for n in range(cars):
                ticket_service.issue_ticket(ids[slug], f"{slug[:4]} {n}", "Car")
        ticket_service.issue_ticket(MAIN, "MAIN 1", "Car")
        db.session.remove()
    return ids


@pytest.fixture
def admin(live, browser, many_garages, viewport):
    """The admin on a tablet at `viewport`, on /portfolio."""
    page = signed_in(browser, live, viewport, "root", "/portfolio")
    yield page
    page.context.close()


@ORIENTATIONS
def test_no_operator_page_scrolls_sideways_and_every_control_is_finger_sized(live, admin, viewport):
    page = admin
    for path in ("/garages", "/portfolio", "/g/main/admin/users", "/desk/choose"):
        page.goto(live.url + path)
        shown = page.evaluate(PAGE_WIDTH)
        assert shown["page"] <= shown["screen"], (path, shown)
        assert small_targets(page, "main") == [], path
    page.goto(live.url + "/garages")  # the list inside its card; a short slug on one line
    fit = page.evaluate("""() => { const card = document.querySelector('#garage-list').closest('.card');
        return {scroll: card.scrollWidth, width: card.clientWidth, slugs: Object.fromEntries(
            [...document.querySelectorAll('#garage-list code')].map(c => [c.textContent, c.getClientRects().length > 1
                || c.getBoundingClientRect().height > 1.5 * parseFloat(getComputedStyle(c).lineHeight || 20)]))}; }""")
    assert fit["scroll"] <= fit["width"], fit
    assert [slug for slug, broken in fit["slugs"].items() if broken and len(slug) <= 16] == [], fit


@ORIENTATIONS
def test_same_named_garages_are_told_apart_by_their_slugs(live, admin, viewport):
    page = admin
    for row in ("#portfolio-live", "#portfolio-table"):
        for slug in ("central-east", "central-west"):
            cell = page.locator(f'{row} tr[data-slug="{slug}"] td').first
            expect(cell.locator(".garage-name")).to_have_text("Central")
            expect(cell.locator(".slug")).to_have_text(slug)
    page.goto(live.url + "/desk/choose")
    for slug in ("central-east", "central-west"):
        choice = page.locator(f'.garage-choice li[data-slug="{slug}"]')
        expect(choice.locator(".choice-name")).to_have_text("Central")
        expect(choice.locator(".slug")).to_have_text(slug)
    # the slug is muted: not the name's colour
    colours = page.evaluate("""() => { const li = document.querySelector('.garage-choice li[data-slug="central-east"]');
        return [getComputedStyle(li.querySelector('.choice-name')).color, getComputedStyle(li.querySelector('.slug')).color]; }""")
    assert colours[0] != colours[1], colours


@ORIENTATIONS
def test_the_portfolios_chart_labels_never_overlap(admin, viewport):
    page = admin
    charts = page.evaluate(CHART_LABELS)
    assert len(charts) == 2
    for chart in charts:
        assert chart["overlaps"] == [] and chart["outside"] == [], chart
        assert len(chart["shown"]) == len(GARAGES) + 1, chart  # every garage's bars are named
        assert "Main Berlin" in chart["shown"] and "North Auckland" in chart["shown"], chart
        # same-named garages told apart by their slugs; a label cut short keeps its whole name as its title
        assert "Central (central-east)" in chart["titles"] + chart["shown"], chart
        assert chart["titles"][chart["shown"].index("W" * 10 + "…")] == WIDE, chart
