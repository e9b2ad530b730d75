"""What the application does when it starts."""

from __future__ import annotations

import gc

from fastapi.testclient import TestClient

from api.app import app


def test_the_application_freezes_what_it_made_at_start() -> None:
    """What exists once the application has started lives as long as the process: the
    garbage collector must not walk it on every full collection (long pauses under load)."""
    gc.unfreeze()
    with TestClient(app):
        assert gc.get_freeze_count() > 10_000
