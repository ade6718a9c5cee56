"""A garage whose prices exclude tax (issue 22): the tax is added on top of the fee, the quote is the
charge, the receipt splits net and tax, and a paid ticket keeps how it was taxed — both databases,
through the API and the desk."""
from __future__ import annotations

from garage.extensions import db
from garage.services.settings import get_settings
from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN
from tests.helpers.api import issue, pay
from tests.helpers.db import backdate


def _tax(added: bool, rate_bp: int = 1900, legal_name: str = "") -> None:
    row = get_settings(MAIN)
    row.tax_rate_bp, row.tax_added, row.legal_name = rate_bp, added, legal_name
    db.session.commit()


def test_tax_added_is_charged_on_top_and_the_quote_is_the_charge(client, staff):
    _tax(added=True)
    number = issue(client, staff, "TAX 1")
    backdate(number, minutes=90)  # two started hours at $10: $20 net
    quoted = client.get(f"/api/tickets/{number}/quote", headers=staff)
    assert quoted.status_code == 200
    paid = pay(client, staff, number, expectedAmount=2380)
    assert paid.status_code == 200, paid.get_json()
    assert paid.get_json()["amountPaid"] == 2380  # $20.00 + 19 % = $23.80


def test_prices_including_tax_are_unchanged(client, staff):
    _tax(added=False)
    number = issue(client, staff, "TAX 2")
    backdate(number, minutes=90)
    assert pay(client, staff, number, expectedAmount=2000).get_json()["amountPaid"] == 2000


def test_a_receipt_shows_net_and_tax_as_charged_even_after_the_setting_changes(desk):
    _tax(added=True, legal_name="Parkhaus Mitte GmbH")
    number = desk.issue("TAX3")
    backdate(number, minutes=30)
    page = desk.pay(number, expected=1190)
    assert page.status_code == 303
    html = desk.client.get(page.headers["Location"]).get_data(as_text=True)
    assert "Net $10.00 + VAT 19 %: $1.90" in html
    assert "Parkhaus Mitte GmbH" in html
    _tax(added=False, rate_bp=700, legal_name="Parkhaus Mitte GmbH")  # a later tax change rewrites no receipt
    slip = desk.client.get(desk.url(f"/desk/tickets/{number}/receipt")).get_data(as_text=True)
    assert "Net $10.00 + VAT 19 %: $1.90" in slip and "Parkhaus Mitte GmbH" in slip
