"""`sohoa digitize` on folders, as a person runs it: exit codes, --out files, the summary."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from schemas import Record, Status
from tests.data.samples import (
    cer,
    get_spec,
    write_bad_files,
    write_digital_pdf,
    write_png,
    write_scanned_pdf,
)

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[3]


def sohoa(args: list[str], workdir: Path) -> subprocess.CompletedProcess[str]:
    """Run the installed command with the embedded defaults inside `workdir`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOHOA_")}
    env["COLUMNS"] = "160"
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


@pytest.fixture
def scans(tmp_path: Path) -> Path:
    root = tmp_path / "scans"
    write_scanned_pdf(root / "hop12" / "0001.pdf", get_spec("kh-251-ubnd"), max_pages=1)
    write_digital_pdf(root / "hop12" / "0002.pdf", get_spec("cv-12-ubnd-vx"))
    write_png(root / "hop13" / "0001.png", get_spec("tb-45-pnv"))
    (root / "hop13" / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    return root


def test_folder_with_out_writes_one_record_per_input(scans: Path, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    bad = write_bad_files(tmp_path / "bad")
    bad["corrupt.pdf"].rename(scans / "hop13" / "0002.pdf")

    done = sohoa(["digitize", str(scans), "--unit", "phuong-co-nhue-1", "--out", "out"], work)
    assert done.returncode == 3, done.stderr  # one file failed
    assert "corrupt_pdf" in done.stderr and "Tệp PDF bị hỏng" in done.stderr
    assert "trang/phút" in done.stderr

    out = work / "out"
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.json"))
    assert written == [
        "hop12/0001.pdf.json", "hop12/0002.pdf.json", "hop13/0001.png.json", "hop13/0002.pdf.json",
    ]  # fmt: skip
    records = {name: Record.model_validate_json((out / name).read_text()) for name in written}
    failed = records["hop13/0002.pdf.json"]
    assert failed.status is Status.failed and failed.error and failed.error.code == "corrupt_pdf"
    for name in ("hop12/0001.pdf.json", "hop12/0002.pdf.json", "hop13/0001.png.json"):
        record = records[name]
        assert record.status is Status.digitized and record.unit == "phuong-co-nhue-1"
        assert record.text and cer_ok(record)
    # the embedded defaults: SQLite and the local folder, under ./var
    assert (work / "var" / "sohoa.db").exists()
    stored = work / "var" / "objects" / "records" / records["hop12/0001.pdf.json"].id
    assert {"record.json", "text.txt", "searchable.pdf"} <= {p.name for p in stored.iterdir()}


def cer_ok(record: Record) -> bool:
    return len(record.text or "") > 200 and "\f" not in (record.pages[0].text or "")


def test_second_run_reports_duplicates_and_succeeds(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    sample = write_digital_pdf(tmp_path / "in" / "a.pdf", get_spec("bc-128-ubnd-xd"))
    first = sohoa(["digitize", str(sample.path), "--out", "out1"], work)
    assert first.returncode == 0, first.stderr
    second = sohoa(["digitize", str(sample.path), "--out", "out2"], work)
    assert second.returncode == 0, second.stderr
    assert "trùng" in second.stderr
    one = json.loads((work / "out1" / "a.pdf.json").read_text())
    two = json.loads((work / "out2" / "a.pdf.json").read_text())
    assert one["id"] == two["id"]
    assert cer(sample.text, one["text"]) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["digitize", "does-not-exist.pdf"], "not found"),
        (["digitize", "empty-folder"], "no files"),
        (["digitize", "--unit", "no-such-unit", "x.pdf"], "unknown unit"),
        (["digitize"], ""),
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "x.pdf").write_bytes(b"%PDF-1.4\n%%EOF")
    (tmp_path / "empty-folder").mkdir()
    done = sohoa(args, tmp_path)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr


def test_correct_a_record_from_the_command_line(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    sample = write_digital_pdf(tmp_path / "in" / "a.pdf", get_spec("qd-86-ubnd-cn1"))
    assert sohoa(["digitize", str(sample.path), "--out", "out"], work).returncode == 0
    record_id = json.loads((work / "out" / "a.pdf.json").read_text())["id"]
    done = sohoa(["records", "correct", record_id, "subject=Về việc thành lập Tổ công tác"], work)
    assert done.returncode == 0, done.stderr
    shown = json.loads(sohoa(["records", "show", record_id], work).stdout)
    assert shown["document"]["subject"] == "Về việc thành lập Tổ công tác"
    stored = work / "var" / "objects" / "records" / record_id / "record.json"
    assert json.loads(stored.read_text())["document"]["subject"] == "Về việc thành lập Tổ công tác"
    bad = sohoa(["records", "correct", record_id, "issued_on=2023-06-31"], work)
    assert bad.returncode == 2 and "invalid value" in bad.stderr  # a 31 June is not a date
    assert sohoa(["records", "correct", "nope", "number=1/QĐ"], work).returncode == 2
