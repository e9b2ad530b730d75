"""`sohoa digitize`: the pipeline run locally, pages spread over the cores, with progress.

The same pipeline functions the Celery tasks call; only the scheduling differs: a process
pool instead of a broker.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text
from sqlalchemy import select

from cli.inputs import InputFile
from cli.pool import PoolRunner, describe
from schemas.batch import EntryOutcome
from schemas.errors import ErrorCode, error_message
from schemas.record import Record, Status
from store import unit_of_work
from store.dossiers.naming import placement
from store.dossiers.registry import dossier_codes
from store.platform.models import DocumentRow
from store.records.documents import create_batch, mark_requeued
from store.records.reads import load_record
from store.services import Services
from worker.ingest import (
    MAX_NAME_BYTES,
    Ingested,
    clean_filename,
    fit_name,
    ingest_file,
    shown_filename,
)

log = logging.getLogger(__name__)

#: what `--out` adds to an input's name
OUT_SUFFIX = ".json"
_FINAL = (Status.digitized, Status.needs_review, Status.failed)
_UNFINISHED = (Status.queued, Status.processing)


@dataclass
class Outcome:
    input: InputFile
    #: the name it is reported under; its `--out` file is this name and `.json`
    name: str = ""
    ingested: Ingested | None = None
    record: Record | None = None
    error_code: ErrorCode | None = None
    error_detail: str = ""
    #: why its `--out` file could not be written, if it could not
    output_error: str = ""

    @property
    def status(self) -> Status | None:
        """The record's status, or failed when this run failed the file and the database
        could not be told (or there is no record)."""
        if self.error_code and (self.record is None or self.record.status not in _FINAL):
            return Status.failed
        return self.record.status if self.record is not None else None

    @property
    def failed(self) -> bool:
        return self.status not in (Status.digitized, Status.needs_review)


@dataclass
class Summary:
    batch_id: str
    outcomes: list[Outcome] = field(default_factory=list)
    pages: int = 0
    seconds: float = 0.0

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.failed or o.output_error]


class _PagesPerMinute(ProgressColumn):
    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0.0
        pages = task.fields.get("pages", 0)
        rate = pages / elapsed * 60 if elapsed > 1 else 0.0
        return Text(f"{rate:5.1f} trang/phút", style="cyan")


class _Eta(ProgressColumn):
    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0.0
        done, total = task.fields.get("pages", 0), task.fields.get("pages_total", 0)
        if not done or not total or done >= total:
            return Text("ETA --:--", style="dim")
        remaining = elapsed / done * (total - done)
        return Text(f"ETA {int(remaining // 60):02d}:{int(remaining % 60):02d}", style="dim")


def digitize(
    svc: Services,
    inputs: list[InputFile],
    *,
    unit: str | None,
    dossier: str | None,
    workers: int,
    console: Console,
    cut_from: dict[str, str] | None = None,
) -> Summary:
    started = time.monotonic()
    actor = f"cli:{os.environ.get('USER', 'local')}"
    with unit_of_work(svc.sessions) as session:
        batch = create_batch(
            session, unit=unit, dossier=dossier, label=None, source="cli", actor=actor
        )
    summary = Summary(batch_id=batch.id)
    summary.outcomes = [
        Outcome(item, name) for item, name in zip(inputs, output_names(inputs), strict=True)
    ]
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[files]}/{task.total} tệp"),
        TextColumn("{task.fields[pages]}/{task.fields[pages_total]} trang"),
        _PagesPerMinute(),
        _Eta(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
    with progress:
        bar = progress.add_task("Số hoá", total=len(inputs), files=0, pages=0, pages_total=0)
        # 1. Upload: every original stored and recorded before any work starts.
        to_process: list[str] = []
        with unit_of_work(svc.sessions) as session:
            known = dossier_codes(session)
        for outcome in summary.outcomes:
            # a file's dossier and số thứ tự: the call's, a TT 05 name's, its folder's
            in_dossier, ordinal = placement(outcome.input.shown, known, dossier)
            _ingest(
                svc, outcome, batch.id, actor, to_process, unit=unit, dossier=in_dossier,
                ordinal=ordinal, split_from=(cut_from or {}).get(outcome.input.shown),
            )  # fmt: skip
        by_doc = _by_document(summary.outcomes)
        to_process += [
            doc_id
            for doc_id, outcomes in by_doc.items()
            if any(o.ingested and o.ingested.status in _UNFINISHED for o in outcomes)
        ]
        to_process = list(dict.fromkeys(to_process))
        # A document left half-done by an interrupted run is taken over.
        with unit_of_work(svc.sessions) as session:
            mark_requeued(session, to_process)

        # 2. Extract and publish on a pool of processes, the largest files first: a large
        # document started last would be extracted and published alone while cores idle.
        to_process = _largest_first(svc, to_process)
        names = {doc_id: ", ".join(o.name for o in outs) for doc_id, outs in by_doc.items()}
        runner = PoolRunner(svc, workers, batch.id, progress, bar, names)
        runner.run(to_process)
        summary.pages = runner.pages_done

        # 3. Collect the records.
        for doc_id, outcomes in by_doc.items():
            _collect(svc, doc_id, outcomes, runner.failures.get(doc_id))
        done_files = len(summary.outcomes)
        progress.update(bar, files=done_files, completed=done_files)
    summary.seconds = time.monotonic() - started
    return summary


def _largest_first(svc: Services, document_ids: list[str]) -> list[str]:
    sizes: dict[str, int] = {}
    with unit_of_work(svc.sessions) as session:
        for start in range(0, len(document_ids), 500):  # bound the statement's parameters
            chunk = document_ids[start : start + 500]
            query = select(DocumentRow.id, DocumentRow.size).where(DocumentRow.id.in_(chunk))
            for doc_id, size in session.execute(query):
                sizes[doc_id] = size
    return sorted(document_ids, key=lambda doc_id: -(sizes.get(doc_id) or 0))


def _ingest(
    svc: Services,
    outcome: Outcome,
    batch_id: str,
    actor: str,
    to_process: list[str],
    *,
    unit: str | None,
    dossier: str | None,
    ordinal: int | None = None,
    split_from: str | None = None,
) -> None:
    """Store one input and give it a record; a file that cannot be stored fails alone."""
    item = outcome.input
    try:
        with item.path.open("rb") as stream:
            outcome.ingested = ingest_file(
                svc,
                batch_id,
                stream,
                item.shown,
                actor=actor,
                enqueue=to_process.append,
                unit=unit,
                dossier=dossier,
                ordinal=ordinal,
                split_from=split_from,
            )
    except OSError as exc:
        outcome.error_code, outcome.error_detail = ErrorCode.unreadable_file, str(exc)
        return
    except Exception as exc:
        log.exception("%s: storing the file failed", outcome.name)
        outcome.error_code, outcome.error_detail = ErrorCode.internal_error, describe(exc)
        return
    if outcome.ingested.outcome == EntryOutcome.rejected:
        outcome.error_code = outcome.ingested.error_code


def _by_document(outcomes: list[Outcome]) -> dict[str, list[Outcome]]:
    """The inputs of each record (a file given twice, or a duplicate of an earlier file)."""
    found: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        ing = outcome.ingested
        if ing is not None and ing.outcome != EntryOutcome.rejected and ing.document_id:
            found.setdefault(ing.document_id, []).append(outcome)
    return found


def _collect(
    svc: Services,
    doc_id: str,
    outcomes: list[Outcome],
    failure: tuple[ErrorCode, str] | None,
) -> None:
    """Attach the record to its inputs, and the failure this run met, if the record does not
    show it (the database could not be told)."""
    record: Record | None = None
    try:
        with unit_of_work(svc.sessions) as session:
            record = load_record(session, doc_id)
    except Exception as exc:
        log.exception("%s: reading the record failed", outcomes[0].name)
        failure = failure or (ErrorCode.internal_error, describe(exc))
    for outcome in outcomes:
        outcome.record = record
        if failure is not None and (record is None or record.status not in _FINAL):
            outcome.error_code, outcome.error_detail = failure


# --- names ----------------------------------------------------------------------------------


def output_names(inputs: list[InputFile]) -> list[str]:
    """The name each input is reported under; its `--out` file is this name and `.json`.

    The input's name below its argument, readable (NFC, legacy bytes decoded). Inputs that
    would share a name (letter case ignored, as Windows shares do) get the name of their
    argument's folder in front; a name still taken gets `~` and a hash of the input's path
    before its extension, as does a part too long for a file system (a hash of the part).
    """
    wanted = [_readable_path(item.shown) for item in inputs]
    shared = Counter(_key(name) for name in wanted)
    taken: set[str] = set()
    names: list[str] = []
    for item, name in zip(inputs, wanted, strict=True):
        if shared[_key(name)] > 1:
            name = f"{shown_filename(item.folder)}/{name}"
        name = _fit_path(name)
        if _key(name) in taken:
            name = _tag_path(name, item)
        taken.add(_key(name))
        names.append(name)
    return names


def _readable_path(shown: str) -> str:
    return "/".join(shown_filename(part) for part in shown.split("/"))


def _key(name: str) -> str:
    return name.casefold()


def _tag(text: str) -> str:
    return "~" + hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:8]


def _fit_path(name: str) -> str:
    """Every part of the `--out` path within the file-system limit, `.json` included."""
    *folders, last = name.split("/")
    parts = [_fit_part(part, MAX_NAME_BYTES) for part in folders]
    parts.append(_fit_part(last, MAX_NAME_BYTES - len(OUT_SUFFIX)))
    return "/".join(parts)


def _fit_part(part: str, max_bytes: int) -> str:
    if len(part.encode("utf-8")) <= max_bytes:
        return part
    return fit_name(part, max_bytes, mark=_tag(part))


def _tag_path(name: str, item: InputFile) -> str:
    """`name` told apart by the input's own path (stable from one run to the next)."""
    folder, _, last = name.rpartition("/")
    mark = _tag(os.path.abspath(item.path))
    last = fit_name(last, MAX_NAME_BYTES - len(OUT_SUFFIX), mark=mark)
    return f"{folder}/{last}" if folder else last


def print_summary(console: Console, summary: Summary) -> None:
    digitized = [o for o in summary.outcomes if not o.failed]
    table = Table(title=f"Kết quả số hoá — lô {summary.batch_id}", show_lines=False)
    table.add_column("Tệp")
    table.add_column("Trạng thái")
    table.add_column("Trang", justify="right")
    table.add_column("Bản ghi / lỗi")
    for o in summary.outcomes:
        rec = o.record
        pages = str(rec.source.pages or "") if rec else ""
        if o.failed:
            code = (
                rec.error.code if rec and rec.error else o.error_code
            ) or ErrorCode.internal_error
            table.add_row(o.name, "[red]lỗi", pages, f"{code}: {error_message(code)}")
        else:
            assert rec is not None  # not failed: digitized or to review, so a record
            dup = " (trùng)" if o.ingested and o.ingested.outcome == EntryOutcome.duplicate else ""
            table.add_row(o.name, f"[green]{rec.status.value}{dup}", pages, rec.id)
    console.print(table)
    rate = summary.pages / summary.seconds * 60 if summary.seconds else 0.0
    console.print(
        f"Đã số hoá {len(digitized)}/{len(summary.outcomes)} tệp, {summary.pages} trang "
        f"trong {summary.seconds:.1f} s ({rate:.1f} trang/phút); lỗi: {len(summary.failed)}."
    )


def write_outputs(out: Path, summary: Summary) -> None:
    """`DIR/<name>.json` per input, in the record format; a failure included.

    A file that cannot be written is logged and counted as failed; the others are written
    all the same.
    """
    for o in summary.outcomes:
        try:
            _write_json(out / f"{o.name}{OUT_SUFFIX}", _output_data(o))
        except OSError as exc:
            log.error("%s: cannot write its JSON: %s", o.name, exc)
            o.output_error = str(exc)
        except Exception as exc:
            log.exception("%s: cannot write its JSON", o.name)
            o.output_error = describe(exc)


def _output_data(o: Outcome) -> dict:
    if o.record is not None and o.status is o.record.status:
        return o.record.model_dump(mode="json")
    # never stored (unreadable, over the size limit), or failed here without the database
    # knowing: no record to show
    code = o.error_code or ErrorCode.internal_error
    return {
        "id": o.record.id if o.record is not None else None,
        "status": Status.failed.value,
        "source": {"filename": clean_filename(o.input.path.name)},
        "error": {
            "code": code.value,
            "message": error_message(code),
            "detail": o.error_detail or None,
        },
    }


def _write_json(target: Path, data: dict) -> None:
    """Write `target` whole or not at all (a short temporary name: `target` may be as long as
    a name can be)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".sohoa-", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
