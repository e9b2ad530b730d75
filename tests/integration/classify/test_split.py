"""A dossier scanned as one PDF: cut where each document begins (generated dossiers of 2–15
degraded documents, boundary F1 ≥ 0.95), each part its own record in review."""

from __future__ import annotations

import os
import random
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.data.split_eval import evaluate, make_dossier
from tests.integration.cli.test_cli import REPO

pytestmark = pytest.mark.slow


def test_boundaries_of_generated_dossiers(tmp_path: Path) -> None:
    rng = random.Random(7)
    dossiers = [make_dossier(tmp_path, i, rng) for i in range(3)]
    figures = evaluate(dossiers)
    assert figures["boundaries"] >= 10
    assert figures["f1"] >= 0.95, figures


def test_digitize_split_makes_a_record_per_document(tmp_path: Path) -> None:
    dossier = make_dossier(tmp_path, 0, random.Random(3))
    scan = tmp_path / "in" / "hop-12.pdf"
    scan.parent.mkdir()
    dossier.path.rename(scan)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOHOA_")}
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "digitize", str(scan.parent), "--split",
         "--dossier", "H49.12"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode in (0, 3), done.stderr
    with sqlite3.connect(tmp_path / "var" / "sohoa.db") as db:
        rows = db.execute(
            "SELECT filename, dossier_ordinal, split_from, status, review FROM documents "
            "ORDER BY dossier_ordinal"
        ).fetchall()
    assert len(rows) == len(dossier.starts)
    firsts = [int(re.search(r"\.p(\d+)-\d+\.pdf$", name)[1]) for name, *_ in rows]  # type: ignore[index]
    assert firsts == dossier.starts  # cut where the generated documents begin
    assert [ordinal for _, ordinal, *_ in rows] == list(range(1, len(rows) + 1))
    for name, _, split_from, status, review in rows:
        assert split_from.endswith("of hop-12.pdf") and status == "needs_review", name
        assert "split_check" in review
