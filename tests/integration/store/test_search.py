"""Full-text search through `GET /api/v1/records?q=`, on SQLite (FTS5) and PostgreSQL.

Records are written straight into the database and announced with `record_changed`, as every
real path does; one test goes through the worker's own state transitions instead.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

import store.search.ranked
from api.app import app
from schemas.auth import Principal, Scope
from schemas.errors import ErrorCode
from schemas.record import Status
from store import make_engine, unit_of_work
from store.platform.async_reads import AsyncReads
from store.platform.ids import new_id
from store.platform.migrate import upgrade_database
from store.platform.models import DocumentRow, PageRow, UTCDateTime
from store.records.corrections import correct_document
from store.records.documents import PageValues, claim, mark_failed, mark_published, save_page
from store.records.events import RecordEvent, record_changed
from store.records.listing import RecordFilters, list_records, list_records_json, search_page_json
from store.search.index import reindex_all
from store.search.ranked import SEARCH_SETTINGS
from store.services import Services, set_services
from tests.conftest import bearer, make_services

CORPUS = Path(__file__).resolve().parents[2] / "data" / "corpus_sample.jsonl"
READ = "records:read"
EVERYONE = Principal(
    kind="token", name="all", scopes=frozenset({Scope.records_read, Scope.records_secret})
)


def add_record(
    svc: Services,
    pages: Sequence[str],
    *,
    status: str = "digitized",
    unit: str | None = "phong-noi-vu",
    document: dict[str, Any] | None = None,
    filename: str = "scan.pdf",
    record_id: str | None = None,
) -> str:
    """A record as the pipeline leaves it, written directly, then `record_changed`."""
    with unit_of_work(svc.sessions) as session:
        doc = DocumentRow(
            id=record_id or new_id(),
            unit_code=unit,
            filename=filename,
            sha256=hashlib.sha256(uuid.uuid4().bytes).hexdigest(),
            media_type="application/pdf",
            size=1000,
            page_count=len(pages),
            status=status,
            error_code="corrupt_pdf" if status == "failed" else None,
            document=document,
        )
        session.add(doc)
        session.flush()
        for number, text in enumerate(pages, start=1):
            session.add(PageRow(document_id=doc.id, number=number, text=text, method="ocr"))
        session.flush()
        event = RecordEvent.failed if status == "failed" else RecordEvent.digitized
        record_changed(session, doc.id, event)
        return doc.id


@pytest.fixture
def api(svc: Services) -> Iterator[TestClient]:
    set_services(svc)
    try:
        with TestClient(app, headers=bearer(svc, READ, "records:secret")) as client:
            yield client
    finally:
        set_services(None)


def search(client: TestClient, q: str, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/api/v1/records", params={"q": q, **params})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]


def test_diacritics_and_case_are_ignored_both_ways(svc: Services, api: TestClient) -> None:
    accented = add_record(svc, ["Quyết định số 12/QĐ-UBND về việc khen thưởng"])
    plain = add_record(svc, ["quyet dinh nay co hieu luc (ban go khong dau)"])
    other = add_record(svc, ["Kế hoạch năm 2024"])
    for q in ("quyet dinh", "Quyet Dinh", "QUYẾT ĐỊNH", "quyết định", "qUyẾt"):
        found = ids(search(api, q))
        assert set(found) == {accented, plain}, q
        assert other not in found
    assert ids(search(api, "ke hoach")) == [other]
    assert ids(search(api, "kế hoạch")) == [other]


def test_d_with_stroke_folds_to_d(svc: Services, api: TestClient) -> None:
    party = add_record(svc, ["Báo cáo của Đảng ủy phường Cổ Nhuế 1"])
    add_record(svc, ["Dân số và lao động"])
    for q in ("dang uy", "Dang Uy", "đảng ủy", "ĐẢNG ỦY", "Đang"):
        assert ids(search(api, q)) == [party], q


def test_exact_diacritics_rank_first(svc: Services, api: TestClient) -> None:
    exact = add_record(svc, ["Quyết định về tổ chức"])  # the oldest
    bare = add_record(svc, ["quyet dinh ve to chuc"])
    other = add_record(svc, ["Quyệt đinh (lỗi nhận dạng) về tổ chức"])  # the newest
    assert ids(search(api, "quyết định")) == [exact, other, bare]
    assert ids(search(api, "quyet dinh")) == [other, bare, exact]  # newest first
    assert ids(search(api, "đinh")) == [other, bare, exact]  # all have "dinh"; one exactly
    # a word typed without diacritics matches any form: only "quyết" must be exact here
    assert ids(search(api, "quyết dinh")) == [exact, other, bare]


def test_metadata_ranks_before_text(svc: Services, api: TestClient) -> None:
    in_subject = add_record(
        svc, ["Nội dung khác"], document={"subject": "Về công tác lưu trữ hồ sơ"}
    )
    in_text = add_record(svc, ["Công tác lưu trữ được quan tâm"])
    assert ids(search(api, "luu tru")) == [in_subject, in_text]


def test_phrase_and_words(svc: Services, api: TestClient) -> None:
    adjacent = add_record(svc, ["Kế hoạch phát triển dữ liệu số"])
    apart = add_record(svc, ["Hoạch định và kế toán"])
    across_pages = add_record(svc, ["cuối trang là kế", "hoạch ở trang sau"])
    across_fields = add_record(svc, ["hoạch toán"], document={"subject": "Về kế"})
    assert set(ids(search(api, "ke hoach"))) == {adjacent, apart, across_pages, across_fields}
    assert ids(search(api, '"ke hoach"')) == [adjacent]
    assert ids(search(api, '"kế hoạch" "du lieu so"')) == [adjacent]
    assert ids(search(api, '"hoach ke"')) == []


def test_number_and_metadata_are_searchable(svc: Services, api: TestClient) -> None:
    plan = add_record(
        svc,
        ["Nội dung không nhắc số hiệu"],
        document={
            "type": "ke_hoach",
            "type_label": "Kế hoạch",
            "number": "251/KH-UBND",
            "issuer": "Ủy ban nhân dân quận Bắc Từ Liêm",
            "signer": "Lưu Ngọc Hà",
            "subject": "Ứng dụng công nghệ thông tin",
        },
        filename="hop12_0001.pdf",
    )
    add_record(svc, ["Công văn 252/KH-UBND và 251/QĐ-UBND"])
    for q in ("251/KH-UBND", "kh-ubnd 251", "251/kh-ubnd", "luu ngoc ha", "Bắc Từ Liêm",
              "hop12_0001", "hop12", "ung dung cong nghe", "kế hoạch"):  # fmt: skip
        assert plan in ids(search(api, q)), q
    assert ids(search(api, "251/KH-UBND")) == [plan]
    assert ids(search(api, "252/KH-UBND")) != [plan]


def test_snippet_has_page_marks_and_escapes_html(svc: Services, api: TestClient) -> None:
    add_record(
        svc,
        [
            "Trang bìa, không có gì đáng chú ý.",
            "Mở đầu <script>alert('x')</script> & \"trích dẫn\" — Quyết định số 5 của "
            "UBND quận, kèm theo quyết định khác.",
        ],
    )
    [item] = search(api, "quyết định")
    assert item["snippets"][0]["page"] == 2
    text = item["snippets"][0]["text"]
    assert "<mark>Quyết định</mark>" in text and "<mark>quyết định</mark>" in text
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;trích dẫn&quot;" in text
    assert "<script>" not in text
    assert "text" not in item and "pages" in item  # metadata only, not the full text
    listed = api.get("/api/v1/records").json()["items"]
    assert listed[0]["snippets"] is None


def test_filters_combine_with_q(svc: Services, api: TestClient) -> None:
    info = {"type": "quyet_dinh", "issued_on": "2023-05-29"}
    ward = add_record(svc, ["Quyết định A"], unit="phuong-co-nhue-1", document=info)
    office = add_record(svc, ["Quyết định B"], document=info)
    review = add_record(svc, ["Quyết định C"], status="needs_review")
    old = add_record(svc, ["Quyết định D"], document={**info, "issued_on": "2015-01-01"})
    add_record(svc, ["Kế hoạch E"], unit="phuong-co-nhue-1", document=info)
    assert ids(search(api, "quyet dinh", unit="phuong-co-nhue-1")) == [ward]
    assert set(ids(search(api, "quyet dinh", type="quyet_dinh"))) == {ward, office, old}
    assert ids(search(api, "quyet dinh", status="needs_review")) == [review]
    assert ids(search(api, "quyet dinh", status="failed")) == []
    dated = search(api, "quyet dinh", issued_from="2020-01-01", issued_to="2024-12-31")
    assert set(ids(dated)) == {ward, office}
    assert ids(search(api, "quyet dinh", issued_to="2016-01-01")) == [old]


def test_secret_records_are_invisible_without_the_scope(svc: Services) -> None:
    secret = add_record(
        svc, ["Tài liệu mật về kho vũ khí"], document={"secrecy": "mat", "subject": "Kho"}
    )
    public = add_record(svc, ["Tài liệu công khai về kho lưu trữ"])
    set_services(svc)
    try:
        with TestClient(app, headers=bearer(svc, READ)) as client:
            body = client.get("/api/v1/records", params={"q": "kho"}).text
            assert secret not in body and "vũ khí" not in body
            assert ids(search(client, "kho")) == [public]
            assert search(client, "vu khi") == []
            listed = ids(client.get("/api/v1/records").json()["items"])
            assert listed == [public]
            assert client.get(f"/api/v1/records/{secret}").status_code == 404
        with TestClient(app, headers=bearer(svc, READ, "records:secret")) as client:
            [item] = search(client, "vu khi")
            assert item["id"] == secret and "vũ khí" in item["snippets"][0]["text"]
    finally:
        set_services(None)


def test_unit_limited_token_sees_only_its_units(svc: Services) -> None:
    mine = add_record(svc, ["Biên bản họp"], unit="phuong-co-nhue-1")
    add_record(svc, ["Biên bản họp"], unit="phong-noi-vu")
    add_record(svc, ["Biên bản họp"], unit=None)
    set_services(svc)
    try:
        headers = bearer(svc, READ, "records:secret", units=["phuong-co-nhue-1"])
        with TestClient(app, headers=headers) as client:
            assert ids(search(client, "bien ban")) == [mine]
            assert ids(client.get("/api/v1/records").json()["items"]) == [mine]
            assert search(client, "bien ban", unit="phong-noi-vu") == []
    finally:
        set_services(None)


HOSTILE = [
    '"', '""', "'", "*", "quyết*", "NEAR", "NEAR(quyet dinh)", "-", "- quyet", ":", "meta:x",
    "{stream}: quyet", "quyet AND dinh OR NOT x", "(quyet", "quyet)", "^quyet", "\\", "%", "_",
    "'; DROP TABLE documents; --", "quyet & dinh | !x", "quyet <-> dinh", "a:*", "\x00",
    "😀 quyết", "\u0301\u0301", "ــ", "١٢٣",
]  # fmt: skip


def test_hostile_queries_never_fail(svc: Services, api: TestClient) -> None:
    target = add_record(svc, ["Quyết định số 1; meta x; near here"])
    for q in HOSTILE:
        response = api.get("/api/v1/records", params={"q": q})
        assert response.status_code == 200, (q, response.text)
    assert ids(search(api, "quyết*")) == [target]
    assert ids(search(api, "NEAR")) == [target]  # a word like any other
    assert search(api, "!!! ... ---") == []  # no word: nothing
    assert search(api, "") and search(api, "   ")  # empty: the plain list
    assert api.get("/api/v1/records", params={"q": "q" * 501}).status_code == 422
    assert api.get("/api/v1/records", params={"q": "quyết " * 83}).status_code == 200
    many = " ".join(["quyet"] + [f"w{i}" for i in range(40)])
    assert search(api, many) == []  # 16 words count, the rest is ignored


def test_failed_record_is_listed_but_has_nothing_to_search(svc: Services, api: TestClient) -> None:
    failed = add_record(svc, ["Quyết định hỏng"], status="failed")
    assert search(api, "quyet dinh") == []
    [item] = api.get("/api/v1/records", params={"status": "failed"}).json()["items"]
    assert item["id"] == failed and item["error"]["code"] == "corrupt_pdf"


def test_index_follows_every_change(svc: Services, api: TestClient) -> None:
    record = add_record(svc, ["Nội dung"], document={"subject": "Về tiếp công dân"})
    assert ids(search(api, "tiep cong dan")) == [record]
    with unit_of_work(svc.sessions) as session:
        correct_document(session, record, {"subject": "Về giải quyết khiếu nại"}, actor="user:test")
    assert search(api, "tiep cong dan") == []
    assert ids(search(api, "khieu nai")) == [record]
    with unit_of_work(svc.sessions) as session:
        session.get(DocumentRow, record).status = "processing"  # type: ignore[union-attr]
    with unit_of_work(svc.sessions) as session:
        assert mark_failed(session, record, ErrorCode.ocr_failed, "test")
    assert search(api, "khieu nai") == []


def test_published_through_the_worker_path_is_found(svc: Services, api: TestClient) -> None:
    record = add_record(svc, [], status="queued")
    assert search(api, "chuyen doi so") == []
    with unit_of_work(svc.sessions) as session:
        assert claim(session, record, "task-1", timedelta(minutes=5)) is not None
        save_page(
            session,
            record,
            PageValues(1, "Đề án chuyển đổi số", "ocr", 0.9, 0, None, False),
        )
        assert mark_published(
            session, record, Status.digitized, {"number": "99/ĐA-UBND", "type": "de_an"}
        )
    [item] = search(api, "chuyển đổi số")
    assert item["id"] == record and item["snippets"][0]["page"] == 1
    assert ids(search(api, "99/đa-ubnd")) == [record]


def test_reindex_all_rebuilds_the_same_index(svc: Services, api: TestClient) -> None:
    first = add_record(svc, ["Báo cáo kết quả năm 2024"])
    second = add_record(svc, ["Báo cáo sơ kết"], document={"subject": "kết quả"})
    before = ids(search(api, "bao cao ket qua"))
    assert before == [second, first]
    with unit_of_work(svc.sessions) as session:
        assert reindex_all(session, batch=1) == 2
    assert ids(search(api, "bao cao ket qua")) == before


def test_migration_indexes_records_digitized_before_it(
    empty_database_url: str, tmp_path: Path
) -> None:
    engine = make_engine(empty_database_url)
    upgrade_database(engine, "0003")
    now = datetime.now(UTC)
    documents = sa.table(
        "documents",
        *map(sa.column, ("id", "filename", "sha256", "size", "status", "attempts", "version")),
        sa.column("document", sa.JSON),
        sa.column("created_at", UTCDateTime),
        sa.column("updated_at", UTCDateTime),
    )
    pages = sa.table(
        "pages",
        *map(sa.column, ("document_id", "number", "text", "method", "rotation", "has_hocr")),
        sa.column("created_at", UTCDateTime),
    )
    rows = {"digitized": new_id(), "needs_review": new_id(), "failed": new_id()}
    with engine.begin() as conn:
        for status, record_id in rows.items():
            conn.execute(
                documents.insert().values(
                    id=record_id,
                    filename=f"{status}.pdf",
                    sha256=hashlib.sha256(record_id.encode()).hexdigest(),
                    size=1,
                    status=status,
                    attempts=1,
                    version=2,
                    created_at=now,
                    updated_at=now,
                    document={"subject": "Về đất đai"},
                )
            )
            conn.execute(
                pages.insert().values(
                    document_id=record_id,
                    number=1,
                    text="Nghị quyết về đất đai",
                    method="ocr",
                    rotation=0,
                    has_hocr=False,
                    created_at=now,
                )
            )
    engine.dispose()
    svc = make_services(empty_database_url, f"file://{tmp_path / 'objects'}")  # migrates to head
    try:
        with unit_of_work(svc.sessions) as session:
            found = list_records(session, EVERYONE, RecordFilters(), q="nghi quyet dat dai")
        assert {i.id for i in found.items} == {rows["digitized"], rows["needs_review"]}
    finally:
        svc.close()


# --------------------------------------------------------------------------------------------
# The same data, the same answers on both databases


def _corpus_records(n: int) -> list[tuple[str, list[str], dict[str, Any], str]]:
    rng = random.Random(11)
    paragraphs = []
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        paragraphs.extend(p for p in json.loads(line)["paragraphs"] if len(p) > 20)
    records = []
    for i in range(n):
        pages = [" ".join(rng.sample(paragraphs, 3)) for _ in range(rng.randint(1, 3))]
        if i % 7 == 0:  # some text typed without diacritics, as old OCR does
            pages = [store.search.text.fold(p) for p in pages]
        info = {
            "number": f"{rng.randint(1, 300)}/{rng.choice(['KH', 'QĐ', 'BC'])}-UBND",
            "subject": rng.choice(paragraphs)[:120],
            "secrecy": "mat" if i % 13 == 0 else None,
        }
        unit = rng.choice(["phong-noi-vu", "phuong-co-nhue-1"])
        records.append((f"01HZ{i:022d}", pages, info, unit))
    return records


QUERIES = [
    "quyet dinh", "quyết định", "Quyết Định", "ke hoach", "kế hoạch", "chuyen doi so",
    '"chuyển đổi số"', "uy ban nhan dan", "dat dai", "luu tru", "can bo", "khen thuong",
    "kh-ubnd", "qđ-ubnd", "Đảng", "đang", "cong nghe thong tin", "nghị định", "luat",
    '"theo de nghi"', "zzz không có", "100/BC-UBND", "ngân sách nhà nước",
]  # fmt: skip


def _all_pages(session: Any, principal: Principal, q: str, limit: int) -> list[tuple]:
    seen: list[tuple] = []
    cursor = None
    for _ in range(100):
        page = list_records(session, principal, RecordFilters(), q=q, limit=limit, cursor=cursor)
        seen.extend((i.id, [(s.page, s.text) for s in i.snippets or []]) for i in page.items)
        cursor = page.next_cursor
        if cursor is None:
            return seen
    raise AssertionError("paging did not end")


def _all_pages_json(
    svc: Services, reads: AsyncReads, principal: Principal, q: str, filters: RecordFilters
) -> list[tuple]:
    """Every page of a search from the event loop, each checked byte for byte against the
    threaded page with the same cursor; as `_all_pages` gives them."""
    seen: list[tuple] = []
    cursor = None
    for _ in range(100):
        page = asyncio.run(search_page_json(reads, principal, filters, q, limit=4, cursor=cursor))
        with unit_of_work(svc.sessions) as session:
            assert page == list_records_json(
                session, principal, filters, q=q, limit=4, cursor=cursor
            )
        data = json.loads(page)
        seen.extend(
            (i["id"], [(s["page"], s["text"]) for s in i["snippets"]]) for i in data["items"]
        )
        cursor = data["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError("paging did not end")


def test_same_results_on_sqlite_and_postgresql(
    tmp_path: Path, pg_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # small blocks and slices, so that several blocks and every way PostgreSQL has of filling
    # one are used (the newest slice walked, the wider one through the index, the rest)
    monkeypatch.setattr(store.search.ranked, "RANK_WINDOW", 9)
    monkeypatch.setattr(store.search.ranked, "RECENT_SLICE", 12)
    monkeypatch.setattr(store.search.ranked, "WIDE_SLICE_FACTOR", 3)
    from tests.conftest import _reset_pg

    _reset_pg(pg_server)
    services = [
        make_services(f"sqlite:///{tmp_path / 'parity.db'}", f"file://{tmp_path / 'o1'}"),
        make_services(pg_server, f"file://{tmp_path / 'o2'}"),
    ]
    try:
        data = _corpus_records(90)
        for svc in services:
            for record_id, pages, info, unit in data:
                add_record(svc, pages, document=info, unit=unit, record_id=record_id)
        ward = Principal(
            kind="token",
            name="w",
            scopes=frozenset({Scope.records_read}),
            units=frozenset({"phuong-co-nhue-1"}),
        )
        nonempty = 0
        for principal in (EVERYONE, ward):
            for q in QUERIES:
                for limit in (4, 200):
                    results = []
                    for svc in services:
                        with unit_of_work(svc.sessions) as session:
                            results.append(_all_pages(session, principal, q, limit))
                    assert results[0] == results[1], (q, limit)
                    found = [r[0] for r in results[0]]
                    assert len(found) == len(set(found)), q  # no record twice across pages
                    nonempty += bool(found)
        assert nonempty > len(QUERIES)  # the comparison was about something
        # from the event loop (PostgreSQL; SQLite in a thread): the same pages, to the byte
        unit = RecordFilters(units=("phuong-co-nhue-1",))
        for svc in services:
            reads = AsyncReads(svc.engine, 2, SEARCH_SETTINGS)
            try:
                for principal, filters in ((EVERYONE, RecordFilters()), (ward, unit)):
                    for q in QUERIES:
                        _all_pages_json(svc, reads, principal, q, filters)
                assert bool(reads._idle) == (svc.engine.dialect.name == "postgresql")
            finally:
                reads.close()
    finally:
        for svc in services:
            svc.close()
