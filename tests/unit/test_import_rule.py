"""The rooms import one way: schemas ← ocr, classify ← store ← worker ← api, cli."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ROOMS = ["schemas", "ocr", "classify", "store", "worker", "api", "cli"]
#: what each room may import of ours (itself included)
ALLOWED = {
    "schemas": {"schemas"},
    "ocr": {"schemas", "ocr"},
    "classify": {"schemas", "classify"},
    "store": {"schemas", "ocr", "classify", "store"},
    "worker": {"schemas", "ocr", "classify", "store", "worker"},
    "api": {"schemas", "ocr", "classify", "store", "worker", "api"},
    "cli": {"schemas", "ocr", "classify", "store", "worker", "api", "cli"},
}


def _imported_rooms(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found |= {name.split(".")[0] for name in names} & set(ROOMS)
    return found


def test_import_contracts_hold() -> None:
    """import-linter's contracts in pyproject.toml, also run by `make test`; here so that a
    plain `pytest` run sees a broken arrow."""
    result = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "Contracts: " in result.stdout and " 0 broken" in result.stdout, result.stdout[-3000:]
    assert result.returncode == 0, result.stderr[-2000:]


def test_nothing_reads_the_shared_folder_at_run_time() -> None:
    for room in ROOMS:
        for path in (REPO / room).rglob("*.py"):
            assert "../shared" not in path.read_text(encoding="utf-8"), path
