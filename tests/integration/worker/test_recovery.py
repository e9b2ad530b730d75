"""Fast recovery and fair sharing on real Redis and PostgreSQL: the OCR queue interleaves
units, the reconciler re-sends a lost queued document without waiting for the queue to drain
and never one whose message is still in the broker, a dead worker's lease expires."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from sqlalchemy import update

from schemas.record import Status
from store import unit_of_work
from store.platform.ids import new_id
from store.platform.models import DocumentRow, utcnow
from store.records.documents import claim
from store.services import Services, set_services
from tests.celery_harness import wait_until
from tests.conftest import REDIS_URL, _reset_pg, make_services
from worker.app import app, configure, ocr_queue
from worker.broker_scan import document_of, documents_in_broker
from worker.fairness import level_for_backlog
from worker.lease import keep_lease
from worker.tasks import enqueue, reconcile

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

WARD_A = "phong-noi-vu"
WARD_B = "vp-hdnd-ubnd"


@pytest.fixture
def rsvc(pg_server: str, tmp_path: Path) -> Iterator[Services]:
    """PostgreSQL, folder storage, a Redis queue of its own."""
    _reset_pg(pg_server)
    queue = f"sohoa-recovery-{uuid.uuid4().hex[:8]}"
    svc = make_services(
        pg_server,
        f"file://{tmp_path / 'objects'}",
        broker_url=REDIS_URL,
        task_queue=queue,
        lease_seconds=9,  # renewed every 3 s: a slow machine keeps a live lease
        lost_after=60,
        stuck_after=900,
    )
    configure(app, svc.settings)
    set_services(svc)
    yield svc
    set_services(None)
    client = redis.Redis.from_url(REDIS_URL)
    keys = client.keys(f"{queue}*")
    if keys:
        client.delete(*keys)
    client.close()
    svc.close()


def _add(svc: Services, unit: str, status: Status = Status.queued) -> str:
    """A document row as an upload leaves it (the file itself does not matter here)."""
    doc_id = new_id()
    with unit_of_work(svc.sessions) as session:
        session.add(
            DocumentRow(
                id=doc_id, unit_code=unit, filename=f"{doc_id}.pdf",
                sha256=hashlib.sha256(doc_id.encode()).hexdigest(), size=1,
                media_type="application/pdf", status=status.value,
            )
        )  # fmt: skip
    return doc_id


def _age(svc: Services, ids: list[str], by: timedelta) -> None:
    then = utcnow() - by
    with unit_of_work(svc.sessions) as session:
        session.execute(
            update(DocumentRow)
            .where(DocumentRow.id.in_(ids))
            .values(updated_at=then, heartbeat_at=then)
        )


def _drain(svc: Services) -> list[str]:
    """The document ids in the order a worker would receive them (priority, then FIFO)."""
    order: list[str] = []
    with app.connection_for_read() as conn:
        queue = conn.SimpleQueue(ocr_queue(svc.settings))
        try:
            while True:
                try:
                    message = queue.get(block=True, timeout=1)
                except queue.Empty:
                    return order
                order.append(str(message.payload[0][0]))
                message.ack()
        finally:
            queue.close()


def test_priority_levels_grow_with_the_units_backlog() -> None:
    assert [level_for_backlog(n) for n in (0, 1, 2, 3, 4, 5, 8, 9, 256, 257, 100_000)] == [
        0, 0, 1, 2, 2, 3, 3, 4, 8, 9, 9,
    ]  # fmt: skip


@pytest.mark.parametrize(
    "big_upload", [60, pytest.param(2000, marks=pytest.mark.slow)], ids=["60", "2000"]
)
def test_one_wards_big_upload_does_not_starve_another(rsvc: Services, big_upload: int) -> None:
    big = []
    for _ in range(big_upload):  # ward A uploads first, one file after the other
        big.append(_add(rsvc, WARD_A))
        enqueue(big[-1])
    small = []
    for _ in range(3):
        small.append(_add(rsvc, WARD_B))
        enqueue(small[-1])
    order = _drain(rsvc)
    assert sorted(order) == sorted(big + small)  # nothing lost or doubled
    positions = [order.index(d) for d in small]
    assert max(positions) < 10, positions  # B's files are not behind A's backlog
    assert [d for d in order if d in big][:1] == big[:1]  # A's first file still comes first


def test_message_decoding_ignores_foreign_and_broken_messages() -> None:
    assert document_of(b"not json") is None
    foreign = b'{"headers": {"task": "sohoa.webhooks.sweep"}, "body": "[[\\"x\\"], {}, {}]"}'
    assert document_of(foreign) is None
    plain = foreign.replace(b"sohoa.webhooks.sweep", b"sohoa.process")
    assert document_of(plain) == "x"  # a body not base64-encoded is read as it is
    assert document_of(b'{"headers": {"task": "sohoa.process"}, "body": 12}') is None
    assert document_of(b"[]") is None


def test_lost_queued_document_is_resent_while_the_queue_is_long(rsvc: Services) -> None:
    waiting = [_add(rsvc, WARD_A) for _ in range(30)]
    for doc_id in waiting:
        enqueue(doc_id)
    lost = _add(rsvc, WARD_B)  # its message never reached the broker (or the broker lost it)
    young = _add(rsvc, WARD_B)  # sent a moment ago, maybe still on its way
    _age(rsvc, [*waiting, lost], timedelta(minutes=5))
    assert documents_in_broker(rsvc.settings) == set(waiting)

    first = reconcile()
    assert first["lost"] == [lost] and first["expired"] == []
    assert documents_in_broker(rsvc.settings) == {*waiting, lost}
    _age(rsvc, [lost], timedelta(minutes=5))
    assert reconcile()["lost"] == []  # its message is there now: never sent twice

    # Redis flushed: everything queued and old enough is sent again, in one run.
    client = redis.Redis.from_url(REDIS_URL)
    client.delete(*client.keys(f"{rsvc.settings.task_queue}*"))
    client.close()
    _age(rsvc, [*waiting, lost], timedelta(minutes=5))
    assert sorted(reconcile()["lost"]) == sorted([*waiting, lost])
    assert young not in documents_in_broker(rsvc.settings)  # type: ignore[operator]


def test_reconciler_without_a_broker_listing_waits_for_stuck_after(
    rsvc: Services, tmp_path: Path
) -> None:
    svc = make_services(
        rsvc.settings.database_url, f"file://{tmp_path / 'o'}",
        broker_url="redis://127.0.0.1:1/0", task_queue=rsvc.settings.task_queue,
        lost_after=60, stuck_after=900,
    )  # fmt: skip
    set_services(svc)
    try:
        doc_id = _add(svc, WARD_A)
        _age(svc, [doc_id], timedelta(minutes=5))
        assert documents_in_broker(svc.settings) is None
        result = reconcile()  # cannot tell lost from waiting: not yet
        assert result["lost"] == [] and result["broker_listed"] is False
    finally:
        set_services(rsvc)
        svc.close()


def test_a_dead_workers_lease_expires_a_live_one_is_renewed(rsvc: Services) -> None:
    dead, alive = _add(rsvc, WARD_A), _add(rsvc, WARD_A)
    lease = timedelta(seconds=rsvc.settings.lease_seconds)
    with unit_of_work(rsvc.sessions) as session:
        assert claim(session, dead, "task-dead", lease) is not None
        assert claim(session, alive, "task-alive", lease) is not None
    _age(rsvc, [dead, alive], timedelta(minutes=1))
    with keep_lease(rsvc, alive):
        wait_until(lambda: _heartbeat_recent(rsvc, alive), 30, "the lease to be renewed")
        result = reconcile()
    assert result["expired"] == [dead]
    with unit_of_work(rsvc.sessions) as session:
        assert session.get(DocumentRow, dead).status == Status.queued.value  # type: ignore[union-attr]
        assert session.get(DocumentRow, alive).status == Status.processing.value  # type: ignore[union-attr]
        # the re-sent task may take it at once: the dead holder's lease is over
        assert claim(session, dead, "task-new", lease) is not None
    assert dead in documents_in_broker(rsvc.settings)  # type: ignore[operator]


def _heartbeat_recent(svc: Services, doc_id: str) -> bool:
    with unit_of_work(svc.sessions) as session:
        row = session.get(DocumentRow, doc_id, populate_existing=True)
        assert row is not None and row.heartbeat_at is not None
        return row.heartbeat_at > utcnow() - timedelta(seconds=svc.settings.lease_seconds)


@pytest.mark.slow
def test_publish_send_with_the_broker_down_is_left_to_the_reconciler(
    rsvc: Services, tmp_path: Path
) -> None:
    """The send retries briefly, then gives up without raising: the document keeps its pages
    and its lease expires, so the reconciler sends it again."""
    from worker import send_gate
    from worker.tasks import enqueue_after_commit_safe, send_publish

    down = rsvc.settings.model_copy(update={"broker_url": "redis://127.0.0.1:1/0"})
    configure(app, down)
    try:
        send_publish("01JCHAOS0000000000000000")  # returns: nothing escapes to the caller
        assert documents_in_broker(down) is None
        # the next sends do not wait on the broker again: an upload of many files stays fast
        assert enqueue_after_commit_safe("01JCHAOS0000000000000001") is False
        assert not send_gate.open_now()
    finally:
        configure(app, rsvc.settings)
    assert send_gate.open_now()  # a new configuration starts afresh
    doc_id = _add(rsvc, WARD_A)
    assert enqueue_after_commit_safe(doc_id) is True
    assert documents_in_broker(rsvc.settings) == {doc_id}


def test_a_message_delivered_and_not_acknowledged_is_still_in_the_broker(
    rsvc: Services,
) -> None:
    doc_id = _add(rsvc, WARD_A)
    enqueue(doc_id)
    with app.connection_for_read() as conn:
        queue = conn.SimpleQueue(ocr_queue(rsvc.settings))
        try:
            message = queue.get(block=True, timeout=5)  # a worker holds it, not yet acked
            assert documents_in_broker(rsvc.settings) == {doc_id}
            message.ack()
            assert documents_in_broker(rsvc.settings) == set()
        finally:
            queue.close()


def test_parts_waiting_in_the_queue_keep_a_large_document_from_expiring(
    rsvc: Services,
) -> None:
    from worker.tasks import extract_range

    doc_id = _add(rsvc, WARD_A)
    with unit_of_work(rsvc.sessions) as session:
        assert claim(session, doc_id, "task-fan-out", timedelta(seconds=9)) is not None
    extract_range.apply_async(args=[doc_id, [3, 4]])  # its part waits behind other work
    _age(rsvc, [doc_id], timedelta(minutes=1))
    assert reconcile()["expired"] == []
    client = redis.Redis.from_url(REDIS_URL)
    client.delete(*client.keys(f"{rsvc.settings.task_queue}*"))  # the part is lost
    client.close()
    assert reconcile()["expired"] == [doc_id]


def test_the_embedded_broker_is_listed_too(tmp_path: Path) -> None:
    svc = make_services(
        f"sqlite:///{tmp_path / 'e.db'}", f"file://{tmp_path / 'o'}",
        broker_url=f"filesystem://{tmp_path / 'broker'}",
    )  # fmt: skip
    configure(app, svc.settings)
    set_services(svc)
    try:
        doc_id = _add(svc, WARD_A)
        assert documents_in_broker(svc.settings) == set()
        enqueue(doc_id)
        assert documents_in_broker(svc.settings) == {doc_id}
    finally:
        set_services(None)
        svc.close()
