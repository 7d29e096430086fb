"""Other instances' changes reach the cache through PostgreSQL's NOTIFY; a listener that loses
its connection forgets everything (it cannot know what it missed) and listens again."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from accessplane.decision.cache import DecisionCache
from accessplane.decision.invalidation import CHANNEL, CacheInvalidator, listening


def test_notifications_drop_tags_and_skip_their_own_and_malformed_ones() -> None:
    cache = DecisionCache(size=10, unknown_size=10, ttl=60)
    invalidator = CacheInvalidator(cache, notify=True)
    for key in ("a", "b", "c"):
        cache.put(key, key, {f"client:{key}"}, cache.generation)
    invalidator.received(json.dumps({"from": invalidator.instance, "tags": ["client:a"]}))
    assert cache.get("a") == "a"  # its own change was applied at commit already
    invalidator.received("not json")
    invalidator.received(json.dumps({"tags": ["client:a"]}))
    assert cache.get("a") == "a"
    invalidator.received(json.dumps({"from": "other", "tags": ["client:a"]}))
    assert cache.get("a") is None
    assert cache.get("b") == "b"
    invalidator.received(json.dumps({"from": "other", "tags": "*"}))
    assert cache.sizes() == {"credentials": 0, "unknown": 0}


async def _until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(10):
        while True:
            if condition():
                return
            await asyncio.sleep(0.01)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_listener_that_loses_its_connection_clears_the_cache_and_listens_again(
    engine: AsyncEngine,
) -> None:
    cache = DecisionCache(size=10, unknown_size=10, ttl=60)
    invalidator = CacheInvalidator(cache, notify=True)

    async def notify(*tags: str) -> None:
        payload = json.dumps({"from": "another instance", "tags": list(tags)})
        async with engine.begin() as connection:
            await connection.execute(
                text("SELECT pg_notify(:channel, :payload)"),
                {"channel": CHANNEL, "payload": payload},
            )

    async with listening(engine, invalidator):
        cache.put("a", 1, {"client:a"}, cache.generation)
        cache.put("b", 2, {"client:b"}, cache.generation)
        await notify("client:a")
        await _until(lambda: cache.get("a") is None)
        assert cache.get("b") == 2

        async with engine.begin() as connection:
            killed = await connection.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE query LIKE 'LISTEN %' AND pid <> pg_backend_pid()"
                )
            )
        assert killed == 1
        await _until(lambda: cache.get("b") is None)

        # Listening again: a later notification drops its entry and only that one (until then
        # the reconnection's own clearing may take both: put them back and ask again).
        async with asyncio.timeout(10):
            while True:
                cache.put("c", 3, {"client:c"}, cache.generation)
                cache.put("d", 4, {"client:d"}, cache.generation)
                await notify("client:c")
                await asyncio.sleep(0.05)
                if cache.get("c") is None and cache.get("d") == 4:
                    break
