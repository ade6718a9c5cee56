"""Printing from the desk (issue 15) through the Flask test client, on SQLite and PostgreSQL: the
print links stay plain links to the print pages (no new tab), the print pages may be framed by the
desk itself and by nobody else, and only the answer to an entry marks its card for auto-print.
The printing itself runs in Chromium: tests/browser/test_desk_layout.py."""
from __future__ import annotations

from tests.helpers.staff import quoted_amount
from tests.helpers.web import soup, text
from tests.web.test_security import csp


def pay(desk, number: str) -> None:
    r = desk.pay(number, "Cash", quoted_amount(soup(desk.lookup(number))))
    assert r.status_code == 303, r.get_data(as_text=True)


def test_print_links_open_the_print_page_in_the_same_tab_and_the_script_prints_them_on_the_desk(desk):
    number = desk.issue("LINK 1")
    page = soup(desk.client.get(f"/g/main/desk/tickets/{number}"))
    link = page.select_one("#entry .ticket-card a")
    assert text(link) == "Print ticket" and link["href"] == f"/g/main/desk/tickets/{number}/print?auto=1"
    assert link.has_attr("data-print-frame") and not link.has_attr("target")  # no tab piles up
    assert page.select_one('script[src^="/static/js/desk-print.js?v="]') is not None
    toggle = page.select_one("#entry label.autoprint")
    assert toggle.has_attr("hidden") and "Print every ticket automatically" in text(toggle)  # shown by the script

    pay(desk, number)
    receipt = soup(desk.client.get(f"/g/main/desk/tickets/{number}/paid")).select_one("#exit .receipt-card a")
    assert text(receipt) == "Print receipt" and receipt["href"] == f"/g/main/desk/tickets/{number}/receipt?auto=1"
    assert receipt.has_attr("data-print-frame") and not receipt.has_attr("target")


def test_only_the_answer_to_an_entry_marks_its_ticket_for_automatic_printing(desk):
    r = desk.enter("AUTO 1", htmx=True)
    card = soup(r).select_one("#entry .ticket-card")
    assert card.has_attr("data-issued-now")
    number = text(card.select_one("[data-ticket-number]"))
    again = soup(desk.client.get(f"/g/main/desk/tickets/{number}")).select_one("#entry .ticket-card")
    assert not again.has_attr("data-issued-now")  # showing it again never prints it again


def test_the_print_pages_can_be_framed_by_the_desk_only(desk):
    number = desk.issue("FRAME 1")
    pay(desk, number)
    for path in (f"/g/main/desk/tickets/{number}/print?auto=1", f"/g/main/desk/tickets/{number}/receipt?auto=1"):
        r = desk.client.get(path)
        assert r.status_code == 200, path
        assert csp(r)["frame-ancestors"] == "'self'" and r.headers["X-Frame-Options"] == "SAMEORIGIN", path
        assert soup(r).find("a", string="Back to the desk")["href"] == "/g/main/desk"  # opened on its own
    for path in ("/g/main/desk", f"/g/main/desk/tickets/{number}", "/g/main/desk/live"):
        r = desk.client.get(path)
        assert csp(r)["frame-ancestors"] == "'none'" and r.headers["X-Frame-Options"] == "DENY", path
