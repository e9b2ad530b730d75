"""drop the index on updated_at alone

Revision ID: 0007
Revises: 0006

`(updated_at, id)` serves every query `(updated_at)` did, and serves the list's order whole.
With both, PostgreSQL took the plain one for a list filtered by unit: it walked thousands of
rows of other units in updated_at order and sorted the page's ties again (1.3 ms a page)
instead of reading the unit's 51 rows from `(unit_code, updated_at, id)` (0.1 ms).
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_NAME = "ix_documents_updated_at"


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch_op:
        batch_op.drop_index(_NAME)


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch_op:
        batch_op.create_index(_NAME, ["updated_at"], unique=False)
