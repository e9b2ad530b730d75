"""uploads counted per account for its quotas; webhook delivery ids never given twice

Revision ID: 0011
Revises: 0010

The quotas count an account's documents through the batches it created, so batches get an
index by creator and time. A receiver deduplicates webhooks on `X-Sohoa-Delivery`; SQLite
gives a deleted row's id to the next row unless the table is AUTOINCREMENT, so the deliveries
table is rebuilt so on SQLite (PostgreSQL's sequences never go back).
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_batches_created_by_at", "batches", ["created_by", "created_at"])
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table(
            "webhook_deliveries", recreate="always", table_kwargs={"sqlite_autoincrement": True}
        ):
            pass


def downgrade() -> None:
    op.drop_index("ix_batches_created_by_at", "batches")
