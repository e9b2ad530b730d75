"""Shared fixtures: real SQLite and PostgreSQL databases, real S3 over HTTP, the folder store."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from schemas.auth import Scope
from schemas.settings import Settings
from store import ObjectStore, open_object_store, unit_of_work
from store.accounts.auth import create_token
from store.bootstrap import prepare_database
from store.platform.db import make_engine
from store.platform.migrate import alembic_config
from store.services import Services
from tests.s3server import ACCESS_KEY, REGION, SECRET_KEY, start_moto_server

#: the PostgreSQL server of the development and CI machines (trust auth)
PG_ADMIN_URL = os.environ.get(
    "SOHOA_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("SOHOA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    name = f"sohoa_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # a missing server is a broken set-up, not a reason to skip
        pytest.fail(f"PostgreSQL is needed at {PG_ADMIN_URL} (make test starts it): {exc}")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with admin.connect() as conn:
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": name},
        )
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def _reset_pg(url: str) -> None:
    """Drop everything: the database is empty, as before the first migration."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


_HEAD = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def _clear_pg(url: str) -> None:
    """Empty every table of a database already at the newest revision (much faster than
    migrating again); anything else is dropped and migrated by the test's services."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        tables = (
            conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
            .scalars()
            .all()
        )
        version = None
        if "alembic_version" in tables:
            version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    engine.dispose()
    if version != _HEAD:
        _reset_pg(url)
        return
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        names = ", ".join(f'"{t}"' for t in tables if t != "alembic_version")
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database at the newest revision, copied for each test that needs one."""
    path = tmp_path_factory.mktemp("template") / "sohoa.db"
    engine = make_engine(f"sqlite:///{path}")
    prepare_database(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database of each kind with the schema and nothing else in it (the PostgreSQL one is
    emptied per test)."""
    if request.param == "sqlite":
        path = tmp_path / "sohoa.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("pg_server")
    _clear_pg(url)
    return url


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database of each kind without even the schema: for tests of the migrations."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    url = request.getfixturevalue("pg_server")
    _reset_pg(url)
    return url


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    server, endpoint = start_moto_server()
    yield endpoint
    server.stop()


def s3_store(endpoint: str, bucket: str | None = None) -> ObjectStore:
    return open_object_store(
        f"s3://{endpoint}/{bucket or 'sohoa-' + uuid.uuid4().hex[:8]}",
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
        region=REGION,
    )


@pytest.fixture(params=["folder", "s3"])
def storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "folder":
        return f"file://{tmp_path / 'objects'}"
    endpoint = request.getfixturevalue("s3_endpoint")
    return f"s3://{endpoint}/sohoa-{uuid.uuid4().hex[:8]}"


def make_services(database_url: str, storage_url: str, **overrides: object) -> Services:
    settings = Settings(
        database_url=database_url,
        storage_url=storage_url,
        s3_access_key=ACCESS_KEY,
        s3_secret_key=SECRET_KEY,
        s3_region=REGION,
        **overrides,  # type: ignore[arg-type]
    )
    svc = Services.from_settings(settings)
    prepare_database(svc.engine)
    return svc


@pytest.fixture
def svc(database_url: str, tmp_path: Path) -> Iterator[Services]:
    """Services on each database kind with the folder store."""
    services = make_services(database_url, f"file://{tmp_path / 'objects'}")
    yield services
    services.close()


ALL_SCOPES = tuple(s.value for s in Scope)


def bearer(svc: Services, *scopes: str, units: list[str] | None = None) -> dict[str, str]:
    """Headers of a new service token with `scopes` (default: every scope)."""
    with unit_of_work(svc.sessions) as session:
        token, _ = create_token(
            session, f"test-{uuid.uuid4().hex[:6]}", scopes or ALL_SCOPES, units=units
        )
    return {"Authorization": f"Bearer {token}"}
