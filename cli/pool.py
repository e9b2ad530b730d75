"""The process pool of `sohoa digitize`: documents extracted a few pages per job over the
cores, then published; whatever goes wrong with one document fails it alone, never the run.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from rich.progress import Progress

from ocr import ExtractionError
from schemas.errors import ErrorCode
from schemas.record import Status
from schemas.settings import get_settings
from store.services import Services, reset_services, services
from worker import pipeline
from worker.memory import cap_memory

log = logging.getLogger(__name__)

#: pages per job: small, so progress moves page by page and both cores stay busy
PAGES_PER_JOB = 2


def describe(error: BaseException) -> str:
    """An unexpected error in a line a person reads."""
    return f"{type(error).__name__}: {error}"


def _child_init() -> None:
    reset_services()
    cap_memory(get_settings())


def _extract_job(document_id: str, pages: list[int]) -> int:
    return pipeline.extract_pages(services(), document_id, pages)


def _publish_job(document_id: str) -> Status | None:
    return pipeline.publish(services(), document_id)


#: a job of the pool: (document id, "extract" or "publish", function, its other arguments)
_Job = tuple[str, str, Callable[..., object], tuple[object, ...]]

#: what a document whose job ended its process fails with
LOST_PROCESS = (
    "the process reading this file stopped abruptly (out of memory, or a crash in a decoder)"
)


class PoolRunner:
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
            self._fail(doc_id, ErrorCode.internal_error, describe(exc))
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
            self._fail(doc_id, *classify_error(error))
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


def classify_error(error: BaseException) -> tuple[ErrorCode, str]:
    if isinstance(error, ExtractionError):
        return error.code, error.message
    return ErrorCode.internal_error, f"{type(error).__name__}: {error}"
