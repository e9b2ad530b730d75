"""Measure the whole pipeline on real documents read by eye: `../shared/real` by default.

    python -m tests.data.real_eval [--docs DIR] [--records DIR] [--json FILE] [--only real_01.pdf]

The folder holds real scans and e-office PDFs with `labels.json` (see its README); it is kept
out of the repository, and this script says so and stops when it is missing. Without
`--records`, it runs `sohoa digitize --out` on every labelled file in a fresh work folder (an
empty database and object store: the embedded defaults) and compares the records' `document`
blocks with the labels; with `--records DIR`, it compares what an earlier run wrote there.

How a field counts (a label of null is a field people could not read: not counted):

| field | right when |
|---|---|
| `number` | equal to the label once spaces are removed (diacritics and case kept: `QĐ` ≠ `QD`) |
| `issued_on` | the same ISO date |
| `type` | the same code of `schemas/vocab/document_types.csv` |
| `issuer`, `signer` | equal ignoring case and spaces (several joined by `; ` in the label) |
| `subject` | character error rate against the label ≤ 10 % (case ignored) |

A null value is *blank*, anything else that is not right is *wrong*: wrong values cost more
than blanks, since nobody looks at a field that seems filled in.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rapidfuzz.distance import Levenshtein

REPO = Path(__file__).resolve().parents[2]
#: where the real documents are looked for when neither --docs nor SOHOA_REAL_DOCS says
DEFAULT_DOCS = REPO.parent / "shared" / "real"
FIELDS = ("type", "number", "issued_on", "issuer", "subject", "signer")
#: the subject is right below this character error rate
SUBJECT_CER = 0.10


@dataclass
class FieldResult:
    field: str
    want: str
    got: str | None
    verdict: str  # right, wrong, blank
    confidence: float | None = None


@dataclass
class DocResult:
    file: str
    kind: str
    status: str
    fields: list[FieldResult] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    def verdict(self, name: str) -> str | None:
        return next((f.verdict for f in self.fields if f.field == name), None)


def docs_folder(given: str | None = None) -> Path:
    return Path(given or os.environ.get("SOHOA_REAL_DOCS") or DEFAULT_DOCS)


def load_labels(folder: Path) -> list[dict]:
    return json.loads((folder / "labels.json").read_text(encoding="utf-8"))["documents"]


def _squeeze(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def cer(want: str, got: str) -> float:
    want, got = _squeeze(want).casefold(), _squeeze(got).casefold()
    return Levenshtein.distance(want, got) / max(1, len(want))


def is_right(name: str, want: str, got: str) -> bool:
    if name == "number":
        return "".join(want.split()) == "".join(unicodedata.normalize("NFC", got).split())
    if name in ("issued_on", "type"):
        return want == got
    if name == "subject":
        return cer(want, got) <= SUBJECT_CER
    return _squeeze(want).casefold() == _squeeze(got).casefold()


def compare(label: dict, record: dict) -> DocResult:
    doc = record.get("document") or {}
    confidences = (record.get("classification") or {}).get("field_confidence") or {}
    result = DocResult(label["file"], label.get("kind", ""), record.get("status", "?"))
    result.reasons = list((record.get("classification") or {}).get("reasons") or [])
    for name in FIELDS:
        want = label.get(name)
        if want is None:
            continue
        got = doc.get(name)
        got = None if got in (None, "") else str(got)
        verdict = "blank"
        if got is not None:
            verdict = "right" if is_right(name, str(want), got) else "wrong"
        result.fields.append(FieldResult(name, str(want), got, verdict, confidences.get(name)))
    return result


def run_pipeline(files: Sequence[Path], work: Path) -> Path:
    """`sohoa digitize --out` on `files` in `work` (embedded defaults, empty database)."""
    out = work / "out"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOHOA_")}
    env["PYTHONPATH"] = str(REPO)
    proc = subprocess.run(
        [sys.executable, "-m", "cli.main", "digitize", *map(str, files), "--out", str(out)],
        cwd=work, env=env, capture_output=True, text=True,
    )  # fmt: skip
    if proc.returncode not in (0, 3):
        raise RuntimeError(f"sohoa digitize exited {proc.returncode}:\n{proc.stderr[-4000:]}")
    return out


def evaluate(labels: Iterable[dict], records: Path) -> list[DocResult]:
    results = []
    for label in labels:
        path = records / f"{label['file']}.json"
        if not path.exists():
            results.append(DocResult(label["file"], label.get("kind", ""), "missing"))
            continue
        results.append(compare(label, json.loads(path.read_text(encoding="utf-8"))))
    return results


def summary(results: Sequence[DocResult]) -> dict[str, float | int]:
    """Share right per field (of the documents that print it), wrong values among all
    labelled fields, and documents left out of review with a field not right."""
    out: dict[str, float | int] = {"documents": len(results)}
    total = wrong = 0
    for name in FIELDS:
        verdicts = [r.verdict(name) for r in results if r.verdict(name) is not None]
        out[f"{name}_right"] = round(sum(v == "right" for v in verdicts) / max(1, len(verdicts)), 3)
        out[f"{name}_wrong"] = sum(v == "wrong" for v in verdicts)
        total += len(verdicts)
        wrong += sum(v == "wrong" for v in verdicts)
    out["fields"] = total
    out["wrong_share"] = round(wrong / max(1, total), 3)
    out["in_review"] = sum(r.status == "needs_review" for r in results)
    out["unreviewed_with_fault"] = sum(
        r.status == "digitized" and any(f.verdict != "right" for f in r.fields) for r in results
    )
    return out


_MARK = {"right": "✓", "wrong": "✗", "blank": "·"}


def print_table(results: Sequence[DocResult], stats: dict[str, float | int]) -> None:
    print(f"{'file':13} {'status':13} " + " ".join(f"{n[:9]:9}" for n in FIELDS))
    for r in results:
        marks = []
        for name in FIELDS:
            verdict = r.verdict(name)
            marks.append(f"{_MARK.get(verdict or '', '-'):9}")
        print(f"{r.file:13} {r.status:13} " + " ".join(marks))
    print()
    for r in results:
        for f in r.fields:
            if f.verdict != "right":
                print(f"  {r.file} {f.field:9} {f.verdict:5} got={f.got!r} want={f.want!r}")
    print()
    print(json.dumps(stats, ensure_ascii=False))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--docs", help="folder with labels.json (default ../shared/real)")
    parser.add_argument("--records", help="compare the records an earlier run wrote here")
    parser.add_argument("--work", help="work folder for the run (default: a new temp folder)")
    parser.add_argument("--json", help="write per-document results and the summary here")
    parser.add_argument("--only", action="append", help="only this file (repeatable)")
    args = parser.parse_args(argv)
    folder = docs_folder(args.docs)
    if not (folder / "labels.json").exists():
        print(f"no real documents at {folder} (labels.json): nothing measured")
        return 0
    labels = [x for x in load_labels(folder) if not args.only or x["file"] in args.only]
    if args.records:
        records = Path(args.records)
    else:
        work = Path(args.work or tempfile.mkdtemp(prefix="sohoa-real-"))
        work.mkdir(parents=True, exist_ok=True)
        records = run_pipeline([folder / x["file"] for x in labels], work)
    results = evaluate(labels, records)
    stats = summary(results)
    print_table(results, stats)
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {"summary": stats, "documents": [asdict(r) for r in results]},
                ensure_ascii=False, indent=2,
            ),
            encoding="utf-8",
        )  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
