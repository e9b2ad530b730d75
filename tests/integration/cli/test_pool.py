"""The PostgreSQL pool: a connection the server dropped is replaced before it is used, and a
healthy one costs no extra round trip to check out."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text

from store.platform.db import make_engine


@pytest.fixture
def engine(pg_server: str) -> Iterator[Engine]:
    engine = make_engine(pg_server)
    yield engine
    engine.dispose()


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(url: str, pid: int) -> None:
    """Terminate a backend and wait until it is gone, as a server restart would."""
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:p, 10000)"), {"p": pid})
    admin.dispose()


def test_a_connection_dropped_by_the_server_is_replaced(engine: Engine, pg_server: str) -> None:
    first = _backend_pid(engine)
    _terminate(pg_server, first)
    assert _backend_pid(engine) != first  # no error: the pool connected again


def test_a_healthy_connection_is_not_pinged(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings: list[object] = []
    monkeypatch.setattr(engine.dialect, "do_ping", lambda conn: pings.append(conn) or True)
    pids = {_backend_pid(engine) for _ in range(5)}
    assert len(pids) == 1  # the same kept-open connection every time
    assert pings == []


def test_statements_are_planned_for_their_values(engine: Engine) -> None:
    """A prepared statement must not fall back to a generic plan (one made without the
    parameters' values: far slower for a list filtered by a unit and a type)."""
    with engine.connect() as conn:
        assert conn.execute(text("SHOW plan_cache_mode")).scalar_one() == "force_custom_plan"


def test_options_given_in_the_url_are_kept(pg_server: str) -> None:
    separator = "&" if "?" in pg_server else "?"
    engine = make_engine(pg_server + separator + "options=-c%20statement_timeout%3D4321")
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SHOW statement_timeout")).scalar_one() == "4321ms"
            assert conn.execute(text("SHOW plan_cache_mode")).scalar_one() == "force_custom_plan"
    finally:
        engine.dispose()


def test_random_reads_are_priced_for_ssd(engine: Engine) -> None:
    with engine.connect() as conn:
        assert conn.execute(text("SHOW random_page_cost")).scalar_one() == "1.1"
