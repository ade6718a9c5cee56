"""Scannable codes for printed tickets, drawn server-side as SVG (no JS)."""
from __future__ import annotations

import segno
from markupsafe import Markup


def qr_svg(text: str) -> Markup:
    """Inline SVG QR code of ``text``; scales to its container (viewBox, no size)."""
    code = segno.make(text, error="m", micro=False)
    # segno builds the markup from the encoded modules only; the text itself never appears in it.
    return Markup(code.svg_inline(scale=1, border=2, omitsize=True, svgclass="qr",
                                  title=None, dark="#000", light="#fff"))
