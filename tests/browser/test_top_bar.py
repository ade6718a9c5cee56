"""The operator's and staff's top bar and garage switching on a tablet (issue 17; an outside walk at
1024x768 landscape and 768x1024 portrait), in Chromium against gunicorn on PostgreSQL: an admin's
menu (ten links) is one line in landscape and one row of links under the name in portrait; "Switch
garage" and the chooser's garages are finger-sized, and the chooser says which garage is FULL.

The viewports are the tablet's screen less the ~80 px its browser's bars take (test_desk_layout)."""
from __future__ import annotations

import os

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN
from garage.extensions import db
from garage.services import tickets as ticket_service
from tests.helpers.browser import TAP_MIN, signed_in, small_targets
from tests.helpers.garages import add_garage, make_admin, person

pytestmark = pytest.mark.browser

LANDSCAPE = {"width": 1024, "height": 768 - 80}
PORTRAIT = {"width": 768, "height": 1024 - 80}
ORIENTATIONS = pytest.mark.parametrize("viewport", [LANDSCAPE, PORTRAIT], ids=["landscape", "portrait"])
ADMIN_MENU = ["Desk", "Reports", "Permits", "Staff", "Audit log", "Settings", "Lobby", "API docs", "Portfolio", "Garages"]
LONG_NAME = "Harbour Street Multi-Storey Car Park"
READABLE = 120  # px of the garage's name at least in the bar, or all of it ("Main garage" is about 152)

TOP_BAR = """() => {
    const box = e => { const r = e.getBoundingClientRect();
        return {text: e.textContent.trim(), top: Math.round(r.top), left: Math.round(r.left),
                right: Math.round(r.right), bottom: Math.round(r.bottom)}; };
    const brand = document.querySelector('.brand');
    return {height: document.querySelector('.topbar').getBoundingClientRect().height,
            screen: innerWidth, page: document.documentElement.scrollWidth,
            links: [...document.querySelectorAll('.topbar .nav a')].map(box), brand: box(brand),
            brand_cut: brand.scrollWidth > brand.clientWidth, signout: box(document.querySelector('.signout button'))};
}"""


@ORIENTATIONS
def test_an_admins_menu_is_one_line_in_landscape_and_one_row_of_links_in_portrait(live, browser, viewport):
    with live.app.app_context():
        make_admin("root")
        add_garage("harbour", name=LONG_NAME)
        db.session.remove()
    page = signed_in(browser, live, viewport, "root", "/g/main/desk")
    try:
        for path in ("/g/main/desk", "/g/main/reports", "/g/harbour/settings", "/portfolio"):
            page.goto(live.url + path)
            bar = page.evaluate(TOP_BAR)
            links, brand, signout = bar["links"], bar["brand"], bar["signout"]
            assert [link["text"] for link in links] == ADMIN_MENU, path
            # The links never wrap, but beside a long name in landscape: the name keeps READABLE px
            # (it was squeezed to "H…"), the links take two rows between it and Sign out.
            long_beside = viewport is LANDSCAPE and path == "/g/harbour/settings"
            assert len({link["top"] for link in links}) == (2 if long_beside else 1), (path, links)
            assert max(link["right"] for link in links) <= bar["screen"] and signout["right"] <= bar["screen"], (path, bar)
            assert bar["page"] <= bar["screen"], (path, bar)  # nothing wider (the portfolio's charts were 960 px)
            if long_beside:
                assert brand["right"] - brand["left"] >= READABLE and bar["height"] < 3 * TAP_MIN, (path, bar)
                assert all(brand["right"] < link["left"] and link["right"] < signout["left"] for link in links), bar
            elif viewport is LANDSCAPE:  # one line: the name, the links, the person and Sign out
                assert brand["top"] == signout["top"] == links[0]["top"] and bar["height"] < 2 * TAP_MIN, (path, bar)
                assert links[0]["left"] > brand["right"] and signout["left"] > links[-1]["right"], (path, bar)
            else:  # the name and Sign out, then the links in a row of their own
                assert brand["top"] == signout["top"] and links[0]["top"] >= brand["bottom"], (path, bar)
                assert bar["height"] < 3 * TAP_MIN, (path, bar)
            # The default garage's name is shown whole; a long one gives way (its title keeps it).
            assert bar["brand_cut"] == (path == "/g/harbour/settings"), (path, bar)
            if bar["brand_cut"]:
                expect(page.locator(".brand")).to_have_attribute("title", LONG_NAME)
            assert small_targets(page, ".topbar") == [], path
    finally:
        page.context.close()


@ORIENTATIONS
def test_a_person_of_two_garages_switches_with_finger_sized_buttons_and_sees_which_is_full(live, browser, viewport):
    with live.app.app_context():
        north = add_garage("north", spaces=1, name="North Deck")
        person("ann", {MAIN: "attendant", north: "attendant"})
        ticket_service.issue_ticket(north, "NORTH 1", "Car")  # north's only space is taken
        db.session.remove()
    page = signed_in(browser, live, viewport, "ann", "/g/main/desk")
    try:
        switch = page.locator(".switch-garage a")
        box = switch.bounding_box()
        assert box["width"] >= TAP_MIN and box["height"] >= TAP_MIN, box  # was a 21-px-high text link
        assert small_targets(page) == []
        switch.tap()
        page.wait_for_url("**/desk/choose")
        expect(page.locator('.garage-choice li[data-slug="main"] [data-free]')).to_have_text("140 spaces free")
        expect(page.locator('.garage-choice li[data-slug="north"] [data-free]')).to_have_text("FULL")
        assert small_targets(page) == []
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        page.locator('.garage-choice li[data-slug="north"] button').tap()
        page.wait_for_url("**/g/north/desk")
        expect(page.locator(".brand")).to_have_text("North Deck")
    finally:
        page.context.close()


# A manager reading German at 1024 px (an outside browser pass): "Dauerparkkarten", "Einstellungen"...
# made the menu 200 px longer and the garage's name was squeezed to "M…".
MANAGER_PAGES = ("/g/main/reports", "/g/main/settings", "/g/main/permits", "/g/main/admin/users", "/g/main/admin/audit")


@pytest.mark.parametrize("language", ["en", "de"])
def test_the_garage_name_stays_readable_beside_a_managers_menu_at_1024(live, browser, language):
    with live.app.app_context():  # a manager of two garages: the portfolio is in the menu too
        person("mia", {MAIN: "manager", add_garage("harbour", name=LONG_NAME): "manager"})
        db.session.execute(sa.text("UPDATE users SET language = :l, locale = :f WHERE username = 'mia'"),
                           {"l": language, "f": "de_DE" if language == "de" else "en_US"})
        db.session.commit()
        db.session.remove()
    page = signed_in(browser, live, LANDSCAPE, "mia", "/g/main/reports")
    try:
        for path in (*MANAGER_PAGES, "/g/harbour/reports"):
            page.goto(live.url + path)
            bar = page.evaluate(TOP_BAR)
            brand, links, signout = bar["brand"], bar["links"], bar["signout"]
            shown = brand["right"] - brand["left"]
            assert shown >= min(READABLE, page.evaluate("document.querySelector('.brand').scrollWidth")), (path, bar)
            assert bar["brand_cut"] == path.startswith("/g/harbour"), (path, bar)  # "Main garage" whole
            assert bar["page"] <= bar["screen"] and signout["right"] <= bar["screen"], (path, bar)
            assert all(link["left"] > brand["right"] and link["right"] < signout["left"] for link in links), (path, bar)
            assert bar["height"] < 3 * TAP_MIN, (path, bar)  # at most two rows of links
            assert small_targets(page, ".topbar") == [], path
            if os.environ.get("REPORT_SHOTS"):  # a folder for the bar of each page
                page.locator(".topbar").screenshot(
                    path=f"{os.environ['REPORT_SHOTS']}/bar-{language}-{path.strip('/').replace('/', '-')}.png")
    finally:
        page.context.close()
