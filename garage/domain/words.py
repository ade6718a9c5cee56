"""Words people read, marked for translation where they are written. Pure Python: no Flask.

The domain and the services word their messages in English with :func:`_` (and :func:`n_` where a
number decides the form): ``_("Ticket %(number)s is already paid", number=n)``. The result is a
:class:`Text`: a ``str`` holding the English (so logs, the API's ``message``, comparisons and tests
read English) that also remembers its message id and values. Shown on a page it is translated into
the reader's language: Jinja calls ``__html__`` (escaped, values translated too), and
:meth:`Text.translated` gives the plain translated string (for a flash message, which is stored
before it is shown). The translator is installed by the app (``garage.i18n.install``); without one
(a script, a unit test) the English is the text.

``pybabel extract`` finds the messages by these names (``babel.cfg``; ``make translations``)."""
from __future__ import annotations

from typing import Any, Callable, Iterable

from markupsafe import escape

# (msgid, plural or None, n or None) → the translated format string; set by garage.i18n.install.
_translator: Callable[[str, str | None, int | None], str] | None = None


def set_translator(translator: Callable[[str, str | None, int | None], str] | None) -> None:
    global _translator
    _translator = translator


def _fill(template: str, params: dict[str, Any], translate: bool) -> str:
    if not params:
        return template
    values = {k: (v.translated() if translate and isinstance(v, Text) else v) for k, v in params.items()}
    return template % values


class Text(str):
    """English text that a page shows in the reader's language (see the module's docstring)."""

    msgid: str
    plural: str | None
    n: int | None
    params: dict[str, Any]

    def __new__(cls, msgid: str, plural: str | None = None, n: int | None = None, **params: Any) -> "Text":
        english = plural if plural is not None and n != 1 else msgid
        if plural is not None:
            params.setdefault("num", n)
        self = super().__new__(cls, _fill(english, params, translate=False))
        self.msgid, self.plural, self.n, self.params = msgid, plural, n, params
        return self

    def translated(self) -> str:
        """The text in the reader's language (English where nothing is installed or translated)."""
        if _translator is None:
            return str.__str__(self)
        return _fill(_translator(self.msgid, self.plural, self.n), self.params, translate=True)

    def __html__(self) -> str:
        if _translator is None:
            return str(escape(str.__str__(self)))
        values = {k: (v.translated() if isinstance(v, Text) else v) for k, v in self.params.items()}
        template = _translator(self.msgid, self.plural, self.n)
        # The template escaped too (a translation may hold "<" or "&"), then filled: Markup's % escapes
        # each value and keeps numbers numbers (a %(num)d needs the number).
        return str(escape(template) % values) if values else str(escape(template))

    def __reduce__(self):  # pickled (a cache, a session): the English, as a plain str
        return (str, (str.__str__(self),))


def _(msgid: str, **params: Any) -> Text:
    """A message in English, translated where it is shown: ``_("Garage is full")``,
    ``_("Ticket %(number)s not found", number=n)`` (named placeholders only)."""
    return Text(msgid, **params)


def n_(singular: str, plural: str, n: int, **params: Any) -> Text:
    """A message whose form depends on a number: ``n_("%(num)d car", "%(num)d cars", n)``."""
    return Text(singular, plural, n, **params)


def N_(msgid: str) -> str:
    """Marks a constant for extraction without translating it here (a label in a table of the
    domain); the page translates it with ``_(label)`` when it shows it."""
    return msgid


class Listed(Text):
    """Messages told together, each in the reader's language: "a; b" (not a sentence built of
    pieces: a list of separate messages, each marked on its own)."""

    def __new__(cls, parts: Iterable[str], sep: str = "; ") -> "Listed":
        parts = list(parts)
        self = str.__new__(cls, sep.join(str.__str__(p) for p in parts))
        self.msgid, self.plural, self.n, self.params = str.__str__(self), None, None, {}
        self.parts, self.sep = parts, sep
        return self

    def translated(self) -> str:
        return self.sep.join(p.translated() if isinstance(p, Text) else str.__str__(p) for p in self.parts)

    def __html__(self) -> str:
        return str(escape(self.sep)).join(p.__html__() if isinstance(p, Text) else str(escape(p))
                                          for p in self.parts)


def listed(parts: Iterable[str], sep: str = "; ") -> Listed:
    """`parts` (Text messages, or data) joined by `sep`, translated part by part where shown."""
    return Listed(parts, sep)
