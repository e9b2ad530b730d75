"""The top of every page of a file, as text: what tells where a new document begins.

A page with a text layer of its own gives it directly; a scanned page is rendered at a low
resolution and only its top part is read by Tesseract (the header sits there): a few tenths
of a second per page, not a full page's OCR.
"""

from __future__ import annotations

from ocr.sources import DocumentSource
from ocr.tesseract import recognize

#: the share of the page's height read (the header table and the title)
TOP_SHARE = 0.42
TOP_DPI = 150
#: a text layer with fewer visible characters than this is a scan's, not the page's own
_OWN_TEXT = 40


def page_top(source: DocumentSource, number: int, *, lang: str, dpi: int = TOP_DPI) -> str:
    layer = source.text_layer(number)
    if layer is not None and layer.char_count >= _OWN_TEXT and layer.invisible < 0.5:
        return layer.text
    image = source.render(number, dpi).image
    top = image.crop((0, 0, image.width, round(image.height * TOP_SHARE)))
    return recognize(top, lang=lang, dpi=dpi).text


def page_tops(source: DocumentSource, *, lang: str) -> list[str]:
    """The top text of every page, in order."""
    return [page_top(source, n, lang=lang) for n in range(1, source.page_count + 1)]
