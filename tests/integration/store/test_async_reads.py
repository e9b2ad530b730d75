"""`store.platform.async_reads`: the record read from the event loop gives exactly what the threaded
read gives, survives a connection the server dropped, and never waits for a connection."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine, text

from schemas.auth import Principal, Scope
from schemas.record import Record, Status
from store import reading, unit_of_work
from store.platform.async_reads import AsyncReads
from store.platform.models import DocumentRow, PageRow
from store.platform.steps import Read, Steps
from store.records.listing import RecordFilters, list_page_json, list_records_json
from store.records.reads import record_data, record_rows, record_steps
from store.services import Services
from tests.conftest import _clear_pg, make_services

UNIT = "phuong-co-nhue-1"


@pytest.fixture
def pg_svc(pg_server: str, tmp_path: Path) -> Iterator[Services]:
    """Services on PostgreSQL only: what is tested there is the server's side."""
    _clear_pg(pg_server)
    services = make_services(pg_server, f"file://{tmp_path / 'objects'}")
    yield services
    services.close()


def _add(svc: Services, doc_id: str, pages: list[str], status: str = "digitized") -> None:
    with unit_of_work(svc.sessions) as session:
        session.add(
            DocumentRow(
                id=doc_id,
                unit_code=UNIT,
                filename="Quyết định số 86.pdf",
                sha256=hashlib.sha256(doc_id.encode()).hexdigest(),
                media_type="application/pdf",
                size=1234,
                page_count=len(pages),
                status=status,
                error_code="ocr_failed" if status == "failed" else None,
                document={"type": "quyet_dinh", "subject": "Về việc phê duyệt kế hoạch đất đai"},
                archive={"mode": "01"},
                created_at=datetime(2024, 3, 1, 8, 30, 15, 123456, tzinfo=UTC),
                updated_at=datetime(2024, 3, 2, 9, 0, 0, 654321, tzinfo=UTC),
            )
        )
        session.flush()
        for number, page_text in enumerate(pages, 1):
            session.add(
                PageRow(
                    document_id=doc_id,
                    number=number,
                    text=page_text,
                    method="ocr",
                    confidence=0.93,
                    rotation=0,
                    skew=-0.4,
                    has_hocr=True,
                )
            )


def _threaded(svc: Services, doc_id: str) -> Record | None:
    with reading(svc.engine) as conn:
        found = record_rows(conn, doc_id)
    return None if found is None else Record.model_validate(record_data(*found))


def _from_loop(reads: AsyncReads, doc_id: str) -> Record | None:
    found = asyncio.run(reads.run(record_steps(doc_id)))
    return None if found is None else Record.model_validate(record_data(*found))


def test_the_record_is_the_same_as_the_threaded_read(svc: Services) -> None:
    _add(svc, "01J0000000000000000000000A", ["Trang một: QUYẾT ĐỊNH", "Trang hai: Điều 1."])
    _add(svc, "01J0000000000000000000000B", [], status="failed")
    reads = AsyncReads(svc.engine)
    try:
        for doc_id in ("01J0000000000000000000000A", "01J0000000000000000000000B"):
            record = _from_loop(reads, doc_id)
            assert record is not None
            assert record == _threaded(svc, doc_id)
            assert record.model_dump_json() == _threaded(svc, doc_id).model_dump_json()  # type: ignore[union-attr]
        assert _from_loop(reads, "01J00000000000000000000NONE") is None
        record = _from_loop(reads, "01J0000000000000000000000A")
        assert record is not None and [p.number for p in record.pages] == [1, 2]
        assert record.updated_at == datetime(2024, 3, 2, 9, 0, 0, 654321, tzinfo=UTC)
    finally:
        reads.close()


def test_with_every_connection_busy_the_read_takes_a_thread(svc: Services) -> None:
    _add(svc, "01J0000000000000000000000C", ["Nội dung"])
    reads = AsyncReads(svc.engine, size=0)  # no connection of its own to take
    try:
        assert _from_loop(reads, "01J0000000000000000000000C") == _threaded(
            svc, "01J0000000000000000000000C"
        )
    finally:
        reads.close()


def test_a_connection_the_server_dropped_is_replaced(pg_svc: Services, pg_server: str) -> None:
    _add(pg_svc, "01J0000000000000000000000D", ["Nội dung"])
    reads = AsyncReads(pg_svc.engine, size=1)
    try:

        async def pid_and_read() -> tuple[int, object]:
            conn = await reads._take()  # the one kept connection, to learn its backend
            assert conn is not None
            pid = conn.info.backend_pid
            reads._give_back(conn)
            return pid, await reads.run(record_steps("01J0000000000000000000000D"))

        first, found = asyncio.run(pid_and_read())
        assert found is not None
        admin = create_engine(pg_server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:  # as a server restart would
            conn.execute(text("SELECT pg_terminate_backend(:p, 10000)"), {"p": first})
        admin.dispose()
        second, found = asyncio.run(pid_and_read())
        assert found is not None and second != first
    finally:
        reads.close()


def test_close_closes_the_kept_connections(pg_svc: Services) -> None:
    _add(pg_svc, "01J0000000000000000000000E", ["Nội dung"])
    reads = AsyncReads(pg_svc.engine)
    assert asyncio.run(reads.run(record_steps("01J0000000000000000000000E"))) is not None
    [kept] = reads._idle
    reads.close()
    assert kept.closed
    # a read after close still answers, by the threaded path
    assert asyncio.run(reads.run(record_steps("01J0000000000000000000000E"))) is not None


def test_list_pages_are_the_same_as_the_threaded_read(svc: Services) -> None:
    """Every filter (several values in one), both orders, the cursor and both visibility
    limits: the page from the event loop is byte for byte the threaded one."""
    units = ["phuong-co-nhue-1", "phuong-co-nhue-2", "phuong-thuy-phuong"]
    with unit_of_work(svc.sessions) as session:
        for n in range(30):
            session.add(
                DocumentRow(
                    id=f"01J00000000000000000000{n:03d}",
                    unit_code=units[n % 3],
                    filename=f"Tờ trình {n}.pdf",
                    sha256=hashlib.sha256(str(n).encode()).hexdigest(),
                    media_type="application/pdf",
                    size=100 + n,
                    page_count=1,
                    status=["digitized", "needs_review", "failed"][n % 3 if n % 5 else 0],
                    doc_type=["quyet_dinh", "to_trinh", "ke_hoach"][n % 3],
                    issued_on=date(2020 + n % 5, 1 + n % 12, 1 + n % 28),
                    secrecy="mat" if n % 7 == 0 else None,
                    document={"type": "to_trinh", "number": f"{n}/TTr-UBND"},
                    updated_at=datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=n % 11),
                )
            )
    everyone = Principal(kind="token", name="t", scopes=frozenset(Scope))
    ward = Principal(
        kind="token", name="w", scopes=frozenset({Scope.records_read}), units=frozenset(units[:2])
    )
    cases = [
        (everyone, RecordFilters(), "asc"),
        (everyone, RecordFilters(units=tuple(units[:2]), types=("to_trinh", "ke_hoach")), "desc"),
        (everyone, RecordFilters(statuses=(Status.digitized, Status.failed)), "asc"),
        (everyone, RecordFilters(issued_from=date(2021, 1, 1), issued_to=date(2023, 6, 30)), "asc"),
        (everyone, RecordFilters(updated_since=datetime(2024, 1, 1, 0, 5, tzinfo=UTC)), "desc"),
        (ward, RecordFilters(), "asc"),
        (ward, RecordFilters(units=(units[2],)), "asc"),
        (Principal(kind="token", name="n", scopes=frozenset()), RecordFilters(), "asc"),
    ]
    reads = AsyncReads(svc.engine)
    try:
        for principal, filters, order in cases:
            cursor: str | None = None
            while True:
                with unit_of_work(svc.sessions) as session:
                    threaded = list_records_json(
                        session, principal, filters, order=order, limit=4, cursor=cursor
                    )
                from_loop = asyncio.run(
                    list_page_json(reads, principal, filters, order=order, limit=4, cursor=cursor)
                )
                assert from_loop == threaded
                cursor = json.loads(threaded)["next_cursor"]
                if cursor is None:
                    break
    finally:
        reads.close()


def _backend_pid(reads: AsyncReads) -> int:
    [conn] = reads._idle
    return conn.info.backend_pid


def test_settings_hold_on_the_loop_and_in_the_thread(pg_svc: Services) -> None:
    show = text(
        "SELECT current_setting('enable_seqscan') AS seqscan, current_setting('TimeZone') AS zone"
    )
    for size in (1, 0):  # a connection of the set; none (a thread, in a transaction)
        reads = AsyncReads(pg_svc.engine, size, {"enable_seqscan": "off"})
        try:
            assert asyncio.run(reads.fetch(show, {}))[0][0] == "off"
        finally:
            reads.close()
    plain = AsyncReads(pg_svc.engine, 1)
    try:
        assert asyncio.run(plain.fetch(show, {}))[0][0] == "on"
    finally:
        plain.close()


def test_a_failed_statement_keeps_its_connection_and_is_not_tried_again(
    pg_svc: Services,
) -> None:
    """An error of the statement (a division by zero, a statement timeout) is the caller's;
    the connection is fine and stays, and the statement is not sent a second time."""
    reads = AsyncReads(pg_svc.engine, 1, {"statement_timeout": "50"})
    try:
        asyncio.run(reads.fetch(text("SELECT 1"), {}))
        pid = _backend_pid(reads)
        with pytest.raises(psycopg.errors.DivisionByZero):
            asyncio.run(reads.fetch(text("SELECT 1 / 0"), {}))
        with pytest.raises(psycopg.errors.QueryCanceled):
            asyncio.run(reads.fetch(text("SELECT pg_sleep(2)"), {}))
        assert _backend_pid(reads) == pid and reads._open == 1
    finally:
        reads.close()


def test_a_connection_dropped_after_its_check_is_replaced_mid_steps(
    pg_svc: Services, pg_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server drops the connection between the check before use and the statement: that
    statement is sent again on a new connection, and the steps go on."""
    reads = AsyncReads(pg_svc.engine, 1)
    pid_sql = text("SELECT pg_backend_pid()")

    def steps() -> Steps[list[int]]:
        first = yield Read(pid_sql, {})
        admin = create_engine(pg_server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:p, 10000)"), {"p": first[0][0]})
        admin.dispose()
        second = yield Read(pid_sql, {})
        return [first[0][0], second[0][0]]

    try:
        first, second = asyncio.run(reads.run(steps()))
        assert first != second and _backend_pid(reads) == second and reads._open == 1
    finally:
        reads.close()


def test_steps_that_fail_give_their_connection_back(pg_svc: Services) -> None:
    reads = AsyncReads(pg_svc.engine, 1)

    def steps() -> Steps[None]:
        yield Read(text("SELECT 1"), {})
        raise LookupError("the steps' own error")

    try:
        with pytest.raises(LookupError):
            asyncio.run(reads.run(steps()))
        assert reads._open == 1 and len(reads._idle) == 1
    finally:
        reads.close()


def test_the_record_read_keeps_one_plan_and_list_pages_are_planned_for_their_values(
    pg_svc: Services,
) -> None:
    _add(pg_svc, "01J0000000000000000000000F", ["Nội dung"])
    reads = AsyncReads(pg_svc.engine, 1, generic_plans=True)
    everyone = Principal(kind="token", name="t", scopes=frozenset(Scope))
    prepared = text(
        "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements"
        " WHERE statement NOT LIKE '%pg_prepared_statements%'"
    )
    try:
        for _ in range(8):
            assert asyncio.run(reads.run(record_steps("01J0000000000000000000000F"))) is not None
            asyncio.run(list_page_json(reads, everyone, RecordFilters(units=(UNIT,))))
        [(statement, generic, custom)] = asyncio.run(reads.fetch(prepared, {}))
        assert "LEFT OUTER JOIN pages" in statement  # the record's, not the list's
        assert generic > 0 and generic + custom == 8
    finally:
        reads.close()
