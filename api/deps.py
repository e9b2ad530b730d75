"""Dependencies shared by the routes, declared once as typed aliases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session

from store import unit_of_work
from store.services import Services, services


async def get_services() -> Services:
    """A coroutine: FastAPI would run a plain function in a worker thread, for nothing."""
    return services()


def get_session(svc: Annotated[Services, Depends(get_services)]) -> Iterator[Session]:
    with unit_of_work(svc.sessions) as session:
        yield session


ServicesDep = Annotated[Services, Depends(get_services)]
SessionDep = Annotated[Session, Depends(get_session)]
