"""What the driver takes away reads in the garage's language (issue 22): an attendant who reads the
desk in English at a German garage still prints the ticket and the receipt in German, with the
garage's formats."""
from __future__ import annotations

from garage.extensions import db
from garage.models import User
from garage.services.settings import get_settings
from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN
from tests.helpers.db import backdate


def test_an_english_attendant_prints_the_drivers_slips_in_the_garages_language(desk):
    row = get_settings(MAIN)
    row.language, row.locale = "de", "de_DE"
    db.session.execute(db.update(User).where(User.username == "ann").values(language="en"))
    db.session.commit()
    number = desk.issue("SLIP1")
    assert "Issue ticket" in desk.client.get(desk.url("/desk")).get_data(as_text=True)  # her own screen
    ticket = desk.client.get(desk.url(f"/desk/tickets/{number}/print")).get_data(as_text=True)
    assert "Parkticket" in ticket and "Parking ticket" not in ticket
    backdate(number, minutes=30)
    desk.pay(number, expected=1000)
    slip = desk.client.get(desk.url(f"/desk/tickets/{number}/receipt")).get_data(as_text=True)
    assert "Bezahlt gesamt" in slip and "Gute Fahrt" in slip
    assert "Total paid" not in slip and "Thank you" not in slip
    assert "Issue ticket" in desk.client.get(desk.url("/desk")).get_data(as_text=True)  # and back to English
