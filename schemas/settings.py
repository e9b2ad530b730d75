"""Configuration from the environment. Every default is the embedded one (no server needed)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas.memory import pixel_budget, worker_memory_bytes


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SOHOA_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///var/sohoa.db", description="SQLAlchemy URL of the metadata database"
    )
    broker_url: str = Field(
        default="filesystem://var/broker",
        description="Celery broker; filesystem://FOLDER needs no server, redis://… in production",
    )
    storage_url: str = Field(
        default="file://var/objects",
        description="Object storage: file://FOLDER or s3://HOST:PORT/BUCKET",
    )
    s3_access_key: str | None = Field(default=None, description="Access key for s3:// storage")
    s3_secret_key: str | None = Field(default=None, description="Secret key for s3:// storage")
    s3_secure: bool = Field(default=False, description="Use HTTPS for s3:// storage")
    s3_region: str | None = Field(default=None, description="Region for s3:// storage")
    ocr_lang: str = Field(default="vie", description="Tesseract language(s), e.g. vie or vie+eng")
    ocr_dpi: int = Field(default=300, ge=100, le=600, description="Rasterizing resolution for OCR")
    max_pages: int = Field(default=2000, ge=1, description="Pages above which a file is refused")
    max_file_size: int = Field(
        default=2 * 1024**3, ge=1, description="Bytes above which an upload is refused"
    )
    max_image_pixels: int = Field(
        default=250_000_000, ge=1, description="Pixels above which an image is refused"
    )
    max_crashes: int = Field(
        default=3,
        ge=1,
        le=20,
        description="Times a piece of work on one document may kill its worker process before "
        "the document fails with worker_crashed",
    )
    worker_memory_mb: int | None = Field(
        default=None,
        ge=256,
        description="Memory one worker process may use (address space), in MiB; default: "
        "the container's cgroup limit, else 1536. Pages beyond what it allows are refused "
        "or rendered smaller",
    )
    stuck_after: int = Field(
        default=900,
        ge=1,
        description="Seconds without progress after which the reconciler re-enqueues a document",
    )
    reconcile_every: int = Field(default=15, ge=1, description="Seconds between reconciler runs")
    lease_seconds: int = Field(
        default=30,
        ge=3,
        description="Seconds a worker's hold on a document lasts without renewal; a worker "
        "renews it every third of that, so a dead worker's document is re-queued after it",
    )
    lost_after: int = Field(
        default=30,
        ge=1,
        description="Seconds after which a queued document whose message is in no broker "
        "queue is sent again",
    )
    pages_per_task: int = Field(
        default=8, ge=1, description="Pages per extraction task when a document fans out"
    )
    task_queue: str = Field(default="sohoa", description="Celery queue name")
    session_hours: int = Field(default=12, ge=1, le=720, description="Hours a web login lasts")
    cookie_secure: bool = Field(
        default=False, description="Send the session cookie over HTTPS only"
    )
    zip_max_entries: int = Field(
        default=10_000,
        ge=1,
        description="Files one upload request may store, the entries of all its zips counted",
    )
    zip_max_size: int = Field(
        default=8 * 1024**3,
        ge=1,
        description="Bytes one upload request may send and store, its zips counted unpacked",
    )
    quota_queued_documents: int = Field(
        default=10_000,
        ge=1,
        description="Documents one account may have waiting or in work; an upload beyond it "
        "is answered 429 (files past it fail with quota_exceeded)",
    )
    quota_upload_bytes_per_hour: int = Field(
        default=20 * 1024**3,
        ge=1,
        description="Bytes of new files one account may store in any hour (duplicates cost "
        "nothing)",
    )
    trusted_proxies: str = Field(
        default="127.0.0.1,::1",
        description="Comma-separated addresses or networks (CIDR) of the reverse proxies in "
        "front of the API: only from them are X-Forwarded-For and -Proto believed, and the "
        "client is the right-most address not among them. '*' is refused",
    )
    body_idle_timeout: int = Field(
        default=60,
        ge=1,
        description="Seconds a request body may pause before the request is answered 408",
    )
    body_min_rate: int = Field(
        default=1024,
        ge=0,
        description="Bytes per second a request body must average once it has taken longer "
        "than body_idle_timeout (a body that trickles is cut off); 0: no minimum",
    )
    download_redirect: bool = Field(
        default=False,
        description="Redirect S3 downloads to a presigned URL instead of streaming them",
    )
    download_url_ttl: int = Field(
        default=300, ge=10, le=86400, description="Seconds a presigned download URL is valid"
    )
    webhook_timeout: int = Field(
        default=10, ge=1, description="Seconds to wait for a webhook receiver"
    )
    webhook_allowed_networks: str = Field(
        default="",
        description="Comma-separated networks (CIDR) webhook receivers may be in although "
        "they are loopback, private or link-local; by default only public addresses",
    )
    webhook_max_attempts: int = Field(
        default=8,
        ge=1,
        le=30,
        description="Deliveries of one webhook event before it is marked failed",
    )
    sign_pkcs12: Path | None = Field(
        default=None, description="PKCS#12 file (.p12/.pfx) of the digitizing body's key"
    )
    sign_password: SecretStr | None = Field(
        default=None, description="Password of the PKCS#12 file"
    )
    sign_name: str | None = Field(
        default=None,
        description="The digitizing body's name shown on the signature; "
        "default: the certificate's organisation",
    )
    sign_pkcs11_module: Path | None = Field(
        default=None, description="PKCS#11 library of a signing token (instead of a PKCS#12 file)"
    )
    sign_pkcs11_token: str | None = Field(default=None, description="Label of the token")
    sign_pkcs11_key: str | None = Field(
        default=None, description="Label of the key on the token (and of its certificate)"
    )
    sign_pkcs11_cert: str | None = Field(
        default=None, description="Label of the certificate, when it differs from the key's"
    )
    sign_pkcs11_pin: SecretStr | None = Field(default=None, description="User PIN of the token")
    sign_tsa_url: str | None = Field(
        default=None, description="RFC 3161 time-stamping authority to timestamp signatures"
    )

    trusted_roots: Path | None = Field(
        default=None,
        description="Folder of PEM certificates: the roots a signature in an uploaded PDF may "
        "chain to. Without it signatures are read but their trust is not checked",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _named_proxies(cls, value: str) -> str:
        hosts = [h.strip() for h in value.split(",") if h.strip()]
        if "*" in hosts:
            raise ValueError(
                "list the proxies' addresses or networks: with '*' anyone may write the "
                "address the audit log and the login throttle believe"
            )
        return ",".join(hosts)

    @field_validator(
        "worker_memory_mb",
        "trusted_roots",
        "sign_pkcs12",
        "sign_password",
        "sign_name",
        "sign_pkcs11_module",
        "sign_pkcs11_token",
        "sign_pkcs11_key",
        "sign_pkcs11_cert",
        "sign_pkcs11_pin",
        "sign_tsa_url",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # docker-compose and Kubernetes pass an unset signing variable as an empty string
        return None if value == "" else value


def signing_configured(settings: Settings) -> bool:
    """A key file or a token is configured for the digitizing body's signature."""
    return settings.sign_pkcs12 is not None or settings.sign_pkcs11_module is not None


def page_pixel_budget(settings: Settings) -> int:
    """The most pixels a page may have in one worker process (schemas/memory.py)."""
    memory = worker_memory_bytes(settings.worker_memory_mb)
    return pixel_budget(memory, settings.max_image_pixels)


@cache
def get_settings() -> Settings:
    return Settings()
