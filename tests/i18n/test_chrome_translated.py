"""The shared chrome and the remaining pages in every language (issue 22): the top bar and menu of
every page, sign-in, the account and password pages, the error pages, the garage chooser, staff and
audit, the operator's garages and portfolio, the lobby and its panel. In the pseudo-locale
(tests/helpers/pseudo.py) no word a person reads escapes translation; in German a few words we
expect are there; a person's own language wins over the browser's, and a garage's over the browser's."""
from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup

from garage.domain.locales import FORMAT_LOCALES, locale_name
from garage.extensions import db
from garage.models import AuditEvent, User
from garage.services import accounts
from tests.helpers.db import set_settings
from tests.helpers.garages import OPERATOR, grant, make_admin, second_garage
from tests.helpers.pseudo import HEADERS, escaped, main_of
from tests.helpers.web import HTMX, csrf_token, sign_in, soup

GERMAN = {"Accept-Language": "de"}
ENGLISH = {"Accept-Language": "en"}
# The test's data: people, garages (the default garage is "Main garage"), timezones; the format
# locales' own names on the account page (each named in its own language, as a language chooser does).
DATA = ({"ann", "boss", "root", "nina", "Main", "garage", "main", "North", "north", "UTC", "Europe", "Berlin", "Deutsch",
         "English", "PS", "system", "cli"}
        | {word for code in FORMAT_LOCALES for word in re.findall(r"\w+", locale_name(code))})


def without_doctype(html: str) -> str:
    return re.sub(r"^\s*<!doctype html>", "", html, flags=re.IGNORECASE)


def chrome_of(html: str) -> str:
    """The page without its <main>: the top bar, the menu, the title."""
    page = BeautifulSoup(without_doctype(html), "html.parser")
    if page.main is not None:
        page.main.decompose()
    return str(page)


def client_of(app, username: str):
    client = app.test_client()
    assert sign_in(client, username).status_code == 303
    return client


def untranslated(response, data=DATA, second_language: bool = False) -> list[str]:
    """The words of a whole page or fragment that escaped translation; `second_language`: the lobby's
    words in its second language (German, checked apart) left out."""
    html = without_doctype(response.get_data(as_text=True))
    if second_language:
        page = BeautifulSoup(html, "html.parser")
        for span in page.select("[data-second]"):
            span.decompose()
        html = str(page)
    return escaped(html, data)


@pytest.fixture
def people(app, make_user):
    """ann (attendant), boss (manager) at the default garage; root (admin); nina manages both garages;
    a second garage North; a few audit events worth showing."""
    north = second_garage("north", "North", timezone="Europe/Berlin")
    make_user("ann", "attendant")
    make_user("boss", "manager")
    make_admin("root")
    make_user("nina", "manager")
    grant("nina", north, "manager")
    accounts.reset_password("ann", OPERATOR)
    db.session.add(AuditEvent(garage_id=1, username="boss", action="settings.changed", object_type="garage_settings",
                              object_id="1", details={"before": {"totalSpaces": 140, "dailyMaxCents": None},
                                                      "after": {"totalSpaces": 150, "dailyMaxCents": 3000}}))
    db.session.add(AuditEvent(garage_id=1, username="ann", action="ticket.paid", object_type="ticket",
                              object_id="PS-1", details={"amountCents": 600, "lost": False, "durationMinutes": 95}))
    db.session.commit()
    accounts.change_password(db.session.get(User, accounts.find_user("ann").id), "correct horse battery")
    return north


# --- pseudo-locale: no word escapes ------------------------------------------------------------------

def test_the_chrome_of_a_manager_and_an_attendant_is_translated(app, people):
    boss, ann, root = client_of(app, "boss"), client_of(app, "ann"), client_of(app, "root")
    for client, path in ((boss, "/g/main/admin/users"), (boss, "/g/main/desk"), (ann, "/g/main/desk"),
                         (ann, "/g/main/desk/shift"), (ann, "/account"), (root, "/portfolio"), (root, "/garages")):
        page = client.get(path, headers=HEADERS)
        assert page.status_code == 200, path
        html = page.get_data(as_text=True)
        assert '<html lang="eo">' in html
        chrome = BeautifulSoup(chrome_of(html), "html.parser")
        if path.startswith("/g/main/desk"):  # the desk's own title block: the desk's area
            chrome.title.decompose()
        assert escaped(str(chrome), DATA) == [], path


def test_sign_in_password_and_account_pages_are_translated(app, people):
    anonymous = app.test_client()
    assert untranslated(anonymous.get("/login", headers=HEADERS)) == []
    assert untranslated(anonymous.get("/login?reason=session-ended", headers=HEADERS)) == []
    boss = client_of(app, "boss")
    for path in ("/account/password", "/account"):
        assert untranslated(boss.get(path, headers=HEADERS)) == [], path
    token = csrf_token(boss, "/account")
    refused = boss.post("/account", data={"csrf_token": token, "language": "xx", "locale": ""}, headers=HEADERS)
    assert refused.status_code == 422 and untranslated(refused) == []
    wrong = boss.post("/account/password", headers=HEADERS, data={
        "csrf_token": token, "current_password": "nope", "new_password": "a" * 12, "confirm_password": "a" * 12})
    assert wrong.status_code == 422 and untranslated(wrong) == []


def test_error_pages_are_translated(app, people, monkeypatch):
    ann, nina = client_of(app, "ann"), client_of(app, "nina")
    forbidden = ann.get("/g/main/admin/users", headers=HEADERS)
    assert forbidden.status_code == 403 and untranslated(forbidden) == []
    missing = ann.get("/g/main/desk/no-such-page", headers=HEADERS)
    assert missing.status_code == 404 and untranslated(missing) == []
    expired = ann.post("/account", data={"language": "de"}, headers=HEADERS)  # no CSRF token
    assert expired.status_code == 400 and untranslated(expired) == []
    # A file's old URL that could mean either of nina's garages: a plain-text 409 naming them.
    which = nina.get("/reports/export/rows.csv", headers=HEADERS)
    assert which.status_code == 409 and which.mimetype == "text/plain"
    said = which.get_data(as_text=True).splitlines()[0]
    assert said.startswith("⟦") and said.endswith("⟧")
    # The database down: the page and the fragment (rendered without it).
    import sqlalchemy as sa
    import psycopg2
    from garage.services import stats

    def down(*args, **kwargs):
        raise sa.exc.OperationalError("SELECT 1", {}, psycopg2.OperationalError("connection refused"))

    monkeypatch.setattr(stats, "get_settings", down)
    unavailable = app.test_client().get("/g/main/lobby", headers=HEADERS)
    assert unavailable.status_code == 503 and untranslated(unavailable) == []
    fragment = app.test_client().get("/g/main/lobby/panel", headers={**HEADERS, **HTMX})
    assert fragment.status_code == 503 and untranslated(fragment) == []


def test_the_chooser_staff_and_audit_pages_are_translated(app, people):
    nina, boss = client_of(app, "nina"), client_of(app, "boss")
    chooser = nina.get("/desk/choose", headers=HEADERS)
    assert chooser.status_code == 200 and untranslated(chooser) == []
    for path in ("/g/main/admin/users", "/g/main/admin/audit", "/g/main/admin/audit?action=ticket.paid",
                 "/g/main/admin/audit?from=2026-13-01"):
        page = boss.get(path, headers=HEADERS)
        assert page.status_code in (200, 422), path
        assert escaped(main_of(page.get_data(as_text=True)), DATA) == [], path
    fragment = boss.get("/g/main/admin/audit?user=boss", headers={**HEADERS, **HTMX})
    assert untranslated(fragment) == []
    reset = boss.post("/g/main/admin/users/ann/reset-password", headers={**HEADERS, **HTMX,
                                                                        "X-CSRFToken": csrf_token(boss, "/g/main/admin/users")})
    assert reset.status_code == 200
    assert escaped(reset.get_data(as_text=True), DATA | {reset_password_of(reset)}) == []


def reset_password_of(response) -> str:
    return soup(response).select_one("[data-temp-password]").get_text(strip=True)


def test_the_operator_pages_are_translated(app, people):
    root = client_of(app, "root")
    for path in ("/garages", "/portfolio", "/portfolio?from=2026-12-01&to=2026-12-01"):
        page = root.get(path, headers=HEADERS)
        assert page.status_code == 200, path
        assert escaped(main_of(page.get_data(as_text=True)), DATA) == [], path
    live = root.get("/portfolio/live", headers={**HEADERS, **HTMX})
    assert untranslated(live) == []
    refused = root.post("/garages", headers={**HEADERS, **HTMX, "X-CSRFToken": csrf_token(root, "/garages")},
                        data={"slug": "Bad Slug", "name": "", "spaces": "x", "timezone": "Nowhere/Here"})
    assert refused.status_code == 422
    assert escaped(refused.get_data(as_text=True), DATA | {"Bad", "Slug", "Nowhere", "Here"}) == []


@pytest.mark.parametrize("state", [dict(total_spaces=10), dict(total_spaces=1, occupied=1), dict(total_spaces=10, occupied=9)])
def test_the_lobby_and_its_panel_are_translated_in_both_languages(app, people, state):
    set_settings(lobby_language="de", reserved_spaces=0, **state)
    client = app.test_client()
    page = client.get("/g/main/lobby", headers=HEADERS)
    assert page.status_code == 200 and untranslated(page, second_language=True) == []
    panel = client.get("/g/main/lobby/panel", headers={**HEADERS, **HTMX})
    assert panel.status_code == 200 and untranslated(panel, second_language=True) == []
    assert soup(panel).select("[data-second]")


# --- the lobby's two languages -----------------------------------------------------------------------

def said(html, selector: str) -> list[tuple[str, str]]:
    """(lang, text) of each language's words in the element."""
    return [(span["lang"], span.get_text(strip=True)) for span in soup_of(html).select(f"{selector} .say")]


def soup_of(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def test_the_lobby_says_its_words_in_the_second_language_too(app, people):
    set_settings(lobby_language="de", total_spaces=2, occupied=2)
    client = app.test_client()
    for response in (client.get("/g/main/lobby", headers=ENGLISH),
                     client.get("/g/main/lobby/panel", headers={**ENGLISH, **HTMX})):
        html = response.get_data(as_text=True)
        assert said(html, "#lobby-state") == [("en", "FULL"), ("de", "BESETZT")]
        assert said(html, ".free-label") == [("en", "free spaces"), ("de", "freie Plätze")]
        assert said(html, "#lobby-counts") == [("en", "2 of 2 spaces taken · 100% full"),
                                                ("de", "2 von 2 Plätzen belegt · 100 % belegt")]
        assert soup_of(html).select_one('#lobby-state .say[lang="de"]').has_attr("data-second")
        assert not soup_of(html).select_one('#lobby-state .say[lang="en"]').has_attr("data-second")
    page = soup(client.get("/g/main/lobby", headers=ENGLISH))
    assert page.html["lang"] == "en" and page.select_one("#lobby-live")["data-alternate-ms"] == "10000"


def test_a_lobby_without_a_second_language_says_it_once(app, people):
    set_settings(lobby_language="", total_spaces=2, occupied=2)
    html = app.test_client().get("/g/main/lobby/panel", headers={**ENGLISH, **HTMX}).get_data(as_text=True)
    assert said(html, "#lobby-state") == [("en", "FULL")]
    assert len(soup_of(html).select("[data-second]")) == 0
    set_settings(lobby_language="de", language="de")  # the same as the screen's: once
    html = app.test_client().get("/g/main/lobby/panel", headers={**ENGLISH, **HTMX}).get_data(as_text=True)
    assert said(html, "#lobby-state") == [("de", "BESETZT")]


def test_a_new_second_language_is_a_new_panel_not_a_304(app, people):
    client = app.test_client()
    first = client.get("/g/main/lobby/panel", headers={**ENGLISH, **HTMX})
    set_settings(lobby_language="de")
    again = client.get("/g/main/lobby/panel", headers={**ENGLISH, **HTMX, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200 and 'lang="de"' in again.get_data(as_text=True)


# --- German ----------------------------------------------------------------------------------------

def test_pages_in_german(app, people):
    boss, root, nina = client_of(app, "boss"), client_of(app, "root"), client_of(app, "nina")
    expected = {
        (boss, "/g/main/admin/users"): ["Abmelden", "Personal", "Protokoll", "Benutzername", "Konten", "Hinzufügen"],
        (boss, "/g/main/admin/audit"): ["Protokoll", "Alle Aktionen", "Einstellungen geändert", "Stellplätze gesamt",
                                        "Ausfahrt bezahlt", "Wann"],
        (boss, "/account"): ["Sprache und Formate", "Sprache des Parkhauses", "Speichern"],
        (boss, "/account/password"): ["Passwort ändern", "Aktuelles Passwort"],
        (root, "/garages"): ["Alle Parkhäuser", "Neues Parkhaus", "Zeitzone", "Parkhaus anlegen"],
        (root, "/portfolio"): ["Übersicht", "Jetzt", "Nach Parkhaus", "Umsatz", "Einfahrten"],
        (nina, "/desk/choose"): ["Parkhaus wählen", "Plätze frei"],
        (app.test_client(), "/login"): ["Anmelden", "Benutzername", "Passwort"],
        (app.test_client(), "/g/main/lobby"): ["FREI", "freie Plätze", "belegt"],
    }
    for (client, path), words in expected.items():
        html = client.get(path, headers=GERMAN).get_data(as_text=True)
        assert '<html lang="de">' in html, path
        for word in words:
            assert word in html, (path, word)
        for english in ("Sign out", "Audit log", "Username", "free spaces", "Back to the start"):
            assert english not in html, (path, english)
    missing = boss.get("/g/main/no-such-page", headers=GERMAN).get_data(as_text=True)
    assert "Seite nicht gefunden" in missing and "Zurück zum Anfang" in missing


def test_a_person_who_chose_german_reads_german_whatever_the_browser_says(app, people):
    boss = client_of(app, "boss")
    token = csrf_token(boss, "/account")
    saved = boss.post("/account", data={"csrf_token": token, "language": "de", "locale": "de_DE"}, headers=ENGLISH)
    assert saved.status_code == 303 and saved.headers["Location"].endswith("/account")
    after = boss.get("/account", headers=ENGLISH).get_data(as_text=True)
    assert "Ihre Sprache und Formate wurden gespeichert." in after and '<html lang="de">' in after
    assert soup_of(after).select_one('#language option[value="de"]').has_attr("selected")
    users = boss.get("/g/main/admin/users", headers=ENGLISH).get_data(as_text=True)
    assert "Abmelden" in users and "Sign out" not in users
    audit = boss.get("/g/main/admin/audit", headers=ENGLISH).get_data(as_text=True)
    assert "Sprache und Formate geändert" in audit
    # The format locale: dates and times as in Germany.
    assert re.search(r"\d{1,2}\. \w+\.? \d{4}, \d{2}:\d{2}:\d{2}", audit)
    # Back to the garage's: English for this browser again.
    boss.post("/account", data={"csrf_token": token, "language": "", "locale": ""}, headers=ENGLISH)
    assert "Sign out" in boss.get("/g/main/admin/users", headers=ENGLISH).get_data(as_text=True)


def test_a_german_garage_reads_german_to_an_english_browser_unless_the_person_chose_english(app, people):
    set_settings(language="de")
    boss, ann = client_of(app, "boss"), client_of(app, "ann")
    assert "Abmelden" in boss.get("/g/main/admin/users", headers=ENGLISH).get_data(as_text=True)
    lobby = app.test_client().get("/g/main/lobby", headers=ENGLISH).get_data(as_text=True)
    assert '<html lang="de">' in lobby and "Plätze" in lobby
    token = csrf_token(ann, "/account")
    assert ann.post("/account", data={"csrf_token": token, "language": "en", "locale": ""}).status_code == 303
    page = ann.get("/g/main/desk", headers=GERMAN).get_data(as_text=True)
    assert '<html lang="en">' in page and "Sign out" in page


def test_the_account_form_refuses_what_it_does_not_offer_and_changes_nothing(app, people):
    boss = client_of(app, "boss")
    token = csrf_token(boss, "/account")
    for data, field in (({"language": "fr", "locale": ""}, "language"), ({"language": "", "locale": "xx_YY"}, "locale")):
        refused = boss.post("/account", data={"csrf_token": token, **data})
        assert refused.status_code == 422
        assert soup(refused).select_one(f"#{field}-error").get_text(strip=True).startswith("Choose")
    user = db.session.scalar(db.select(User).where(User.username == "boss").execution_options(populate_existing=True))
    assert user.language is None and user.locale is None
    assert boss.post("/account", data={"csrf_token": token, "language": "de", "locale": ""}).status_code == 303
    events = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "user.preferences_changed")).all()
    assert [e.details for e in events] == [{"before": {"language": "", "locale": ""},
                                            "after": {"language": "de", "locale": ""}}]


@pytest.mark.parametrize("header, expected", [
    ("en-US,en;q=0.5,de;q=0.9", "en"),  # en-US first (q=1): English, though the exact "en" ranks below "de"
    ("de-CH,de;q=0.9,en;q=0.8", "de"),
    ("de-AT", "de"),
    ("fr-FR,fr;q=0.9,de;q=0.7,en;q=0.5", "de"),  # the first language we speak, by quality
    ("de;q=0.5,en;q=0.6", "en"),  # order in the header does not matter, the quality does
    ("en;q=0,de;q=0.1", "de"),  # q=0: not acceptable
    ("*", "en"), ("xx-YY", "en"), ("", "en"),  # nothing we speak: the default
    ("DE-de", "de"), ("en_GB", "en"),
])
def test_the_browser_language_is_read_by_quality_then_by_its_primary_language(client, header, expected):
    """Accept-Language as RFC 4647's lookup reads it: each tag by its quality, the tag, else its primary
    language (an outside check found "en-US,en;q=0.5,de;q=0.9" read German)."""
    page = soup(client.get("/login", headers={"Accept-Language": header}))
    assert page.html["lang"] == expected
