"""A fixed, seeded set of scanned pages per condition, to measure OCR against its targets.

Used by tests/integration/ocr/test_ocr_quality.py, and runnable to compare the pipeline with
plain Tesseract on the same pages (CER per condition, confidence, time per step):

    python -m tests.data.ocr_set [--plain] [--lang vie] [--pages 4] [--workers 2]

Pages are drawn once per document and reused (`_rendered`); defects come from the writers'
`scan_page`, so a condition here means what it means in the sample batch.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from multiprocessing import get_context

from PIL import Image

from ocr.sources import DocumentSource, PageImage
from tests.data.metrics import cer
from tests.data.render import RenderedPage, render_pages
from tests.data.specs import load_specs
from tests.data.writers import scan_page


@dataclass(frozen=True)
class Condition:
    """Defects per page (cycled over the pages), the CER target, whether only pages with a
    signature block qualify (a seal needs one), and (document, page) always included."""

    defects: tuple[tuple[str, ...], ...]
    target: float
    signed_only: bool = False
    include: tuple[tuple[str, int], ...] = ()


CONDITIONS: dict[str, Condition] = {
    "clean": Condition(((),), 0.005),
    "grey200": Condition((("grey:200",),), 0.015),
    "skew": Condition((("skew:3",), ("skew:-3",)), 0.03),
    "noise": Condition((("noise:0.08",), ("grey:200", "noise:0.06")), 0.03),
    "blur": Condition((("blur:1.2",), ("grey:300", "blur:1.0")), 0.03),
    "jpeg40": Condition((("jpeg:40",),), 0.03),
    "photocopy": Condition((("photocopy",), ("photocopy", "grey:200")), 0.03),
    "stamp": Condition(
        (("stamp", "jpeg:85"), ("stamp",), ("stamp", "skew:-3", "jpeg:85"), ("stamp", "skew:2.5")),
        0.04,
        signed_only=True,
        include=(("kh-251-ubnd", 2),),  # raw Tesseract lost its signing lines under the seal
    ),
    "rotated": Condition(
        (
            ("rotate:90",),
            ("rotate:180",),
            ("rotate:270",),
            ("skew:2", "rotate:90"),
            ("grey:200", "rotate:270"),
            ("rotate:180", "jpeg:85"),
        ),
        0.015,
    ),
}


@dataclass(frozen=True)
class Job:
    condition: str
    spec: str
    page: int
    defects: tuple[str, ...]
    seed: int


@dataclass
class Outcome:
    """What reading one page gave, against what was done to it."""

    job: Job
    cer: float
    chars: int  # truth characters, to weigh pages in a condition's CER
    rotation: int  # clockwise turn applied by the reader
    want_rotation: int  # the turn that makes the scan upright
    skew: float | None
    want_skew: float
    confidence: float | None
    low_confidence: bool
    size: tuple[int, int]  # of the scan
    hocr: str | None = field(default=None, repr=False)
    timings: dict[str, float] = field(default_factory=dict)


def jobs(pages_per_condition: int = 4, seed: int = 2024) -> list[Job]:
    """The sample set: for each condition, pages drawn (seeded) from every document."""
    rng = random.Random(seed)
    pool = [(spec.key, n) for spec in load_specs() for n in range(1, _page_count(spec.key) + 1)]
    signed = [(key, n) for key, n in pool if n == _page_count(key)]
    out = []
    for name, cond in CONDITIONS.items():
        count = max(pages_per_condition, len(cond.defects))  # every defect at least once
        rest = [p for p in (signed if cond.signed_only else pool) if p not in cond.include]
        picks = [*cond.include, *rng.sample(rest, count - len(cond.include))]
        for i, (key, number) in enumerate(picks):
            out.append(Job(name, key, number, cond.defects[i % len(cond.defects)], seed + i))
    return out


@lru_cache(maxsize=32)
def _rendered(key: str) -> tuple[RenderedPage, ...]:
    spec = next(s for s in load_specs() if s.key == key)
    return tuple(render_pages(spec, dpi=300))


def _page_count(key: str) -> int:
    return len(_rendered(key))


def scanned(job: Job) -> tuple[Image.Image, int, int, str]:
    """(scan, dpi, clockwise rotation the scan was given, truth text) of one job."""
    page = _rendered(job.spec)[job.page - 1]
    image, dpi, rotation = scan_page(page, job.defects, seed=job.seed)
    return image, dpi, rotation, page.text


class ImagePages(DocumentSource):
    """Page images already in memory, as a DocumentSource (no file round trip)."""

    media_type = "image/png"

    def __init__(self, pages: Sequence[tuple[Image.Image, float]]) -> None:
        self.pages = list(pages)
        self.page_count = len(self.pages)

    def render(self, number: int, dpi: int) -> PageImage:
        image, page_dpi = self.pages[number - 1]
        return PageImage(image=image.copy(), dpi=page_dpi)


def _applied_skew(defects: Sequence[str]) -> float:
    return sum(float(d.split(":")[1].split("@")[0]) for d in defects if d.startswith("skew:"))


def run_job(job: Job, lang: str = "vie", plain: bool = False) -> Outcome:
    """Read one page through `extract_page` (or plain Tesseract) and score it."""
    from ocr.extract import extract_page
    from ocr.tesseract import recognize

    image, dpi, rotation, truth = scanned(job)
    start = time.perf_counter()
    if plain:
        text = recognize(image, lang=lang, dpi=dpi).text
        result = None
    else:
        with ImagePages([(image, float(dpi))]) as source:
            result = extract_page(source, 1, lang=lang, dpi=300)
        text = result.text
    seconds = time.perf_counter() - start
    return Outcome(
        job=job,
        cer=cer(truth, text),
        chars=sum(len(line) for line in truth.splitlines()),
        rotation=result.rotation if result else 0,
        want_rotation=(360 - rotation) % 360,
        skew=result.skew if result else None,
        want_skew=_applied_skew(job.defects),
        confidence=result.confidence if result else None,
        low_confidence=result.low_confidence if result else False,
        size=image.size,
        hocr=result.hocr if result else None,
        timings={**(result.timings if result else {}), "total": round(seconds * 1000, 1)},
    )


def run_all(
    todo: Sequence[Job], *, lang: str = "vie", plain: bool = False, workers: int = 2
) -> list[Outcome]:
    """Every job, `workers` pages at a time (one Tesseract per core, as the workers run)."""
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    with ProcessPoolExecutor(workers, mp_context=get_context("fork")) as pool:
        return list(pool.map(run_job, todo, [lang] * len(todo), [plain] * len(todo), chunksize=1))


def by_condition(outcomes: Sequence[Outcome]) -> Iterator[tuple[str, list[Outcome], float]]:
    """(condition, its outcomes, its CER: errors over truth characters of all its pages)."""
    for name in CONDITIONS:
        mine = [o for o in outcomes if o.job.condition == name]
        if mine:
            chars = sum(o.chars for o in mine)
            yield name, mine, sum(o.cer * o.chars for o in mine) / chars


def report(outcomes: Sequence[Outcome]) -> str:
    """A table: CER per condition against its target, confidences, mean time per step."""
    lines = [f"{'condition':10} {'pages':>5} {'CER':>7} {'target':>7} {'worst':>7} {'conf':>11}"]
    for name, mine, rate in by_condition(outcomes):
        confs = [o.confidence for o in mine if o.confidence is not None]
        conf = f"{min(confs):.3f}-{max(confs):.3f}" if confs else "-"
        lines.append(
            f"{name:10} {len(mine):5d} {rate:7.2%} {CONDITIONS[name].target:7.2%} "
            f"{max(o.cer for o in mine):7.2%} {conf:>11}"
        )
    steps: dict[str, list[float]] = {}
    for o in outcomes:
        for step, ms in o.timings.items():
            steps.setdefault(step, []).append(ms)
    lines.append(
        "ms per page (wall, mean over pages that ran the step): "
        + ", ".join(f"{k} {sum(v) / len(v):.0f} ({len(v)})" for k, v in steps.items())
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plain", action="store_true", help="plain Tesseract, no preprocessing")
    parser.add_argument("--lang", default="vie")
    parser.add_argument("--pages", type=int, default=4, help="pages per condition")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    outcomes = run_all(jobs(args.pages), lang=args.lang, plain=args.plain, workers=args.workers)
    print(report(outcomes))


if __name__ == "__main__":
    main()
