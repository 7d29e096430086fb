"""Count the SQL statements one request costs, by running both apps in-process with a listener
on their engine: the load test says how fast, this says why."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from accessplane.app import create_app
from accessplane.db import create_engine
from accessplane.settings import Settings
from bench import baseline
from bench.targets import Target


class StatementCounter:
    """Counts statements sent to the database through ``engine``."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.count = 0
        event.listen(engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, *_: Any) -> None:
        self.count += 1


async def _send(app: Starlette, target: Target) -> Any:
    headers = {"authorization": f"Bearer {target.token}"} if target.token else {}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        response = await client.request(
            target.method, target.path, json=target.body, headers=headers
        )
    response.raise_for_status()
    return response.json()


async def count_statements(settings: Settings, targets: list[Target]) -> dict[str, tuple[int, Any]]:
    """Per target key: the statements one request costs, and its decoded answer. Each target
    runs once to warm caches, then once counted."""
    engine = create_engine(settings.database_url)
    counter = StatementCounter(engine)
    apps = {
        "app": create_app(settings, engine=engine),
        "baseline": baseline.create_app(settings, engine=engine),
    }
    results: dict[str, tuple[int, Any]] = {}
    try:
        for target in targets:
            await _send(apps[target.server], target)
            counter.count = 0
            answer = await _send(apps[target.server], target)
            results[target.key] = (counter.count, answer)
    finally:
        await engine.dispose()
    return results
