"""API latency under load: 100,000 records in PostgreSQL, 16 concurrent clients on loopback.

`python -m tests.bench.api_load [--records N] [--clients C] [--seconds S]` (also run by
`make bench`). It makes a fresh PostgreSQL database, fills it with generated records of
realistic size (paragraphs of real Vietnamese administrative texts, 1–4 pages, 2–6 KB), builds
the search index, starts the API as `sohoa serve` does with two processes, and measures p50/p95
of one record, a filtered list page and a search, with `/healthz` as the floor of the HTTP
stack measured in the same run, and the API processes' CPU time per request (a steadier
figure than latencies on a machine that also does other work). Nothing is asserted: figures
are written and printed.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import httpx
from sqlalchemy import Engine, create_engine, insert, text

from schemas.vocab import document_types
from store import make_session_factory, unit_of_work
from store.accounts.auth import create_token
from store.bootstrap import prepare_database
from store.platform.db import make_engine
from store.platform.ids import new_id
from store.platform.models import DocumentRow, PageRow

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus_sample.jsonl"
UNITS = Path(__file__).resolve().parents[2] / "schemas" / "vocab" / "units.csv"
PG_ADMIN_URL = os.environ.get(
    "SOHOA_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
#: words people search for: common ones (match thousands of records), rare ones, and numbers
SEARCH_TERMS = [
    "quyet dinh", "ke hoach", "chuyen doi so", "uy ban nhan dan", "dat dai", "phuong",
    "thu tuc hanh chinh", "luu tru", "ngan sach", "giao duc", "khen thuong", "can bo",
    "bao cao ket qua", "kh-ubnd", "quyết định", "Đảng ủy", "tiep cong dan", "xay dung",
]  # fmt: skip


def _paragraphs() -> list[str]:
    pool: list[str] = []
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        doc = json.loads(line)
        pool.extend(p for p in doc["paragraphs"] if len(p) > 20)
    return pool


def _units() -> list[str]:
    with UNITS.open(encoding="utf-8") as f:
        return [row["code"] for row in csv.DictReader(f)]


def _records(n: int, seed: int = 7) -> Iterator[tuple[dict, list[dict]]]:
    """(document row, page rows) of n generated records."""
    rng = random.Random(seed)
    pool = _paragraphs()
    units = _units()
    types = [t for t in document_types().values() if t.code != "khac"]
    start = datetime(2023, 6, 1, tzinfo=UTC)
    for i in range(n):
        doc_id = new_id()
        kind = rng.choice(types)
        number = f"{rng.randint(1, 999)}/{kind.abbreviation or 'CV'}-UBND"
        issued = date(2015, 1, 1) + timedelta(days=rng.randint(0, 3800))
        secrecy = "mat" if rng.random() < 0.02 else None
        status = rng.choices(["digitized", "needs_review", "failed"], [90, 8, 2])[0]
        subject = rng.choice(pool)[:180]
        when = start + timedelta(minutes=i * 3)
        pages = []
        if status != "failed":
            for number_ in range(1, rng.randint(1, 4) + 1):
                body = "\n".join(rng.sample(pool, rng.randint(4, 10)))
                pages.append(
                    dict(document_id=doc_id, number=number_, text=body[:2000], method="ocr",
                         confidence=round(rng.uniform(0.85, 0.99), 3), rotation=0, skew=0.0,
                         has_hocr=False, created_at=when)
                )  # fmt: skip
        document = {
            "type": kind.code, "type_label": kind.name, "number": number,
            "issued_on": issued.isoformat(), "issuer": "Ủy ban nhân dân quận Bắc Từ Liêm",
            "subject": subject, "signer": "Nguyễn Văn An", "secrecy": secrecy,
        }  # fmt: skip
        row = dict(
            id=doc_id, unit_code=rng.choice(units), dossier=f"H{rng.randint(1, 99)}.{i % 500}",
            filename=f"hop{i // 500:03d}_{i % 500:04d}.pdf", sha256=uuid.uuid4().hex * 2,
            media_type="application/pdf", size=rng.randint(50_000, 3_000_000),
            page_count=len(pages) or None, status=status,
            error_code="corrupt_pdf" if status == "failed" else None,
            document=None if status == "failed" else document, archive=None,
            classification=None, attempts=1, version=2, created_at=when, updated_at=when,
            digitized_at=None if status == "failed" else when,
            doc_type=None if status == "failed" else kind.code,
            issued_on=None if status == "failed" else issued,
            secrecy=None if status == "failed" else secrecy,
        )  # fmt: skip
        yield row, pages


def populate(url: str, n: int) -> tuple[list[str], str]:
    """Fill the database at `url`; (ids of the records, a bearer token for the clients)."""
    engine = make_engine(url)
    prepare_database(engine)
    ids: list[str] = []
    batch_docs: list[dict] = []
    batch_pages: list[dict] = []

    def flush() -> None:
        with engine.begin() as conn:
            conn.execute(insert(DocumentRow), batch_docs)
            if batch_pages:
                conn.execute(insert(PageRow), batch_pages)
        batch_docs.clear()
        batch_pages.clear()

    for row, pages in _records(n):
        ids.append(row["id"])
        batch_docs.append(row)
        batch_pages.extend(pages)
        if len(batch_docs) >= 2000:
            flush()
    if batch_docs:
        flush()
    sessions = make_session_factory(engine)
    from store.search.index import reindex_all

    with unit_of_work(sessions) as session:
        reindex_all(session)
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()
    with unit_of_work(sessions) as session:
        token, _ = create_token(session, "bench", ["records:read", "records:secret"])
    engine.dispose()
    return ids, token


def _cpu_seconds(root: int) -> float:
    """CPU time (user + system) of process `root` and its descendants so far, from /proc
    (0 where there is none): per request, a figure the other load of a shared machine
    disturbs much less than latencies."""
    proc = Path("/proc")
    if not proc.is_dir():
        return 0.0
    tick = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    cpu: dict[int, float] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
        cpu[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += cpu.get(pid, 0.0)
        todo.extend(children.get(pid, ()))
    return total


def _postgres_root() -> int | None:
    """The PostgreSQL server process on this machine (its backends are its children), if any."""
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            name = (entry / "comm").read_text().strip()
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            parent_name = (Path("/proc") / str(parent) / "comm").read_text().strip()
        except (OSError, ValueError):
            continue
        if name in ("postgres", "postmaster") and parent_name not in ("postgres", "postmaster"):
            return int(entry.name)
    return None


def _machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs so far, from /proc/stat."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0, 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return float(sum(fields) - idle), float(sum(fields))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _load(
    base: str,
    headers: dict[str, str],
    make_path: Callable[[random.Random], str],
    clients: int,
    seconds: float,
) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    deadline = time.monotonic() + seconds

    async def client(seed: int) -> None:
        nonlocal errors
        rng = random.Random(seed)
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
            while time.monotonic() < deadline:
                path = make_path(rng)
                t0 = time.perf_counter()
                response = await http.get(path)
                latencies.append((time.perf_counter() - t0) * 1000)
                if response.status_code != 200:
                    errors += 1

    await asyncio.gather(*(client(i) for i in range(clients)))
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": errors,
        "per_second": round(len(latencies) / seconds, 1),
        "p50_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(latencies[int(len(latencies) * 0.95) - 1], 1),
        "max_ms": round(latencies[-1], 1),
    }


#: wrk reads the paths to request from a file and prints its percentiles as JSON
WRK_SCRIPT = """
local paths = {}
local n = 0
init = function(args)
  for line in io.lines(args[1]) do n = n + 1; paths[n] = line end
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end
request = function()
  return wrk.format("GET", paths[math.random(1, n)])
end
done = function(summary, latency, requests)
  local codes = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "seconds": %.3f, "p50_us": %d, "p95_us": %d, "max_us": %d, '
    .. '"non_2xx": %d, "socket_errors": %d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(95),
    latency.max, codes.status, codes.connect + codes.read + codes.write + codes.timeout))
end
"""


def _wrk(
    base: str,
    headers: dict[str, str],
    make_path: Callable[[random.Random], str],
    clients: int,
    seconds: float,
    work: Path,
) -> dict[str, float]:
    """Load with wrk (C, two threads): the load generator takes little of the CPU the server
    needs, which an async Python client on the same two cores does not."""
    rng = random.Random(11)
    paths = work / "paths.txt"
    paths.write_text("\n".join(make_path(rng) for _ in range(5000)) + "\n", encoding="utf-8")
    script = work / "paths.lua"
    script.write_text(WRK_SCRIPT, encoding="utf-8")
    args = ["wrk", "-t2", f"-c{clients}", f"-d{int(seconds)}s", "--latency", "-s", str(script)]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    out = subprocess.run(
        [*args, base, "--", str(paths)], capture_output=True, text=True, check=True
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("WRKJSON "))
    raw = json.loads(line.removeprefix("WRKJSON "))
    return {
        "requests": raw["requests"],
        "errors": raw["non_2xx"] + raw["socket_errors"],
        "per_second": round(raw["requests"] / raw["seconds"], 1),
        "p50_ms": round(raw["p50_us"] / 1000, 1),
        "p95_ms": round(raw["p95_us"] / 1000, 1),
        "max_ms": round(raw["max_us"] / 1000, 1),
    }


def _reuse(url: str) -> tuple[list[str], str]:
    """(ids, a new token) of a database an earlier run kept (migrated to this version)."""
    engine = make_engine(url)
    prepare_database(engine)
    with engine.connect() as conn:
        ids = list(conn.execute(text("SELECT id FROM documents ORDER BY id")).scalars())
    with unit_of_work(make_session_factory(engine)) as session:
        token, _ = create_token(session, "bench", ["records:read", "records:secret"])
    engine.dispose()
    return ids, token


def run(
    records: int,
    clients: int,
    seconds: float,
    keep: str | None = None,
    only: str | None = None,
) -> dict[str, object]:
    """Measure; with `keep`, the database of that name is filled once and kept for the next
    runs (which then measure the code only, not the filling)."""
    name = keep or f"sohoa_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
        ).first()
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    server = None
    try:
        t0 = time.monotonic()
        ids, token = _reuse(url) if exists else populate(url, records)
        fill_seconds = time.monotonic() - t0
        port = _free_port()
        tmp = tempfile.mkdtemp(prefix="sohoa-bench-api-")
        env = {k: v for k, v in os.environ.items() if not k.startswith("SOHOA_")}
        env.update(SOHOA_DATABASE_URL=url, SOHOA_STORAGE_URL=f"file://{tmp}/objects")
        # as production runs it (`sohoa serve`), two API processes, without access logs
        server = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "serve", "--host", "127.0.0.1",
             "--port", str(port), "--api-processes", "2", "--no-access-log", "--no-worker",
             "--no-migrate"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        for _ in range(120):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        headers = {"Authorization": f"Bearer {token}"}
        units = _units()
        types = [code for code in document_types() if code != "khac"]
        scenarios: dict[str, Callable[[random.Random], str]] = {
            "healthz (reference: the HTTP stack alone)": lambda r: "/healthz",
            "record": lambda r: f"/api/v1/records/{r.choice(ids)}",
            "list page (unit filter)": lambda r: f"/api/v1/records?unit={r.choice(units)}&limit=50",
            "list page (unit + type + dates)": lambda r: (
                f"/api/v1/records?unit={r.choice(units)}&type={r.choice(types)}"
                f"&issued_from=2018-01-01&issued_to=2024-12-31&limit=50"
            ),
            "search": lambda r: (
                "/api/v1/records?" + urlencode({"q": r.choice(SEARCH_TERMS), "limit": 20})
            ),
        }
        use_wrk = shutil.which("wrk") is not None
        results: dict[str, object] = {
            "records": records,
            "clients": clients,
            "seconds_per_scenario": seconds,
            "fill_seconds": round(fill_seconds, 1),
            "load_generator": "wrk" if use_wrk else "httpx (async, same machine)",
        }
        work = Path(tmp)
        postgres = _postgres_root()
        for label, make_path in scenarios.items():
            if only and only not in label and not label.startswith("healthz"):
                continue
            if use_wrk:
                _wrk(base, headers, make_path, clients, 3, work)  # warm up
            else:
                asyncio.run(_load(base, headers, make_path, clients, 3))
            cpu = _cpu_seconds(server.pid)
            db_cpu = _cpu_seconds(postgres) if postgres else 0.0
            busy, total = _machine_busy()
            if use_wrk:
                figures = _wrk(base, headers, make_path, clients, seconds, work)
            else:
                figures = asyncio.run(_load(base, headers, make_path, clients, seconds))
            cpu = _cpu_seconds(server.pid) - cpu
            db_cpu = (_cpu_seconds(postgres) if postgres else 0.0) - db_cpu
            busy2, total2 = _machine_busy()
            n = max(figures["requests"], 1)
            figures["api_cpu_ms_per_request"] = round(cpu * 1000 / n, 2)
            figures["db_cpu_ms_per_request"] = round(db_cpu * 1000 / n, 2)
            figures["machine_busy_percent"] = round(
                100 * (busy2 - busy) / max(total2 - total, 1), 1
            )
            results[label] = figures
            print(label, results[label], flush=True)
        return results
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if not keep:
            _drop(admin, name)
        admin.dispose()


def _drop(admin: Engine, name: str) -> None:
    with admin.connect() as conn:
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :n AND pid <> pg_backend_pid()"
            ),
            {"n": name},
        )
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument(
        "--keep", metavar="NAME", help="fill the database NAME once and keep it for later runs"
    )
    parser.add_argument("--only", help="run only the scenarios whose label contains this")
    args = parser.parse_args()
    results = run(args.records, args.clients, args.seconds, args.keep, args.only)
    out = Path("bench/results")
    out.mkdir(parents=True, exist_ok=True)
    (out / "api.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"written {out / 'api.json'}")


if __name__ == "__main__":
    main()
