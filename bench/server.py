"""Start an ASGI app under uvicorn in its own process, as production would run it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

READY_TIMEOUT = 60.0  # seconds; a cold start imports Strawberry and builds the schema
IDLE_TIMEOUT = 120.0  # seconds for requests a load run left behind to finish
IDLE_LATENCY = 0.02  # seconds: /healthz answering this fast means nothing else is running


@dataclass(frozen=True, slots=True)
class UvicornOptions:
    """Server settings shared by every target, so only the app differs."""

    loop: str = "asyncio"
    http: str = "h11"
    workers: int = 1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}; see {log}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)  # polling /healthz while the server starts
    raise RuntimeError(f"server not ready after {READY_TIMEOUT:.0f} s; see {log}")


def wait_idle(url: str) -> None:
    """Wait until the server has finished what a load run left in flight.

    wrk stops with requests still running on the server (uvicorn does not cancel them), and a
    slow target can keep it busy for seconds; measuring the next target then would bill it for
    the last one's work. The event loop answers /healthz only between other work, so a few
    quick answers in a row mean it is idle.
    """
    deadline = time.monotonic() + IDLE_TIMEOUT
    quick = 0
    with httpx.Client(base_url=url, timeout=IDLE_TIMEOUT) as client:
        while quick < 3:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} still busy after {IDLE_TIMEOUT:.0f} s")
            started = time.perf_counter()
            client.get("/healthz").raise_for_status()
            quick = quick + 1 if time.perf_counter() - started < IDLE_LATENCY else 0


@dataclass(frozen=True, slots=True)
class Server:
    """A running server: its base URL and the process that serves it (with one worker,
    uvicorn serves in its main process, so ``pid`` is the one whose memory to read)."""

    url: str
    pid: int


@contextmanager
def serve(
    factory: str, *, env: dict[str, str], options: UvicornOptions, log: Path
) -> Iterator[str]:
    """Run ``uvicorn <factory> --factory`` until the block ends; yields its base URL."""
    with start(factory, env=env, options=options, log=log) as server:
        yield server.url


@contextmanager
def start(
    factory: str, *, env: dict[str, str], options: UvicornOptions, log: Path
) -> Iterator[Server]:
    """Run ``uvicorn <factory> --factory`` until the block ends; yields the running server."""
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", factory, "--factory",
        "--host", "127.0.0.1", "--port", str(port),
        "--workers", str(options.workers), "--loop", options.loop, "--http", options.http,
        "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, env={**os.environ, **env}, stdout=output, stderr=subprocess.STDOUT
        )
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_ready(url, process, log)
            yield Server(url, process.pid)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
