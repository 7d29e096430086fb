"""Concurrent first look-ups, answered together: one round of statements for many keys.

After a start (or a cache flush) every credential is cold, and each request looked its
credential up with statements of its own: a few hundred per second, so a hundred thousand
active apps took minutes to warm. ``Batches`` collects the keys asked for while a round runs and
looks them all up in the next round (``WHERE token_digest IN (...)``), one round at a time per
engine, at most ``limit`` keys per round. Under load the rounds grow with the traffic; alone, a
look-up waits for nothing but one turn of the event loop.

A round runs in a task of its own with a session of its own, so that a caller that gives up
(its client went away) stops nobody else's look-up. Every caller has taken its cache
generation before asking, and the round reads after that, so ``DecisionCache.put`` keeps its
guarantee: nothing read before a committed change is stored after it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

V = TypeVar("V")

# Keys per round: bounds the statement's parameter list (SQLite allows 32 766) and the time
# one round holds a connection.
MAX_BATCH = 500

# Turns of the event loop a round waits at most for more keys before it starts.
_TURNS = 8

# (session, keys, extra) -> what was found, by key; a key absent from the answer has nothing.
Fetch = Callable[[AsyncSession, list[str], Any], Awaitable[dict[str, V]]]


@dataclass(eq=False)
class _Round(Generic[V]):
    futures: dict[str, asyncio.Future[V | None]] = field(default_factory=dict)
    task: asyncio.Task[None] | None = None


class Batches(Generic[V]):
    """Look-ups by key, batched per (engine, ``extra``) while a previous round runs."""

    def __init__(self, fetch: Fetch[V], *, limit: int = MAX_BATCH) -> None:
        self._fetch = fetch
        self._limit = limit
        self._open: dict[Hashable, _Round[V]] = {}  # the round still taking keys
        self._last: dict[Hashable, asyncio.Task[None]] = {}  # the round the next one follows

    async def load(self, session: AsyncSession, key: str, extra: Any = None) -> V | None:
        """What ``fetch`` finds for ``key`` (None: nothing), looked up with the keys other
        callers ask for meanwhile, on ``session``'s engine."""
        bind = session.bind
        if not isinstance(bind, AsyncEngine):  # bound to a connection: its transaction alone
            return (await self._fetch(session, [key], extra)).get(key)
        group = (bind, extra)
        found = self._open.get(group)
        if found is None or len(found.futures) >= self._limit:
            found = _Round()
            self._open[group] = found
            previous = self._last.get(group)
            found.task = asyncio.create_task(self._run(group, found, bind, extra, previous))
            self._last[group] = found.task
        future = found.futures.get(key)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            found.futures[key] = future
        return await asyncio.shield(future)

    async def _run(
        self,
        group: Hashable,
        current: _Round[V],
        bind: AsyncEngine,
        extra: Any,
        previous: asyncio.Task[None] | None,
    ) -> None:
        try:
            # The look-ups of this turn of the loop join, and of the next turns while more
            # keep coming (a few turns at most: a lone look-up waits for nothing).
            joined = 0
            for _ in range(_TURNS):
                await asyncio.sleep(0)
                if len(current.futures) == joined:
                    break
                joined = len(current.futures)
            if previous is not None and not previous.done():
                await asyncio.wait([previous])  # one round at a time; this one fills meanwhile
            if self._open.get(group) is current:
                del self._open[group]
            async with AsyncSession(bind, expire_on_commit=False) as session:
                answers = await self._fetch(session, list(current.futures), extra)
        except Exception as error:
            for future in current.futures.values():
                if not future.done():
                    future.set_exception(error)
                    future.exception()  # retrieved: callers that gave up leave no warning
        except BaseException:  # cancelled (the loop is closing): so are its callers
            for future in current.futures.values():
                future.cancel()
            raise
        else:
            for key, future in current.futures.items():
                if not future.done():
                    future.set_result(answers.get(key))
        finally:
            if self._open.get(group) is current:
                del self._open[group]
            if self._last.get(group) is current.task:
                del self._last[group]
