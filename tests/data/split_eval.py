"""How well a dossier scanned as one PDF is cut into its documents: boundary precision,
recall and F1 on generated dossiers of 2–15 documents (1–3 pages each) with degraded scans.

    python -m tests.data.split_eval [--dossiers 8] [--seed 1] [--work DIR]

A boundary is a page where a new document begins (page 1 is not counted: it always does).
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pikepdf

from classify.boundaries import document_starts
from ocr.page_tops import page_tops
from ocr.sources import open_source
from tests.data.classify_eval import all_specs
from tests.data.writers import write_scanned_pdf

#: how a scan of an archive's box is degraded, one of these per document
CONDITIONS = (
    (),
    ("skew:2",),
    ("skew:-3", "noise:0.06"),
    ("grey:200", "noise:0.05"),
    ("blur:1.0", "jpeg:45"),
    ("photocopy",),
    ("stamp", "skew:1.5"),
)


@dataclass(frozen=True)
class GeneratedDossier:
    path: Path
    starts: list[int]  # first page of each document
    pages: int


def make_dossier(folder: Path, index: int, rng: random.Random) -> GeneratedDossier:
    specs = all_specs(generated=200)
    count = rng.randint(2, 15)
    chosen = rng.sample(specs, count)
    starts, merged = [], pikepdf.new()
    for k, spec in enumerate(chosen):
        part = folder / f"d{index}-{k}.pdf"
        write_scanned_pdf(
            part, spec, dpi=200, max_pages=rng.randint(1, 3),
            defects=rng.choice(CONDITIONS), seed=rng.randint(0, 10**6), quality=70,
        )  # fmt: skip
        with pikepdf.open(part) as pdf:
            starts.append(len(merged.pages) + 1)
            merged.pages.extend(pdf.pages)
        part.unlink()
    path = folder / f"ho-so-{index}.pdf"
    merged.save(path)
    pages = len(merged.pages)
    merged.close()
    return GeneratedDossier(path, starts, pages)


def real_dossier(folder: Path, docs: Path) -> GeneratedDossier:
    """The real documents of `docs` (../shared/real) one after another, as one scanned box."""
    starts, merged = [], pikepdf.new()
    for path in sorted(docs.glob("*.pdf")):
        with pikepdf.open(path) as pdf:
            starts.append(len(merged.pages) + 1)
            merged.pages.extend(pdf.pages)
    out = folder / "real-dossier.pdf"
    merged.save(out)
    pages = len(merged.pages)
    merged.close()
    return GeneratedDossier(out, starts, pages)


def evaluate(dossiers: list[GeneratedDossier], lang: str = "vie") -> dict[str, float]:
    tp = fp = fn = 0
    pages = 0
    started = time.monotonic()
    for dossier in dossiers:
        with open_source(dossier.path, "application/pdf", max_pages=500, max_pixels=10**9) as src:
            found = {s.page for s in document_starts(page_tops(src, lang=lang))} - {1}
        truth = set(dossier.starts) - {1}
        tp += len(found & truth)
        fp += len(found - truth)
        fn += len(truth - found)
        pages += dossier.pages
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "dossiers": len(dossiers),
        "documents": sum(len(d.starts) for d in dossiers),
        "pages": pages,
        "boundaries": tp + fn,
        "precision": round(precision, 3),
        "recall": round(recall, 3),
        "f1": round(f1, 3),
        "seconds_per_page": round((time.monotonic() - started) / max(1, pages), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", type=Path)
    parser.add_argument("--real", type=Path, help="a folder of real PDFs, joined as one dossier")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="sohoa-split-") as tmp:
        folder = args.work or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        if args.real is not None:
            dossiers = [real_dossier(folder, args.real)]
        else:
            dossiers = [make_dossier(folder, i, rng) for i in range(args.dossiers)]
        print(json.dumps(evaluate(dossiers), indent=2))


if __name__ == "__main__":
    main()
