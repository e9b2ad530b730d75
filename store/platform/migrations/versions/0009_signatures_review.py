"""digital signatures read from the file, and why a record is in review

Revision ID: 0009
Revises: 0008

Both are parts of the record contract (`signatures`, `review`): kept as columns of their own
so that reading a record does not load the machine's whole reading (`classification`).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("signatures", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("review", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("review")
        batch.drop_column("signatures")
