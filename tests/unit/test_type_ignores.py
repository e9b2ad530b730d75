"""A `# type: ignore` says which error it silences and why: a reason after it, or a comment
on the line above. Without one, the next reader cannot tell a library's missing annotations
from a bug that was hushed."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ROOMS = ("api", "worker", "ocr", "classify", "store", "schemas", "cli")
_IGNORE = re.compile(r"#\s*type:\s*ignore(?P<code>\[[a-z0-9_,\- ]+\])?(?P<rest>.*)$")


def _unexplained(path: Path) -> list[str]:
    found = []
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        match = _IGNORE.search(line)
        if match is None:
            continue
        above = lines[number - 2].strip() if number > 1 else ""
        reason = match["rest"].strip().lstrip("#").strip() or above.startswith("#")
        if not match["code"] or not reason:
            found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    return found


def test_every_type_ignore_names_its_error_and_its_reason() -> None:
    problems = [
        problem
        for room in ROOMS
        for path in sorted((ROOT / room).rglob("*.py"))
        for problem in _unexplained(path)
    ]
    assert not problems, "\n".join(problems)
