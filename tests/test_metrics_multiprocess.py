"""/metrics with several server workers: every scrape, whichever worker answers it, counts the
decisions of all of them (prometheus-client's multiprocess mode, set up by ``serve``)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import stat
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from accessplane.cli import metrics_directory
from accessplane.observability.metrics import MULTIPROCESS_DIR
from tests.conftest import require_service

REDIS_URL = os.environ.get("ACCESSPLANE_TEST_REDIS_URL")

# Run in a process of its own: prometheus-client picks its multiprocess value store on import.
WORKER = """
import json, os, sys
from accessplane.observability.metrics import MetricsHub, forget_dead_workers
hub = MetricsHub()
events, items, drops, render = (int(a) for a in sys.argv[1:5])
gone = forget_dead_workers(os.environ["PROMETHEUS_MULTIPROC_DIR"])
hub.counter("t_events", "Events.").inc(events)
hub.gauge_from("t_items", "Items held.", lambda: {(): items})
hub.counter_from("t_drops", "Drops.", lambda: {(): drops})
hub.sample()
text = hub.render().decode() if render else ""
print(json.dumps({"pid": os.getpid(), "gone": gone, "text": text}))
"""


def parse(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def run_worker(directory: Path, *args: int) -> dict[str, Any]:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    done = subprocess.run(
        [sys.executable, "-c", WORKER, *map(str, args)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_workers_counts_add_up_and_a_gone_workers_gauges_are_dropped(tmp_path: Path) -> None:
    first = run_worker(tmp_path, 3, 5, 7, 0)  # exits without a word, as a crashed worker would
    second = run_worker(tmp_path, 4, 6, 1, 1)

    found = parse(second["text"])
    assert second["gone"] == [first["pid"]]
    assert found[("t_events_total", frozenset())] == 7  # counters keep a gone worker's counts
    assert found[("t_drops_total", frozenset())] == 8
    assert found[("t_items", frozenset())] == 6  # gauges count the live workers only
    memory = "accessplane_worker_resident_memory_bytes"
    assert found[(memory, frozenset({("pid", str(second["pid"]))}))] > 0
    assert (memory, frozenset({("pid", str(first["pid"]))})) not in found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def serving(database_url: str, tmp_path: Path) -> AsyncIterator[str]:
    """``accessplane serve --workers 2`` on the test PostgreSQL and Redis, making its metrics
    directory under ``tmp_path``; yields its URL, and stops it on the way out."""
    require_service("Redis", REDIS_URL is not None, "set ACCESSPLANE_TEST_REDIS_URL=redis://…")
    port = free_port()
    env = {
        **os.environ,
        "ACCESSPLANE_DATABASE_URL": database_url,
        "ACCESSPLANE_REDIS_URL": REDIS_URL or "",
        "ACCESSPLANE_PORT": str(port),
        "ACCESSPLANE_SECRET_KEY": "serve-test-secret-0123456789abcdef",
        "TMPDIR": str(tmp_path),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "accessplane.cli",
        "serve",
        "--workers",
        "2",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    output = ""
    try:
        async with asyncio.timeout(90):
            while output.count("Application startup complete") < 2:
                line = (await process.stderr.readline()).decode()
                assert line, f"serve exited early:\n{output}"
                output += line
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        await process.wait()


async def test_a_scrape_counts_the_decisions_of_every_worker(
    postgres_migrated: str, tmp_path: Path
) -> None:
    async with serving(postgres_migrated, tmp_path) as url:
        [mode] = metrics_directories(tmp_path)
        assert mode == 0o700  # private to the server's user
        await decide_and_scrape(url)
    assert metrics_directories(tmp_path) == []  # removed when the server stopped


def metrics_directories(parent: Path) -> list[int]:
    """The modes of the metrics directories ``serve`` made under ``parent``."""
    return [stat.S_IMODE(p.stat().st_mode) for p in parent.glob("accessplane-metrics-*")]


async def decide_and_scrape(url: str) -> None:

    async def decide(n: int) -> None:
        # A connection each, so the kernel spreads them over both workers.
        async with httpx.AsyncClient(base_url=url) as client:
            answer = await client.post("/v1/check", json={"credential": f"apt_{n}", "api": "x"})
            assert answer.status_code == 200

    await asyncio.gather(*(decide(n) for n in range(20)))

    decisions = (
        "accessplane_decisions_total",
        frozenset({("endpoint", "check"), ("reason", "unknown_credential")}),
    )
    pids: set[str] = set()
    for _ in range(10):  # scrapes answered by either worker: each counts all 20
        async with httpx.AsyncClient(base_url=url) as client:
            found = parse((await client.get("/metrics")).text)
        assert found[decisions] == 20
        pids |= {
            dict(key)["pid"]
            for name, key in found
            if name == "accessplane_worker_resident_memory_bytes"
        }
    assert len(pids) == 2


def test_serve_gives_several_workers_a_fresh_private_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setenv(MULTIPROCESS_DIR, "/somewhere/inherited")

    with metrics_directory(1) as none:
        assert none is None
        assert MULTIPROCESS_DIR not in os.environ  # one worker keeps its metrics in memory
    with metrics_directory(3) as made:
        assert made is not None
        assert os.environ[MULTIPROCESS_DIR] == made
        assert Path(made).parent == tmp_path
        assert stat.S_IMODE(Path(made).stat().st_mode) == 0o700
        assert list(Path(made).iterdir()) == []
        (Path(made) / "counter_123.db").write_bytes(b"")
    assert not Path(made).exists()
    assert os.environ[MULTIPROCESS_DIR] == "/somewhere/inherited"
