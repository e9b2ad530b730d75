"""Batches of uploaded files: idempotent submission, progress and pace, retry and cancel,
and the per-account quotas on what may wait in the queue."""
