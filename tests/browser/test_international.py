"""Issue 22 in a real Chromium against ONE gunicorn on PostgreSQL: two garages side by side in one
deployment, set up as an operator would (the API), each read in its own currency, language and formats.

- "berlin": EUR, de_DE, German, 19 % VAT **added** to prices (€10.00 an hour → 11,90 € due), legal name
  "Parkhaus Mitte GmbH", Europe/Berlin, its lobby's second language English.
- "tokyo": JPY (no decimals), ja_JP formats, English words (Garage speaks en and de only), ¥500 an
  hour, Asia/Tokyo.

The desk (a keyboard-wedge entry, the lookup, the quote, the payment, the receipt and its printed
page), the lobby, the reports page, and the API and CSV files, which stay machine-readable.
Screenshots go to docs/screenshots/issue22/ when INTL_SCREENSHOTS is set, else to a temporary
directory."""
from __future__ import annotations

import csv
import io
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator
from zoneinfo import ZoneInfo

import pytest
from babel import dates as babel_dates
from playwright.sync_api import Page, expect

from garage.extensions import db
from garage.services import accounts
from tests.helpers.browser import TABLET, settled, signed_in
from tests.helpers.garages import OPERATOR, bearer, make_admin, person
from tests.helpers.live import LiveServer, call

pytestmark = [pytest.mark.browser, pytest.mark.postgres_only]

ROOT = Path(__file__).resolve().parents[2]
BERLIN_TZ, TOKYO_TZ = "Europe/Berlin", "Asia/Tokyo"
SPACES = 30


@dataclass
class Garages:
    live: LiveServer
    tokens: dict[str, dict[str, str]]  # slug → a manager's bearer headers there

    @property
    def url(self) -> str:
        return self.live.url

    def api(self, slug: str, path: str) -> str:
        return f"{self.live.url}/api/garages/{slug}{path}"


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    target = (ROOT / "docs" / "screenshots" / "issue22" if os.environ.get("INTL_SCREENSHOTS")
              else tmp_path_factory.mktemp("issue22"))
    target.mkdir(parents=True, exist_ok=True)
    return target


def shot(page: Page, out: Path, name: str, full_page: bool = True) -> None:
    # caret="initial": Playwright's caret hiding leaves a style attribute the CSP then refuses.
    page.screenshot(path=str(out / name), full_page=full_page, caret="initial")


def put_settings(garages: Garages, slug: str, body: dict) -> dict:
    status, answer = call("PUT", garages.api(slug, "/garage/settings"), body, garages.tokens[slug])
    assert status == 200, answer
    return answer


@pytest.fixture(scope="module")
def garages(live_server) -> Iterator[Garages]:
    """Both garages created with an admin's token, each set up by its own manager's token; an
    attendant and a manager granted at each (nobody at the other garage)."""
    live = live_server
    live.reset()
    with live.app.app_context():
        make_admin("root")
        root = {"Authorization": f"Bearer {accounts.create_token('root', OPERATOR)[1]}"}
        db.session.remove()
    ids = {}
    for slug, name, tz in (("berlin", "Parkhaus Mitte", BERLIN_TZ), ("tokyo", "Shibuya Parking", TOKYO_TZ)):
        status, body = call("POST", f"{live.url}/api/garages",
                            {"slug": slug, "name": name, "totalSpaces": SPACES, "timezone": tz}, root)
        assert status == 201, body
    from garage.services.garages import garage_by_slug
    with live.app.app_context():
        for slug in ("berlin", "tokyo"):
            ids[slug] = garage_by_slug(slug).id
        person("anna", {ids["berlin"]: "attendant"})
        person("max", {ids["berlin"]: "manager"})
        person("taro", {ids["tokyo"]: "attendant"})
        person("kenji", {ids["tokyo"]: "manager"})
        tokens = {"berlin": bearer("max", [ids["berlin"]]), "tokyo": bearer("kenji", [ids["tokyo"]])}
        db.session.remove()
    world = Garages(live, tokens)
    # No shift to open at these desks (garages created so take payments only in one: issue 18).
    berlin = put_settings(world, "berlin", {
        "currency": "EUR", "locale": "de_DE", "language": "de", "lobbyLanguage": "en",
        "hourlyRate": 1000, "taxRateBasisPoints": 1900, "taxAdded": True, "legalName": "Parkhaus Mitte GmbH",
        "garageAddress": "Invalidenstraße 1\n10115 Berlin", "taxId": "DE123456789",
        "paymentsRequireShift": False})
    assert (berlin["currency"], berlin["locale"], berlin["language"], berlin["taxAdded"]) == ("EUR", "de_DE", "de", True)
    tokyo = put_settings(world, "tokyo", {
        "currency": "JPY", "locale": "ja_JP", "language": "en", "hourlyRate": 500,
        "paymentsRequireShift": False})
    assert (tokyo["currency"], tokyo["hourlyRate"]) == ("JPY", 500)
    # A car in and out at each through the API (the reports have a payment whatever runs first).
    for slug, plate, paid, currency in (("berlin", "B-AB 1", 1190, "EUR"), ("tokyo", "TOKYO 1", 500, "JPY")):
        status, ticket = call("POST", world.api(slug, "/tickets"), {"licensePlate": plate, "vehicleType": "Car"},
                              tokens[slug])
        assert status == 201, ticket
        status, ticket = call("PUT", world.api(slug, f"/tickets/{ticket['ticketNumber']}/exit"),
                              {"paymentMethod": "Cash"}, tokens[slug])
        assert status == 200, ticket
        assert (ticket["amountPaid"], ticket["currency"]) == (paid, currency), ticket
    yield world


def plain(text: str) -> str:
    """Text as read: Babel's no-break and narrow no-break spaces as plain spaces."""
    return text.replace("\xa0", " ").replace("\u202f", " ")


@contextmanager
def signed_in_at(garages: Garages, browser, viewport: dict, username: str, path: str) -> Iterator[Page]:
    """`username` signed in on a fresh touch tablet at `path`; no script or console error meanwhile."""
    page = signed_in(browser, garages.live, viewport, username, path)
    problems = problems_of(page)
    try:
        yield page
    finally:
        page.context.close()
    assert problems == [], problems


def problems_of(page: Page) -> list[str]:
    found: list[str] = []
    page.on("console", lambda m: found.append(m.text) if m.type == "error" and "favicon" not in m.text else None)
    page.on("pageerror", lambda e: found.append(str(e)))
    return found


def fits_width(page: Page) -> None:
    """Nothing wider than the screen (German words are long)."""
    width = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert width[0] <= width[1], width


def wedge(page: Page, field: str, text: str) -> None:
    """A keyboard-wedge scanner: the keys as fast as they come, then Enter, in `field`."""
    settled(page)
    page.locator(field).focus()
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def local_now(tz: str) -> datetime:
    return datetime.now(timezone.utc).astimezone(ZoneInfo(tz))


def minutes_around(tz: str) -> set[str]:
    """The local "HH:MM" now and two minutes before (a test may straddle a minute), also as "H:MM": a locale
    may not pad the hour (ja_JP writes "0:31" after midnight)."""
    now = local_now(tz)
    times = [now - timedelta(minutes=m) for m in (0, 1, 2)]
    return {t.strftime("%H:%M") for t in times} | {f"{t.hour}:{t:%M}" for t in times}


def desk_round(page: Page, plate: str) -> str:
    """Issue a ticket by a wedge burst and look it up the same way: its number (its quote shown)."""
    expect(page.locator("#plate")).to_be_focused()
    wedge(page, "#plate", plate)
    card = page.locator("#entry .ticket-card")
    expect(card).to_contain_text(plate.upper())
    number = card.locator("[data-ticket-number]").inner_text().strip()
    wedge(page, "#lookup-q", number)
    expect(page.locator("#exit .quote [data-ticket-number]")).to_have_text(number)
    return number


def fits_both_ways(page: Page, held: str) -> None:
    """The page fits the tablet's width held either way; left as it was (`held`)."""
    for way in (*(w for w in TABLET if w != held), held):
        page.set_viewport_size(TABLET[way])
        fits_width(page)


def fits_both_ways_then_pay(page: Page, held: str, method: str):
    """The quote fits either way the tablet is held; then `method` and Confirm are tapped: the receipt."""
    fits_both_ways(page, held)
    page.locator(f"label.choice:has(input[value='{method}'])").tap()
    page.locator("button.btn-confirm").tap()
    return page.locator("#exit .receipt-card")


# --- 1. the desk ---------------------------------------------------------------------------------

def test_berlin_desk_reads_german_with_euros_and_vat_added(garages, browser, shots):
    with signed_in_at(garages, browser, TABLET["landscape"], "anna", "/g/berlin/desk") as page:
        expect(page.locator("html")).to_have_attribute("lang", "de")
        header = plain(page.locator("header").first.inner_text())
        assert "Abmelden" in header and "Sign out" not in header, header  # the chrome too
        expect(page.locator("#entry-title")).to_have_text("Einfahrt")
        expect(page.locator("#entry label[for=plate]")).to_contain_text("Kennzeichen")
        expect(page.locator("#entry button[type=submit]")).to_have_text("Ticket ausgeben")
        number = desk_round(page, "b-pm 2206")

        quote = page.locator("#exit .quote")
        # €10.00 an hour, 19 % VAT added: 11,90 € (comma decimals, the sign after).
        expect(quote.locator("[data-amount]")).to_have_text(re.compile(r"^11,90\s€$"))
        text = plain(quote.inner_text())
        assert "Ticket" in text and "Kennzeichen" in text, text
        assert plain(quote.locator("[data-tax-added]").inner_text()) == "1,90 €"  # "Zuzüglich Steuer"
        assert "Zuzüglich Steuer" in text, text
        assert "$" not in text and "Amount due" not in text, text
        expect(quote.locator("button.btn-confirm")).to_contain_text("11,90")
        shot(page, shots, "berlin-desk-quote.png")
        receipt = fits_both_ways_then_pay(page, "landscape", "Cash")  # German words are long
        expect(receipt.locator("[data-amount-paid]")).to_have_text(re.compile(r"^11,90\s€$"))
        text = plain(receipt.inner_text())
        assert "Bezahlt 11,90 € · Bar" in text, text
        assert "Parkhaus Mitte GmbH" in text, text
        assert plain(receipt.locator("[data-tax-line]").inner_text()) == "Netto 10,00 € + MwSt. 19 %: 1,90 €"
        # German date and 24-hour time in Berlin: "6. Dez. 2026, 14:05" (Babel's de_DE medium join).
        day = babel_dates.format_skeleton("yMMMd", local_now(BERLIN_TZ), locale="de_DE")
        assert any(f"{day}, {hm}" in text for hm in minutes_around(BERLIN_TZ)), (day, text)
        assert not re.search(r"\d:\d\d\s?(AM|PM)", text), text
        assert "$" not in text and "Receipt" not in text, text
        fits_width(page)
        shot(page, shots, "berlin-receipt.png")

        # The printed receipt: the driver's, in the garage's language and formats.
        printed = page.context.new_page()
        printed.goto(f"{garages.url}/g/berlin/desk/tickets/{number}/receipt")
        slip = plain(printed.locator("article.slip").inner_text())
        assert "Beleg" in slip and "Vielen Dank. Gute Fahrt." in slip and "Parkhaus Mitte GmbH" in slip, slip
        assert "Kennzeichen" in slip and "B-PM 2206" in slip, slip
        assert plain(printed.locator(".slip-total strong").inner_text()) == "11,90 €"
        assert plain(printed.locator("p[data-tax-line]").inner_text()) == "Netto 10,00 € + MwSt. 19 %: 1,90 €"
        assert any(f"{day}, {hm}" in slip for hm in minutes_around(BERLIN_TZ)), (day, slip)
        assert "$" not in slip and "Receipt" not in slip and "Total paid" not in slip, slip
        shot(printed, shots, "berlin-receipt-printed.png")
        printed.close()


def test_tokyo_desk_reads_english_with_whole_yen(garages, browser, shots):
    with signed_in_at(garages, browser, TABLET["portrait"], "taro", "/g/tokyo/desk") as page:
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.locator("#entry button[type=submit]")).to_have_text("Issue ticket")
        number = desk_round(page, "shinagawa 500")
        quote = page.locator("#exit .quote")
        expect(quote.locator("[data-amount]")).to_have_text(re.compile(r"^[￥¥]500$"))  # no decimals
        text = plain(quote.inner_text())
        assert "Amount due" in text and "Plate" in text, text
        assert "500.00" not in text and "$" not in text and "€" not in text, text
        shot(page, shots, "tokyo-desk-quote.png")
        receipt = fits_both_ways_then_pay(page, "portrait", "Credit Card")
        expect(receipt.locator("[data-amount-paid]")).to_have_text(re.compile(r"^[￥¥]500$"))
        text = plain(receipt.inner_text())
        assert re.search(r"Paid [￥¥]500 · Credit Card", text), text
        assert receipt.locator("[data-tax-line]").count() == 0  # no tax set
        # Tokyo's time (ja_JP formats: "2026/12/06 19:05"-like, 24 h), in English words.
        assert any(re.search(rf"(?<!\d){hm}", text) for hm in minutes_around(TOKYO_TZ)), text
        assert "Receipt" in text and "Beleg" not in text, text
        shot(page, shots, "tokyo-receipt.png")

        printed = page.context.new_page()
        printed.goto(f"{garages.url}/g/tokyo/desk/tickets/{number}/receipt")
        slip = plain(printed.locator("article.slip").inner_text())
        assert re.fullmatch(r"[￥¥]500", plain(printed.locator(".slip-total strong").inner_text()))
        assert "Total paid" in slip and "SHINAGAWA 500" in slip, slip
        printed.close()


def test_berlin_price_rule_is_german(garages, browser):
    with signed_in_at(garages, browser, TABLET["landscape"], "anna", "/g/berlin/desk") as page:
        number = desk_round(page, "b-rule 1")
        expect(page.locator("#exit .quote [data-ticket-number]")).to_have_text(number)
        assert page.locator("#exit .quote [data-price-rule]").inner_text() == "Standardtarif"


OVERFLOWING = """() => [...document.querySelectorAll('main label.choice, main .btn, main button, main .ticket-number')]
    .filter(e => getComputedStyle(e).display !== 'none' && e.scrollWidth > e.clientWidth + 1)
    .map(e => `"${e.textContent.trim()}" ${e.scrollWidth} > ${e.clientWidth} px`)"""


def test_berlin_desk_controls_hold_their_german_words(garages, browser):
    with signed_in_at(garages, browser, TABLET["landscape"], "anna", "/g/berlin/desk") as page:
        desk_round(page, "b-fit 1")
        overflowing = {}
        for way in TABLET:
            page.set_viewport_size(TABLET[way])
            overflowing[way] = page.evaluate(OVERFLOWING)
        assert overflowing == {way: [] for way in TABLET}, overflowing


# --- 2. the lobby --------------------------------------------------------------------------------

def test_lobbies_show_their_counts_in_their_words(garages, browser, shots):
    """berlin in German, then English (its lobby language) in turn, airport style; tokyo in English."""
    occupancy = {}
    for slug in ("berlin", "tokyo"):
        status, occupancy[slug] = call("GET", garages.api(slug, "/garage/occupancy"))
        assert status == 200, occupancy[slug]
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    problems = problems_of(page)
    try:
        page.goto(f"{garages.url}/g/tokyo/lobby")
        expect(page.locator(".panel-name")).to_have_text("Shibuya Parking")
        taken = occupancy["tokyo"]["occupied"]
        expect(page.locator("#lobby-free")).to_have_text(str(occupancy["tokyo"]["available"]))
        expect(page.locator("#lobby-state")).to_have_text("OPEN")
        expect(page.locator("#lobby-counts")).to_have_text(f"{taken} of {SPACES} spaces taken · {taken * 100 // SPACES}% full")
        assert page.locator("[data-second]").count() == 0  # one language

        page.clock.install()  # lobby.js's turns (every 10 s) on the test's clock
        page.goto(f"{garages.url}/g/berlin/lobby")
        expect(page.locator("html")).to_have_attribute("lang", "de")
        expect(page.locator(".panel-name")).to_have_text("Parkhaus Mitte")
        taken, free = occupancy["berlin"]["occupied"], occupancy["berlin"]["available"]
        expect(page.locator("#lobby-free")).to_have_text(str(free))
        german = {"#lobby-state": "FREI", ".free-label": "freie Plätze" if free != 1 else "freier Platz",
                  "#lobby-counts": f"{taken} von {SPACES} Plätzen belegt · {taken * 100 // SPACES} % belegt"}
        english = {"#lobby-state": "OPEN", ".free-label": "free spaces" if free != 1 else "free space",
                   "#lobby-counts": f"{taken} of {SPACES} spaces taken · {taken * 100 // SPACES}% full"}
        for n, turn in enumerate((german, english, german)):
            for selector, words in turn.items():  # innerText: only the language whose turn it is
                expect(page.locator(selector)).to_have_text(words, use_inner_text=True)
            if n < 2:
                shot(page, shots, ("berlin-lobby.png", "berlin-lobby-english-turn.png")[n], full_page=False)
            page.clock.fast_forward(10_000)
        assert problems == [], problems
    finally:
        context.close()


# --- 3. the reports page -------------------------------------------------------------------------

@contextmanager
def todays_report(garages: Garages, browser, username: str, slug: str, tz: str) -> Iterator[Page]:
    """`username`'s reports page of `slug` for the garage's today, by hour."""
    today = local_now(tz).date().isoformat()
    with signed_in_at(garages, browser, {"width": 1280, "height": 900}, username, f"/g/{slug}/reports") as page:
        page.goto(f"{garages.url}/g/{slug}/reports?from={today}&to={today}&group=hour")
        yield page


def test_reports_in_each_garages_currency_and_words(garages, browser, shots):
    _, berlin_stats = call("GET", garages.api("berlin", "/garage/stats"), headers=garages.tokens["berlin"])
    _, tokyo_stats = call("GET", garages.api("tokyo", "/garage/stats"), headers=garages.tokens["tokyo"])

    with todays_report(garages, browser, "max", "berlin", BERLIN_TZ) as page:
        title = plain(page.locator(".period-title").inner_text())
        german_day = babel_dates.format_skeleton("yMMMEd", local_now(BERLIN_TZ), locale="de_DE")
        assert title == german_day, (title, german_day)  # "So., 6. Dez. 2026"
        revenue = plain(page.locator(".figure[data-figure=revenue_cents] .value").inner_text())
        expected = f"{berlin_stats['todaysRevenue']:.2f}".replace(".", ",") + " €"
        assert revenue == expected, (revenue, berlin_stats)
        text = plain(page.locator("main").inner_text())
        assert "Umsatz" in text and "Revenue" not in text, text
        assert "$" not in text, text
        fits_width(page)
        shot(page, shots, "berlin-reports.png")

    with todays_report(garages, browser, "kenji", "tokyo", TOKYO_TZ) as page:
        revenue = plain(page.locator(".figure[data-figure=revenue_cents] .value").inner_text())
        assert re.fullmatch(r"[￥¥]" + f"{int(tokyo_stats['todaysRevenue']):,}", revenue), (revenue, tokyo_stats)
        text = plain(page.locator("main").inner_text())
        assert "Revenue" in text and "Umsatz" not in text, text
        assert "$" not in text and "€" not in text, text
        shot(page, shots, "tokyo-reports.png")


# --- 4. the API and CSV stay machine-readable --------------------------------------------------

def test_api_and_csv_stay_machine_readable(garages, browser):
    for slug, rate, currency in (("berlin", 10.0, "EUR"), ("tokyo", 500, "JPY")):
        status, stats = call("GET", garages.api(slug, "/garage/stats"), headers=garages.tokens[slug])
        assert status == 200, stats
        assert stats["hourlyRate"] == rate and stats["currency"] == currency, stats
        status, settings = call("GET", garages.api(slug, "/garage/settings"), headers=garages.tokens[slug])
        assert status == 200 and settings["currency"] == currency, settings
        assert settings["hourlyRate"] == {"berlin": 1000, "tokyo": 500}[slug]  # minor units
        status, activity = call("GET", garages.api(slug, "/activities"), headers=garages.tokens[slug])
        assert status == 200 and activity, activity
        paid = [a for a in activity if a["amount"] is not None]
        assert paid and all(a["currency"] == currency for a in paid), activity
        assert {"berlin": 11.9, "tokyo": 500}[slug] in [a["amount"] for a in paid], activity
        for a in activity:
            assert datetime.fromisoformat(a["entryTime"]).tzinfo is not None, a  # ISO 8601 with an offset

    for slug, manager, tz, offset, amount, currency in (("berlin", "max", BERLIN_TZ, "+01:00", "11.90", "EUR"),
                                                        ("tokyo", "kenji", TOKYO_TZ, "+09:00", "500", "JPY")):
        with signed_in_at(garages, browser, TABLET["landscape"], manager, f"/g/{slug}/reports") as page:
            today = local_now(tz).date().isoformat()
            answer = page.context.request.get(
                f"{garages.url}/g/{slug}/reports/export/tickets.csv?from={today}&to={today}")
            assert answer.status == 200, answer.text()
            rows = list(csv.DictReader(io.StringIO(answer.text())))
            assert rows, answer.text()
            paid = [r for r in rows if r["status"] == "completed"]
            money = f"amount_{currency.lower()}"  # the column is named after the garage's currency
            assert amount in [r[money] for r in paid], rows
            assert all(r["currency"] == currency for r in rows), rows
            entry = next(k for k in rows[0] if k.startswith("entry_time"))
            for r in rows:
                moment = datetime.fromisoformat(r[entry])
                assert r[entry].endswith(offset) and moment.tzinfo is not None, r
                assert "," not in r[money], r

            answer = page.context.request.get(
                f"{garages.url}/g/{slug}/reports/export/rows.csv?from={today}&to={today}&group=day")
            assert answer.status == 200, answer.text()
            rows = list(csv.DictReader(io.StringIO(answer.text())))
            assert len(rows) == 1 and rows[0]["currency"] == currency, rows
            revenue = rows[0][f"revenue_{currency.lower()}"]
            assert re.fullmatch(r"\d+\.\d\d" if currency == "EUR" else r"\d+", revenue), rows
            start = next(k for k in rows[0] if k.startswith("start"))
            assert datetime.fromisoformat(rows[0][start]).isoformat().endswith(offset), rows


# --- the settings page, as berlin's manager reads it --------------------------------------------

def test_berlin_settings_page_in_german(garages, browser, shots):
    with signed_in_at(garages, browser, TABLET["landscape"], "max", "/g/berlin/settings") as page:
        text = plain(page.locator("main").inner_text())
        assert "Einstellungen" in text, text
        fits_width(page)
        shot(page, shots, "berlin-settings.png")



def test_a_manager_who_switches_the_garages_language_reads_the_whole_page_in_it(garages, browser):
    """Seen by this stop's outside check: after saving a new language the form came back in it inside the
    old page's menu and headings. Now the whole page loads again, in one language, with its "Saved"."""
    try:
        with signed_in_at(garages, browser, TABLET["landscape"], "kenji", "/g/tokyo/settings") as page:
            assert page.locator("html").get_attribute("lang") == "en"
            page.locator("#language").select_option("de")
            page.get_by_role("button", name="Save settings").click()
            expect(page.locator("html")).to_have_attribute("lang", "de")
            expect(page.locator("h1")).to_have_text("Einstellungen des Parkhauses")
            expect(page.locator(".saved")).to_contain_text("Gespeichert")
            expect(page.get_by_role("button", name="Einstellungen speichern")).to_be_visible()
            assert page.url.endswith("/g/tokyo/settings")
    finally:
        put_settings(garages, "tokyo", {"language": "en"})
