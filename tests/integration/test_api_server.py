"""`sohoa serve --api-processes N`: N API processes handed the port's connections in turn,
replaced when one dies, all stopped by SIGTERM."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.integration.test_api import _free_port


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


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc")
def test_several_api_processes_share_the_port(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOHOA_")}
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "serve", "--port", str(port), "--api-processes", "2",
         "--no-worker"],
        cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base)
        workers = _children(proc.pid)
        assert len(workers) == 2, workers
        for _ in range(20):  # a new connection each time: every one is answered
            assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200

        # connections kept open (as a proxy's pool) are spread evenly, not by chance
        clients = [httpx.Client(base_url=base, timeout=5) for _ in range(8)]
        try:
            for client in clients:
                assert client.get("/healthz").status_code == 200
            assert _served_connections(workers, port) == [4, 4]
        finally:
            for client in clients:
                client.close()

        # a process that dies after running a while is replaced; the port keeps answering
        time.sleep(10)
        os.kill(workers[0], signal.SIGKILL)
        for _ in range(20):
            assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(set(_children(proc.pid)) - {workers[0]}) < 2:
            time.sleep(0.3)
        replaced = set(_children(proc.pid))
        assert workers[0] not in replaced and len(replaced) == 2, replaced
        log.flush()
        assert (
            f"the API on http://127.0.0.1:{port}, 2 processes"
            in (tmp_path / "serve.log").read_text()
        )

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=40) == 0
        assert not _children(proc.pid)
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
        env = {k: v for k, v in os.environ.items() if not k.startswith("SOHOA_")}
        result = subprocess.run(
            [sys.executable, "-m", "cli.main", "serve", "--port", str(port),
             "--api-processes", "2", "--no-worker"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert result.returncode != 0
        assert "in use" in (result.stdout + result.stderr).lower()


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc")
def test_api_processes_stop_when_the_server_process_is_killed(tmp_path: Path) -> None:
    """Nothing hands them connections any more: they finish and go, not linger as orphans."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOHOA_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "serve", "--port", str(port), "--api-processes", "2",
         "--no-worker"],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        _wait_healthy(f"http://127.0.0.1:{port}")
        workers = _children(proc.pid)
        assert len(workers) == 2
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
