"""Tables of the metadata database. The database is the source of truth; the broker only
carries work."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite has no time zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class UnitRow(Base):
    __tablename__ = "units"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("units.code"))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)


class BatchRow(Base):
    __tablename__ = "batches"

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    unit_code: Mapped[str | None] = mapped_column(ForeignKey("units.code"))
    dossier: Mapped[str | None] = mapped_column(String(100))
    label: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(20))  # cli, api, watch
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    #: an account's uploads of the last hour, for its quotas
    __table_args__ = (Index("ix_batches_created_by_at", "created_by", "created_at"),)

    entries: Mapped[list[BatchEntryRow]] = relationship(
        back_populates="batch", order_by="BatchEntryRow.position"
    )


class DocumentRow(Base):
    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    batch_id: Mapped[str | None] = mapped_column(ForeignKey("batches.id"), index=True)
    unit_code: Mapped[str | None] = mapped_column(ForeignKey("units.code"), index=True)
    dossier: Mapped[str | None] = mapped_column(String(100), index=True)
    #: số thứ tự in the dossier, from 1 (TT 05 file names `<dossier>.<n>.pdf`)
    dossier_ordinal: Mapped[int | None] = mapped_column(Integer)
    #: cut from a scan of several documents: `pages 3–5 of hop-12.pdf` (a person checks it)
    split_from: Mapped[str | None] = mapped_column(String(300))
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    media_type: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    page_count: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), index=True)
    error_code: Mapped[str | None] = mapped_column(String(40))
    error_message: Mapped[str | None] = mapped_column(Text)
    document: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # classification fields
    archive: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: how the machine read it: header as read, confidence per field, review reasons
    classification: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: digital signatures found in the uploaded file (schemas.record.Signature, as data)
    signatures: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    #: why it waits for review (schemas.review.ReviewReason, as data); emptied on acceptance
    review: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: last sign of life of whoever works on it; the reconciler looks at this
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: who holds the document while it is processed (a task id); a redelivered task takes it back
    lease: Mapped[str | None] = mapped_column(String(64))
    digitized_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: copies of document fields that lists filter on (kept in step by store.records.events)
    doc_type: Mapped[str | None] = mapped_column(String(40), index=True)
    issued_on: Mapped[date | None] = mapped_column(Date, index=True)
    secrecy: Mapped[str | None] = mapped_column(String(20))

    pages: Mapped[list[PageRow]] = relationship(
        back_populates="document", order_by="PageRow.number", cascade="all, delete-orphan"
    )

    __table_args__ = (
        Index("ix_documents_status_heartbeat", "status", "heartbeat_at"),
        Index("ix_documents_status_digitized_at", "status", "digitized_at"),
    )


class BatchEntryRow(Base):
    """One uploaded file of a batch. A duplicate points at the record made from the first upload."""

    __tablename__ = "batch_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(1024))
    outcome: Mapped[str] = mapped_column(String(20))
    document_id: Mapped[str | None] = mapped_column(ForeignKey("documents.id"), index=True)
    sha256: Mapped[str | None] = mapped_column(String(64))
    error_code: Mapped[str | None] = mapped_column(String(40))
    error_message: Mapped[str | None] = mapped_column(Text)

    batch: Mapped[BatchRow] = relationship(back_populates="entries")
    document: Mapped[DocumentRow | None] = relationship()


class PageRow(Base):
    __tablename__ = "pages"

    document_id: Mapped[str] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True
    )
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    method: Mapped[str] = mapped_column(String(20))
    confidence: Mapped[float | None] = mapped_column(Float)
    rotation: Mapped[int] = mapped_column(Integer, default=0)
    skew: Mapped[float | None] = mapped_column(Float)
    has_hocr: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    document: Mapped[DocumentRow] = relationship(back_populates="pages")


class AuditRow(Base):
    """Who did what, when: uploads, state changes, corrections, retries."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(40))
    document_id: Mapped[str | None] = mapped_column(String(26), index=True)
    batch_id: Mapped[str | None] = mapped_column(String(26))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class UserRow(Base):
    """A person who logs in to the web interface."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    full_name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    #: units the person works for; empty for supervisors and admins (every unit)
    units: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiTokenRow(Base):
    """A bearer token for a service. Only its SHA-256 is stored: the token is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    #: units the token is limited to; null for every unit
    units: Mapped[list[str] | None] = mapped_column(JSON)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebSessionRow(Base):
    """A logged-in browser. The cookie holds a random id; only its SHA-256 is stored."""

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class JobAttemptRow(Base):
    """A piece of work on a document that started and has not ended: a row left behind
    means the process doing it died (killed, out of memory); `starts` counts such deaths."""

    __tablename__ = "job_attempts"

    document_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    job: Mapped[str] = mapped_column(String(40), primary_key=True)
    starts: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IdempotencyRow(Base):
    """The answer to a request sent with an Idempotency-Key, so a retried upload returns the
    first batch instead of making a second one."""

    __tablename__ = "idempotency_keys"

    actor: Mapped[str] = mapped_column(String(120), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    batch_id: Mapped[str | None] = mapped_column(String(26))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class WebhookRow(Base):
    """A subscription of another service to record events."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    url: Mapped[str] = mapped_column(String(2000))
    #: key of the HMAC-SHA256 signature over each body
    secret: Mapped[str] = mapped_column(String(200))
    #: event names it wants (record.digitized, record.updated, record.failed)
    events: Mapped[list[str]] = mapped_column(JSON)
    #: only events of records of these units; null for all
    units: Mapped[list[str] | None] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookDeliveryRow(Base):
    """One event for one subscription: written in the transaction that changed the record
    (an outbox), then delivered by a task with retries. An operator can see and replay it."""

    __tablename__ = "webhook_deliveries"
    #: ids are sent as X-Sohoa-Delivery: SQLite must never give a deleted row's id again
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    webhook_id: Mapped[int] = mapped_column(
        ForeignKey("webhooks.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[str] = mapped_column(String(40))
    document_id: Mapped[str | None] = mapped_column(String(26))
    body: Mapped[str] = mapped_column(Text)
    #: pending, delivered, failed (gave up after the last retry)
    status: Mapped[str] = mapped_column(String(20), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DossierRow(Base):
    """A hồ sơ of the archive's catalogue (mục lục): its TT 05/2025 fields as given, under
    its code. Its documents are the records whose `dossier` is this code; totals, pages and
    dates follow from them."""

    __tablename__ = "dossiers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    file_code: Mapped[str] = mapped_column(String(100), unique=True)
    unit_code: Mapped[str | None] = mapped_column(ForeignKey("units.code"), index=True)
    title: Mapped[str] = mapped_column(String(1000))
    #: the whole schemas.dossier.Dossier, as JSON
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(120))


class PlanRow(Base):
    """A loaded digitization plan (the whole validated file); the newest one is in force."""

    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(60))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    loaded_by: Mapped[str | None] = mapped_column(String(120))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InventoryRow(Base):
    """What a unit still holds on paper: the denominators of progress, estimated by staff."""

    __tablename__ = "inventory"

    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"), primary_key=True)
    dossiers: Mapped[int | None] = mapped_column(BigInteger)
    documents: Mapped[int | None] = mapped_column(BigInteger)
    pages: Mapped[int | None] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(String(500))
    updated_by: Mapped[str | None] = mapped_column(String(120))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
