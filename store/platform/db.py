"""Engine and sessions for the metadata database (SQLite embedded, PostgreSQL in production)."""

from __future__ import annotations

import select
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pydantic_core
from sqlalchemy import (
    Connection,
    CursorResult,
    Engine,
    Result,
    create_engine,
    event,
    exc,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.orm import InstrumentedAttribute, Session, SessionTransaction, sessionmaker


def make_engine(url: str) -> Engine:
    """An engine tuned for the backend: SQLite gets WAL and a busy timeout so worker
    processes can write side by side; on PostgreSQL a connection the server dropped while it
    sat in the pool is replaced before use, so a restarted server does not surface as a
    failed request or task."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"timeout": 60}, json_deserializer=pydantic_core.from_json
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=60000")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    # Enough kept-open connections for the threads of one API process or worker: beyond
    # pool_size a connection is opened and closed per use, which costs PostgreSQL a new backend
    # each time (under load that churn, not the queries, was the bottleneck).
    #
    # Planner settings (see `planner_options`) ride along with every connection.
    engine = create_engine(
        url,
        pool_size=16,
        max_overflow=16,
        connect_args={"options": planner_options(parsed.query.get("options"))},
        # JSON columns (a list page holds 50 documents) parsed by pydantic's parser, in
        # Rust: the same values as the standard library's, in 60 % of the time
        json_deserializer=pydantic_core.from_json,
    )
    event.listen(engine, "checkout", _replace_if_dropped)
    return engine


#: settings of every PostgreSQL connection, unless the URL's `options` set them
PLANNER_SETTINGS = {
    # psycopg prepares a statement on its fifth use and PostgreSQL then soon switches to a
    # generic plan, made without the parameters' values: for a list filtered by unit and type
    # that plan read far more rows (4.7 ms became 8.5 ms a page). A plan for the values at
    # hand, on the prepared statement, keeps the parse saved and the plan right. (The API's
    # record read, whose plan is the same for every id, keeps one: `store.platform.async_reads`.)
    "plan_cache_mode": "force_custom_plan",
    # The default 4.0 prices a random page read as on a spinning disk; the archive's
    # database is on SSD or in memory. With 4.0 a list filtered by unit walked the whole
    # table in updated_at order rather than the unit's own index (1.2 ms vs 0.1 ms a page).
    "random_page_cost": "1.1",
}


def planner_options(options: str | tuple[str, ...] | None) -> str:
    """The connection's `options`: those of the URL, then `PLANNER_SETTINGS` it leaves out."""
    given = " ".join([options] if isinstance(options, str) else options or ())
    added = [f"-c {k}={v}" for k, v in PLANNER_SETTINGS.items() if k not in given]
    return " ".join([given, *added]).strip()


def _replace_if_dropped(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
    """Instead of a round trip per checkout (pre-ping), look at the socket: an idle
    connection has nothing to read, unless the server closed it (a restart, a terminated
    backend, an idle timeout) or sent an unsolicited message. Either way the pool gets a new
    connection (SQLAlchemy retries the checkout on DisconnectionError)."""
    if dbapi_conn.closed or dbapi_conn.broken or _readable(dbapi_conn.fileno()):
        raise exc.DisconnectionError("connection closed by the server while idle")


def _readable(fd: int) -> bool:
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits when the block succeeds and rolls back when it raises."""
    with factory() as session, session.begin():
        yield session


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A connection for a read in one statement (a record with its pages, a list page): it
    runs and commits on its own (autocommit), so the read makes no BEGIN and COMMIT round
    trips, and no ORM session is set up and torn down around it."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        yield conn


_AFTER_COMMIT = "sohoa_after_commit"


def after_commit(session: Session, callback: Callable[[], object]) -> None:
    """Run `callback` once the session's current transaction has committed.

    Used to send Celery tasks: a worker must never look for a row that was rolled back.
    """
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    callbacks = session.info.pop(_AFTER_COMMIT, [])
    for callback in callbacks:
        callback()


@event.listens_for(Session, "after_soft_rollback")
def _drop_after_commit(session: Session, previous_transaction: SessionTransaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_AFTER_COMMIT, None)


def rowcount(result: Result[*tuple[Any, ...]]) -> int:
    """The rows an UPDATE or DELETE matched. `Session.execute` is typed as returning a `Result`;
    for these statements it is a `CursorResult`, the one that counts them."""
    if not isinstance(result, CursorResult):
        raise TypeError(f"no row count in a {type(result).__name__}: not an UPDATE or DELETE")
    return result.rowcount


def lock_row(
    session: Session,
    key: InstrumentedAttribute[Any],
    value: object,
    touch: InstrumentedAttribute[Any],
) -> None:
    """Take the write lock of the row where `key == value` before it is read, until the
    transaction ends.

    A no-op UPDATE (`touch = touch`) locks the row on PostgreSQL and takes the database's
    write lock on SQLite (which has no SELECT … FOR UPDATE), so two changes based on the same
    reading take their turns and the second sees what the first wrote.
    """
    session.execute(
        update(key.class_)
        .where(key == value)
        .values({touch: touch})
        .execution_options(synchronize_session=False)
    )
