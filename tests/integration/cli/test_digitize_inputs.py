"""`sohoa digitize` on awkward inputs: one file's failure stays that file's, every input gets
its own `--out` JSON whatever its name, and names that are not UTF-8 are read back."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from tests.data.samples import get_spec, write_digital_pdf, write_png, write_tiff
from worker.ingest import readable_name

REPO = Path(__file__).resolve().parents[3]
#: which stage fails for which file name in a run started through `FAULTY_SOHOA`
FAULTS_VARIABLE = "DIGITIZE_TEST_FAULTS"
#: `sohoa` with faults injected into the pipeline; the pool's processes (spawned) run this
#: script's top level too, so the faults reach the page work there as well
FAULTY_SOHOA = """\
from tests.integration.cli.test_digitize_inputs import install_faults

install_faults()
if __name__ == "__main__":
    from cli.main import app

    app()
"""


def sohoa(
    args: list[str], workdir: Path, *, script: Path | None = None, faults: str = ""
) -> subprocess.CompletedProcess[str]:
    """Run the command with the embedded defaults inside `workdir` (through `script` if given)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOHOA_")}
    env.update(COLUMNS="200", PYTHONPATH=str(REPO), **{FAULTS_VARIABLE: faults})
    command = [str(script)] if script else ["-m", "cli.main"]
    return subprocess.run(
        [sys.executable, *command, *args],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def install_faults() -> None:
    """Make the pipeline step named in `DIGITIZE_TEST_FAULTS` (`step=file name,…`) raise for
    that file, or end its process outright for `step=kill:file name` (as the kernel does to
    a process out of memory); the rest of the pipeline is the real one."""
    from store import unit_of_work
    from store.platform.models import DocumentRow
    from worker import pipeline

    faults = dict(
        item.split("=", 1) for item in os.environ.get(FAULTS_VARIABLE, "").split(",") if item
    )

    def filename(svc, document_id: str) -> str:  # type: ignore[no-untyped-def]
        with unit_of_work(svc.sessions) as session:
            doc = session.get(DocumentRow, document_id)
            return doc.filename if doc is not None else ""

    def faulty(step: str):  # type: ignore[no-untyped-def]
        real = getattr(pipeline, step)

        def run(svc, document_id, *args):  # type: ignore[no-untyped-def]
            name = filename(svc, document_id)
            if name == faults[step]:
                raise RuntimeError(f"injected fault in {step}")
            if "kill:" + name == faults[step]:
                os.kill(os.getpid(), signal.SIGKILL)
            return real(svc, document_id, *args)

        return run

    for step in faults:
        setattr(pipeline, step, faulty(step))


def write_truncated_tiff(path: Path) -> None:
    """A two-page LZW TIFF cut inside its second page, as an interrupted copy leaves it."""
    spec = get_spec("kh-251-ubnd")
    first = write_tiff(path, spec, dpi=150, max_pages=1, compression="tiff_lzw")
    first_size = first.path.stat().st_size
    write_tiff(path, spec, dpi=150, max_pages=2, compression="tiff_lzw")
    data = path.read_bytes()
    path.write_bytes(data[: first_size + (len(data) - first_size) // 2])


def written(out: Path) -> dict[str, dict]:
    """Every JSON below `out`, by its path relative to `out`."""
    return {
        p.relative_to(out).as_posix(): json.loads(p.read_text(encoding="utf-8"))
        for p in out.rglob("*.json")
        if p.is_file()
    }


def assert_read(record: dict) -> None:
    assert record["status"] in ("digitized", "needs_review"), record.get("error")
    assert len(record["text"] or "") > 100


# --- one file's failure --------------------------------------------------------------------


@pytest.mark.slow
def test_a_failure_at_any_stage_fails_that_file_alone(tmp_path: Path) -> None:
    work, scans = tmp_path / "work", tmp_path / "lo-hon-hop"
    work.mkdir()
    write_png(scans / "0001-tot.png", get_spec("tb-45-pnv"), dpi=200)
    write_digital_pdf(scans / "0002-tot.pdf", get_spec("cv-12-ubnd-vx"))
    write_truncated_tiff(scans / "0003-cut.tif")
    write_png(scans / "0004-start.png", get_spec("vbpl-000001"), dpi=150)
    write_png(scans / "0005-page.png", get_spec("vbpl-000007"), dpi=150)
    write_digital_pdf(scans / "0006-publish.pdf", get_spec("bc-128-ubnd-xd"))
    write_digital_pdf(scans / "0007-blocked.pdf", get_spec("qd-86-ubnd-cn1"))
    blocked = work / "out" / "0007-blocked.pdf.json"
    (blocked / "in-the-way").mkdir(parents=True)  # a folder where the JSON should go
    script = tmp_path / "faulty_sohoa.py"
    script.write_text(FAULTY_SOHOA, encoding="utf-8")
    faults = "start=0004-start.png,extract_pages=0005-page.png,publish=0006-publish.pdf"

    done = sohoa(["digitize", str(scans), "--out", "out"], work, script=script, faults=faults)

    assert done.returncode == 3, done.stderr
    records = written(work / "out")
    assert set(records) == {
        "0001-tot.png.json", "0002-tot.pdf.json", "0003-cut.tif.json", "0004-start.png.json",
        "0005-page.png.json", "0006-publish.pdf.json",
    }  # fmt: skip
    assert_read(records["0001-tot.png.json"])
    assert_read(records["0002-tot.pdf.json"])
    cut = records["0003-cut.tif.json"]
    assert cut["status"] == "failed" and cut["error"]["code"], cut
    for name in ("0004-start.png", "0005-page.png", "0006-publish.pdf"):
        record = records[f"{name}.json"]
        assert record["id"] and record["source"]["filename"] == name
        assert (record["status"], record["error"]["code"]) == ("failed", "internal_error")
        assert f"{name}: unexpected error" in done.stderr
    assert done.stderr.count("RuntimeError: injected fault") >= 3  # with their tracebacks
    assert "Traceback" in done.stderr
    # the blocked file was digitized; only its JSON is missing, and that is said
    assert blocked.is_dir() and "0007-blocked.pdf: cannot write its JSON" in done.stderr
    assert not list((work / "out").glob(".sohoa-*.tmp"))


@pytest.mark.slow
def test_a_file_that_ends_its_process_fails_alone(tmp_path: Path) -> None:
    """A pool process killed (out of memory, a decoder's crash) loses every job it and the
    pool had in flight: those run again one at a time, and only the file that ends its
    process again fails."""
    work, scans = tmp_path / "work", tmp_path / "hop"
    work.mkdir()
    write_png(scans / "0001-a.png", get_spec("tb-45-pnv"), dpi=150)
    write_png(scans / "0002-killer.png", get_spec("vbpl-000007"), dpi=150)
    write_png(scans / "0003-b.png", get_spec("vbpl-000001"), dpi=150)
    write_digital_pdf(scans / "0004-c.pdf", get_spec("cv-12-ubnd-vx"))
    script = tmp_path / "faulty_sohoa.py"
    script.write_text(FAULTY_SOHOA, encoding="utf-8")

    done = sohoa(
        ["digitize", str(scans), "--out", "out", "--workers", "2"],
        work, script=script, faults="extract_pages=kill:0002-killer.png",
    )  # fmt: skip

    assert done.returncode == 3, done.stderr
    records = written(work / "out")
    assert len(records) == 4
    for name in ("0001-a.png", "0003-b.png", "0004-c.pdf"):
        assert_read(records[f"{name}.json"])
    killer = records["0002-killer.png.json"]
    assert (killer["status"], killer["error"]["code"]) == ("failed", "internal_error")
    assert "stopped abruptly" in killer["error"]["detail"]
    assert "run again one at a time" in done.stderr


# --- names -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_inputs_sharing_a_name_get_one_json_each(tmp_path: Path) -> None:
    work, boxes = tmp_path / "work", tmp_path / "kho"
    work.mkdir()
    specs = iter(["kh-251-ubnd", "cv-12-ubnd-vx", "tb-45-pnv", "bc-128-ubnd-xd", "vbpl-000019"])
    paths = [
        boxes / "hop-12" / "0001.pdf",
        boxes / "hop-13" / "0001.pdf",
        boxes / "le" / "0001.PDF",  # a file argument: the same name to a Windows share
        boxes / "a" / "hop" / "0002.pdf",
        boxes / "b" / "hop" / "0002.pdf",  # the same folder name as well
    ]
    texts = {path: write_digital_pdf(path, get_spec(next(specs))).text for path in paths}
    args = [boxes / "hop-12", boxes / "hop-13", paths[2], boxes / "a" / "hop", boxes / "b" / "hop"]
    args.append(paths[0])  # given twice: one input

    done = sohoa(["digitize", *map(str, args), "--out", "out"], work)

    assert done.returncode == 0, done.stderr
    records = written(work / "out")
    tagged = [name for name in records if name.startswith("hop/0002~")]
    assert len(tagged) == 1 and re.fullmatch(r"hop/0002~[0-9a-f]{8}\.pdf\.json", tagged[0])
    assert set(records) == {
        "hop-12/0001.pdf.json", "hop-13/0001.pdf.json", "le/0001.PDF.json",
        "hop/0002.pdf.json", tagged[0],
    }  # fmt: skip
    expected = {
        "hop-12/0001.pdf.json": texts[paths[0]],
        "hop-13/0001.pdf.json": texts[paths[1]],
        "le/0001.PDF.json": texts[paths[2]],
        "hop/0002.pdf.json": texts[paths[3]],
        tagged[0]: texts[paths[4]],
    }
    for name, text in expected.items():
        assert_read(records[name])
        assert records[name]["text"].split() == text.split(), name
    assert len({record["id"] for record in records.values()}) == 5
    assert "hop-12/0001.pdf" in done.stderr and "hop-13/0001.pdf" in done.stderr  # the table


def _long_name(size: int, tail: str) -> str:
    """A Vietnamese title used as a file name, `size` bytes of UTF-8 with `tail`."""
    head = "Quyết định về việc phê duyệt kế hoạch số hoá tài liệu lưu trữ "
    filler = "x" * (size - len(head.encode("utf-8")) - len(tail.encode("utf-8")))
    return head + filler + tail


@pytest.mark.slow
def test_long_and_legacy_names_get_their_json(tmp_path: Path) -> None:
    work, scans = tmp_path / "work", tmp_path / "scans"
    work.mkdir()
    cp1258 = os.fsdecode(b"Quy\xea\xect \xf0i\xf2nh.pdf")  # "Quyết định" from an old share
    broken = os.fsdecode(b"h\x81s\x8d.pdf")  # not even cp1258
    nfd = unicodedata.normalize("NFD", "Tờ trình số 7.pdf")
    longest, long_251 = _long_name(255, "a.pdf"), _long_name(251, "b.pdf")
    names = [cp1258, broken, nfd, longest, long_251]
    specs = ["kh-251-ubnd", "cv-12-ubnd-vx", "tb-45-pnv", "bc-128-ubnd-xd", "vbpl-000019"]
    for name, key in zip(names, specs, strict=True):
        write_digital_pdf(scans / name, get_spec(key))

    done = sohoa(["digitize", str(scans), "--out", "out"], work)

    assert done.returncode == 0, done.stderr
    records = written(work / "out")
    assert len(records) == 5
    by_source = {record["source"]["filename"]: name for name, record in records.items()}
    assert by_source["Quyết định.pdf"] == "Quyết định.pdf.json"
    assert by_source["h\ufffds\ufffd.pdf"] == "h\ufffds\ufffd.pdf.json"
    assert by_source["Tờ trình số 7.pdf"] == "Tờ trình số 7.pdf.json"  # NFC
    for full in (longest, long_251):
        shortened = by_source[full]  # the record keeps the whole name
        assert len(shortened.encode("utf-8")) == 255
        assert re.fullmatch(r"Quyết định về việc .*x~[0-9a-f]{8}\.pdf\.json", shortened)
    for name, record in records.items():
        assert_read(record)
        assert unicodedata.is_normalized("NFC", name + record["source"]["filename"])
    assert "Quyết định.pdf" in done.stderr  # the summary shows the name read back


@pytest.mark.parametrize(
    ("raw", "read"),
    [
        ("Quyết định.pdf".encode(), "Quyết định.pdf"),
        (b"Quy\xea\xect \xf0i\xf2nh.pdf", "Quyết định.pdf"),  # cp1258, tone marks combining
        (b"Quy\xea\xf4t-\xf0inh.png", "Quyêôt-đinh.png"),
        ("hộp 12/".encode() + b"\xf0i\xf2nh.pdf", "hộp 12/định.pdf"),  # each part on its own
        (b"h\x81s\x8d.pdf", "h\ufffds\ufffd.pdf"),  # one replacement per byte
        (unicodedata.normalize("NFD", "Tờ trình").encode(), "Tờ trình"),
    ],
)
def test_file_system_names_are_read_back(raw: bytes, read: str) -> None:
    assert readable_name(os.fsdecode(raw)) == read
    assert readable_name("x\ud800y") == "x\ufffdy"  # a surrogate with no byte behind it
