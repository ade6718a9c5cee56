"""The lobby on a TV (issue 15), in Chromium against gunicorn on PostgreSQL: at 16:9 the screen is
used edge to edge (the right half is not empty), and in every state, in both themes, each indicator
stays legible: text against what is behind it, the ALMOST FULL tick against the bar under it.
(Following the garage, outages and long runs: tests/browser/test_lobby.py.)"""
from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.helpers.live import call

pytestmark = pytest.mark.browser

SCREENS = pytest.mark.parametrize("viewport", [{"width": 1920, "height": 1080}, {"width": 1280, "height": 720}],
                                  ids=["1920x1080", "1280x720"])

LAYOUT = """() => {
    // Where the screen's words and figures are drawn: the rectangles of their text (a block's own box
    // spans the whole width whatever its text), the clock apart.
    const clock = document.getElementById('lobby-clock').getBoundingClientRect();
    const rects = [];
    const walker = document.createTreeWalker(document.querySelector('.panel'), NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (!node.textContent.trim()) continue;
        const range = document.createRange();
        range.selectNodeContents(node);
        for (const r of range.getClientRects()) if (r.width && r.height) rects.push(r);
    }
    const half = innerWidth / 2;
    const area = rects.reduce((sum, r) => sum + r.width * r.height, 0);
    const right = rects.reduce((sum, r) => sum + Math.max(0, r.right - Math.max(r.left, half)) * r.height, 0);
    const overlaps = rects.filter(r => !(r.right <= clock.left || r.left >= clock.right || r.bottom <= clock.top
                                         || r.top >= clock.bottom)).length;
    const free = document.getElementById('lobby-free').getBoundingClientRect();
    return {rightShare: right / area, rightmost: Math.max(...rects.map(r => r.right)) / innerWidth,
            clockOverlaps: overlaps, freeHeight: free.height / innerHeight, freeBottom: free.bottom,
            scrollW: document.documentElement.scrollWidth, scrollH: document.documentElement.scrollHeight,
            w: innerWidth, h: innerHeight};
}"""

LEGIBILITY = """() => {
    const rgba = c => { const m = c.match(/[\\d.]+/g).map(Number); return [m[0], m[1], m[2], m.length > 3 ? m[3] : 1]; };
    const over = (top, below) => top.slice(0, 3).map((v, i) => v * top[3] + below[i] * (1 - top[3])).concat([1]);
    const luminance = c => { const [r, g, b] = c.slice(0, 3).map(v => { v /= 255;
        return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
    const ratio = (a, b) => { const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
        return (x + 0.05) / (y + 0.05); };
    const background = el => {  // what is painted behind el's middle (the clock floats over the panel)
        const r = el.getBoundingClientRect(), layers = [];
        for (const e of document.elementsFromPoint(r.left + r.width / 2, r.top + r.height / 2)) {
            const c = rgba(getComputedStyle(e).backgroundColor);
            if (c[3] > 0) { layers.push(c); if (c[3] === 1) break; }
        }
        return layers.reduceRight((below, top) => over(top, below), [255, 255, 255, 1]);
    };
    const opacity = el => { let o = 1; for (let e = el; e; e = e.parentElement) o *= Number(getComputedStyle(e).opacity); return o; };
    const found = [];
    for (const sel of ['.panel-name', '#lobby-state', '#lobby-free', '.free-label', '#lobby-counts', '#lobby-time', '#lobby-date']) {
        const el = document.querySelector(sel), style = getComputedStyle(el), bg = background(el);
        const fg = over([...rgba(style.color).slice(0, 3), rgba(style.color)[3] * opacity(el)], bg);
        const size = parseFloat(style.fontSize), bold = Number(style.fontWeight) >= 700;
        const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;  // WCAG: large text 3:1
        found.push({what: sel, ratio: ratio(fg, bg), needed});
    }
    // The ALMOST FULL tick against the bar where it stands: the fill once it reaches the tick, else the track.
    const fill = document.querySelector('.bar-fill'), tick = document.querySelector('.bar-threshold');
    const reached = Number(fill.getAttribute('width')) >= Number(tick.getAttribute('x'));
    const panel = background(document.querySelector('.panel'));
    const under = over(rgba(getComputedStyle(reached ? fill : document.querySelector('.bar-track')).fill), panel);
    found.push({what: 'ALMOST FULL tick on the ' + (reached ? 'fill' : 'track'),
                ratio: ratio(rgba(getComputedStyle(tick).fill), under), needed: 3});
    return found.filter(f => f.ratio < f.needed).map(f => `${f.what}: ${f.ratio.toFixed(2)} < ${f.needed}`);
}"""


def fill_up(live, cars: int, first: int = 0) -> None:
    headers = live.token("attendant")
    for i in range(first, first + cars):
        status, body = call("POST", live.url + "/api/tickets", {"licensePlate": f"TV {i}", "vehicleType": "Car"},
                            headers)
        assert status == 201, body


def screen(browser, viewport: dict):
    context = browser.new_context(viewport=viewport)
    return context, context.new_page()


def open_lobby(page: Page, live, query: str = "") -> None:
    page.goto(live.url + "/g/main/lobby" + query)
    page.wait_for_selector(".panel")


@SCREENS
def test_a_16_9_screen_is_used_edge_to_edge(live, browser, viewport):
    live.reset(total_spaces=140)
    fill_up(live, 3)
    context, page = screen(browser, viewport)
    try:
        for query in ("", "?theme=dark"):
            open_lobby(page, live, query)
            shown = page.evaluate(LAYOUT)
            assert shown["scrollW"] <= shown["w"] and shown["scrollH"] <= shown["h"], shown  # no scrolling
            assert shown["rightShare"] >= 0.3, shown  # the right half carries its share of the screen
            assert shown["rightmost"] >= 0.9, shown
            assert shown["clockOverlaps"] == 0, shown
            assert shown["freeHeight"] >= 0.25 and shown["freeBottom"] <= shown["h"], shown  # huge, and on screen
    finally:
        context.close()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_indicator_is_legible_in_every_state(live, browser, theme):
    live.reset(total_spaces=10)  # ALMOST FULL from 90 %
    context, page = screen(browser, {"width": 1280, "height": 720})
    problems = {}
    try:
        for state, cars, first in (("OPEN", 0, 0), ("ALMOST FULL", 9, 0), ("FULL", 1, 9)):
            fill_up(live, cars, first)
            open_lobby(page, live, f"?theme={theme}")
            assert page.inner_text("#lobby-state") == state
            problems[state] = page.evaluate(LEGIBILITY)
    finally:
        context.close()
    assert problems == {"OPEN": [], "ALMOST FULL": [], "FULL": []}
