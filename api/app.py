"""The FastAPI application: `uvicorn api.app:app` or `sohoa serve`."""

from __future__ import annotations

from fastapi import FastAPI

from api import routes_admin, routes_auth, routes_batches, routes_health, routes_records


def create_app() -> FastAPI:
    application = FastAPI(
        title="sohoa",
        description="Số hoá tài liệu lưu trữ: upload scanned records, fetch digitized records.",
        version="0.1.0",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
    )
    application.include_router(routes_health.router)
    application.include_router(routes_auth.router)
    application.include_router(routes_admin.router)
    application.include_router(routes_batches.router)
    application.include_router(routes_records.router)
    return application


app = create_app()
