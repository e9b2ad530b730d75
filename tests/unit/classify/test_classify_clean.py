"""The targets on clean text: every generated, hand-written and corpus document, from its
drawn lines without and with word boxes (`python -m tests.data.classify_eval` prints the
table)."""

from __future__ import annotations

import pytest

from tests.data.classify_eval import all_specs, evaluate

TARGETS = {"type": 0.98, "number": 0.95, "issued_on": 0.95, "issuer": 0.90, "signer": 0.90}


@pytest.fixture(scope="module")
def specs():
    return all_specs(120)


@pytest.mark.parametrize("name", ["truth", "truth-boxes"])
def test_targets_on_clean_text(specs, name: str) -> None:
    report = evaluate(name, specs)
    for field, target in TARGETS.items():
        assert report["fields"][field]["accuracy"] >= target, (field, report["fields"][field])
    assert report["subject_cer"] <= 0.03
    assert report["wrong_non_null"] <= 0.01
    for mark in ("secrecy", "urgency"):  # all found, none invented
        assert report["fields"][mark]["accuracy"] == 1.0
        assert report["fields"][mark]["extra"] == 0


def test_review_is_asked_for_what_was_left_blank(specs) -> None:
    report = evaluate("truth", specs)
    for key, outcome, result in report["details"]:
        blank = any(outcome[f] == "ok-null" for f in ("number", "issued_on"))
        if blank:
            assert result.needs_review, key
