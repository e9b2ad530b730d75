"""A dossier as the archive hands it over (Circular 05/2025/TT-BNV): the input of a package.

Plain models, filled from whatever keeps the dossiers (the database, a mục lục, a test): the
dossier's own fields (what the mục lục says), its documents' fields, and what happened to
them (digitization, OCR, classification, corrections, signing). What follows from the
documents — the number of documents and pages, the first and last dates — is not an input:
the package computes it, so it cannot disagree with the files.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from schemas.tt05 import (
    AccessMode,
    ConfidenceLevel,
    Language,
    Maintenance,
    PhysicalState,
    RiskRecoveryStatus,
)

#: a dossier code becomes file and folder names: letters, digits, dots, hyphens, underscores
_FILE_CODE = re.compile(r"^[^\W_][\w.-]*$")
_TYPE_CODE = re.compile(r"^(0[1-9]|[12][0-9]|3[0-2])$")


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _backup_rule(model: Dossier | DossierDocument) -> None:
    if model.risk_recovery and model.risk_recovery_status is None:
        raise ValueError("risk_recovery_status is required when risk_recovery is set")


class Dossier(_Input):
    """Hồ sơ: the 18 TT 05 dossier fields less those its documents decide."""

    file_code: str = Field(
        max_length=100,
        description="Mã hồ sơ: organ identifier + year + number/notation, e.g. H49.64.33.2001.160",
    )
    title: str = Field(min_length=1, max_length=1000, description="Tiêu đề hồ sơ")
    maintenance: Maintenance = Field(description="Thời hạn lưu trữ (01 permanent … 07 other)")
    mode: AccessMode = Field(description="Chế độ sử dụng (01 public, 02 conditional, 03 secret)")
    languages: list[Language] = Field(default=[Language.vietnamese], min_length=1)
    start_date: date | None = Field(
        default=None, description="Used only when no document has a date"
    )
    end_date: date | None = Field(default=None, description="Used only when no document has one")
    keyword: str | None = Field(default=None, max_length=100)
    number_of_paper: int | None = Field(
        default=None, ge=0, lt=10**10, description="Số tờ: sheets of the paper original"
    )
    format: PhysicalState | None = Field(default=None, description="Physical state of the paper")
    infor_sign: str | None = Field(default=None, max_length=30, description="Ký hiệu thông tin")
    confidence_level: ConfidenceLevel = ConfidenceLevel.digitized
    paper_file_code: str | None = Field(
        default=None,
        max_length=100,
        description="[archive code].[store/shelf/box].[paper dossier number]; digitized dossiers",
    )
    risk_recovery: bool = Field(default=False, description="A backup copy is kept")
    risk_recovery_status: RiskRecoveryStatus | None = None
    description: str | None = Field(default=None, max_length=2000, description="Ghi chú")

    @field_validator("file_code")
    @classmethod
    def _file_code(cls, value: str) -> str:
        if not _FILE_CODE.match(value):
            raise ValueError("a dossier code has letters, digits, '.', '-' and '_' only")
        return value

    @model_validator(mode="after")
    def _rules(self) -> Self:
        _backup_rule(self)
        if self.confidence_level != ConfidenceLevel.born_electronic and not self.paper_file_code:
            raise ValueError("a digitized dossier needs the code of its paper original")
        if self.start_date and self.end_date and self.start_date > self.end_date:
            raise ValueError("start_date is after end_date")
        return self


class DossierDocument(_Input):
    """Văn bản: one document of the dossier, with the TT 05 document fields it brings.

    The identifiers (`docId`, `arcDocCode`) and the file name follow from the dossier code
    and `ordinal`; `maintenance` is the dossier's unless set.
    """

    ordinal: int = Field(ge=1, lt=10**7, description="Số thứ tự in the dossier, from 1")
    type_code: str = Field(description="typeName: TT 05 code 01–32 (schemas.tt05.type_names)")
    code_number: str | None = Field(default=None, max_length=11, description="Số, e.g. 251")
    code_notation: str | None = Field(default=None, max_length=30, description="e.g. KH-UBND")
    issued_date: date | None = None
    organ_name: str | None = Field(default=None, max_length=200, description="Issuing body")
    subject: str | None = Field(default=None, max_length=500, description="Trích yếu")
    languages: list[Language] = Field(default=[Language.vietnamese], min_length=1)
    number_of_page: int = Field(ge=1, le=9999)
    infor_sign: str | None = Field(default=None, max_length=30)
    keyword: str | None = Field(default=None, max_length=100)
    maintenance: Maintenance | None = Field(default=None, description="None: the dossier's")
    mode: AccessMode = AccessMode.public
    confidence_level: ConfidenceLevel = Field(
        default=ConfidenceLevel.digitized,
        description="01 when the file carries the issuer's intact digital signature",
    )
    autograph: str | None = Field(
        default=None, max_length=2000, description="Bút tích: leaders' handwritten notes"
    )
    format: PhysicalState | None = None
    risk_recovery: bool = False
    risk_recovery_status: RiskRecoveryStatus | None = None
    process: bool | None = Field(
        default=None, description="Has a processing history; required for born-electronic"
    )
    description: str | None = Field(default=None, max_length=500)

    @field_validator("type_code")
    @classmethod
    def _type_code(cls, value: str) -> str:
        if not _TYPE_CODE.match(value):
            raise ValueError("typeName is a TT 05 code from 01 to 32")
        return value

    @model_validator(mode="after")
    def _rules(self) -> Self:
        _backup_rule(self)
        if self.confidence_level == ConfidenceLevel.born_electronic and self.process is None:
            raise ValueError("process is required for a born-electronic document")
        return self


class AgentKind(StrEnum):
    person = "person"
    organization = "organization"
    software = "software"


class Agent(_Input):
    """Who did something: a person (by account), the digitizing body, or a program."""

    name: str = Field(min_length=1, max_length=300)
    kind: AgentKind
    identifier: str | None = Field(
        default=None, max_length=200, description="Account name, organ code or version"
    )


class EventKind(StrEnum):
    """What happened to a document, in the words of the PREMIS event types."""

    digitization = "digitization"
    ocr = "ocr"
    classification = "classification"
    correction = "correction"
    signing = "signing"


class DossierEvent(_Input):
    """One step in the life of a document (or of the whole dossier when `ordinal` is None)."""

    kind: EventKind
    at: datetime = Field(description="When, with its UTC offset")
    agent: Agent
    ordinal: int | None = Field(default=None, ge=1, description="The document; None: dossier")
    detail: str | None = Field(
        default=None, max_length=2000, description="e.g. `subject: 'cũ' → 'mới'` for a correction"
    )
    outcome: Literal["success", "failure"] = "success"

    @field_validator("at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.utcoffset() is None:
            raise ValueError("an event time needs its UTC offset")
        return value


class PackageKind(StrEnum):
    """SIP to hand over, AIP to keep (with preservation metadata), DIP for a reader."""

    sip = "sip"
    aip = "aip"
    dip = "dip"


class DossierPackageInput(_Input):
    """Everything a package of one dossier says, except the PDF bytes (read when written)."""

    dossier: Dossier
    documents: list[DossierDocument]
    events: list[DossierEvent] = Field(default_factory=list)
    archive: Agent = Field(description="The body that digitized and hands over the dossier")

    @model_validator(mode="after")
    def _ordinals(self) -> Self:
        ordinals = [d.ordinal for d in self.documents]
        if len(set(ordinals)) != len(ordinals):
            raise ValueError("two documents share an ordinal")
        known = set(ordinals)
        strays = sorted({e.ordinal for e in self.events if e.ordinal and e.ordinal not in known})
        if strays:
            raise ValueError(f"events name documents that are not in the dossier: {strays}")
        return self
