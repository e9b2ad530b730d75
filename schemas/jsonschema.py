"""Generate the published JSON Schema of the record from the models.

Run `python -m schemas.jsonschema` after changing the models; a test fails when the
committed `schemas/record.schema.json` and the models drift apart.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from schemas.record import Record

SCHEMA_PATH = Path(__file__).with_name("record.schema.json")


def record_json_schema() -> dict[str, Any]:
    schema = Record.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "/api/v1/schemas/record.json"
    return schema


def render() -> str:
    return json.dumps(record_json_schema(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    SCHEMA_PATH.write_text(render(), encoding="utf-8")
    print(f"wrote {SCHEMA_PATH.name}")
