"""`store.reading`: a read's connection runs its statements without a transaction around
them, and goes back to the pool as it was found."""

from __future__ import annotations

from sqlalchemy import insert, select, text

from store import make_engine, make_session_factory, reading, unit_of_work
from store.bootstrap import prepare_database
from store.platform.models import AuditRow, utcnow


def test_a_read_commits_each_statement_and_leaves_the_pool_as_it_was(database_url: str) -> None:
    engine = make_engine(database_url)
    prepare_database(engine)
    sessions = make_session_factory(engine)
    try:
        with reading(engine) as conn:
            conn.execute(text("SELECT 1"))
            if engine.dialect.name == "postgresql":  # no transaction open between statements
                status = conn.connection.driver_connection.info.transaction_status
                assert status.name == "IDLE"
            conn.execute(
                insert(AuditRow), {"at": utcnow(), "actor": "token:t", "action": "record.read"}
            )
            # another connection sees the line before this one is given back
            with unit_of_work(sessions) as other:
                assert other.scalar(select(AuditRow.actor).where(AuditRow.actor == "token:t"))
        with unit_of_work(sessions) as session:  # the next user of the pool has a transaction
            session.execute(text("SELECT 1"))
            if engine.dialect.name == "postgresql":
                status = session.connection().connection.driver_connection.info.transaction_status
                assert status.name == "INTRANS"
    finally:
        engine.dispose()
