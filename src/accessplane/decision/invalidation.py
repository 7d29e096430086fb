"""Keeping every instance's decision cache true to the database.

The instance that commits a change drops the affected entries itself, right after the commit,
before the mutation answers. On PostgreSQL the same transaction also sends the change's tags
with ``NOTIFY accessplane_changes``: PostgreSQL delivers it only if the transaction commits, and
to every instance listening (``LISTEN``) on one connection each. A listener that loses its
connection cannot know what it missed: it clears its cache and reconnects. So other instances
apply a change as soon as the notification arrives (milliseconds on one network); a cached entry
also never outlives ``ACCESSPLANE_DECISION_CACHE_TTL``, whatever happens to notifications.

SQLite has no notifications: run one instance on it (its default).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator, Iterable
from typing import Any

from sqlalchemy import Connection, make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine

from accessplane.db import changes
from accessplane.decision.cache import DecisionCache

logger = logging.getLogger(__name__)

CHANNEL = "accessplane_changes"
# NOTIFY payloads must stay under 8000 bytes; a larger change says "everything".
_MAX_PAYLOAD = 7000
_EVERYTHING = "*"


class CacheInvalidator:
    """A change listener (``db.changes``) that drops cache entries and, on PostgreSQL,
    notifies the other instances within the committing transaction."""

    def __init__(self, cache: DecisionCache, *, notify: bool) -> None:
        self.cache = cache
        self.notify = notify
        self.instance = uuid.uuid4().hex  # its own notifications need no second look
        # Other caches built from the same rows (the GraphQL principals): dropped alike.
        self.followers: list[DecisionCache] = []

    def invalidate(self, tags: Iterable[str] | None) -> None:
        """Drop these tags' entries (None: everything) from the cache and its followers."""
        self.cache.invalidate(tags)
        for follower in self.followers:
            follower.invalidate(tags)

    def before_commit(self, connection: Connection, tags: frozenset[str]) -> None:
        if not self.notify:
            return
        listed = sorted(tags)
        payload = json.dumps({"from": self.instance, "tags": listed})
        if len(payload.encode()) > _MAX_PAYLOAD:
            payload = json.dumps({"from": self.instance, "tags": _EVERYTHING})
        connection.execute(
            text("SELECT pg_notify(:channel, :payload)"),
            {
                "channel": CHANNEL,
                "payload": payload,
            },
        )

    def after_commit(self, tags: frozenset[str]) -> None:
        self.invalidate(tags)

    def received(self, payload: str) -> None:
        """A notification from any instance (this one's are skipped)."""
        try:
            message: Any = json.loads(payload)
            origin, tags = message["from"], message["tags"]
        except (ValueError, KeyError, TypeError):
            logger.warning("ignoring a malformed %s notification", CHANNEL)
            return
        if origin == self.instance:
            return
        self.invalidate(None if tags == _EVERYTHING else tags)


def _asyncpg_dsn(engine: AsyncEngine) -> str:
    url = make_url(engine.url.render_as_string(hide_password=False))
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


async def _listen(engine: AsyncEngine, invalidator: CacheInvalidator, ready: asyncio.Event) -> None:
    import asyncpg  # the postgres extra; only needed on PostgreSQL

    delay = 0.1
    while True:
        connection = None
        try:
            connection = await asyncpg.connect(_asyncpg_dsn(engine))
            lost = asyncio.Event()
            connection.add_termination_listener(lambda _connection, lost=lost: lost.set())
            await connection.add_listener(
                CHANNEL, lambda _c, _pid, _channel, payload: invalidator.received(payload)
            )
            # Whatever changed while we were not listening is unknown: start afresh.
            invalidator.invalidate(None)
            ready.set()
            delay = 0.1
            await lost.wait()
            logger.warning("lost the %s listener's connection; reconnecting", CHANNEL)
        except asyncio.CancelledError:
            raise
        except Exception:  # any failure: clear the cache (changes may be missed) and retry
            logger.exception("the %s listener failed; retrying in %.1fs", CHANNEL, delay)
        finally:
            if connection is not None and not connection.is_closed():
                with contextlib.suppress(Exception):
                    await connection.close()
        invalidator.invalidate(None)
        await asyncio.sleep(delay)
        delay = min(delay * 2, 5.0)


def subscribe(engine: AsyncEngine, cache: DecisionCache) -> CacheInvalidator:
    """Drop ``cache`` entries at every commit on ``engine`` (and, on PostgreSQL, notify the
    other instances from within the committing transaction)."""
    invalidator = CacheInvalidator(cache, notify=engine.dialect.name == "postgresql")
    changes.subscribe(engine.sync_engine, invalidator)
    return invalidator


@contextlib.asynccontextmanager
async def listening(engine: AsyncEngine, invalidator: CacheInvalidator) -> AsyncIterator[None]:
    """On PostgreSQL, apply the other instances' changes for the lifetime of the application."""
    if engine.dialect.name != "postgresql":
        yield
        return
    ready = asyncio.Event()
    task = asyncio.create_task(_listen(engine, invalidator, ready))
    try:
        # Serve only once listening, so that no change slips by unnoticed.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ready.wait(), timeout=10)
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
