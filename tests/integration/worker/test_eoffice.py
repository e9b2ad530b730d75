"""E-office PDFs through `sohoa digitize`: the number and the day that only signature widgets
draw reach the record, the page text and the search text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from schemas import Record, Status
from tests.data.eoffice import write_eoffice_pdf
from tests.data.specs import get_spec
from tests.integration.cli.test_cli import sohoa

pytestmark = pytest.mark.slow


def test_number_and_day_drawn_by_widgets_are_read(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    specs = {"ke-hoach.pdf": get_spec("kh-251-ubnd"), "cong-van.pdf": get_spec("cv-12-ubnd-vx")}
    for name, spec in specs.items():
        write_eoffice_pdf(inbox / name, spec)
    work = tmp_path / "work"
    work.mkdir()
    done = sohoa(["digitize", str(inbox), "--out", "out"], work)
    assert done.returncode in (0, 3), done.stderr
    for name, spec in specs.items():
        record = Record.model_validate(json.loads((work / "out" / f"{name}.json").read_text()))
        assert record.status in (Status.digitized, Status.needs_review)
        assert record.document.number == spec.number, name
        assert record.document.issued_on == spec.issued_on, name
        number = spec.number.split("/")[0]
        assert number in (record.pages[0].text or ""), name
