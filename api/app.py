"""The FastAPI application: `uvicorn api.app:app` or `sohoa serve`."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api import metrics, web, web_common, web_dossiers
from api.errors import install_error_handlers
from api.middleware import BodyTimeout, TrustedProxies
from api.routes import (
    admin,
    auth,
    batches,
    dossiers,
    health,
    meta,
    pages,
    progress,
    record_list,
    records,
    webhooks,
)
from worker.webhooks import install_dispatcher


@asynccontextmanager
async def _lifespan(_: FastAPI) -> AsyncIterator[None]:
    # What importing and starting made (~200,000 objects: the framework, the models, the
    # routes) lives as long as the process. Left to the cyclic garbage collector, each full
    # collection walked it all: a pause of ~150 ms of the API process every few seconds under
    # load, felt by every request in flight (most of the slowest 5 %). Frozen, it is left out.
    gc.collect()
    gc.freeze()
    yield


def create_app() -> FastAPI:
    application = FastAPI(
        title="sohoa",
        description="Số hoá tài liệu lưu trữ: upload scanned records, fetch digitized records.",
        version="0.1.0",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        lifespan=_lifespan,
    )
    install_error_handlers(application)
    install_dispatcher()  # webhook deliveries start when the change that made them commits
    # Routes are tried in this order on every request: the ones other services call most
    # come first (health, then records), so they are found after few comparisons.
    application.include_router(health.router)
    application.include_router(record_list.router)  # before /records/{id}
    application.include_router(records.router)
    application.include_router(auth.router)
    application.include_router(admin.router)
    application.include_router(batches.router)
    application.include_router(meta.router)
    application.include_router(progress.router)
    application.include_router(dossiers.router)
    application.include_router(metrics.router)
    application.add_middleware(metrics.MetricsMiddleware)
    application.include_router(webhooks.router)
    application.include_router(pages.router)
    application.include_router(web.router)
    application.include_router(web_dossiers.router)
    application.mount("/static", StaticFiles(directory=web_common.STATIC), name="static")
    application.add_middleware(BodyTimeout)
    application.add_middleware(TrustedProxies)  # outermost: everything sees the real client
    return application


app = create_app()
