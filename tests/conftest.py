"""Shared fixtures: real SQLite and PostgreSQL databases, real S3 over HTTP, the folder store."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from schemas.auth import Scope
from schemas.settings import Settings
from store import ObjectStore, open_object_store, unit_of_work
from store.auth import create_token
from store.migrate import prepare_database
from tests.s3server import ACCESS_KEY, REGION, SECRET_KEY, start_moto_server
from worker.services import Services

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
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each kind (the PostgreSQL one is wiped per test)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'sohoa.db'}"
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
