"""The pipeline after upload: start → extract pages → publish, plus failing cleanly.

Plain functions over `Services`, called by the Celery tasks and by `sohoa digitize` alike.
Every step is idempotent and keyed by document id: run twice, it leaves the same result.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ocr import (
    ExtractionError,
    HocrPage,
    build_searchable_pdf,
    extract_page,
    open_source,
    parse_hocr,
)
from ocr.extract import LOW_CONFIDENCE
from ocr.pdfsignatures import load_trusted_roots, read_signatures, signature_reasons
from ocr.sniff import PDF
from schemas.errors import ErrorCode
from schemas.record import ArchiveInfo, Signature, Status
from schemas.review import ReviewCode, ReviewReason
from schemas.settings import Settings, page_pixel_budget, signing_configured
from store import record_key, unit_of_work
from store.platform.models import DocumentRow
from store.records.documents import (
    Claim,
    PageValues,
    claim,
    done_pages,
    heartbeat,
    is_processing,
    mark_failed,
    mark_published,
    pages_of,
    save_page,
    set_page_count,
)
from store.records.reads import build_record
from store.services import Services
from worker.classification import classification_record, classify_pages, unit_guess
from worker.lease import keep_lease
from worker.originals import forget_original, local_original

if TYPE_CHECKING:
    from ocr.signing import AppliedSignature

log = logging.getLogger(__name__)


def hocr_key(document_id: str, page: int) -> str:
    return record_key(document_id, f"pages/{page}.hocr")


@dataclass(frozen=True)
class Plan:
    document_id: str
    page_count: int
    remaining: list[int]

    def chunks(self, size: int) -> list[list[int]]:
        return [self.remaining[i : i + size] for i in range(0, len(self.remaining), size)]


def start(svc: Services, document_id: str, holder: str) -> Plan | None:
    """Claim the document and plan the pages still to extract; None if it is not ours to do.

    Raises ExtractionError when the file can never be read.
    """
    lease = timedelta(seconds=svc.settings.lease_seconds)
    with unit_of_work(svc.sessions) as session:
        claimed: Claim | None = claim(session, document_id, holder, lease)
    if claimed is None:
        return None
    with keep_lease(svc, document_id):
        return _plan(svc, document_id, claimed)


def _plan(svc: Services, document_id: str, claimed: Claim) -> Plan:
    if claimed.media_type is None:
        raise ExtractionError(ErrorCode.unsupported_type, "unknown file type")
    path = local_original(svc.objects, claimed.sha256)
    with open_source(
        path,
        claimed.media_type,
        max_pages=svc.settings.max_pages,
        max_pixels=page_pixel_budget(svc.settings),
    ) as source:
        page_count = source.page_count
    with unit_of_work(svc.sessions) as session:
        set_page_count(session, document_id, page_count, claimed.media_type)
        done = done_pages(session, document_id)
    remaining = [n for n in range(1, page_count + 1) if n not in done]
    return Plan(document_id, page_count, remaining)


def extract_pages(svc: Services, document_id: str, pages: list[int]) -> int:
    """Extract the given pages (skipping any already stored); returns how many were done now.

    Each page is committed on its own, so a killed worker loses at most the page in hand.
    """
    with unit_of_work(svc.sessions) as session:
        doc = session.get(DocumentRow, document_id)
        if doc is None or doc.status != Status.processing.value or doc.media_type is None:
            return 0
        sha256, media_type = doc.sha256, doc.media_type
        todo = [n for n in pages if n not in done_pages(session, document_id)]
    if not todo:
        return 0
    with keep_lease(svc, document_id):
        return _extract(svc, document_id, sha256, media_type, todo)


def _extract(svc: Services, document_id: str, sha256: str, media_type: str, todo: list[int]) -> int:
    settings = svc.settings
    path = local_original(svc.objects, sha256)
    count = 0
    with open_source(
        path, media_type, max_pages=settings.max_pages, max_pixels=page_pixel_budget(settings)
    ) as source:
        for number in todo:
            result = extract_page(source, number, lang=settings.ocr_lang, dpi=settings.ocr_dpi)
            if result.hocr is not None:
                svc.objects.put_bytes(
                    hocr_key(document_id, number),
                    result.hocr.encode("utf-8"),
                    content_type="text/vnd.hocr+html; charset=utf-8",
                )
            with unit_of_work(svc.sessions) as session:
                if not is_processing(session, document_id):
                    return count  # failed or finished elsewhere meanwhile
                save_page(
                    session,
                    document_id,
                    PageValues(
                        number=number,
                        text=result.text,
                        method=result.method.value,
                        confidence=result.confidence,
                        rotation=result.rotation,
                        skew=result.skew,
                        has_hocr=result.hocr is not None,
                    ),
                )
            count += 1
    return count


def is_complete(svc: Services, document_id: str) -> bool:
    with unit_of_work(svc.sessions) as session:
        doc = session.get(DocumentRow, document_id)
        if doc is None or doc.status != Status.processing.value or doc.page_count is None:
            return False
        return len(done_pages(session, document_id)) >= doc.page_count


@lru_cache(maxsize=4)
def _trusted_roots(folder: Path | None) -> tuple[Any, ...]:
    return tuple(load_trusted_roots(folder))


def trusted_roots(settings: Settings) -> tuple[Any, ...]:
    """The operator's trusted roots (`SOHOA_TRUSTED_ROOTS`), read once per process."""
    return _trusted_roots(settings.trusted_roots)


def publish(svc: Services, document_id: str) -> Status | None:
    """Write the record's objects and make it final; None when there was nothing to publish.

    Objects are written before the status changes, so a crash in between only means the
    next run writes the same objects again.
    """
    with unit_of_work(svc.sessions) as session:
        doc = session.get(DocumentRow, document_id)
        if doc is None or doc.status != Status.processing.value or doc.page_count is None:
            return None
        pages = list(pages_of(session, document_id))
        numbers = [p.number for p in pages]
        if numbers != list(range(1, doc.page_count + 1)):
            log.warning("publish %s: pages %s of %s missing", document_id, numbers, doc.page_count)
            return None
        heartbeat(session, document_id)
        sha256, media_type, page_count = doc.sha256, doc.media_type or "", doc.page_count
        split_from = doc.split_from
        with_hocr = {p.number for p in pages if p.has_hocr}
        text = "\f".join(p.text for p in pages)

    with keep_lease(svc, document_id):
        return _write_record(
            svc, document_id, pages, sha256, media_type, page_count, with_hocr, text,
            split_from=split_from,
        )  # fmt: skip


def _write_record(
    svc: Services,
    document_id: str,
    pages: list,
    sha256: str,
    media_type: str,
    page_count: int,
    with_hocr: set[int],
    text: str,
    *,
    split_from: str | None = None,
) -> Status | None:
    objects = svc.objects
    objects.put_bytes(
        record_key(document_id, "text.txt"), text.encode("utf-8"), "text/plain; charset=utf-8"
    )

    def hocr_for_page(number: int) -> HocrPage | None:
        if number not in with_hocr:
            return None
        return parse_hocr(objects.get_bytes(hocr_key(document_id, number)))

    source = local_original(objects, sha256)
    signatures = read_signatures(source, trusted_roots(svc.settings)) if media_type == PDF else []
    with tempfile.TemporaryDirectory(prefix="sohoa-publish-") as tmp:
        out = Path(tmp) / "searchable.pdf"
        problems = build_searchable_pdf(source, media_type, hocr_for_page, page_count, out)
        if problems:  # the original has features PDF/A forbids that could not be removed
            log.info("searchable PDF of %s is not strict PDF/A: %s", document_id, problems)
        signed, not_signed = _signed(svc, document_id, out, Path(tmp) / "signed.pdf")
        kept = Path(tmp) / "signed.pdf" if signed is not None else out
        objects.put_file(record_key(document_id, "searchable.pdf"), kept, "application/pdf")

    document, classification, unit, archive = _classify(
        svc, document_id, pages, source, media_type, signatures
    )
    unsure = [p.number for p in pages if p.method == "ocr" and (p.confidence or 0) < LOW_CONFIDENCE]
    if unsure:  # OCR the engine itself doubts: a person should look at those pages
        classification["needs_review"] = True
        low = ReviewReason(code=ReviewCode.low_ocr_confidence, detail=f"pages {unsure}")
        classification.setdefault("reasons", []).append(low.model_dump(mode="json"))
    for reason in signature_reasons(signatures):
        classification["needs_review"] = True
        classification.setdefault("reasons", []).append(reason.model_dump(mode="json"))
    if signed is not None:
        archive = {
            **(archive or ArchiveInfo().model_dump(mode="json")),
            "signed_by": signed.body,
            "signed_at": signed.signed_at.isoformat(),
        }
    if split_from:  # cut from a scan of several documents: a person checks where
        classification["needs_review"] = True
        reason = ReviewReason(code=ReviewCode.split_check, detail=split_from)
        classification.setdefault("reasons", []).append(reason.model_dump(mode="json"))
    if not_signed is not None:  # published unsigned, and a person is told why
        classification["needs_review"] = True
        reason = ReviewReason(code=ReviewCode.not_signed, detail=not_signed[:500])
        classification.setdefault("reasons", []).append(reason.model_dump(mode="json"))
    status = Status.needs_review if classification["needs_review"] else Status.digitized
    review = classification.get("reasons") if status == Status.needs_review else None
    with unit_of_work(svc.sessions) as session:
        published = mark_published(
            session, document_id, status, document=document,
            classification=classification, archive=archive, unit=unit, review=review,
            signatures=[sig.model_dump(mode="json") for sig in signatures],
        )  # fmt: skip
        if not published:
            return None
        session.flush()
        doc = session.get(DocumentRow, document_id, populate_existing=True)
        assert doc is not None
        record = build_record(doc, list(pages_of(session, document_id)))
        _put_record_json(svc, record.model_dump(mode="json"))
    forget_original(objects, sha256)
    log.info("record.digitized %s (%s pages)", document_id, page_count)
    return status


def _signed(
    svc: Services, document_id: str, source: Path, out: Path
) -> tuple[AppliedSignature | None, str | None]:
    """The digitizing body's signature on the searchable PDF when a key is configured: what
    was applied, or why it could not be (the record is then published unsigned, in review)."""
    if not signing_configured(svc.settings):
        return None, None  # no key: the searchable PDF as it is
    from ocr.signing import SigningError  # pyHanko's signer loads where a key is set only
    from worker.signing import sign_copy

    try:
        return sign_copy(svc.settings, source, out), None
    except SigningError as exc:
        log.error("searchable PDF of %s not signed: %s", document_id, exc)
        return None, str(exc)
    except Exception as exc:  # a signing library's surprise costs the signature, not the record
        log.exception("searchable PDF of %s not signed", document_id)
        return None, f"signing_failed: {type(exc).__name__}: {exc}"


def _classify(
    svc: Services,
    document_id: str,
    pages: list,
    source: Path,
    media_type: str,
    signatures: Sequence[Signature] = (),
) -> tuple[dict | None, dict, str | None, dict | None]:
    """Document fields, what the machine read, a unit guess and the archive block.

    A classifier error never loses the record: it goes to review with null fields.
    """
    try:
        result = classify_pages(
            svc, pages, hocr_key=hocr_key, document_id=document_id, source=source,
            media_type=media_type, signatures=signatures,
        )  # fmt: skip
    except Exception as exc:
        log.exception("classification of %s failed", document_id)
        return (
            None,
            {"needs_review": True, "reasons": [_failed(exc)]},
            None,
            None,
        )
    document = result.document.model_dump(mode="json")
    archive = None
    if result.document.secrecy:  # secret records are flagged for the API to restrict
        archive = {**ArchiveInfo().model_dump(mode="json"), "mode": "03"}
    return document, classification_record(result), unit_guess(result), archive


def _failed(exc: Exception) -> dict:
    reason = ReviewReason(code=ReviewCode.classification_failed, detail=str(exc)[:500])
    return reason.model_dump(mode="json")


def _put_record_json(svc: Services, record: dict) -> None:
    data = json.dumps(record, ensure_ascii=False, indent=2).encode("utf-8")
    svc.objects.put_bytes(
        record_key(record["id"], "record.json"), data, "application/json; charset=utf-8"
    )


def refresh_record_json(svc: Services, document_id: str) -> None:
    """Rewrite record.json after a change outside the pipeline (a correction)."""
    with unit_of_work(svc.sessions) as session:
        doc = session.get(DocumentRow, document_id)
        if doc is None:
            return
        done = doc.status in (Status.digitized.value, Status.needs_review.value)
        pages = list(pages_of(session, document_id)) if done else []
        _put_record_json(svc, build_record(doc, pages).model_dump(mode="json"))


def fail(svc: Services, document_id: str, code: ErrorCode, message: str) -> None:
    """Mark the document failed with a stable code; its original stays stored."""
    with unit_of_work(svc.sessions) as session:
        changed = mark_failed(session, document_id, code, message)
        doc = session.get(DocumentRow, document_id, populate_existing=True)
        if changed and doc is not None:
            session.flush()
            _put_record_json(svc, build_record(doc, []).model_dump(mode="json"))
            sha256 = doc.sha256
        else:
            sha256 = None
    if sha256:
        forget_original(svc.objects, sha256)
    log.warning("record.failed %s: %s %s", document_id, code.value, message)
