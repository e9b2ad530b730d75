"""A deterministic, varied batch of samples in archive boxes, with a `truth.json` manifest."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.data.layout import layout_document
from tests.data.specs import DocumentSpec, load_specs
from tests.data.writers import (
    Sample,
    write_digital_pdf,
    write_jpeg,
    write_mixed_pdf,
    write_png,
    write_scanned_pdf,
    write_tiff,
)

TRUTH_FILE = "truth.json"
FILES_PER_BOX = 4


@dataclass(frozen=True)
class Recipe:
    """How one sample of the batch is made; `purpose` goes into README.md."""

    suffix: str
    purpose: str
    write: Callable[[Path, DocumentSpec, int], Sample]  # (path, spec, dpi) → Sample
    min_pages: int = 1  # the document must fill this many pages (mixed, per-page defects)


RECIPES: tuple[Recipe, ...] = (
    Recipe(
        ".pdf",
        "clean colour scan at the batch dpi, JPEG pages",
        lambda p, s, d: write_scanned_pdf(p, s, dpi=d, max_pages=2),
    ),
    Recipe(
        ".pdf",
        "born-digital PDF: the text layer must be used, not OCR",
        lambda p, s, d: write_digital_pdf(p, s, max_pages=2),
    ),
    Recipe(
        ".pdf",
        "mixed PDF: page 1 born-digital, page 2 a scan with a red seal",
        lambda p, s, d: write_mixed_pdf(p, s, scanned=(2,), dpi=d, max_pages=2, defects=("stamp",)),
        min_pages=2,
    ),
    Recipe(
        ".tif",
        "multi-page 1-bit CCITT G4 TIFF, as office scanners make",
        lambda p, s, d: write_tiff(p, s, dpi=d, max_pages=2, compression="group4"),
    ),
    Recipe(
        ".pdf",
        "grey rescan at 200 dpi (the archive minimum)",
        lambda p, s, d: write_scanned_pdf(p, s, dpi=d, max_pages=2, defects=("grey:200",)),
    ),
    Recipe(
        ".jpg",
        "grey JPEG with sensor noise and dust, 200 dpi",
        lambda p, s, d: write_jpeg(p, s, dpi=d, defects=("grey:200", "noise:0.06")),
    ),
    Recipe(
        ".png",
        "colour PNG skewed +2.5°, with a red seal over the signature",
        lambda p, s, d: write_png(p, s, dpi=d, defects=("stamp", "skew:2.5")),
    ),
    Recipe(
        ".pdf",
        "heavy JPEG compression (quality 40)",
        lambda p, s, d: write_scanned_pdf(p, s, dpi=d, max_pages=2, defects=("jpeg:40",)),
    ),
    Recipe(
        ".pdf",
        "page 1 fed sideways: turned 90° clockwise; page 2 upright",
        lambda p, s, d: write_scanned_pdf(p, s, dpi=d, max_pages=2, defects=("rotate:90@1",)),
        min_pages=2,
    ),
    Recipe(
        ".pdf",
        "skewed -3° with a red seal over the signature",
        lambda p, s, d: write_scanned_pdf(p, s, dpi=d, max_pages=2, defects=("stamp", "skew:-3")),
    ),
    Recipe(
        ".tif",
        "grey LZW TIFF of a photocopy at 200 dpi",
        lambda p, s, d: write_tiff(
            p, s, dpi=d, max_pages=2, compression="tiff_lzw", defects=("photocopy", "grey:200")
        ),
    ),
    Recipe(
        ".pdf",
        "slightly blurred grey scan, lossless PNG pages",
        lambda p, s, d: write_scanned_pdf(
            p, s, dpi=d, max_pages=1, image_format="png", defects=("blur:1.0", "grey:300")
        ),
    ),
)


def _assign_specs(recipes: list[Recipe], seed: int) -> list[DocumentSpec]:
    """One spec per recipe: the hand-written documents first, then the corpus shuffled by
    seed; a recipe that needs several pages takes the next document long enough for it."""
    specs = load_specs()
    corpus = [s for s in specs if s.source != "handwritten"]
    random.Random(seed).shuffle(corpus)
    pool = [s for s in specs if s.source == "handwritten"] + corpus
    pages = {s.key: len(layout_document(s, max_pages=2)) for s in pool}
    chosen: list[DocumentSpec] = []
    start = 0
    for recipe in recipes:
        for k in range(len(pool)):
            spec = pool[(start + k) % len(pool)]
            if pages[spec.key] >= recipe.min_pages:
                pool.append(pool.pop((start + k) % len(pool)))  # used: to the back
                chosen.append(spec)
                break
        else:
            raise ValueError(f"no document has {recipe.min_pages} pages")
    return chosen


def sample_path(out_dir: Path, index: int, suffix: str) -> Path:
    """`hop01/hop01_0001.pdf`: four files per archive box, numbered in the box."""
    box, pos = divmod(index, FILES_PER_BOX)
    name = f"hop{box + 1:02d}"
    return out_dir / name / f"{name}_{pos + 1:04d}{suffix}"


def write_sample_batch(
    out_dir: Path, count: int = 12, seed: int = 0, dpi: int = 300
) -> list[Sample]:
    """Write `count` samples mixing every kind and defect; write `truth.json`; return them."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    order = list(range(len(RECIPES)))
    if seed:
        random.Random(seed).shuffle(order)
    recipes = [RECIPES[order[i % len(RECIPES)]] for i in range(count)]
    samples = []
    for i, (recipe, spec) in enumerate(zip(recipes, _assign_specs(recipes, seed), strict=True)):
        samples.append(recipe.write(sample_path(out_dir, i, recipe.suffix), spec, dpi))
    manifest = {s.path.relative_to(out_dir).as_posix(): s.to_json(out_dir) for s in samples}
    (out_dir / TRUTH_FILE).write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    return samples


def read_truth(out_dir: Path) -> list[Sample]:
    """The samples described by `out_dir/truth.json`."""
    out_dir = Path(out_dir)
    data = json.loads((out_dir / TRUTH_FILE).read_text(encoding="utf-8"))
    return [Sample.from_json(entry, out_dir) for entry in data.values()]
