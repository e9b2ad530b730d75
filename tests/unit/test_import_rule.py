"""The rooms import one way: schemas ← ocr, classify ← store ← worker ← api, cli."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

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


@pytest.mark.parametrize("room", ROOMS)
def test_room_imports_only_rooms_below_it(room: str) -> None:
    offenders = {
        str(path.relative_to(REPO)): sorted(_imported_rooms(path) - ALLOWED[room])
        for path in (REPO / room).rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_nothing_reads_the_shared_folder_at_run_time() -> None:
    for room in ROOMS:
        for path in (REPO / room).rglob("*.py"):
            assert "../shared" not in path.read_text(encoding="utf-8"), path
