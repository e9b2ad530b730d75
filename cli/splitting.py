"""`sohoa digitize --split`: a PDF holding a whole dossier cut into its documents before they
are stored, each document its own record (in review, for a person to check the cut)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from rich.console import Console

from classify.boundaries import document_starts, page_ranges
from cli.inputs import InputFile
from ocr.page_tops import page_tops
from ocr.sniff import PDF, sniff_or_none
from ocr.sources import open_source
from ocr.split import split_pdf


def split_inputs(
    inputs: list[InputFile], folder: Path, *, lang: str, console: Console
) -> tuple[list[InputFile], dict[str, str]]:
    """The inputs with every PDF of several documents replaced by its parts, in order, and
    for each part what it was cut from (`pages 3–5 of hop-12.pdf`). A file that cannot be
    read this way is left whole: digitizing it reports why."""
    out: list[InputFile] = []
    cut_from: dict[str, str] = {}
    for item in inputs:
        parts = _parts(item, folder, lang)
        if parts is None:
            out.append(item)
            continue
        console.print(f"{item.shown}: {len(parts)} văn bản / documents")
        for part, (first, last) in parts:
            shown = str(Path(item.shown).with_name(part.name))
            out.append(InputFile(part, shown, item.folder))
            cut_from[shown] = f"pages {first}–{last} of {item.shown}"
    return out, cut_from


def _parts(item: InputFile, folder: Path, lang: str) -> list[tuple[Path, tuple[int, int]]] | None:
    try:
        with item.path.open("rb") as f:
            if sniff_or_none(f.read(1024)) != PDF:
                return None
        with open_source(item.path, PDF, max_pages=2000, max_pixels=10**9) as source:
            if source.page_count < 2:
                return None
            ranges = page_ranges(document_starts(page_tops(source, lang=lang)), source.page_count)
    except Exception:  # damaged, encrypted…: stored whole, and failing with its own code
        return None
    if len(ranges) < 2:
        return None
    stem = Path(item.shown).stem
    sub = Path(tempfile.mkdtemp(dir=folder))  # parts of two files may share a name
    return list(zip(split_pdf(item.path, ranges, sub, stem), ranges, strict=True))
