"""`sohoa digitize`: the pipeline run locally, pages spread over the cores, with progress.

The same pipeline functions the Celery tasks call; only the scheduling differs: a process
pool instead of a broker.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
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

from cli.inputs import InputFile
from ocr import ExtractionError
from schemas.batch import EntryOutcome
from schemas.errors import ErrorCode, error_message
from schemas.record import Record, Status
from store import unit_of_work
from store.documents import create_batch, mark_requeued
from store.records import load_record
from worker import pipeline
from worker.ingest import Ingested, ingest_file
from worker.services import Services, reset_services, services

#: pages per job: small, so progress moves page by page and both cores stay busy
PAGES_PER_JOB = 2


@dataclass
class Outcome:
    input: InputFile
    ingested: Ingested | None = None
    record: Record | None = None
    error_code: ErrorCode | None = None
    error_detail: str = ""

    @property
    def status(self) -> Status | None:
        if self.record is not None:
            return self.record.status
        return Status.failed if self.error_code else None

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
        return [o for o in self.outcomes if o.failed]


def _child_init() -> None:
    reset_services()


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
) -> Summary:
    started = time.monotonic()
    actor = f"cli:{os.environ.get('USER', 'local')}"
    with unit_of_work(svc.sessions) as session:
        batch = create_batch(
            session, unit=unit, dossier=dossier, label=None, source="cli", actor=actor
        )
    summary = Summary(batch_id=batch.id)
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
        by_doc: dict[str, list[Outcome]] = {}
        for item in inputs:
            outcome = Outcome(item)
            summary.outcomes.append(outcome)
            try:
                with item.path.open("rb") as stream:
                    outcome.ingested = ingest_file(
                        svc,
                        batch.id,
                        stream,
                        item.shown,
                        actor=actor,
                        enqueue=to_process.append,
                        unit=unit,
                        dossier=dossier,
                    )
            except OSError as exc:
                outcome.error_code = ErrorCode.unreadable_file
                outcome.error_detail = str(exc)
                continue
            ing = outcome.ingested
            if ing.outcome == EntryOutcome.rejected:
                outcome.error_code = ing.error_code
            elif ing.document_id:
                by_doc.setdefault(ing.document_id, []).append(outcome)
                if ing.status in (Status.queued, Status.processing):
                    to_process.append(ing.document_id)
        to_process = list(dict.fromkeys(to_process))
        # A document left half-done by an interrupted run is taken over.
        with unit_of_work(svc.sessions) as session:
            mark_requeued(session, to_process)

        # 2. Extract and publish on a pool of processes.
        runner = _PoolRunner(svc, workers, batch.id, progress, bar)
        runner.run(to_process)
        summary.pages = runner.pages_done

        # 3. Collect the records.
        with unit_of_work(svc.sessions) as session:
            for doc_id, outcomes in by_doc.items():
                record = load_record(session, doc_id)
                for outcome in outcomes:
                    outcome.record = record
        done_files = sum(1 for o in summary.outcomes)
        progress.update(bar, files=done_files, completed=done_files)
    summary.seconds = time.monotonic() - started
    return summary


class _PoolRunner:
    def __init__(
        self, svc: Services, workers: int, batch_id: str, progress: Progress, bar: object
    ) -> None:
        self.svc = svc
        self.workers = workers
        self.holder = f"cli-{os.getpid()}-{batch_id}"
        self.progress = progress
        self.bar = bar
        self.pages_done = 0
        self.pages_total = 0
        self.files_done = 0

    def _advance(self, pages: int = 0, files: int = 0) -> None:
        self.pages_done += pages
        self.files_done += files
        self.progress.update(
            self.bar,  # type: ignore[arg-type]
            pages=self.pages_done,
            pages_total=self.pages_total,
            files=self.files_done,
            completed=self.files_done,
        )

    def run(self, document_ids: list[str]) -> None:
        if not document_ids:
            return
        context = multiprocessing.get_context("spawn")  # no inherited DB connections
        with ProcessPoolExecutor(self.workers, mp_context=context, initializer=_child_init) as pool:
            pending: dict[Future, tuple[str, str]] = {}
            open_jobs: dict[str, int] = {}

            def submit(fn: Callable, doc_id: str, kind: str, *args: object) -> None:
                pending[pool.submit(fn, doc_id, *args)] = (doc_id, kind)
                open_jobs[doc_id] = open_jobs.get(doc_id, 0) + 1

            for doc_id in document_ids:
                try:
                    plan = pipeline.start(self.svc, doc_id, self.holder)
                except ExtractionError as exc:
                    pipeline.fail(self.svc, doc_id, exc.code, exc.message)
                    self._advance(files=1)
                    continue
                if plan is None:
                    self._advance(files=1)
                    continue
                self.pages_total += plan.page_count
                self._advance(pages=plan.page_count - len(plan.remaining))
                chunks = plan.chunks(PAGES_PER_JOB)
                if not chunks:
                    submit(_publish_job, doc_id, "publish")
                for pages in chunks:
                    submit(_extract_job, doc_id, "extract", pages)

            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    doc_id, kind = pending.pop(future)
                    open_jobs[doc_id] -= 1
                    error = future.exception()
                    if error is not None:
                        code, message = _classify_error(error)
                        pipeline.fail(self.svc, doc_id, code, message)
                    elif kind == "extract":
                        self._advance(pages=future.result())
                    if open_jobs[doc_id] == 0:
                        if kind == "extract" and pipeline.is_complete(self.svc, doc_id):
                            submit(_publish_job, doc_id, "publish")
                        else:
                            if kind == "extract":  # a part failed: the document is final
                                pipeline.fail(
                                    self.svc,
                                    doc_id,
                                    ErrorCode.extraction_failed,
                                    "some pages could not be extracted",
                                )
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
            table.add_row(o.input.shown, "[red]lỗi", pages, f"{code}: {error_message(code)}")
        else:
            dup = " (trùng)" if o.ingested and o.ingested.outcome == EntryOutcome.duplicate else ""
            table.add_row(o.input.shown, f"[green]{rec.status.value}{dup}", pages, rec.id)
    console.print(table)
    rate = summary.pages / summary.seconds * 60 if summary.seconds else 0.0
    console.print(
        f"Đã số hoá {len(digitized)}/{len(summary.outcomes)} tệp, {summary.pages} trang "
        f"trong {summary.seconds:.1f} s ({rate:.1f} trang/phút); lỗi: {len(summary.failed)}."
    )


def write_outputs(out: Path, summary: Summary) -> None:
    """`DIR/<input name>.json` per input, in the record format; a failure included."""
    for o in summary.outcomes:
        target = out / f"{o.input.shown}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        if o.record is not None:
            data = o.record.model_dump(mode="json")
        else:  # never stored (unreadable, over the size limit): no record exists
            code = o.error_code or ErrorCode.internal_error
            data = {
                "id": None,
                "status": Status.failed.value,
                "source": {"filename": o.input.path.name},
                "error": {
                    "code": code.value,
                    "message": error_message(code),
                    "detail": o.error_detail or None,
                },
            }
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        tmp.replace(target)
