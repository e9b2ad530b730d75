"""`sohoa watch DIR`: a scanning station's folder, digitized as files land in it.

The scanner (or a person) saves into `DIR/<unit>/<dossier>/` (or `DIR/<unit>/` for files of
no dossier). A file is taken once it is complete: its size and time unchanged for
`--settle` seconds and its name not a temporary one (`.part`, `~$…`, `.tmp`…). It is stored
and queued for the workers like an upload, then moved to `DIR/done/…` or `DIR/failed/…`
beside a JSON file saying what became of it (its record, or the reason).

Why polling and not file-system events: scanners often write to a network share, where
events do not arrive, and a file is announced when it is created, not when it is complete;
a scan every few seconds sees both. A restart loses nothing: what is still in the folder is
taken again, and a file stored before a crash but not yet moved is found by its bytes (the
same record, never a second one).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from store import unit_of_work
from store.accounts.units import unit_exists
from store.dossiers.naming import natural_key, placement
from store.dossiers.registry import dossier_codes
from store.records.documents import create_batch
from store.services import Services
from worker.ingest import Ingested, ingest_file

log = logging.getLogger(__name__)

DONE, FAILED = "done", "failed"
_TEMPORARY_SUFFIXES = (".part", ".partial", ".tmp", ".crdownload", ".filepart", ".download")
_TEMPORARY_PREFIXES = (".", "~$", "~")
_SKIPPED = {"thumbs.db", "desktop.ini", ".ds_store"}


def is_temporary(name: str) -> bool:
    """A name a program writes under before the file is complete (or clutter)."""
    lower = name.lower()
    return (
        lower.startswith(_TEMPORARY_PREFIXES)
        or lower.endswith(_TEMPORARY_SUFFIXES)
        or lower in _SKIPPED
    )


@dataclass
class Landed:
    """A file seen in the folder: when its size and time last changed."""

    size: int
    mtime: float
    since: float


@dataclass
class Station:
    root: Path
    svc: Services
    settle: float = 5.0
    actor: str = "watch"
    seen: dict[Path, Landed] = field(default_factory=dict)
    batches: dict[tuple[str, str | None], str] = field(default_factory=dict)
    #: the catalogue's dossier codes, read again at each look (not for each file)
    known: set[str] = field(default_factory=set)

    def scan(self) -> list[Path]:
        """Files complete now: seen before with the same size and time, `settle` ago."""
        now = time.monotonic()
        present: dict[Path, Landed] = {}
        ready = []
        for path in self._files():
            try:
                stat = path.stat()
            except OSError:  # moved or deleted between the listing and now
                continue
            before = self.seen.get(path)
            if before is None or (before.size, before.mtime) != (stat.st_size, stat.st_mtime):
                present[path] = Landed(stat.st_size, stat.st_mtime, now)
                continue
            present[path] = before
            if now - before.since >= self.settle:
                ready.append(path)
        self.seen = present
        if ready:
            with unit_of_work(self.svc.sessions) as session:
                self.known = dossier_codes(session)
        return sorted(ready, key=lambda p: natural_key(p.relative_to(self.root).as_posix()))

    def _files(self) -> list[Path]:
        found = []
        for unit_dir in sorted(self.root.iterdir()):
            if (
                not unit_dir.is_dir()
                or unit_dir.name in (DONE, FAILED)
                or is_temporary(unit_dir.name)
            ):
                continue
            for dirpath, dirnames, filenames in os.walk(unit_dir):
                dirnames[:] = [d for d in dirnames if not is_temporary(d)]
                found += [Path(dirpath) / n for n in filenames if not is_temporary(n)]
        return found

    def take(self, path: Path) -> dict[str, object]:
        """Store one complete file, move it to done/ or failed/ with its JSON; what it says."""
        relative = path.relative_to(self.root)
        unit, folders = relative.parts[0], relative.parts[1:-1]
        dossier = folders[0] if folders else None
        outcome: dict[str, object] = {"file": relative.as_posix(), "unit": unit}
        try:
            ingested = self._ingest(path, unit, dossier, relative.as_posix())
        except _Refused as exc:
            outcome.update(status="failed", error_code=exc.code, message=exc.message)
        except OSError as exc:
            outcome.update(status="failed", error_code="unreadable_file", message=str(exc))
        else:
            outcome.update(
                status=ingested.status.value if ingested.status else "failed",
                record_id=ingested.document_id,
                outcome=ingested.outcome.value,
                error_code=ingested.error_code.value if ingested.error_code else None,
            )
        failed = outcome["status"] == "failed" or outcome.get("outcome") == "rejected"
        self._move(path, relative, FAILED if failed else DONE, outcome)
        return outcome

    def _ingest(self, path: Path, unit: str, dossier: str | None, shown: str) -> Ingested:
        from worker.tasks import enqueue_after_commit_safe

        with unit_of_work(self.svc.sessions) as session:
            if not unit_exists(session, unit):
                raise _Refused("unknown_unit", f"no unit {unit!r}: put files in DIR/<unit>/")
            key = (unit, dossier)
            if key not in self.batches:
                self.batches[key] = create_batch(
                    session, unit=unit, dossier=dossier, label="watch", source="watch",
                    actor=self.actor,
                ).id  # fmt: skip
        in_dossier, ordinal = placement(shown.split("/", 1)[1], self.known, dossier)
        with path.open("rb") as stream:
            return ingest_file(
                self.svc, self.batches[key], stream, path.name, actor=self.actor,
                enqueue=enqueue_after_commit_safe, unit=unit, dossier=in_dossier,
                ordinal=ordinal,
            )  # fmt: skip

    def _move(self, path: Path, relative: Path, where: str, outcome: dict[str, object]) -> None:
        target = self.root / where / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():  # the same name again: keep both
            target = target.with_name(f"{target.stem}.{int(time.time())}{target.suffix}")
        sidecar = target.with_name(target.name + ".json")
        sidecar.write_text(json.dumps(outcome, ensure_ascii=False, indent=2), encoding="utf-8")
        shutil.move(str(path), target)
        self.seen.pop(path, None)


class _Refused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def watch(station: Station, *, once: bool, every: float = 2.0) -> int:
    """Take complete files until stopped; with `once`, until no file is left waiting to
    settle (a file still growing after a while is left for the next run). How many were
    taken."""
    taken = 0
    give_up = time.monotonic() + station.settle + 60
    while True:
        for path in station.scan():
            outcome = station.take(path)
            taken += 1
            log.info("%s: %s", outcome["file"], outcome.get("status"))
        if once and (not station.seen or time.monotonic() > give_up):
            return taken
        time.sleep(min(every, max(station.settle / 2, 0.05)) if once else every)
