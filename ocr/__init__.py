"""Page extraction: file sniffing, PDF text layers, rasterizing, Tesseract, searchable PDFs.

A pure library: no database, no queue, no HTTP.
"""

from ocr.errors import ExtractionError
from ocr.extract import PageResult, extract_page
from ocr.hocr import HocrPage, parse_hocr
from ocr.searchable import build_searchable_pdf
from ocr.sniff import SNIFF_BYTES, SUPPORTED, sniff, sniff_or_none
from ocr.sources import DocumentSource, normalize_text, open_source

__all__ = [
    "SNIFF_BYTES",
    "SUPPORTED",
    "DocumentSource",
    "ExtractionError",
    "HocrPage",
    "PageResult",
    "build_searchable_pdf",
    "extract_page",
    "normalize_text",
    "open_source",
    "parse_hocr",
    "sniff",
    "sniff_or_none",
]
