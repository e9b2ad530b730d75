"""What psycopg connects with, read from the database URL (store.platform.async_reads)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine

from store.platform.async_reads import conninfo


def test_the_url_parameters_reach_the_connection() -> None:
    engine = create_engine("postgresql+psycopg://reader@db.example:5433/archive?sslmode=require")
    info = conninfo(engine)
    for part in ("host=db.example", "port=5433", "user=reader", "dbname=archive"):
        assert part in info
    assert "sslmode=require" in info


def test_a_parameter_given_twice_is_refused_not_garbled() -> None:
    # SQLAlchemy reads ?sslmode=require&sslmode=disable as a tuple; psycopg was sent its
    # text, sslmode='(\'require\', \'disable\')', and the connection failed far from the cause
    engine = create_engine("postgresql+psycopg://u@h/db?sslmode=require&sslmode=disable")
    with pytest.raises(ValueError, match="sslmode"):
        conninfo(engine)
