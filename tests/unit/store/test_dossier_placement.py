"""Which dossier a scanned file goes into, at which số thứ tự: the call's dossier, a TT 05
file name `<mã hồ sơ>.<n>.pdf`, a folder named by a dossier's code; names as people count."""

from __future__ import annotations

import pytest

from store.dossiers.naming import natural_key, placement

KNOWN = {"H49.64.33.2001.160", "H49.2"}


@pytest.mark.parametrize(
    ("name", "given", "expected"),
    [
        ("H49.64.33.2001.160.12.pdf", None, ("H49.64.33.2001.160", 12)),
        ("hop-3/H49.2.4.tif", None, ("H49.2", 4)),
        ("H49.2/0003.pdf", None, ("H49.2", None)),
        ("scan.1.pdf", None, (None, None)),  # `scan` is no dossier's code
        ("H49.9.1.pdf", None, (None, None)),  # nor is H49.9
        ("lo/0001.pdf", None, (None, None)),
        ("x/H49.2.4.pdf", "H49.2", ("H49.2", 4)),
        ("x/H49.64.33.2001.160.4.pdf", "H49.2", ("H49.2", None)),  # the call's dossier wins
        ("a.pdf", "H49.7", ("H49.7", None)),
        ("tai-lieu.zip/H49.2/7.pdf", None, ("H49.2", None)),
        ("C:\\scans\\H49.2\\7.pdf", None, ("H49.2", None)),
    ],
)
def test_placement(name: str, given: str | None, expected: tuple[str | None, int | None]) -> None:
    assert placement(name, KNOWN, given) == expected


def test_names_are_ordered_as_people_count() -> None:
    names = ["10.pdf", "2.pdf", "1.pdf", "trang 2b.pdf", "Trang 2a.pdf", "001.pdf"]
    assert sorted(names, key=natural_key) == [
        "1.pdf", "001.pdf", "2.pdf", "10.pdf", "Trang 2a.pdf", "trang 2b.pdf",
    ]  # fmt: skip
