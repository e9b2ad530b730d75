"""`python -m tests.data OUTDIR [--count N] [--seed S] [--dpi D] [--bad]`: write samples."""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

from tests.data.bad_files import write_bad_files
from tests.data.batch import TRUTH_FILE, write_sample_batch


def main(argv: list[str] | None = None) -> int:
    """Write a sample batch (and with --bad the bad files) and print a summary."""
    parser = argparse.ArgumentParser(prog="python -m tests.data", description=__doc__)
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--count", type=int, default=12, help="number of samples (12)")
    parser.add_argument("--seed", type=int, default=0, help="choice of documents and order")
    parser.add_argument("--dpi", type=int, default=300, help="scan resolution (300)")
    parser.add_argument("--bad", action="store_true", help="also write the bad files")
    parser.add_argument(
        "--truth-dir",
        type=Path,
        help="put the manifests (truth.json, bad_files.json) here instead of among the scans, "
        "so a digitizer pointed at OUTDIR sees only scans",
    )
    args = parser.parse_args(argv)

    start = time.perf_counter()
    samples = write_sample_batch(args.outdir, count=args.count, seed=args.seed, dpi=args.dpi)
    for s in samples:
        rel = s.path.relative_to(args.outdir).as_posix()
        defects = ", ".join(s.defects) or "clean"
        print(
            f"{rel:24} {s.kind:12} {len(s.pages)}p {'/'.join(sorted(set(s.methods))):15} "
            f"{s.dpi:>3} dpi  {defects}  [{s.spec_key}]"
        )
    kinds = Counter(s.kind for s in samples)
    pages = sum(len(s.pages) for s in samples)
    print(
        f"{len(samples)} samples, {pages} pages ({dict(kinds)}); truth in "
        f"{args.outdir / TRUTH_FILE}"
    )
    if args.bad:
        bad = write_bad_files(args.outdir / "bad")
        print(f"{len(bad)} bad files in {args.outdir / 'bad'}: {', '.join(sorted(bad))}")
    if args.truth_dir is not None:
        args.truth_dir.mkdir(parents=True, exist_ok=True)
        for manifest in (args.outdir / TRUTH_FILE, args.outdir / "bad" / "bad_files.json"):
            if manifest.exists():
                manifest.replace(args.truth_dir / manifest.name)
        print(f"manifests in {args.truth_dir}")
    print(f"done in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
