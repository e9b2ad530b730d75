"""Export of a large dossier as a TT 05 package: MB/s of the zip stream and its memory.

`make bench` runs `package_bench`: it digitizes a few generated documents into two-layer
PDF/A files once, builds a dossier of `count` documents over them (document n is file
n mod k), and streams its AIP in a child process to /dev/null, reading the RSS as it goes:
memory that stays flat while hundreds of megabytes pass is the point.

    python -m tests.bench.package FOLDER COUNT   (the child: prints one JSON line)
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

SPECS = ["kh-251-ubnd", "cv-12-ubnd-vx", "tb-45-pnv", "qd-86-ubnd-cn1", "bc-128-ubnd-xd",
         "vbpl-000001"]  # fmt: skip


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _digitized(folder: Path) -> list[Path]:
    from ocr.searchable import build_searchable_pdf
    from tests.data.samples import get_spec, write_scanned_pdf

    files = []
    for index, key in enumerate(SPECS):
        out = folder / f"{index}.pdf"
        if not out.exists():
            scan = write_scanned_pdf(folder / f"scan{index}.pdf", get_spec(key), dpi=300)
            build_searchable_pdf(scan.path, "application/pdf", lambda n: None, len(scan.pages),
                                 out)  # fmt: skip
        files.append(out)
    return files


def _export(folder: Path, count: int) -> dict[str, float]:
    """In the child: stream the AIP of a `count`-document dossier to /dev/null."""
    import pikepdf

    from schemas.dossier import (
        Agent,
        AgentKind,
        Dossier,
        DossierDocument,
        DossierPackageInput,
        PackageKind,
    )
    from store.dossiers import package_stream

    files = sorted(folder.glob("[0-9]*.pdf"), key=lambda p: int(p.stem))
    pages = [len(pikepdf.open(f).pages) for f in files]
    documents = [
        DossierDocument(ordinal=n, type_code="10", number_of_page=pages[n % len(files)],
                        issued_date=date(2024, 1, 1 + n % 28), subject=f"Văn bản số {n}")
        for n in range(1, count + 1)
    ]  # fmt: skip
    package = DossierPackageInput(
        dossier=Dossier(file_code="H49.64.33.2024.500", title="Hồ sơ đo tốc độ xuất gói",
                        maintenance="01", mode="01", paper_file_code="H49.K1.500"),
        documents=documents,
        archive=Agent(name="Ủy ban nhân dân phường Cổ Nhuế 1", kind=AgentKind.organization),
    )  # fmt: skip
    start_rss = _rss_mb()
    samples, size, highest = [], 0, 0.0
    start = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        stream = package_stream(
            package,
            PackageKind.aip,
            lambda d: open(files[d.ordinal % len(files)], "rb"),  # noqa: SIM115 (the writer closes it)
        )
        for chunk in stream:
            sink.write(chunk)
            size += len(chunk)
            highest = max(highest, _rss_mb())
            if len(samples) < size // (100 * 2**20):
                samples.append(round(_rss_mb(), 1))
    seconds = time.perf_counter() - start
    return {
        "documents": count,
        "zip_mb": round(size / 2**20, 1),
        "seconds": round(seconds, 2),
        "mb_per_second": round(size / 2**20 / seconds, 1),
        "rss_before_mb": round(start_rss, 1),
        "rss_every_100mb": samples,
        "rss_max_while_streaming_mb": round(highest, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def package_bench(work: Path, count: int) -> dict[str, float]:
    folder = work / "package-docs"
    folder.mkdir(parents=True, exist_ok=True)
    _digitized(folder)
    run = subprocess.run(
        [sys.executable, "-m", "tests.bench.package", str(folder), str(count)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(run.stdout.splitlines()[-1])


if __name__ == "__main__":
    print(json.dumps(_export(Path(sys.argv[1]), int(sys.argv[2]))))
