"""A PDF cut into the documents it holds, by page ranges: each part a PDF of its own."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pikepdf


def split_pdf(path: Path, ranges: Sequence[tuple[int, int]], folder: Path, stem: str) -> list[Path]:
    """Write `<stem>.p<first>-<last>.pdf` in `folder` for each (first, last) range of pages
    (from 1, inclusive); the parts in order. The pages are copied as they are (no re-encoding):
    together the parts hold every page of the original."""
    parts = []
    with pikepdf.open(path) as pdf:
        for first, last in ranges:
            out = folder / f"{stem}.p{first}-{last}.pdf"
            with pikepdf.new() as part:
                part.pages.extend(pdf.pages[first - 1 : last])
                part.save(out)
            parts.append(out)
    return parts
