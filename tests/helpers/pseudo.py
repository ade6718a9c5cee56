"""The pseudo-locale: every marked string of the app, translated to ⟦itself⟧, as a catalog the test
app speaks (language "eo", asked for with Accept-Language: eo). A page rendered in it shows every
translated word between ⟦ and ⟧; :func:`escaped` lists the words a person would read that are not:
strings that escaped translation (issue 22, docs/translating.md)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from babel import Locale
from babel.messages.pofile import read_po, write_po
from bs4 import BeautifulSoup, Comment

ROOT = Path(__file__).resolve().parents[2]
PSEUDO = "eo"
OPEN, CLOSE = "⟦", "⟧"
HEADERS = {"Accept-Language": PSEUDO}


def extract(directory: Path, locale: str | None = None):
    """Every marked string of the code (as `make translations` extracts them), as a catalog."""
    pot = directory / "messages.pot"
    subprocess.run([os.path.join(os.path.dirname(sys.executable), "pybabel"), "extract", "-F", "babel.cfg",
                    "-k", "_", "-k", "n_:1,2", "-k", "N_", "-k", "lazy_gettext", "--no-location",
                    "-o", str(pot), "."], cwd=ROOT, check=True, capture_output=True)
    with open(pot, "rb") as f:
        return read_po(f, locale=locale)


def build_catalog(directory: Path) -> str:
    """Extract every marked string and write the pseudo catalog: its path."""
    catalog = extract(directory, PSEUDO)
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, (list, tuple)):
            message.string = tuple(f"{OPEN}{form}{CLOSE}" for form in message.id)
        else:
            message.string = f"{OPEN}{message.id}{CLOSE}"
    po = directory / f"{PSEUDO}.po"
    with open(po, "wb") as f:
        write_po(f, catalog)
    return str(po)


_BRACKETED = re.compile(f"{OPEN}[^{OPEN}{CLOSE}]*{CLOSE}")
_TOKEN = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
VISIBLE_ATTRIBUTES = ("placeholder", "title", "aria-label", "alt")


def _calendar_words(locale: str = "en_US") -> set[str]:
    """Month and day names and AM/PM of the formatting locale: formats are the locale's, not words."""
    loc = Locale.parse(locale)
    found: set[str] = set()

    def walk(node) -> None:
        if hasattr(node, "values"):
            for child in node.values():
                walk(child)
        else:
            found.update(_TOKEN.findall(str(node)))

    for table in (loc.months, loc.days, loc.periods):
        walk(table)
    return found


CALENDAR = _calendar_words()


def _leftover(text: str) -> str:
    previous = None
    while previous != text:
        previous, text = text, _BRACKETED.sub(" ", text)
    return text


def escaped(html: str, data: set[str] = frozenset()) -> list[str]:
    """The words of `html` a person reads that were not translated: text and the visible attributes,
    minus the ⟦translated⟧ parts, minus data (`data`: names, plates and such the test put there;
    anything with a digit; month and day names; currency codes)."""
    soup = BeautifulSoup(html, "html.parser")
    for hidden in soup(["script", "style", "template"]):
        hidden.decompose()
    texts = [str(s) for s in soup.find_all(string=True) if not isinstance(s, Comment)]
    for tag in soup.find_all(True):
        texts.extend(tag.get(a, "") for a in VISIBLE_ATTRIBUTES if tag.get(a))
        if tag.name == "input" and tag.get("type") in ("submit", "button") and tag.get("value"):
            texts.append(tag["value"])
    words: list[str] = []
    allowed = set(data) | CALENDAR
    for text in texts:
        for token in _TOKEN.findall(_leftover(text)):
            if any(ch.isdigit() for ch in token) or token in allowed or len(token) == 1:
                continue
            if re.fullmatch(r"[A-Z]{3}", token):  # a currency code (USD, EUR)
                continue
            words.append(token)
    return words


def main_of(html: str) -> str:
    """The page's own content (its <main>), without the chrome every page shares (the top bar, the
    menu: base.html and _nav.html, checked on their own); a fragment as it is."""
    soup = BeautifulSoup(html, "html.parser")
    main = soup.find("main")
    return str(main) if main is not None else html
