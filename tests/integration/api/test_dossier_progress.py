"""Progress of the plan by dossiers as well as documents: per unit, the dossiers of its
catalogue and those fully digitized, in `compute_progress`, `GET /api/v1/progress` (a caller
limited to some units sees theirs only) and the dashboard — on both databases."""

from __future__ import annotations

import re
import uuid

from fastapi.testclient import TestClient

from api.app import app
from schemas.auth import Role
from store import unit_of_work
from store.accounts.auth import create_user
from store.dossiers.catalog import parse_catalog
from store.dossiers.registry import load_catalog
from store.planning.progress import compute_progress
from store.platform.models import DocumentRow
from store.services import Services, set_services
from tests.conftest import bearer

WARD, OTHER = "phuong-co-nhue-1", "phuong-xuan-dinh"
PASSWORD = "mật-khẩu-đủ-dài"


def _catalog(*codes: str) -> bytes:
    rows = "".join(f"{code},Hồ sơ {code},01,01,P.{code}\n" for code in codes)
    return ("fileCode,title,maintenance,mode,paperFileCode\n" + rows).encode()


def _fill(svc: Services) -> None:
    """Ward: H1 complete (one in review counts: it has content), H2 with a failed document,
    H3 empty; the other ward: H9 complete."""
    with unit_of_work(svc.sessions) as session:
        load_catalog(session, parse_catalog(_catalog("H1", "H2", "H3"), "a.csv"), unit=WARD,
                     actor="t")  # fmt: skip
        load_catalog(session, parse_catalog(_catalog("H9"), "b.csv"), unit=OTHER, actor="t")
    with unit_of_work(svc.sessions) as session:
        for unit, dossier, status in (
            (WARD, "H1", "digitized"), (WARD, "H1", "needs_review"),
            (WARD, "H2", "digitized"), (WARD, "H2", "failed"),
            (OTHER, "H9", "digitized"), (WARD, None, "digitized"),
        ):  # fmt: skip
            session.add(DocumentRow(
                id=uuid.uuid4().hex[:26], unit_code=unit, dossier=dossier, filename="a.pdf",
                sha256=uuid.uuid4().hex * 2, size=1, status=status, page_count=1,
            ))  # fmt: skip


def test_progress_counts_dossiers_total_and_fully_digitized(svc: Services) -> None:
    _fill(svc)
    with unit_of_work(svc.sessions) as session:
        progress = compute_progress(session)
        mine = compute_progress(session, units=frozenset({WARD}))
    by_unit = {u.unit: u for u in progress.units}
    assert (by_unit[WARD].dossiers_total, by_unit[WARD].dossiers_complete) == (3, 1)
    assert (by_unit[OTHER].dossiers_total, by_unit[OTHER].dossiers_complete) == (1, 1)
    assert by_unit["phong-noi-vu"].dossiers_total == 0
    assert progress.totals is not None
    assert (progress.totals.dossiers_total, progress.totals.dossiers_complete) == (4, 2)
    assert mine.totals is not None
    assert (mine.totals.dossiers_total, mine.totals.dossiers_complete) == (3, 1)
    assert [u.unit for u in mine.units] == [WARD]

    set_services(svc)
    try:
        with TestClient(app) as client:
            limited = client.get(
                "/api/v1/progress", headers=bearer(svc, "reports:read", units=[OTHER])
            ).json()
            assert [(u["unit"], u["dossiers_total"], u["dossiers_complete"])
                    for u in limited["units"]] == [(OTHER, 1, 1)]  # fmt: skip
            totals = limited["totals"]
            assert (totals["dossiers_total"], totals["dossiers_complete"]) == (1, 1)
            with unit_of_work(svc.sessions) as session:
                create_user(session, "lanh-dao", PASSWORD, Role.supervisor)
            login = client.post(
                "/api/v1/auth/login", json={"username": "lanh-dao", "password": PASSWORD}
            )
            assert login.status_code == 200
            page = client.get("/dashboard").text
    finally:
        set_services(None)
    assert re.search(r'data-kpi="dossiers">2<', page)
    assert 'data-dossiers-total="4"' in page and "2 / 4 hồ sơ trong mục lục" in page
    assert 'data-dossiers="1/3"' in page
