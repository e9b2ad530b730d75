"""pieces of work on a document that started and did not end: poison files are counted

Revision ID: 0010
Revises: 0009

A row is written (and its `starts` raised) before a worker starts a piece of work and deleted
when it ends, however it ends; a row left behind is a process that died doing it. After
`SOHOA_MAX_CRASHES` such deaths the document fails with `worker_crashed`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.platform.models

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_attempts",
        sa.Column("document_id", sa.String(26), primary_key=True),
        sa.Column("job", sa.String(40), primary_key=True),
        sa.Column("starts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("started_at", store.platform.models.UTCDateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("job_attempts")
