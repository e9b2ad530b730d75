"""full-text search index; keyset indexes of the record list

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 10:00:00.000000

PostgreSQL: `search_docs` with three tsvectors (stream, metadata, exact forms) written by
`store.search`, and a GIN index on the stream. SQLite: `search_docs` (a rowid per record) and
the FTS5 table `search_fts`. Both: indexes for the list's order `(updated_at, id)`, alone and
after a unit or a status. Records already digitized are indexed (`store.search.index.reindex_all`).
Neither `unaccent` nor `pg_trgm` is used: folding is done in Python, the same for both
databases.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy.orm import Session

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_LIST_INDEXES = {
    "ix_documents_updated_at_id": ["updated_at", "id"],
    "ix_documents_unit_updated_at_id": ["unit_code", "updated_at", "id"],
    "ix_documents_status_updated_at_id": ["status", "updated_at", "id"],
}


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(
            "CREATE TABLE search_docs ("
            " document_id VARCHAR(26) PRIMARY KEY REFERENCES documents (id) ON DELETE CASCADE,"
            " tsv tsvector NOT NULL,"
            " meta tsvector NOT NULL,"
            " exact tsvector NOT NULL)"
        )
        op.execute(
            "CREATE INDEX ix_search_docs_tsv ON search_docs USING gin (tsv) WITH (fastupdate = off)"
        )
    else:
        op.execute(
            "CREATE TABLE search_docs ("
            " id INTEGER PRIMARY KEY,"
            " document_id VARCHAR(26) NOT NULL UNIQUE"
            " REFERENCES documents (id) ON DELETE CASCADE)"
        )
        op.execute(
            "CREATE VIRTUAL TABLE search_fts USING fts5("
            "meta, stream, tail, exact, tokenize = 'ascii', columnsize = 0)"
        )
    for name, columns in _LIST_INDEXES.items():
        op.create_index(name, "documents", columns)

    from store.search.index import reindex_all  # the index format is the code's

    session = Session(bind=bind)
    try:
        reindex_all(session)
        session.flush()
    finally:
        session.close()


def downgrade() -> None:
    for name in _LIST_INDEXES:
        op.drop_index(name, table_name="documents")
    if op.get_bind().dialect.name != "postgresql":
        op.execute("DROP TABLE IF EXISTS search_fts")
    op.execute("DROP TABLE IF EXISTS search_docs")
