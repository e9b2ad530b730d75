"""keyset index of the record list filtered by unit and document type

Revision ID: 0006
Revises: 0005

The list filtered by a unit and a type (the usual question: this office's plans, decisions…)
had no index giving both in the list's order: PostgreSQL combined the unit's and the type's
rows in a bitmap and sorted them, thousands of rows for a page of 50. With
`(unit_code, doc_type, updated_at, id)` it reads the page in order and stops.
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_NAME = "ix_documents_unit_type_updated_at_id"


def upgrade() -> None:
    op.create_index(_NAME, "documents", ["unit_code", "doc_type", "updated_at", "id"])


def downgrade() -> None:
    op.drop_index(_NAME, table_name="documents")
