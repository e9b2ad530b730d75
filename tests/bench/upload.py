"""Uploads: how fast a running service accepts many small files, and how much memory its
process takes meanwhile, for many small files and for one large file.

`python -m tests.bench.upload [--files N] [--chunk C] [--large-mb M]` (also run by
`make bench`). It starts `sohoa serve --no-worker --api-processes 1` in a fresh folder on the
embedded defaults (SQLite, a local object folder, the filesystem broker), then uploads N
small distinct files (PNG and PDF, a few KB each): all in one request, in requests of C
files, and through `sohoa upload` (chunks of C). With `--large-mb`, one file of that size is
uploaded too. It reports the seconds until the service answered 202 and the server's
resident memory: before, the peak sampled during each upload (every 20 ms from /proc), and
the kernel's high-water mark. Nothing is asserted: figures are printed and returned.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


class RssSampler:
    """The peak VmRSS of a process, sampled in a thread."""

    def __init__(self, pid: int, every: float = 0.02) -> None:
        self.pid, self.every = pid, every
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak_kb = max(self.peak_kb, _status_kb(self.pid, "VmRSS"))
            except OSError:
                return
            time.sleep(self.every)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("SOHOA_")}


def _sohoa(args: list[str], cwd: Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        cwd=cwd, env={**_env(), "PYTHONPATH": str(REPO)}, capture_output=True, text=True,
        check=True, **kwargs,  # type: ignore[arg-type]
    )  # fmt: skip


@contextmanager
def running_service(work: Path) -> Iterator[tuple[str, str, int]]:
    """(base URL, token, server pid) of `sohoa serve --no-worker` in `work`."""
    work.mkdir(parents=True, exist_ok=True)
    _sohoa(["db", "upgrade"], work)
    token = _sohoa(
        ["token", "create", "bench", "--scope", "batches:write", "--scope", "batches:read"], work
    ).stdout.splitlines()[-1]
    port = _free_port()
    log = (work / "serve.log").open("wb")
    proc = subprocess.Popen(
        # one API process: the process measured is the one that serves every upload
        [sys.executable, "-m", "cli.main", "serve", "--no-worker", "--no-migrate",
         "--api-processes", "1", "--port", str(port)],
        cwd=work, env={**_env(), "PYTHONPATH": str(REPO)}, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError((work / "serve.log").read_text()[-2000:])
            time.sleep(0.2)
        yield url, token, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def small_files(folder: Path, count: int, seed: int) -> list[Path]:
    """`count` distinct small scans: PNG (noise, 48x48) and one-page PDFs, alternately."""
    from PIL import Image
    from reportlab.pdfgen import canvas

    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(count):
        if n % 2:
            path = folder / f"{n:05d}.png"
            Image.frombytes("L", (48, 48), rng.randbytes(48 * 48)).save(path)
        else:
            path = folder / f"{n:05d}.pdf"
            pdf = canvas.Canvas(str(path))
            pdf.drawString(72, 720, f"Công văn số {seed}-{n}/UBND — {rng.random()}")
            pdf.save()
        paths.append(path)
    return paths


def _post(url: str, token: str, paths: list[Path]) -> tuple[float, int]:
    handles = [p.open("rb") for p in paths]
    try:
        files = [
            ("files", (p.name, h, "application/octet-stream"))
            for p, h in zip(paths, handles, strict=True)
        ]
        start = time.monotonic()
        response = httpx.post(
            f"{url}/api/v1/batches", files=files, data={"unit": "phong-noi-vu"},
            headers={"Authorization": f"Bearer {token}"}, timeout=3600,
        )  # fmt: skip
        seconds = time.monotonic() - start
    finally:
        for h in handles:
            h.close()
    if response.status_code != 202:
        raise RuntimeError(f"upload answered {response.status_code}: {response.text[:500]}")
    return seconds, len(response.json()["entries"])


def _mb(kb: int) -> float:
    return round(kb / 1024, 1)


def upload_bench(work: Path, count: int, chunk: int = 50, large_mb: int = 0) -> dict[str, object]:
    """Seconds to 202 and server memory for `count` small files, three ways, and one large
    file of `large_mb` MB."""
    one = small_files(work / "files-one", count, seed=1)
    chunked = small_files(work / "files-chunked", count, seed=2)
    small_files(work / "files-cli", count, seed=3)
    sizes = [p.stat().st_size for p in one]
    results: dict[str, object] = {
        "files": count,
        "mean_file_kb": round(sum(sizes) / len(sizes) / 1024, 1),
        "chunk": chunk,
    }
    with running_service(work / "service") as (url, token, pid):
        results["server_rss_idle_mb"] = _mb(_status_kb(pid, "VmRSS"))

        with RssSampler(pid) as rss:
            seconds, entries = _post(url, token, one)
        if entries != count:
            raise RuntimeError(f"{entries} entries for {count} files")
        results["one_request"] = {
            "seconds_to_202": round(seconds, 2),
            "peak_rss_mb": _mb(rss.peak_kb),
        }

        with RssSampler(pid) as rss:
            times = [_post(url, token, chunked[i : i + chunk])[0] for i in range(0, count, chunk)]
        results[f"requests_of_{chunk}"] = {
            "seconds_total": round(sum(times), 2),
            "seconds_slowest_request": round(max(times), 2),
            "peak_rss_mb": _mb(rss.peak_kb),
        }

        with RssSampler(pid) as rss:
            start = time.monotonic()
            _sohoa(
                ["upload", str(work / "files-cli"), "--server", url, "--token", token,
                 "--chunk-files", str(chunk)],
                work,
            )  # fmt: skip
            seconds = time.monotonic() - start
        results["sohoa_upload_cli"] = {
            "seconds_total": round(seconds, 2),
            "peak_rss_mb": _mb(rss.peak_kb),
        }

        if large_mb:
            big = work / "large.pdf"
            with big.open("wb") as f:
                f.write(b"%PDF-1.4\n")
                block = os.urandom(1024 * 1024)
                for n in range(large_mb):
                    f.write(block[:-8] + n.to_bytes(8, "big"))
            before = _status_kb(pid, "VmRSS")
            with RssSampler(pid) as rss:
                seconds, _ = _post(url, token, [big])
            results["large_file"] = {
                "mb": large_mb,
                "seconds_to_202": round(seconds, 2),
                "mb_per_second": round(large_mb / seconds, 1),
                "rss_before_mb": _mb(before),
                "peak_rss_mb": _mb(rss.peak_kb),
            }
            big.unlink()
        results["server_rss_high_water_mb"] = _mb(_status_kb(pid, "VmHWM"))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=500, help="small files per scenario")
    parser.add_argument("--chunk", type=int, default=50, help="files per request when chunked")
    parser.add_argument("--large-mb", type=int, default=0, help="also upload one file this big")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sohoa-bench-upload-") as tmp:
        results = upload_bench(Path(tmp), args.files, args.chunk, args.large_mb)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
