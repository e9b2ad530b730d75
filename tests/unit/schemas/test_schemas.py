"""The contracts: the published JSON Schema follows the models; vocabularies load."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from schemas import ERROR_MESSAGES, ErrorCode, Record, Status
from schemas.jsonschema import SCHEMA_PATH, render
from schemas.vocab import default_units, document_types


def test_committed_json_schema_matches_the_models() -> None:
    assert SCHEMA_PATH.read_text(encoding="utf-8") == render(), (
        "schemas/record.schema.json is stale: run `make schema`"
    )


def test_every_error_code_has_vietnamese_and_english_messages() -> None:
    for code in ErrorCode:
        vi, en = ERROR_MESSAGES[code]
        assert vi and en and vi != en


def test_document_types_follow_the_vocabulary() -> None:
    types = document_types()
    assert types["ke_hoach"].abbreviation == "KH"
    assert types["ke_hoach"].archive_code == "10"
    assert types["cong_van"].abbreviation is None
    assert "khac" in types
    assert all(t.code.isascii() for t in types.values())


def test_default_units_form_a_tree() -> None:
    units = {u.code: u for u in default_units()}
    assert units["quan-bac-tu-liem"].parent is None
    assert units["phuong-co-nhue-1"].parent == "quan-bac-tu-liem"
    assert all(u.parent in units for u in units.values() if u.parent)


def _record(**changes: object) -> dict:
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC).isoformat()
    data: dict = {
        "id": "01JABCDEFGHJKMNPQRSTVWXYZ0",
        "status": "digitized",
        "source": {
            "filename": "a.pdf",
            "sha256": "a" * 64,
            "media_type": "application/pdf",
            "size": 10,
            "pages": 1,
        },
        "created_at": now,
        "updated_at": now,
    }
    data.update(changes)
    return data


def test_record_round_trips_and_unknown_fields_are_null() -> None:
    record = Record.model_validate(_record())
    dumped = json.loads(record.model_dump_json())
    assert dumped["document"]["type"] is None
    assert dumped["document"]["issued_on"] is None
    assert dumped["archive"]["confidence_level"] == "02"
    assert Record.model_validate(dumped) == record
    assert record.status is Status.digitized


@pytest.mark.parametrize(
    "bad",
    [
        {"status": "done"},
        {"surprise": 1},
        {"source": {"filename": "a", "sha256": "xyz", "media_type": None, "size": 1}},
    ],
)
def test_record_rejects_what_the_contract_does_not_allow(bad: dict) -> None:
    with pytest.raises(ValidationError):
        Record.model_validate(_record(**bad))
