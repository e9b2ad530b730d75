"""`make bench`: throughput and memory of `sohoa digitize`, with plain Tesseract as reference.

Figures are written to bench/results/bench.json and printed as a table. Nothing here is
asserted: speed is measured, never tested.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.bench.package import package_bench
from tests.bench.upload import upload_bench
from tests.data.samples import get_spec, render_pages, write_png
from tests.data.writers import scan_page
from tests.pdfutil import SPECS, long_pdf

RESULTS = Path("bench/results")


def _sohoa(args: list[str], workdir: Path) -> tuple[float, int, int]:
    """Wall seconds, peak RSS of the whole process tree and of its largest process (bytes)
    of one `sohoa` command."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOHOA_")}
    start = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli.main", *args],
        cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    peak, single = _watch_rss(proc)
    seconds = time.monotonic() - start
    if proc.returncode not in (0, 3):
        raise RuntimeError(f"sohoa {' '.join(args)} exited {proc.returncode}")
    return seconds, peak, single


def _watch_rss(proc: subprocess.Popen) -> tuple[int, int]:
    peak = single = 0
    while proc.poll() is None:
        total, largest = _tree_rss(proc.pid)
        peak, single = max(peak, total), max(single, largest)
        time.sleep(0.2)
    return peak, single


def _tree_rss(root: int) -> tuple[int, int]:
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            pid, ppid = int(entry.name), int(fields[1])
            rss[pid] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(pid)
    total, largest, stack = 0, 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        largest = max(largest, rss.get(pid, 0))
        stack.extend(children.get(pid, []))
    return total, largest


def _tesseract_reference(pages: list[Path], out: Path, lang: str) -> float:
    """Plain `tesseract` on the same page images, one process per core, OMP_THREAD_LIMIT=1."""
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    out.mkdir(parents=True, exist_ok=True)

    def run(page: Path) -> None:
        subprocess.run(
            ["tesseract", str(page), str(out / page.stem), "-l", lang, "hocr", "txt"],
            env=env, check=True, capture_output=True,
        )  # fmt: skip

    start = time.monotonic()
    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        list(pool.map(run, pages))
    return time.monotonic() - start


def _ocrmypdf_reference(pages: list[Path], work: Path) -> float | None:
    """`ocrmypdf -l vie --jobs N` on an image-only PDF of the same pages (None if missing)."""
    if shutil.which("ocrmypdf") is None:
        print("ocrmypdf not installed: skipped (deploy/install-system.sh --bench)")
        return None
    import img2pdf

    work.mkdir(parents=True, exist_ok=True)
    source = work / "pages.pdf"
    source.write_bytes(img2pdf.convert([str(p) for p in pages]))
    start = time.monotonic()
    subprocess.run(
        ["ocrmypdf", "-l", "vie", "--jobs", str(os.cpu_count() or 1), str(source),
         str(work / "out.pdf")],
        check=True, capture_output=True, env={**os.environ, "OMP_THREAD_LIMIT": "1"},
    )  # fmt: skip
    return time.monotonic() - start


def sealed_grey_pages(work: Path, count: int) -> dict[str, float]:
    """The same on scans in grey at 200 dpi with a seal over the signature: what the colour
    dropout cannot remove and the second look (ocr.recover) reads again."""
    return scanned_pages(work, count, ("stamp", "grey:200"))


def scaling(work: Path, count: int) -> dict[str, float]:
    """One long scanned document on one process and on one per core."""
    pdf = long_pdf(work / "scaling" / f"scan-{count}.pdf", count, scanned=True)
    one, _, _ = _sohoa(["digitize", "--workers", "1", str(pdf)], _fresh(work / "scale-1"))
    cores = os.cpu_count() or 1
    many, _, _ = _sohoa(["digitize", "--workers", str(cores), str(pdf)], _fresh(work / "scale-n"))
    return {
        "pages": count,
        "seconds_1_process": round(one, 2),
        f"seconds_{cores}_processes": round(many, 2),
        "speedup": round(one / many, 2),
    }


def scanned_pages(work: Path, count: int, defects: tuple[str, ...] = ()) -> dict[str, float]:
    """sohoa against plain Tesseract (and OCRmyPDF) on the same page images, scanned with
    `defects` (tests.data.writers.scan_page)."""
    name = "-".join(["pages", *(d.replace(":", "") for d in defects)])
    folder = work / name
    pages: list[Path] = []
    index = 0
    while len(pages) < count:
        spec = get_spec(SPECS[index % len(SPECS)])
        for n, page in enumerate(render_pages(spec, dpi=300), start=1):
            if len(pages) == count:
                break
            image, dpi, _ = scan_page(page, defects, seed=index)
            path = folder / f"{index:02d}-{n}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            image.save(path, dpi=(dpi, dpi))
            pages.append(path)
        index += 1
    reference = _tesseract_reference(pages, work / f"{name}-tesseract", "vie")
    ocrmypdf = _ocrmypdf_reference(pages, work / f"{name}-ocrmypdf")
    seconds, _, _ = _sohoa(["digitize", str(folder)], _fresh(work / f"{name}-sohoa"))
    sohoa_ppm = count / seconds * 60
    tesseract_ppm = count / reference * 60
    extra = {}
    if ocrmypdf is not None:
        ocrmypdf_ppm = count / ocrmypdf * 60
        extra = {
            "ocrmypdf_seconds": round(ocrmypdf, 2),
            "ocrmypdf_pages_per_minute": round(ocrmypdf_ppm, 1),
            "ratio_sohoa_to_ocrmypdf": round(sohoa_ppm / ocrmypdf_ppm, 3),
        }
    return {
        **extra,
        "pages": count,
        "sohoa_seconds": round(seconds, 2),
        "sohoa_pages_per_minute": round(sohoa_ppm, 1),
        "tesseract_seconds": round(reference, 2),
        "tesseract_pages_per_minute": round(tesseract_ppm, 1),
        "ratio_sohoa_to_tesseract": round(sohoa_ppm / tesseract_ppm, 3),
    }


def handwritten_pages(work: Path, count: int) -> dict[str, float]:
    """Pages whose number and day are written by hand (tests/data/handwriting.py): sohoa,
    which reads those gaps a second time (ocr/handwritten.py), against plain Tesseract on the
    same images and against sohoa on the same pages printed whole (no second reading); and
    the second reading's own cost per page, timed alone on Tesseract's word boxes."""
    from classify import PageInput, WordBox
    from ocr import parse_hocr
    from tests.data.handwriting import handwritten_page
    from tests.data.specs import load_specs
    from worker.classification import read_gaps

    specs = [s for s in load_specs() if s.issued_on and s.place and "/" in s.number]
    folder, printed = work / "handwritten", work / "printed"
    folder.mkdir(parents=True, exist_ok=True)
    printed.mkdir(parents=True, exist_ok=True)
    pages = []
    for i in range(count):
        spec = specs[i % len(specs)]
        scan = handwritten_page(spec, seed=i)
        path = folder / f"{i:02d}.png"
        scan.image.save(path, dpi=(scan.dpi, scan.dpi))
        pages.append((path, scan.image))
        whole = render_pages(spec, dpi=scan.dpi, max_pages=1)[0].image
        whole.save(printed / path.name, dpi=(scan.dpi, scan.dpi))
    out = work / "handwritten-tesseract"
    reference = _tesseract_reference([p for p, _ in pages], out, "vie")
    seconds, _, single = _sohoa(["digitize", str(folder)], _fresh(work / "handwritten-sohoa"))
    plain, _, _ = _sohoa(["digitize", str(printed)], _fresh(work / "printed-sohoa"))
    second = 0.0
    for path, image in pages:
        hocr = parse_hocr((out / f"{path.stem}.hocr").read_text(encoding="utf-8"))
        words = [
            WordBox(w.text, *w.bbox, line=i, confidence=w.confidence)
            for i, line in enumerate(hocr.lines)
            for w in line.words
        ]
        page = PageInput(1, "", words, hocr.width, hocr.height)
        start = time.perf_counter()
        read_gaps(image, page, (hocr.width, hocr.height))
        second += time.perf_counter() - start
    sohoa_ppm, tesseract_ppm = count / seconds * 60, count / reference * 60
    return {
        "pages": count,
        "sohoa_pages_per_minute": round(sohoa_ppm, 1),
        "tesseract_pages_per_minute": round(tesseract_ppm, 1),
        "ratio_sohoa_to_tesseract": round(sohoa_ppm / tesseract_ppm, 3),
        "sohoa_printed_pages_per_minute": round(count / plain * 60, 1),
        "ratio_handwritten_to_printed": round(plain / seconds, 3),
        "second_reading_ms_per_page": round(second / count * 1000, 1),
        "second_reading_share_of_tesseract": round(second / reference, 3),
        "peak_rss_largest_process_mb": round(single / 2**20, 1),
    }


def real_scans(work: Path, count: int) -> dict[str, object]:
    """sohoa on the real scans used in development (`tests/data/real_eval.py` says where;
    skipped when they are not there), against plain Tesseract on the same pages rendered
    at 300 dpi: their handwritten numbers and days are read a second time."""
    from tests.data.real_eval import docs_folder, load_labels

    folder = docs_folder()
    if not (folder / "labels.json").is_file():
        return {"skipped": f"no real documents in {folder}"}
    from ocr import open_source

    files, images = [], []
    for label in load_labels(folder):
        if label.get("kind") != "scan" or label.get("pages", 0) + len(images) > count:
            continue
        path = folder / label["file"]
        files.append(path)
        with open_source(path, "application/pdf", max_pages=1000, max_pixels=10**9) as source:
            for n in range(1, label["pages"] + 1):
                image = source.render(n, 300).image
                out = work / "real-pages" / f"{path.stem}-{n:02d}.png"
                out.parent.mkdir(parents=True, exist_ok=True)
                image.save(out, dpi=(300, 300))
                images.append(out)
    reference = _tesseract_reference(images, work / "real-tesseract", "vie")
    seconds, _, single = _sohoa(["digitize", *map(str, files)], _fresh(work / "real-sohoa"))
    pages = len(images)
    return {
        "documents": len(files),
        "pages": pages,
        "sohoa_pages_per_minute": round(pages / seconds * 60, 1),
        "tesseract_pages_per_minute": round(pages / reference * 60, 1),
        "ratio_sohoa_to_tesseract": round(reference / seconds, 3),
        "peak_rss_largest_process_mb": round(single / 2**20, 1),
    }


def born_digital(work: Path, count: int) -> dict[str, float]:
    pdf = long_pdf(work / "digital" / f"digital-{count}.pdf", count, scanned=False)
    seconds, peak, _ = _sohoa(["digitize", str(pdf)], _fresh(work / "sohoa-digital"))
    from ocr import extract_page, open_source

    start = time.perf_counter()  # the text-layer step alone, one core
    with open_source(pdf, "application/pdf", max_pages=10_000, max_pixels=10**9) as source:
        methods = {extract_page(source, n, lang="vie", dpi=300).method for n in range(1, count + 1)}
    extraction = time.perf_counter() - start
    return {
        "extraction_pages_per_second_one_core": round(count / extraction, 1),
        "extraction_methods": sorted(m.value for m in methods),
        "pages": count,
        "seconds": round(seconds, 2),
        "text_layer_pages_per_second": round(count / seconds, 2),
        "peak_rss_mb": round(peak / 2**20, 1),
    }


def scanned_memory(work: Path, count: int) -> dict[str, float]:
    pdf = long_pdf(work / "scanned" / f"scanned-{count}.pdf", count, scanned=True)
    seconds, peak, single = _sohoa(["digitize", str(pdf)], _fresh(work / "sohoa-memory"))
    return {
        "peak_rss_largest_process_mb": round(single / 2**20, 1),
        "pages": count,
        "file_mb": round(pdf.stat().st_size / 2**20, 1),
        "seconds": round(seconds, 2),
        "pages_per_minute": round(count / seconds * 60, 1),
        "peak_rss_mb": round(peak / 2**20, 1),
    }


def classification(_work: Path, count: int) -> dict[str, float]:
    """Milliseconds per document of `classify` on generated documents with word boxes."""
    from classify import classify
    from tests.data.classify_eval import all_specs, truth_pages

    specs = all_specs(generated=max(0, count - 17))[:count]
    pages = [truth_pages(spec, boxes=True) for spec in specs]
    times = []
    for doc in pages:
        start = time.perf_counter()
        classify(doc)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {
        "documents": len(times),
        "mean_ms": round(sum(times) / len(times), 2),
        "p95_ms": round(times[int(len(times) * 0.95) - 1], 2),
        "max_ms": round(times[-1], 2),
    }


def _fresh(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def api_latency(_work: Path, count: int) -> dict[str, object]:
    """p50/p95 of one record, list pages and searches under 16 clients (tests/bench/api_load)."""
    from tests.bench.api_load import run

    return run(count, clients=16, seconds=15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scanned", type=int, default=20, help="scanned pages vs tesseract")
    parser.add_argument("--digital", type=int, default=200, help="born-digital PDF pages")
    parser.add_argument(
        "--handwritten", type=int, default=16, help="pages with handwritten number and day"
    )
    parser.add_argument(
        "--real", type=int, default=60, help="pages of the real scans (when they are there)"
    )
    parser.add_argument("--memory", type=int, default=300, help="pages of the big scanned PDF")
    parser.add_argument("--sealed", type=int, default=20, help="grey sealed pages vs tesseract")
    parser.add_argument("--scaling", type=int, default=40, help="pages of the scaling scan")
    parser.add_argument("--classify", type=int, default=137, help="documents to classify")
    parser.add_argument("--upload", type=int, default=500, help="small files uploaded to a service")
    parser.add_argument(
        "--package", type=int, default=500, help="documents of the dossier exported as a package"
    )
    parser.add_argument(
        "--api-records", type=int, default=100_000, help="records in PostgreSQL for API latency"
    )
    args = parser.parse_args()
    _ = write_png  # the generator is imported for its fonts check at import time
    results: dict[str, object] = {
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "tesseract": subprocess.run(
                ["tesseract", "--version"], capture_output=True, text=True
            ).stdout.splitlines()[0],
        },
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    with tempfile.TemporaryDirectory(prefix="sohoa-bench-") as tmp:
        work = Path(tmp)
        for name, fn, count in (
            ("scanned_vs_tesseract", scanned_pages, args.scanned),
            ("sealed_grey_vs_tesseract", sealed_grey_pages, args.sealed),
            ("handwritten_vs_tesseract", handwritten_pages, args.handwritten),
            ("real_scans_vs_tesseract", real_scans, args.real),
            ("scaling", scaling, args.scaling),
            ("born_digital", born_digital, args.digital),
            ("scanned_memory", scanned_memory, args.memory),
            ("classification", classification, args.classify),
            ("upload", upload_bench, args.upload),
            ("package_export", package_bench, args.package),
            ("api_latency", api_latency, args.api_records),
        ):
            if count > 0:
                print(f"… {name} ({count})", flush=True)
                results[name] = fn(work, count)
                print(json.dumps(results[name], indent=2), flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "bench.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"written {RESULTS / 'bench.json'}")


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    main()
