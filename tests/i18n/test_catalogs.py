"""The German catalog is complete and sound (issue 22): every string the code marks has a German
translation, with the same placeholders (a translation that drops or renames one would fail at
the moment a page shows it), and nothing untranslated hides behind a fuzzy flag."""
from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po

from garage.domain.locales import LANGUAGES
from tests.helpers.pseudo import ROOT, extract


def _catalog(lang: str):
    with open(ROOT / "translations" / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=lang)


def test_every_marked_string_has_a_translation_in_every_language(tmp_path: Path):
    marked = extract(tmp_path)
    for lang in LANGUAGES:
        if lang == "en":
            continue
        catalog = _catalog(lang)
        missing = []
        for message in marked:
            if not message.id:
                continue
            found = catalog.get(message.id, message.context)
            strings = found.string if found is not None and isinstance(found.string, tuple) else (
                (found.string,) if found is not None else ("",))
            if found is None or not all(strings) or found.fuzzy:
                missing.append(message.id if isinstance(message.id, str) else message.id[0])
        assert missing == [], f"{len(missing)} strings without a {lang} translation (make translations): {missing[:20]}"


def test_translations_keep_their_placeholders():
    for lang in LANGUAGES:
        if lang == "en":
            continue
        problems = [(message.id, [str(e) for e in errors]) for message, errors in _catalog(lang).check()]
        assert problems == []
