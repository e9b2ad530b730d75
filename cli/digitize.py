"""`sohoa digitize`: the pipeline run locally, pages spread over the cores, with progress.

The same pipeline functions the Celery tasks call; only the scheduling differs: a process
pool instead of a broker.
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import os
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
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
from ocr import ExtractionError
from schemas.batch import EntryOutcome
from schemas.errors import ErrorCode, error_message
from schemas.record import Record, Status
from schemas.settings import get_settings
from store import unit_of_work
from store.documents import create_batch, mark_requeued
from store.dossiers.naming import placement
from store.dossiers.registry import dossier_codes
from store.models import DocumentRow
from store.records import load_record
from worker import pipeline
from worker.ingest import (
    MAX_NAME_BYTES,
    Ingested,
    clean_filename,
    fit_name,
    ingest_file,
    shown_filename,
)
from worker.memory import cap_memory
from worker.services import Services, reset_services, services

log = logging.getLogger(__name__)

#: pages per job: small, so progress moves page by page and both cores stay busy
PAGES_PER_JOB = 2
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


def _child_init() -> None:
    reset_services()
    cap_memory(get_settings())


def _extract_job(document_id: str, pages: list[int]) -> int:
    return pipeline.extract_pages(services(), document_id, pages)


def _publish_job(document_id: str) -> Status | None:
    return pipeline.publish(services(), document_id)


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
        runner = _PoolRunner(svc, workers, batch.id, progress, bar, names)
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
        outcome.error_code, outcome.error_detail = ErrorCode.internal_error, _describe(exc)
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
        failure = failure or (ErrorCode.internal_error, _describe(exc))
    for outcome in outcomes:
        outcome.record = record
        if failure is not None and (record is None or record.status not in _FINAL):
            outcome.error_code, outcome.error_detail = failure


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


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


# --- the pool -------------------------------------------------------------------------------


#: a job of the pool: (document id, "extract" or "publish", function, its other arguments)
_Job = tuple[str, str, Callable[..., object], tuple[object, ...]]

#: what a document whose job ended its process fails with
LOST_PROCESS = (
    "the process reading this file stopped abruptly (out of memory, or a crash in a decoder)"
)


class _PoolRunner:
    """Runs documents on a process pool; whatever goes wrong with one document fails that
    document alone (`internal_error` when unexpected), never the run.

    That holds when a pool process dies (the kernel ends it for memory, a decoder crashes):
    the pool is then broken and every job in flight lost with it. Those jobs are suspects: a
    new pool runs them one at a time, the others waiting; a job that ends its process again,
    alone, fails its document, and every other job goes on."""

    def __init__(
        self,
        svc: Services,
        workers: int,
        batch_id: str,
        progress: Progress,
        bar: object,
        names: dict[str, str],
    ) -> None:
        self.svc = svc
        self.workers = workers
        self.holder = f"cli-{os.getpid()}-{batch_id}"
        self.progress = progress
        self.bar = bar
        self.names = names
        self.pages_done = 0
        self.pages_total = 0
        self.files_done = 0
        #: the first failure this run met, per document
        self.failures: dict[str, tuple[ErrorCode, str]] = {}
        self._pool: ProcessPoolExecutor | None = None
        self._pending: dict[Future, _Job] = {}
        #: jobs lost with a broken pool, to run one at a time
        self._suspects: list[_Job] = []
        #: jobs submitted while suspects run, to run after them
        self._deferred: list[_Job] = []
        #: the one job in flight is a suspect, run alone
        self._suspect_running = False
        self._open_jobs: dict[str, int] = {}
        self._finished: set[str] = set()

    def _advance(self, pages: int = 0, files: int = 0) -> None:
        self.pages_done += pages
        self.files_done += files
        self.progress.update(
            self.bar,  # type: ignore[arg-type]  # set before any file is counted
            pages=self.pages_done,
            pages_total=self.pages_total,
            files=self.files_done,
            completed=self.files_done,
        )

    def run(self, document_ids: list[str]) -> None:
        if not document_ids:
            return
        self._pool = self._new_pool()
        try:
            for doc_id in document_ids:
                self._guarded(doc_id, self._start, doc_id)
            while self._pending or self._suspects or self._deferred:
                if not self._pending:
                    self._suspect_running = bool(self._suspects)
                    if self._suspects:
                        self._send(self._suspects.pop(0))
                    else:
                        deferred, self._deferred = self._deferred, []
                        for job in deferred:
                            self._send(job)
                finished, _ = wait(self._pending, return_when=FIRST_COMPLETED)
                if any(isinstance(f.exception(), BrokenProcessPool) for f in finished):
                    self._recover()
                    continue
                for future in finished:
                    self._settle(future)
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def _new_pool(self) -> ProcessPoolExecutor:
        context = multiprocessing.get_context("spawn")  # no inherited DB connections
        return ProcessPoolExecutor(self.workers, mp_context=context, initializer=_child_init)

    def _settle(self, future: Future) -> None:
        doc_id, kind, _, _ = self._pending.pop(future)
        self._open_jobs[doc_id] -= 1
        self._guarded(doc_id, self._job_done, doc_id, kind, future)

    def _recover(self) -> None:
        """A pool process died: what finished stands, what was lost is suspect."""
        wait(self._pending)  # a broken pool settles every future it had
        lost = [f for f in self._pending if isinstance(f.exception(), BrokenProcessPool)]
        jobs = [self._pending.pop(f) for f in lost]
        assert self._pool is not None
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._pool = self._new_pool()
        if self._suspect_running:  # it ended its process again, on its own
            doc_id = jobs[0][0]
            log.error("%s: %s", self.names.get(doc_id, doc_id), LOST_PROCESS)
            self._drop(doc_id)
            self._fail(doc_id, ErrorCode.internal_error, LOST_PROCESS)
            self._file_done(doc_id)
        else:
            log.warning("a pool process stopped; %d jobs run again one at a time", len(jobs))
            self._suspects.extend(jobs)
        for future in list(self._pending):  # finished before the pool broke
            self._settle(future)

    def _drop(self, doc_id: str) -> None:
        """Forget every job of `doc_id` still to run."""
        self._suspects = [j for j in self._suspects if j[0] != doc_id]
        self._deferred = [j for j in self._deferred if j[0] != doc_id]
        self._open_jobs[doc_id] = 0

    def _guarded(self, doc_id: str, step: Callable[..., None], *args: object) -> None:
        try:
            step(*args)
        except Exception as exc:
            log.exception("%s: unexpected error", self.names.get(doc_id, doc_id))
            self._fail(doc_id, ErrorCode.internal_error, _describe(exc))
            if not self._open_jobs.get(doc_id):
                self._file_done(doc_id)

    def _start(self, doc_id: str) -> None:
        try:
            plan = pipeline.start(self.svc, doc_id, self.holder)
        except ExtractionError as exc:
            self._fail(doc_id, exc.code, exc.message)
            self._file_done(doc_id)
            return
        if plan is None:
            self._file_done(doc_id)
            return
        self.pages_total += plan.page_count
        self._advance(pages=plan.page_count - len(plan.remaining))
        chunks = plan.chunks(PAGES_PER_JOB)
        if not chunks:
            self._submit(_publish_job, doc_id, "publish")
        for pages in chunks:
            self._submit(_extract_job, doc_id, "extract", pages)

    def _submit(self, fn: Callable, doc_id: str, kind: str, *args: object) -> None:
        self._open_jobs[doc_id] = self._open_jobs.get(doc_id, 0) + 1
        job = (doc_id, kind, fn, args)
        if self._suspects or self._suspect_running:
            self._deferred.append(job)  # nothing runs beside a suspect
        else:
            self._send(job)

    def _send(self, job: _Job) -> None:
        assert self._pool is not None
        doc_id, _, fn, args = job
        future = self._pool.submit(fn, doc_id, *args)
        self._pending[future] = job

    def _job_done(self, doc_id: str, kind: str, future: Future) -> None:
        error = future.exception()
        if error is not None:
            if not isinstance(error, ExtractionError):
                log.error("%s: unexpected error", self.names.get(doc_id, doc_id), exc_info=error)
            self._fail(doc_id, *_classify_error(error))
        elif kind == "extract":
            self._advance(pages=future.result())
        if self._open_jobs[doc_id]:
            return
        if kind == "extract" and pipeline.is_complete(self.svc, doc_id):
            self._submit(_publish_job, doc_id, "publish")
            return
        if kind == "extract":  # a part failed: the document is final
            self._fail(doc_id, ErrorCode.extraction_failed, "some pages could not be extracted")
        self._file_done(doc_id)

    def _fail(self, doc_id: str, code: ErrorCode, message: str) -> None:
        self.failures.setdefault(doc_id, (code, message))
        try:
            pipeline.fail(self.svc, doc_id, code, message)
        except Exception:
            log.exception("%s: could not record the failure", self.names.get(doc_id, doc_id))

    def _file_done(self, doc_id: str) -> None:
        if doc_id not in self._finished:
            self._finished.add(doc_id)
            self._advance(files=1)


def _classify_error(error: BaseException) -> tuple[ErrorCode, str]:
    if isinstance(error, ExtractionError):
        return error.code, error.message
    return ErrorCode.internal_error, f"{type(error).__name__}: {error}"


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
            o.output_error = _describe(exc)


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
