"""What a pipeline step needs, made once per process: settings, database, object store.

Made lazily so that a forked Celery child builds its own connections instead of sharing the
parent's sockets.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from schemas.settings import Settings, get_settings
from store import ObjectStore, make_engine, make_session_factory, open_object_store
from store.platform.async_reads import AsyncReads
from store.search.ranked import SEARCH_SETTINGS

#: connections kept per API process for searches from the event loop (more at once: threads)
SEARCH_CONNECTIONS = 8


@dataclass
class Services:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    objects: ObjectStore

    @classmethod
    def from_settings(cls, settings: Settings) -> Services:
        engine = make_engine(settings.database_url)
        return cls(
            settings=settings,
            engine=engine,
            sessions=make_session_factory(engine),
            objects=open_object_store(
                settings.storage_url,
                access_key=settings.s3_access_key,
                secret_key=settings.s3_secret_key,
                secure=settings.s3_secure,
                region=settings.s3_region,
            ),
        )

    @cached_property
    def async_reads(self) -> AsyncReads:
        """The record read as a coroutine (made on first use: workers need none)."""
        return AsyncReads(self.engine, generic_plans=True)

    @cached_property
    def async_search(self) -> AsyncReads:
        """Searches as coroutines, on connections of their own: searches read with settings
        of their own (`store.search.ranked.SEARCH_SETTINGS`)."""
        return AsyncReads(self.engine, SEARCH_CONNECTIONS, SEARCH_SETTINGS)

    def close(self) -> None:
        for name in ("async_reads", "async_search"):
            if name in self.__dict__:
                self.__dict__[name].close()
        self.engine.dispose()


_current: Services | None = None


def services() -> Services:
    global _current
    if _current is None:
        _current = Services.from_settings(get_settings())
    return _current


def set_services(chosen: Services | None) -> None:
    """Use `chosen` as this process's services (a test, a process wired by hand); None
    forgets them, and the next `services()` makes them from the settings again."""
    global _current
    _current = chosen


def reset_services() -> None:
    """Forget this process's services (after a fork, or when tests change the settings)."""
    global _current
    if _current is not None:
        _current.engine.dispose(close=False)
    _current = None
