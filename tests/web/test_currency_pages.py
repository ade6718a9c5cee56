"""A garage outside the US on its pages (issue 22), on SQLite and PostgreSQL: a EUR garage writing
de_DE and a JPY garage writing ja_JP show the desk's quote, the receipt and the shift's count in their
currency; the settings page takes amounts the locale's way ("12,50" in de_DE is 1250 cents) and the
currency, formats and languages; the currency is fixed once a payment is recorded; CSV files keep a
dot decimal and name the currency."""
from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa

from garage.extensions import db
from garage.models import Garage
from tests.helpers.db import set_settings
from tests.helpers.web import HTMX, csrf_token, soup, text

EUR = dict(currency="EUR", locale="de_DE", hourly_rate=1000)
JPY = dict(currency="JPY", locale="ja_JP", hourly_rate=1000)


@pytest.mark.parametrize("garage, fee", [(EUR, "10,00 €"), (JPY, "￥1,000")])  # text(): no-break spaces read as spaces
def test_the_desk_quote_and_the_receipt_show_the_garage_s_currency(desk, garage, fee):
    set_settings(**garage)
    number = desk.issue("CUR 1")
    quote = desk.lookup(number)
    assert quote.status_code == 200 and fee in text(soup(quote))
    assert desk.quote(number) == 1000  # the form carries minor units
    assert desk.pay(number, expected=1000).status_code in (200, 303)
    receipt = desk.client.get(desk.url(f"/desk/tickets/{number}/receipt"))
    assert receipt.status_code == 200 and fee in text(soup(receipt))
    assert "$" not in text(soup(receipt))


@pytest.mark.parametrize("garage, labels, total", [
    (EUR, ["500\xa0€", "0,01\xa0€"], "0,00\xa0€"), (JPY, ["￥10,000", "￥1"], "￥0"),
])
def test_the_shift_counts_the_garage_s_notes_and_coins(desk, garage, labels, total):
    set_settings(**garage)
    page = soup(desk.client.get(desk.url("/desk/shift")))
    assert page.select_one("label[for=float]").get_text().strip().endswith(
        "(€)" if garage is EUR else "(￥)")
    opened = desk.client.post(desk.url("/desk/shift"), data={"float": "100", "csrf_token": desk.token})
    assert opened.status_code in (200, 303), opened.get_data(as_text=True)[:500]
    page = soup(desk.client.get(desk.url("/desk/shift")))
    names = [label.get_text() for label in page.select(".pieces-grid label")]
    assert names[0] == labels[0] and names[-1] == labels[-1]
    out = page.select_one("[data-pieces-total]")
    assert out.get_text() == total and out["data-currency"] == garage["currency"]
    assert out["data-locale"] == garage["locale"].replace("_", "-")


def _settings_form(client) -> dict[str, str]:
    page = soup(client.get("/g/main/settings"))
    form = {i["name"]: i.get("value", "") for i in page.select("#settings-form input[name]")
            if i.get("type") != "checkbox" or i.has_attr("checked")}
    for select in page.select("#settings-form select"):
        chosen = select.select_one("option[selected]") or select.select_one("option")
        form[select["name"]] = chosen["value"]
    form.update({t["name"]: t.get_text() for t in page.select("#settings-form textarea")})
    for radio in page.select("#settings-form input[type=radio][checked]"):
        form[radio["name"]] = radio["value"]
    return form


def test_a_settings_amount_is_typed_the_locale_s_way(manager_client):
    set_settings(**EUR)
    form = _settings_form(manager_client)
    assert form["hourly_rate"] == "10,00" and form["currency"] == "EUR" and form["locale"] == "de_DE"
    page = soup(manager_client.get("/g/main/settings"))
    assert page.select_one("#hourly_rate").find_previous("span", class_="prefix").get_text() == "€"
    r = manager_client.post("/g/main/settings", data={**form, "hourly_rate": "12,50", "daily_max": "1.234,50"})
    assert r.status_code == 303, text(soup(r))[:500]
    row = db.session.scalar(sa.select(Garage).execution_options(populate_existing=True))
    assert (row.hourly_rate, row.daily_max_cents) == (1250, 123450)
    refused = manager_client.post("/g/main/settings", data={**form, "hourly_rate": "12,505"})
    assert refused.status_code == 422
    assert "Enter an amount in EUR, e.g. 10 or 10,50" in text(soup(refused))


def test_the_international_settings_are_saved_from_the_page(manager_client):
    form = _settings_form(manager_client)
    assert form["currency"] == "USD" and form["language"] == "" and form["lobby_language"] == ""
    r = manager_client.post("/g/main/settings", data={**form, "currency": "jpy", "locale": "ja_JP", "language": "de",
                                                      "lobby_language": "en", "legal_name": "Parkhaus GmbH",
                                                      "tax_added": "1", "hourly_rate": "500"})
    assert r.status_code == 303, text(soup(r))[:500]
    row = db.session.scalar(sa.select(Garage).execution_options(populate_existing=True))
    assert (row.currency, row.locale, row.language, row.lobby_language, row.legal_name, row.tax_added,
            row.hourly_rate) == ("JPY", "ja_JP", "de", "en", "Parkhaus GmbH", True, 500)


@pytest.mark.parametrize("field, value, words", [
    ("currency", "EURO", "ISO 4217"), ("currency", "ABC", "ISO 4217"), ("locale", "xx_YY", "locale"),
    ("language", "fr", "language"), ("lobby_language", "xx", "second language"),
])
def test_bad_international_settings_are_refused_on_the_page(manager_client, field, value, words):
    form = _settings_form(manager_client)
    r = manager_client.post("/g/main/settings", data={**form, field: value}, headers=HTMX)
    assert r.status_code == 422 and words in soup(r).select_one(f"#{field}-error").get_text()
    assert db.session.scalar(sa.select(Garage.currency)) == "USD"


def test_the_currency_is_fixed_once_a_payment_is_recorded(desk, make_user):
    number = desk.issue("CUR 2")
    assert desk.pay(number, expected=1000).status_code in (200, 303)
    desk.sign_out()
    desk.sign_in("boss", "manager")
    form = _settings_form(desk.client)
    page = soup(desk.client.get("/g/main/settings"))
    assert page.select_one("#currency").has_attr("readonly")
    r = desk.client.post("/g/main/settings", data={**form, "currency": "EUR"}, headers=HTMX)
    assert r.status_code == 409 and "USD" in soup(r).select_one("#currency-error").get_text()
    assert db.session.scalar(sa.select(Garage.currency)) == "USD"
    # A currency of other decimals (BHD: 3; lower case too): the amounts are still read as the garage's, so
    # the one thing said is the currency's (the $10.00 rate read as 10.000 BHD... was told a range it is in).
    for other in ("BHD", "jpy", "bhd"):
        r = desk.client.post("/g/main/settings", data={**form, "currency": other}, headers=HTMX)
        page = soup(r)
        assert r.status_code == 409 and "USD" in page.select_one("#currency-error").get_text(), other
        assert [e.get("id") for e in page.select(".error[id]")] == ["currency-error"], other
    assert db.session.scalar(sa.select(Garage.currency)) == "USD"


def test_csv_files_keep_a_dot_decimal_and_name_the_currency(desk):
    set_settings(currency="EUR", locale="de_DE", hourly_rate=1250)
    number = desk.issue("CUR 3")
    assert desk.pay(number, expected=1250).status_code in (200, 303)
    desk.sign_out()
    desk.sign_in("boss", "manager")
    r = desk.client.get("/g/main/reports/export/tickets.csv")
    assert r.status_code == 200
    head, *rows = list(csv.reader(io.StringIO(r.get_data(as_text=True))))
    col = {name: i for i, name in enumerate(head)}
    # the money columns are named after the currency their values are in (they said "_usd" over euros)
    assert "amount_usd" not in col and "refunded_eur" in col
    assert head[-1] == "currency" and rows[0][col["amount_eur"]] == "12.50" and rows[0][-1] == "EUR"
    set_settings(currency="JPY")  # (directly: the page would refuse it now)
    r = desk.client.get("/g/main/reports/export/tickets.csv")
    head, *rows = list(csv.reader(io.StringIO(r.get_data(as_text=True))))
    col = {name: i for i, name in enumerate(head)}
    assert rows[0][col["amount_jpy"]] == "1250" and rows[0][-1] == "JPY"
    r = desk.client.get("/g/main/reports/export/rows.csv")
    head = next(csv.reader(io.StringIO(r.get_data(as_text=True))))
    assert [h for h in head if h.endswith("_jpy")] == ["revenue_jpy", "lost_fees_jpy", "refunds_jpy"]
