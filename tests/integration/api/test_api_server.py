"""`sohoa serve --api-processes N`: N uvicorn worker processes on one shared socket, replaced
when one dies, all stopped by SIGTERM or when the server process is killed; the request
metrics of a scrape summed over them."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.api.test_api import _free_port

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc")


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat[1]) == pid and b"resource_tracker" not in cmdline:
            out.append(int(entry.name))
    return out


def _wait_healthy(base: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise AssertionError("the API did not answer")


def _served_connections(pids: list[int], port: int) -> list[int]:
    """For each process, how many established TCP connections to `port` it holds."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                inodes.add(fields[9])
    counts = []
    for pid in pids:
        held = 0
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            held += target.startswith("socket:[") and target[8:-1] in inodes
        counts.append(held)
    return counts


def _environ(pid: int) -> dict[str, str]:
    pairs = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(p.decode().partition("=")[::2] for p in pairs if p)


#: the code under test, whatever is installed
ROOT = Path(__file__).resolve().parents[3]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOHOA_")}
    return {**env, "PYTHONPATH": str(ROOT)}


def _serve(tmp_path: Path, port: int, out: object) -> subprocess.Popen[bytes]:
    env = _env()
    return subprocess.Popen(
        [sys.executable, "-m", "cli.main", "serve", "--port", str(port), "--api-processes", "2",
         "--no-worker"],
        cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip


def _token(tmp_path: Path) -> str:
    """A token that may scrape the metrics, in the service's database (the folder's)."""
    env = _env()
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "token", "create", "prometheus",
         "--scope", "reports:read"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return done.stdout.strip().splitlines()[-1]


def _counted(base: str, token: str, route: str) -> float:
    """The number of GET requests to `route` a scrape of /metrics reports (a new connection:
    any process may answer it)."""
    response = httpx.get(
        f"{base}/metrics", headers={"authorization": f"Bearer {token}"}, timeout=10
    )
    assert response.status_code == 200, response.text
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    assert "process_cpu_seconds" not in families  # one process's figures would mislead
    return sum(
        s.value
        for s in families["sohoa_http_request_duration_seconds"].samples
        if s.name.endswith("_count") and s.labels["route"] == route
    )


@pytest.mark.slow
def test_several_api_processes_share_the_port(tmp_path: Path) -> None:
    port = _free_port()
    log = (tmp_path / "serve.log").open("wb")
    proc = _serve(tmp_path, port, log)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base)
        workers = _children(proc.pid)
        assert len(workers) == 2, workers
        for _ in range(20):  # a new connection each time: every one is answered
            assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200

        # connections kept open (as a proxy's pool): the kernel gives each to whichever process
        # accepts first. Opened until both processes hold some (8 are enough in practice).
        clients: list[httpx.Client] = []
        try:
            sent, split = 0, [0]
            while len(clients) < 64 and (len(clients) < 8 or 0 in split):
                clients.append(httpx.Client(base_url=base, timeout=5))
                assert clients[-1].get("/no-such-page").status_code == 404
                sent += 1
                split = _served_connections(workers, port)
            assert sum(split) == len(clients) and 0 not in split, split
            print(f"{len(clients)} kept-alive connections on 2 processes: {split}")
            for client in clients:
                for _ in range(3):
                    assert client.get("/no-such-page").status_code == 404
                    sent += 1

            # both processes answered some of them, and every scrape (a process at random)
            # reports them all
            token = _token(tmp_path)
            for _ in range(6):
                assert _counted(base, token, "unmatched") == sent
        finally:
            for client in clients:
                client.close()

        # the metrics of the processes are in a folder of the server's own
        metrics_dir = Path(_environ(workers[0])["PROMETHEUS_MULTIPROC_DIR"])
        assert metrics_dir.is_dir()

        # a process that dies is replaced; the port keeps answering
        os.kill(workers[0], signal.SIGKILL)
        for _ in range(20):
            assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(set(_children(proc.pid)) - {workers[0]}) < 2:
            time.sleep(0.3)
        replaced = set(_children(proc.pid))
        assert workers[0] not in replaced and len(replaced) == 2, replaced
        _wait_healthy(base)
        assert _counted(base, token, "unmatched") == sent  # the dead process's count is kept
        log.flush()
        assert (
            f"the API on http://127.0.0.1:{port}, 2 processes"
            in (tmp_path / "serve.log").read_text()
        )

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        assert not _children(proc.pid)
        assert not metrics_dir.exists()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def test_a_port_in_use_fails_at_once(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = _env()
        result = subprocess.run(
            [sys.executable, "-m", "cli.main", "serve", "--port", str(port),
             "--api-processes", "2", "--no-worker"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert result.returncode != 0
        output = result.stdout + result.stderr
        assert "in use" in output.lower()
        assert f"cannot listen on 127.0.0.1:{port}" in output
        assert "Started server process" not in output  # no API process was started


@pytest.mark.slow
def test_api_processes_stop_when_the_server_process_is_killed(tmp_path: Path) -> None:
    """Killed outright, the server process cannot stop them: each notices its parent is gone,
    finishes what it has and goes, rather than linger as an orphan on the port."""
    port = _free_port()
    proc = _serve(tmp_path, port, subprocess.DEVNULL)
    metrics_dir = None
    try:
        _wait_healthy(f"http://127.0.0.1:{port}")
        workers = _children(proc.pid)
        assert len(workers) == 2
        metrics_dir = _environ(workers[0])["PROMETHEUS_MULTIPROC_DIR"]  # left behind: ours
        proc.kill()
        proc.wait()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(Path(f"/proc/{w}").exists() for w in workers):
            time.sleep(0.2)
        alive = [w for w in workers if Path(f"/proc/{w}").exists()]
        assert not alive or all(
            Path(f"/proc/{w}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z" for w in alive
        )
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


@pytest.mark.slow
def test_one_api_process_serves_in_the_server_process_and_stops_with_its_worker(
    tmp_path: Path,
) -> None:
    """With one API process there is no supervisor; SIGTERM still stops the worker too."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "serve", "--port", str(port), "--api-processes", "1",
         "--concurrency", "1"],
        cwd=tmp_path, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        _wait_healthy(f"http://127.0.0.1:{port}")
        children = _children(proc.pid)
        assert len(children) == 1  # the worker; the API is served by the server process
        assert "celery" in Path(f"/proc/{children[0]}/cmdline").read_text()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        assert not Path(f"/proc/{children[0]}").exists()  # stopped and reaped by serve
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
