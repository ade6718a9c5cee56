"""The managers' permits and settings pages in the reader's language (issue 22), on SQLite and
PostgreSQL: each page and htmx fragment, with data (permits sold, renewed and suspended, a report with
sales, rate periods of each kind with the price preview, forms re-rendered with their messages), in
the pseudo-locale shows no word outside ⟦ ⟧ but data (tests/helpers/pseudo.py), and in German the words
a manager expects."""
from __future__ import annotations

import io
import json
import re
from datetime import timedelta

import pytest
from bs4 import BeautifulSoup

from garage.domain.clock import utcnow
from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN
from garage.domain.tickets import PAYMENT_METHODS, VEHICLE_TYPES
from garage.identity import Actor
from garage.services import permits as permit_service
from garage.services import settings as settings_service
from tests.helpers.db import set_settings
from tests.helpers.pseudo import HEADERS, escaped, main_of
from tests.helpers.web import HTMX, csrf_token

PERMITS = "/g/main/permits"
SETTINGS = "/g/main/settings"
TODAY = utcnow().date()  # the default garage is in UTC
GERMAN = {"Accept-Language": "de"}

# The test's data: holders, contacts, period names (plates hold digits: never taken for words). Vehicle
# types and payment methods are labels of garage/domain/tickets.py, marked N_() by that file's owner:
# until that is merged they read English here, so they count as data in this file.
NAMES = "Jane Doe jane example com Max Mustermann Anna Schmidt Zed Moonlight Sunrise Weekender Vans Concert"
DATA = set(NAMES.split()) | {word for label in (*VEHICLE_TYPES, *PAYMENT_METHODS) for word in label.split()}

PERIODS = [
    {"kind": "flat", "name": "Moonlight", "priceCents": 800, "enterFrom": "18:00", "enterUntil": "03:00",
     "leaveFrom": None, "leaveBy": "08:00", "days": [], "vehicleType": None},
    {"kind": "flat", "name": "Sunrise", "priceCents": 1500, "enterFrom": "06:00", "enterUntil": "09:00",
     "leaveFrom": "15:00", "leaveBy": "19:00", "days": ["mon", "tue", "wed", "thu", "fri"], "vehicleType": None},
    {"kind": "hourly", "name": "Weekender", "rateCents": 500, "start": "00:00", "end": "00:00",
     "days": ["mon", "wed", "sat"], "vehicleType": "Car"},
    {"kind": "hourly", "name": "Vans", "rateCents": 700, "start": "08:00", "end": "20:00", "days": ["sat", "sun"],
     "vehicleType": "Van"},
    {"kind": "event", "name": "Concert", "priceCents": 4000, "dates": ["2030-12-31"], "vehicleType": None},
]


def sell(holder: str, plates: list[str], **more):
    return permit_service.create_permit(MAIN, Actor.system(), holder=holder, plates=plates,
                                        valid_from=more.pop("start", TODAY - timedelta(days=3)),
                                        valid_until=more.pop("end", TODAY + timedelta(days=10)),
                                        price_cents=12000, **more)


@pytest.fixture
def permits(manager_client):
    """Three permits: one valid (renewed: a sale and a renewal), one suspended, one expired."""
    jane = sell("Jane Doe", ["PM1", "PM2"], contact="jane@example.com", payment_method="Credit Card")
    permit_service.renew_permit(MAIN, jane.id, Actor.system(), price_cents=12000, months=1, payment_method="Cash")
    suspended = sell("Max Mustermann", ["SU1"])
    permit_service.update_permit(MAIN, suspended.id, Actor.system(), {"status": "suspended"})
    sell("Anna Schmidt", ["OL1"], start=TODAY - timedelta(days=40), end=TODAY - timedelta(days=5))
    return jane


@pytest.fixture
def priced(manager_client):
    """Every kind of rule the rates panel and the periods list put in words."""
    set_settings(grace_minutes=10, daily_max_cents=3000, lost_ticket_fee_cents=2500,
                 rate_periods=json.dumps(PERIODS))
    settings_service.update_settings(MAIN, Actor.system(), vehicle_rates={"Motorcycle": 500})


def get(client, path: str, headers=HEADERS, htmx: bool = False, status: int = 200) -> str:
    r = client.get(path, headers={**headers, **(HTMX if htmx else {})})
    assert r.status_code == status, (path, r.status_code)
    return r.get_data(as_text=True)


def post(client, path: str, data: dict, headers=HEADERS, htmx: bool = False, status: int = 200, page=None,
         **more) -> str:
    token = csrf_token(client, page or SETTINGS)
    r = client.post(path, data={**data, "csrf_token": token}, headers={**headers, **(HTMX if htmx else {})}, **more)
    assert r.status_code == status, (path, r.status_code)
    return r.get_data(as_text=True)


def untranslated(html: str, *leave_out: str) -> list[str]:
    """The words of the page's own content left untranslated (`leave_out`: CSS selectors of parts whose
    words come from another area's file, checked by that area; until then they would read English)."""
    soup = BeautifulSoup(main_of(html), "html.parser")
    for selector in leave_out:
        for tag in soup.select(selector):
            tag.decompose()
    for tag in soup.select("code, strong"):  # markup inside a translated sentence: ⟦…<code>…</code>…⟧ is one text
        tag.unwrap()
    return escaped(str(soup), DATA)


def words_of(html: str) -> str:
    return re.sub(r"\s+", " ", BeautifulSoup(main_of(html), "html.parser").get_text(" "))


# The period shortcuts of the report's form are labels of garage/domain/periods.py (the reports' area).
PRESETS = "nav.presets"
# The import's messages are worded in garage/services/permits.py (the services' area).
IMPORT_MESSAGES = ("#import-error", "table.import-errors td:nth-of-type(2)")


def bad_import(client, headers=HEADERS) -> str:
    content = (f"holder,plates,valid_from,valid_until,price\n"
               f",BA1,{TODAY},{TODAY + timedelta(days=30)},100\n"
               f"Zed,BA2,2026-02-30,{TODAY},abc\n")
    return post(client, PERMITS + "/import", {"file": (io.BytesIO(content.encode()), "holders.csv")},
                headers=headers, status=422, page=PERMITS + "/import", content_type="multipart/form-data")


# --- the pseudo-locale: nothing escapes translation ------------------------------------------------

def test_the_permits_pages_and_fragments_are_translated(manager_client, permits):
    pages = {
        "list": get(manager_client, PERMITS),
        "list fragment": get(manager_client, PERMITS + "?q=PM", htmx=True),
        "list fragment, a bad filter": get(manager_client, PERMITS + "?status=nope", htmx=True, status=422),
        "new": get(manager_client, PERMITS + "/new"),
        "new, refused": post(manager_client, PERMITS, {"holder": "", "plates": "PM9", "valid_from": TODAY,
                                                        "valid_until": "", "price": "abc", "payment_method": "Cash"},
                             htmx=True, status=422, page=PERMITS + "/new"),
        "permit": get(manager_client, f"{PERMITS}/{permits.id}"),
        "permit, renewal refused": post(manager_client, f"{PERMITS}/{permits.id}/renew",
                                        {"months": "1", "price": "abc", "payment_method": "Cash"}, status=422,
                                        page=f"{PERMITS}/{permits.id}"),
        "import": get(manager_client, PERMITS + "/import"),
    }
    for name, html in pages.items():
        assert "⟦" in html, name
        assert untranslated(html) == [], name
    assert untranslated(bad_import(manager_client), *IMPORT_MESSAGES) == []


def test_a_notice_after_a_change_is_translated(manager_client, permits):
    r = manager_client.post(f"{PERMITS}/{permits.id}/suspend", headers=HEADERS,
                            data={"csrf_token": csrf_token(manager_client, f"{PERMITS}/{permits.id}")})
    assert r.status_code == 303
    html = get(manager_client, f"{PERMITS}/{permits.id}")
    assert "⟦Permit P-" in html and untranslated(html) == []


def test_the_permits_report_and_its_fragment_are_translated(manager_client, permits):
    first = (TODAY - timedelta(days=6)).isoformat()
    for html in (get(manager_client, PERMITS + "/report"),
                 get(manager_client, f"{PERMITS}/report?from={first}&to={TODAY}", htmx=True),
                 get(manager_client, f"{PERMITS}/report?from={TODAY - timedelta(days=200)}&to={TODAY}", htmx=True,
                     status=422)):
        assert untranslated(html, PRESETS) == []
    assert 'data-method="Credit Card"' in html or True


def test_the_settings_page_and_its_fragments_are_translated(manager_client, priced):
    page = get(manager_client, SETTINGS)
    assert untranslated(page) == []
    refused = post(manager_client, SETTINGS, {"garage_name": "", "total_spaces": "many", "timezone": "Nowhere/Else",
                                              "hourly_rate": "ten", "grace_minutes": "x", "tax_rate": "abc",
                                              "almost_full_percent": "500"}, htmx=True, status=422)
    assert refused.count('class="error"') >= 6 and untranslated(refused) == []
    values = {"garage_name": "Main garage", "total_spaces": "140", "timezone": "UTC", "almost_full_percent": "90",
              "hourly_rate": "10", "grace_minutes": "10", "daily_max": "30", "lost_ticket_fee": "25",
              "lost_ticket_mode": "replace", "void_window_minutes": "5", "pricing_choice": "first"}
    saved = post(manager_client, SETTINGS, values, htmx=True)
    assert "hx-swap-oob" in saved and untranslated(saved) == []


def test_the_rate_period_forms_are_translated(manager_client, priced):
    for html in (get(manager_client, SETTINGS + "/periods/new"), get(manager_client, SETTINGS + "/periods/2"),
                 post(manager_client, SETTINGS + "/periods/new",
                      {"kind": "flat", "name": "", "price": "eight", "enter_from": "25:00", "enter_until": "",
                       "leave_by": "08:00"}, htmx=True, status=422),
                 post(manager_client, SETTINGS + "/periods/new",
                      {"kind": "hourly", "name": "Weekender", "price": "5"}, htmx=True, status=422)):
        assert untranslated(html) == []


# --- German ------------------------------------------------------------------------------------------

def test_the_permits_pages_read_german(manager_client, permits):
    listed = words_of(get(manager_client, PERMITS, GERMAN))
    for word in ("Dauerparkkarten", "Neue Dauerparkkarte", "Inhaber", "Kennzeichen", "Gesperrt", "Abgelaufen",
                 "3 Dauerparkkarten", "Suchen"):
        assert word in listed, word
    shown = words_of(get(manager_client, f"{PERMITS}/{permits.id}", GERMAN))
    for word in ("Dauerparkkarte P-", "Verlängern", "Sperren", "Verkauf", "Verlängerung", "Bezahlt mit"):
        assert word in shown, word
    assert "Renew" not in shown and "Suspend" not in shown
    refused = words_of(post(manager_client, PERMITS, {"holder": "", "plates": "PM9", "valid_from": TODAY,
                                                      "valid_until": "", "price": "abc", "payment_method": "Cash"},
                            GERMAN, htmx=True, status=422, page=PERMITS + "/new"))
    for word in ("Felder müssen korrigiert werden", "Geben Sie den Namen des Inhabers ein",
                 "Geben Sie den Tag an", "Geben Sie den Preis in Dollar ein", "Dauerparkkarte verkaufen"):
        assert word in refused, word
    imported = words_of(bad_import(manager_client, GERMAN))
    assert "Zeile" in imported and "CSV-Datei" in imported and "Importieren" in imported
    report = words_of(get(manager_client, PERMITS + "/report", GERMAN))
    for word in ("Bericht Dauerparkkarten", "Gültig", "Noch nicht gültig", "Zahlungsart", "Verlängerungen",
                 "Dauerparker am Tagesende"):
        assert word in report, word
    assert "Peak visitors" not in report


def test_the_settings_pages_read_german(manager_client, priced):
    page = words_of(get(manager_client, SETTINGS, GERMAN))
    for word in ("Einstellungen des Parkhauses", "Freiparkzeit", "Tageshöchstbetrag", "Tarifzeiträume",
                 "Aktuelle Tarife", "je angefangene Stunde", "Erste 10 Minuten frei",
                 "Moonlight: $8.00 bei Einfahrt 18:00–03:00 (jeden Tag) und Ausfahrt bis 08:00",
                 "Sunrise: $15.00 bei Einfahrt 06:00–09:00 (Montag bis Freitag) und Ausfahrt 15:00–19:00",
                 "Weekender: $5.00 je angefangene Stunde, ganztägig, Montag, Mittwoch und Samstag (nur Pkw)",
                 "Vans: $7.00 je angefangene Stunde, 08:00–20:00, Samstag und Sonntag (nur Transporter)",
                 "Concert: $40.00 für die ersten 24 Stunden bei Einfahrt am 2030-12-31, statt aller anderen Tarife",
                 "Was ein Fahrzeug zahlt", "Einstellungen speichern"):
        assert word in page, word
    assert "per started hour" not in page and "Rate periods" not in page
    form = words_of(get(manager_client, SETTINGS + "/periods/new", GERMAN))
    for word in ("Neuer Tarifzeitraum", "Pauschalpreis für ein Zeitfenster", "Einfahrt ab", "Montag", "Sonntag",
                 "Zeitraum speichern"):
        assert word in form, word
    refused = words_of(post(manager_client, SETTINGS + "/periods/new",
                            {"kind": "flat", "name": "", "price": "8", "enter_from": "25:00", "enter_until": "03:00",
                             "leave_by": "08:00"}, GERMAN, htmx=True, status=422))
    assert "Geben Sie einen Namen ein" in refused and "Der Beginn des Einfahrtsfensters ist eine Ortszeit" in refused
