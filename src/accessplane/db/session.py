"""A session that a request's concurrent resolvers can share.

GraphQL resolves sibling fields concurrently and each dataloader dispatches its batch in a task
of its own, but an ``AsyncSession`` allows one operation at a time. ``RequestSession`` takes
turns: one task at a time uses it, and a task may re-enter (``scalars`` calls ``execute``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker


class RequestSession(AsyncSession):
    """An ``AsyncSession`` whose operations are serialised across tasks."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._turn_lock = asyncio.Lock()
        self._turn_owner: asyncio.Task[Any] | None = None
        self._ended = False

    @asynccontextmanager
    async def _turn(self) -> AsyncIterator[None]:
        task = asyncio.current_task()
        if task is not None and self._turn_owner is task:
            yield
            return
        async with self._turn_lock:
            if self._ended:
                # A resolver still running when its request ended (a sibling field failed):
                # it must not open a new transaction nobody would close.
                raise RuntimeError("the request has ended; its session is closed")
            self._turn_owner = task
            try:
                yield
            finally:
                self._turn_owner = None

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        async with self._turn():
            return await super().execute(*args, **kwargs)

    async def scalar(self, *args: Any, **kwargs: Any) -> Any:
        async with self._turn():
            return await super().scalar(*args, **kwargs)

    async def scalars(self, *args: Any, **kwargs: Any) -> Any:
        async with self._turn():
            return await super().scalars(*args, **kwargs)

    async def get(self, *args: Any, **kwargs: Any) -> Any:
        async with self._turn():
            return await super().get(*args, **kwargs)

    async def flush(self, *args: Any, **kwargs: Any) -> None:
        async with self._turn():
            await super().flush(*args, **kwargs)

    async def commit(self) -> None:
        async with self._turn():
            await super().commit()

    async def rollback(self) -> None:
        async with self._turn():
            await super().rollback()

    async def close(self) -> None:
        """Wait for the operation in progress, then close: GraphQL may finish a request (an
        error ended it) while a dataloader's query is still running."""
        async with self._turn():
            self._ended = True
            await super().close()

    async def delete(self, instance: object) -> None:
        async with self._turn():
            await super().delete(instance)

    async def refresh(self, *args: Any, **kwargs: Any) -> None:
        async with self._turn():
            await super().refresh(*args, **kwargs)


def request_sessions(engine: AsyncEngine) -> async_sessionmaker[RequestSession]:
    """The factory of per-request sessions."""
    return async_sessionmaker(engine, class_=RequestSession, expire_on_commit=False)
