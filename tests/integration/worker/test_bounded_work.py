"""Bombs and poison files: a 1 KB PDF or image fails its file with a clear code while the
worker's memory stays under 500 MB; work that keeps killing its worker process is refused
after `max_crashes` starts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from schemas import Record
from store import unit_of_work
from store.records.attempts import begin_attempt, end_attempt
from store.services import Services
from tests.integration.cli.test_cli import REPO

pytestmark = pytest.mark.slow


def _bombs(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    pdf = folder / "trang-khong-lo.pdf"  # a page 35 km square, 600 bytes
    with pikepdf.new() as doc:
        doc.add_blank_page()
        doc.pages[0].obj.MediaBox = [0, 0, 99_999_999, 99_999_999]
        doc.save(pdf, compress_streams=True)
    png = folder / "anh-15000.png"  # 225 Mpx of white in a few tens of KB
    Image.new("1", (15_000, 15_000), 1).save(png, optimize=True)
    return {"pdf": pdf, "png": png}


def test_bombs_fail_their_file_and_memory_stays_bounded(tmp_path: Path) -> None:
    bombs = _bombs(tmp_path / "in")
    assert bombs["pdf"].stat().st_size < 2048 and bombs["png"].stat().st_size < 100_000
    work = tmp_path / "work"
    work.mkdir()
    # run `sohoa digitize` and report the largest resident size of the processes it ran; this
    # small runner forks it, as Linux keeps a forked process's high-water mark across exec
    runner = textwrap.dedent(
        f"""
        import resource, subprocess, sys
        done = subprocess.run([sys.executable, "-m", "cli.main", "digitize",
                               {str(tmp_path / "in")!r}, "--out", "out"], cwd={str(work)!r})
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        print(done.returncode, peak // 1024)
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOHOA_")}
    env["PYTHONPATH"] = str(REPO)
    out = subprocess.run(
        [sys.executable, "-c", runner], env=env, capture_output=True, text=True, timeout=600
    )
    code, peak_mb = (int(v) for v in out.stdout.split()[-2:])
    assert code == 3, out.stderr[-3000:]  # the files failed, the run did not
    assert peak_mb < 500, peak_mb
    for path in bombs.values():
        record = Record.model_validate(
            json.loads((work / "out" / f"{path.name}.json").read_text(encoding="utf-8"))
        )
        assert record.error is not None and record.error.code == "image_too_large", record


DIE_IN_THE_MIDDLE = """
import os, sys
from schemas.settings import Settings
from store.services import Services
from store import unit_of_work
from store.records.attempts import begin_attempt
svc = Services.from_settings(Settings(database_url=sys.argv[1], storage_url=sys.argv[2]))
with unit_of_work(svc.sessions) as session:
    allowed = begin_attempt(session, sys.argv[3], "extract:1-2", 3)
print("allowed" if allowed else "refused", flush=True)
os._exit(9)  # killed while working: no end is ever recorded
"""


def test_work_that_kills_its_process_is_refused_after_the_limit(svc: Services) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    argv = [sys.executable, "-c", DIE_IN_THE_MIDDLE, svc.settings.database_url,
            svc.settings.storage_url, "01POISON0000000000000000AA"]  # fmt: skip
    seen = [subprocess.run(argv, env=env, capture_output=True, text=True).stdout.strip()
            for _ in range(4)]  # fmt: skip
    assert seen == ["allowed", "allowed", "allowed", "refused"]
    with unit_of_work(svc.sessions) as session:  # other work on other documents goes on
        assert begin_attempt(session, "01GOOD00000000000000000000", "extract:1-2", 3)
        end_attempt(session, "01GOOD00000000000000000000", "extract:1-2")
    with unit_of_work(svc.sessions) as session:  # work that ends is never counted
        for _ in range(5):
            assert begin_attempt(session, "01GOOD00000000000000000000", "publish", 3)
            end_attempt(session, "01GOOD00000000000000000000", "publish")
