"""Which documents have a message in the broker: the reconciler re-sends a queued document
whose message is nowhere (lost in a broker flush or restart) without waiting for the queue to
drain. The database says what should be queued; this says what is.

Redis (kombu's layout): one list per queue and priority level, plus the `unacked` hash of
messages delivered to a worker and not yet acknowledged. The filesystem broker: one file per
message in the queue folder.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import redis

from schemas.settings import Settings
from worker.app import LEVELS, broker_folder, light_queue, ocr_queue

log = logging.getLogger(__name__)

#: kombu's separator between a queue's name and its priority level
PRIORITY_SEP = "\x06\x16"
UNACKED = "unacked"
UNACKED_INDEX = "unacked_index"
#: the tasks whose first argument is a document id
DOCUMENT_TASKS = frozenset({"sohoa.process", "sohoa.extract_range", "sohoa.publish"})
CHUNK = 1000
TIMEOUT = 5.0


def document_of(raw: bytes | str) -> str | None:
    """The document id a kombu message is about, or None (another task, or unreadable)."""
    try:
        message = json.loads(raw)
        if isinstance(message, list):  # an unacked entry: [message, exchange, routing key]
            message = message[0]
        if message.get("headers", {}).get("task") not in DOCUMENT_TASKS:
            return None
        body = message["body"]
        if message.get("properties", {}).get("body_encoding") == "base64":
            body = base64.b64decode(body)
        args = json.loads(body)[0]
        return str(args[0]) if args else None
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        return None


def _routing_key(raw: bytes | str) -> str | None:
    """The routing key of an unacknowledged entry ([message, exchange, routing key])."""
    try:
        entry = json.loads(raw)
        return str(entry[2]) if isinstance(entry, list) and len(entry) > 2 else None
    except ValueError:
        return None


def _ids(raws: Iterable[bytes | str]) -> set[str]:
    return {doc for doc in map(document_of, raws) if doc is not None}


@dataclass(frozen=True)
class Listing:
    """Documents with a message `waiting` in the queue, and those whose message a worker
    took less than `fresh` seconds ago and has not acknowledged (`held`). A message held
    longer may belong to a worker that died: for that the document's lease decides."""

    waiting: set[str]
    held: set[str]

    @property
    def present(self) -> set[str]:
        return self.waiting | self.held


def _redis_listing(url: str, queues: tuple[str, ...], fresh: float) -> Listing:
    client = redis.Redis.from_url(url, socket_connect_timeout=TIMEOUT, socket_timeout=TIMEOUT)
    try:
        waiting: set[str] = set()
        for queue, level in ((q, n) for q in queues for n in LEVELS):
            key = f"{queue}{PRIORITY_SEP}{level}" if level else queue
            start = 0
            while True:
                chunk = client.lrange(key, start, start + CHUNK - 1)
                waiting |= _ids(chunk)
                if len(chunk) < CHUNK:
                    break
                start += CHUNK
        recent = {
            tag.decode() if isinstance(tag, bytes) else str(tag)
            for tag in client.zrangebyscore(UNACKED_INDEX, time.time() - fresh, "+inf")
        }
        held: set[str] = set()
        for tag, value in client.hscan_iter(UNACKED, count=CHUNK):
            tag = tag.decode() if isinstance(tag, bytes) else str(tag)
            # the hash is shared by every queue of the database
            if tag in recent and _routing_key(value) in queues:
                held |= _ids([value])
        return Listing(waiting, held)
    finally:
        client.close()


def _folder_listing(folder: Path) -> Listing:
    found: set[str] = set()
    for path in (folder / "queue").glob("*.msg"):
        try:
            found |= _ids([path.read_bytes()])
        except OSError:  # taken by a worker meanwhile
            continue
    return Listing(found, set())


def broker_listing(settings: Settings, fresh: float) -> Listing | None:
    """What the OCR and light queues hold (a publish waiting its turn is a sign of life),
    or None when the broker cannot tell (down, or a kind we cannot read)."""
    try:
        folder = broker_folder(settings)
        if folder is not None:
            return _folder_listing(folder)
        if settings.broker_url.partition("://")[0].lower() in ("redis", "rediss"):
            queues = (ocr_queue(settings), light_queue(settings))
            return _redis_listing(settings.broker_url, queues, fresh)
    except Exception as exc:
        log.warning("cannot list the messages in the broker: %s", exc)
    return None


def documents_in_broker(settings: Settings) -> set[str] | None:
    """Ids of the documents with a waiting or recently delivered message, or None."""
    listing = broker_listing(settings, float(settings.lease_seconds))
    return None if listing is None else listing.present
