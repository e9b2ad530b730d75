"""Long PDFs for the tests: a dossier scanned as one file is several documents end to end."""

from __future__ import annotations

from pathlib import Path

import pikepdf

from tests.data.samples import get_spec, write_digital_pdf, write_scanned_pdf

SPECS = ["vbpl-000082", "kh-251-ubnd", "vbpl-000001", "cv-12-ubnd-vx", "vbpl-000056", "tb-45-pnv"]


def long_pdf(out: Path, pages: int, *, scanned: bool) -> Path:
    """A PDF of exactly `pages` pages, made by joining generated documents."""
    writer = write_scanned_pdf if scanned else write_digital_pdf
    work = out.parent / f".{out.stem}-parts"
    merged = pikepdf.new()
    index = 0
    while len(merged.pages) < pages:
        part = writer(work / f"{index}.pdf", get_spec(SPECS[index % len(SPECS)]))
        with pikepdf.open(part.path) as src:
            for page in src.pages[: pages - len(merged.pages)]:
                merged.pages.append(page)
        index += 1
    merged.save(out)
    return out
