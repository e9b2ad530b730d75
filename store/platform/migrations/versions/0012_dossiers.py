"""the archive's catalogue of dossiers (mục lục hồ sơ)

Revision ID: 0012
Revises: 0011

One row per hồ sơ under its code, with its TT 05/2025 fields as JSON. Records name their
dossier by that code (`documents.dossier`), as before; an index on it makes a dossier's
documents cheap to count; `documents.dossier_ordinal` is a record's số thứ tự in it, and
`documents.split_from` says which pages of which scan a document was cut from.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.platform.models

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dossiers",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("file_code", sa.String(100), nullable=False, unique=True),
        sa.Column("unit_code", sa.String(64), sa.ForeignKey("units.code"), nullable=True),
        sa.Column("title", sa.String(1000), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", store.platform.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", store.platform.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(120), nullable=True),
    )
    op.create_index("ix_dossiers_unit_code", "dossiers", ["unit_code"])
    op.create_index("ix_documents_dossier", "documents", ["dossier"])
    op.add_column("documents", sa.Column("dossier_ordinal", sa.Integer(), nullable=True))
    op.add_column("documents", sa.Column("split_from", sa.String(300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("split_from")
        batch.drop_column("dossier_ordinal")
    op.drop_index("ix_documents_dossier", "documents")
    op.drop_index("ix_dossiers_unit_code", "dossiers")
    op.drop_table("dossiers")
