"""A real `sohoa serve` (API + worker on the embedded defaults) and headless Chromium.

Chromium is Debian's (`chromium` on the PATH, or `SOHOA_CHROMIUM`), driven by Playwright for
Python; Playwright's own browser download is never used. Screenshots go to
`test-artifacts/screenshots/` at the root of the repository.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
PASSWORD = "mat-khau-thu-nghiem"
STAFF_UNIT = "phuong-co-nhue-1"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    return os.environ.get("SOHOA_CHROMIUM") or shutil.which("chromium")


@dataclass(frozen=True)
class Server:
    base: str
    folder: Path
    env: dict[str, str]
    plan_loaded: bool

    def sohoa(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cli.main", *args],
            cwd=self.folder, env=self.env, capture_output=True, text=True, check=check,
            timeout=120,
        )  # fmt: skip

    def log(self) -> str:
        path = self.folder / "serve.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`sohoa serve` in a fresh folder, with a staff member, a supervisor and the plan."""
    folder = tmp_path_factory.mktemp("serve")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOHOA_")}
    env["SOHOA_NEW_PASSWORD"] = PASSWORD
    env["PYTHONPATH"] = str(REPO)
    probe = Server("", folder, env, False)
    probe.sohoa("user", "create", "van-thu", "--role", "staff", "--unit", STAFF_UNIT,
                "--full-name", "Nguyễn Thị Văn Thư")  # fmt: skip
    probe.sohoa("user", "create", "lanh-dao", "--role", "supervisor",
                "--full-name", "Trần Văn Lãnh Đạo")  # fmt: skip
    plan = probe.sohoa("plan", "load", str(REPO / "deploy/plan/bac-tu-liem-2023.yaml"), check=False)
    port = _free_port()
    log = (folder / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "serve", "--port", str(port), "--concurrency", "1"],
        cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                pytest.fail("sohoa serve did not start:\n" + Server(base, folder, env, False).log())
            time.sleep(0.3)
        yield Server(base, folder, env, plan.returncode == 0)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    executable = chromium_path()
    if executable is None:  # make test installs it: a missing browser is a broken set-up
        pytest.fail("Debian's chromium is needed (apt-get install chromium; make test does it)")
    from playwright import sync_api

    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture(scope="module")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
