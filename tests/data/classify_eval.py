"""Measure `classify` against the generator's truth: clean text, PDF text, OCR of scans.

    python -m tests.data.classify_eval truth truth-boxes pdf ocr ocr-text degraded --jobs 2

Sets (each over the hand-written, corpus and generated documents):

| set | pages given to classify |
|---|---|
| `truth` | the lines as drawn (`RenderedPage.text`), no boxes |
| `truth-boxes` | the same with word boxes in points, as a PDF's characters give them |
| `pdf`, `pdf-boxes` | a born-digital PDF's text layer (pdfplumber), without / with boxes |
| `ocr`, `ocr-text` | OCR of a clean 300 dpi scan, with / without its hOCR word boxes |
| `degraded`, `degraded-text` | the same on scans with defects (`DEGRADED`, one recipe each) |

OCR is Tesseract 5 `vie` on the scan as it is (`--engine tesseract`, the default) or the
pipeline's `ocr.extract.ocr_page` (`--engine pipeline`: orientation, deskew, colour dropout of
the seal, then Tesseract). Its output is cached under `$SOHOA_CLASSIFY_CACHE` (default: the
system temp folder), keyed by document, defects and engine, so a second run takes seconds.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import tempfile
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from multiprocessing import Pool
from pathlib import Path

from rapidfuzz.distance import Levenshtein

from classify import Classification, PageInput, WordBox, classify, name_key
from classify.text import modern_tones
from tests.data.layout import ASCENT, DESCENT, PAGE_H, PAGE_W, layout_document
from tests.data.more_specs import expected, more_specs
from tests.data.specs import DocumentSpec, load_specs
from tests.data.typeset import text_width

DEGRADED: tuple[tuple[str, ...], ...] = (
    ("grey:200", "noise:0.06"),
    ("stamp", "jpeg:40"),
    ("photocopy", "grey:200"),
    ("blur:1.0", "grey:300"),
    ("stamp", "skew:1.0", "grey:200"),
    ("stamp", "grey:200", "jpeg:50"),
)
FIELDS = (
    "type", "number", "issued_on", "place", "issuer", "subject", "signer", "signer_title",
    "secrecy", "urgency", "unit",
)  # fmt: skip
SETS = ("truth", "truth-boxes", "pdf", "pdf-boxes", "ocr", "ocr-text", "degraded", "degraded-text")


def all_specs(generated: int = 120) -> list[DocumentSpec]:
    """The documents measured: hand-written, corpus, then `generated` random ones."""
    return [*load_specs(), *more_specs(generated)]


def truth_pages(spec: DocumentSpec, boxes: bool) -> list[PageInput]:
    """The drawn lines of each page; with `boxes`, word boxes in points (no line ids)."""
    pages = []
    for layout in layout_document(spec):
        words: list[WordBox] | None = None
        if boxes:
            words = []
            for block in layout.blocks:
                for line in block:
                    top, bottom = (
                        line.baseline - ASCENT * line.size,
                        line.baseline + DESCENT * line.size,
                    )
                    for x, word in line.word_positions():
                        width = text_width(word, line.style, line.size)
                        words.append(WordBox(word, x, top, x + width, bottom))
        pages.append(PageInput(layout.number, layout.text, words, PAGE_W, PAGE_H))
    return pages


def _cache_dir() -> Path:
    root = Path(os.environ.get("SOHOA_CLASSIFY_CACHE", Path(tempfile.gettempdir())))
    path = root / "sohoa-classify-ocr"
    path.mkdir(parents=True, exist_ok=True)
    return path


ENGINES = ("tesseract", "pipeline")


def _ocr_job(args: tuple[DocumentSpec, tuple[str, ...], str]) -> list[tuple[int, str, str]]:
    """OCR every page of a spec scanned with `defects`; (page, text, hocr), cached.

    `tesseract`: Tesseract 5 (`vie`, psm 3) on the page as scanned, as `ocr.tesseract` runs
    it. `pipeline`: the pipeline's own `ocr.extract.ocr_page` (orientation, deskew, colour
    dropout of the seal and the signature, then Tesseract), i.e. what classify will be given.
    """
    spec, defects, engine = args
    tag = hashlib.sha1(repr((spec, defects, engine)).encode()).hexdigest()[:16]
    cached = _cache_dir() / f"{spec.key}-{tag}.json"
    if cached.exists():
        return [tuple(item) for item in json.loads(cached.read_text(encoding="utf-8"))]
    os.environ["OMP_THREAD_LIMIT"] = "1"
    from ocr.sources import normalize_text
    from ocr.tesseract import recognize
    from tests.data.render import render_pages
    from tests.data.writers import scan_page

    out = []
    for page in render_pages(spec, dpi=300):
        image, dpi, _ = scan_page(page, defects, seed=0)
        if engine == "pipeline":
            from ocr.extract import ocr_page

            done = ocr_page(image, dpi, number=page.number, lang="vie")
            out.append((page.number, done.text, done.hocr or ""))
        else:
            result = recognize(image, lang="vie", dpi=dpi)
            out.append((page.number, normalize_text(result.text), result.hocr))
    cached.write_text(json.dumps(out, ensure_ascii=False), encoding="utf-8")
    return out


def hocr_page(number: int, text: str, hocr: str, boxes: bool) -> PageInput:
    """A PageInput from Tesseract's text and hOCR, as the pipeline would build it."""
    if not boxes:
        return PageInput(number, text)
    from ocr.hocr import parse_hocr

    page = parse_hocr(hocr)
    words = [
        WordBox(w.text, *w.bbox, line=i, confidence=w.confidence)
        for i, line in enumerate(page.lines)
        for w in line.words
    ]
    return PageInput(number, text, words, page.width, page.height)


def pdf_pages(spec: DocumentSpec, boxes: bool) -> list[PageInput]:
    """A born-digital PDF of the spec, its text layer read by pdfplumber (as `ocr` does)."""
    import pdfplumber

    from classify.layout import words_from_chars
    from tests.data.writers import write_digital_pdf

    pages = []
    with tempfile.TemporaryDirectory() as tmp:
        path = write_digital_pdf(Path(tmp) / "d.pdf", spec).path
        with pdfplumber.open(path) as pdf:
            for n, page in enumerate(pdf.pages, start=1):
                text = unicodedata.normalize("NFC", page.extract_text() or "")
                words = words_from_chars(page.chars) if boxes else None
                pages.append(PageInput(n, text, words, float(page.width), float(page.height)))
    return pages


def pages_for(
    name: str, specs: Sequence[DocumentSpec], jobs: int = 1, engine: str = "tesseract"
) -> list[list[PageInput]]:
    """The pages of every spec as the set `name` gives them."""
    if name in ("truth", "truth-boxes"):
        return [truth_pages(s, name == "truth-boxes") for s in specs]
    if name in ("pdf", "pdf-boxes"):
        return [pdf_pages(s, name == "pdf-boxes") for s in specs]
    degraded = name.startswith("degraded")
    work = [
        (s, DEGRADED[i % len(DEGRADED)] if degraded else (), engine) for i, s in enumerate(specs)
    ]
    with Pool(jobs) as pool:
        results = pool.map(_ocr_job, work, chunksize=1)
    boxes = not name.endswith("-text")
    return [[hocr_page(n, t, h, boxes) for n, t, h in r] for r in results]


def _norm(field: str, value: object) -> object:
    if value is None:
        return None
    text = unicodedata.normalize("NFC", str(value))
    if field in ("issuer", "place", "signer_title"):
        return name_key(text)
    if field in ("signer", "subject", "number"):
        return " ".join(modern_tones(text).split())
    return text


def score(result: Classification, truth: dict[str, str | None]) -> dict[str, str]:
    """Per field: ok, wrong (another value), missing (null), extra (a value where none is)."""
    doc = result.document.model_dump(mode="json")
    doc["unit"] = result.unit
    out = {}
    for field in FIELDS:
        want, got = _norm(field, truth.get(field)), _norm(field, doc.get(field))
        if want == got:
            out[field] = "ok" if want is not None else "ok-null"
        elif got is None:
            out[field] = "missing"
        elif want is None:
            out[field] = "extra"
        else:
            out[field] = "wrong"
    return out


def subject_cer(results: Sequence[Classification], truths: Sequence[dict]) -> float:
    """Character error rate of the subjects over all documents (a missing one counts whole)."""
    errors = total = 0
    for r, t in zip(results, truths, strict=True):
        want = _norm("subject", t.get("subject")) or ""
        got = _norm("subject", r.document.subject) or ""
        errors += Levenshtein.distance(str(want), str(got))
        total += len(str(want))
    return errors / max(1, total)


def evaluate(
    name: str, specs: Sequence[DocumentSpec], jobs: int = 1, engine: str = "tesseract"
) -> dict:
    """Classify every spec's pages of set `name`; return figures and per-document details."""
    all_pages = pages_for(name, specs, jobs, engine)
    truths = [expected(s) for s in specs]
    start = time.perf_counter()
    results = [classify(p) for p in all_pages]
    per_doc_ms = (time.perf_counter() - start) * 1000 / max(1, len(specs))
    outcomes = [score(r, t) for r, t in zip(results, truths, strict=True)]
    fields: dict[str, dict[str, float]] = {}
    for field in FIELDS:
        c = Counter(o[field] for o in outcomes)
        present = sum(1 for t in truths if t.get(field) is not None)
        fields[field] = {
            "accuracy": c["ok"] / present if present else 1.0,
            **{k: c[k] for k in ("ok", "ok-null", "wrong", "missing", "extra")},
        }
    # The subject is measured by its character error rate: one misread letter in it is no
    # wrong value. Every other field must be exactly right or null.
    exact = [f for f in FIELDS if f != "subject"]
    bad = sum(o[f] in ("wrong", "extra") for o in outcomes for f in exact)
    review = [r.needs_review for r in results]
    return {
        "set": name,
        "documents": len(specs),
        "fields": fields,
        "subject_cer": subject_cer(results, truths),
        "wrong_non_null": bad / (len(specs) * len(exact)),
        "needs_review": sum(review) / len(review),
        "ms_per_document": per_doc_ms,
        "details": [(s.key, o, r) for s, o, r in zip(specs, outcomes, results, strict=True)],
    }


def table(reports: Sequence[dict]) -> str:
    """A markdown table: one column per set."""
    head = "| field | " + " | ".join(r["set"] for r in reports) + " |"
    lines = [head, "|---" * (len(reports) + 1) + "|"]
    for field in FIELDS:
        cells = [f"{r['fields'][field]['accuracy'] * 100:.1f} %" for r in reports]
        lines.append(f"| {field} | " + " | ".join(cells) + " |")
    rows: list[tuple[str, Callable[[dict], str]]] = [
        ("subject CER", lambda r: f"{r['subject_cer'] * 100:.2f} %"),
        ("wrong non-null", lambda r: f"{r['wrong_non_null'] * 100:.2f} %"),
        ("needs review", lambda r: f"{r['needs_review'] * 100:.1f} %"),
        ("ms / document", lambda r: f"{r['ms_per_document']:.1f}"),
        ("documents", lambda r: str(r["documents"])),
    ]
    for label, cell in rows:
        lines.append(f"| {label} | " + " | ".join(cell(r) for r in reports) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sets", nargs="*", default=["truth", "truth-boxes"], choices=SETS)
    parser.add_argument("--generated", type=int, default=120)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--engine", choices=ENGINES, default="tesseract")
    parser.add_argument("--errors", action="store_true", help="list every wrong field")
    args = parser.parse_args(argv)
    specs = all_specs(args.generated)
    reports = [evaluate(name, specs, args.jobs, args.engine) for name in args.sets]
    if args.errors:
        for report in reports:
            for key, outcome, result in report["details"]:
                bad = {f: o for f, o in outcome.items() if o in ("wrong", "missing", "extra")}
                if bad:
                    doc = result.document.model_dump(mode="json", exclude_none=True)
                    print(report["set"], key, bad, doc, result.unit)
    print(table(reports))


if __name__ == "__main__":
    main()
