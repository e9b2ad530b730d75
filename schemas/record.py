"""The record contract: what record.json, the API and `sohoa digitize --out` carry."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.errors import ErrorCode
from schemas.review import ReviewReason

SCHEMA_VERSION: Literal[1] = 1


class Status(StrEnum):
    """Processing state of a document: queued → processing → digitized | needs_review | failed."""

    queued = "queued"
    processing = "processing"
    digitized = "digitized"
    needs_review = "needs_review"
    failed = "failed"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATES


FINAL_STATES = frozenset({Status.digitized, Status.needs_review, Status.failed})


class PageMethod(StrEnum):
    text_layer = "text-layer"
    ocr = "ocr"


class _Contract(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Source(_Contract):
    filename: str = Field(description="Name of the uploaded file, without folders")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    media_type: str | None = Field(description="Real type sniffed from the bytes; null if unknown")
    size: int = Field(ge=0)
    pages: int | None = Field(default=None, ge=0)


class Page(_Contract):
    number: int = Field(ge=1)
    text: str
    method: PageMethod
    confidence: float | None = Field(default=None, ge=0, le=1)
    rotation: int = Field(
        default=0, description="Clockwise degrees applied before OCR: 0/90/180/270"
    )
    skew: float | None = Field(default=None, description="Degrees of deskew applied")


SecrecyMark = Literal["mat", "toi_mat", "tuyet_mat"]
UrgencyMark = Literal["khan", "thuong_khan", "hoa_toc"]


class DocumentInfo(_Contract):
    """What classification reads off the page (Decree 30/2020/NĐ-CP). Unknown is null."""

    type: str | None = None
    type_label: str | None = None
    archive_type_code: str | None = None
    number: str | None = None
    code_number: str | None = None
    code_notation: str | None = None
    issued_on: date | None = None
    place: str | None = None
    issuer: str | None = None
    subject: str | None = None
    signer: str | None = None
    signer_title: str | None = None
    secrecy: SecrecyMark | None = None
    urgency: UrgencyMark | None = None
    confidence: float | None = Field(default=None, ge=0, le=1)


class ArchiveInfo(_Contract):
    """Archival metadata of Circular 05/2025/TT-BNV that is not read off the text."""

    language: str = Field(default="01", description="01 Vietnamese, 02 English, … 11 other")
    mode: str = Field(default="01", description="Access mode: 01 public, 02 conditional, 03 secret")
    confidence_level: str = Field(default="02", description="02: digitized from paper")
    physical_state: str | None = None
    retention: str | None = None
    keywords: list[str] = Field(default_factory=list)
    signed_by: str | None = Field(
        default=None, description="The digitizing body whose signature the searchable PDF has"
    )
    signed_at: datetime | None = Field(default=None, description="When it signed (+07:00)")


SignatureCoverage = Literal["whole_file", "earlier_revision", "unclear"]
SignatureTrust = Literal["trusted", "untrusted", "not_checked"]


class Signature(_Contract):
    """A digital signature found in the uploaded PDF, as read, never trusted blindly.

    `intact` says whether the bytes the signature covers still hash to what was signed;
    `trust` is `trusted` only when the certificate chains to a root the operator configured
    (no network is ever used); without configured roots it is `not_checked`, never valid.
    """

    field: str | None = Field(default=None, description="Name of the signature form field")
    signer: str | None = Field(default=None, description="Common name of the certificate")
    organization: str | None = Field(default=None, description="Organisation of the certificate")
    certificate_issuer: str | None = Field(default=None, description="Who issued the certificate")
    signed_at: datetime | None = Field(default=None, description="Signing time as claimed")
    timestamped: bool = Field(default=False, description="The time comes from a TSA's token")
    coverage: SignatureCoverage = "unclear"
    intact: bool | None = Field(
        default=None, description="The signed bytes are unchanged; null when it cannot be told"
    )
    modified_after: bool = Field(
        default=False, description="The file was changed after this signature, beyond additions"
    )
    trust: SignatureTrust = "not_checked"
    problem: str | None = Field(default=None, description="What could not be read or checked")


class RecordError(_Contract):
    code: ErrorCode
    message: str = Field(description="What people read, in Vietnamese; follows from the code")
    detail: str | None = Field(
        default=None, description="What exactly went wrong with this file (technical, English)"
    )


class Record(_Contract):
    id: str
    schema_version: Literal[1] = SCHEMA_VERSION
    status: Status
    unit: str | None = None
    batch_id: str | None = None
    dossier: str | None = None
    dossier_ordinal: int | None = Field(
        default=None, ge=1, description="Số thứ tự of the document in its dossier, from 1"
    )
    source: Source
    text: str | None = Field(default=None, description="Full text, NFC, pages separated by \\f")
    pages: list[Page] = Field(default_factory=list)
    document: DocumentInfo = Field(default_factory=DocumentInfo)
    archive: ArchiveInfo = Field(default_factory=ArchiveInfo)
    signatures: list[Signature] = Field(
        default_factory=list, description="Digital signatures found in the uploaded PDF"
    )
    review: list[ReviewReason] = Field(
        default_factory=list, description="Why the record needs review (codes, see /schemas)"
    )
    error: RecordError | None = None
    created_at: datetime
    updated_at: datetime
