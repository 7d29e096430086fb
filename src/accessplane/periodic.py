"""Work done in the background every few seconds while the application runs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any


@asynccontextmanager
async def flushing(
    flush: Callable[[], Awaitable[Any]], interval: float, *, name: str
) -> AsyncIterator[None]:
    """Call ``flush`` every ``interval`` seconds while inside, and once more on the way out,
    so that counts kept in memory are not lost at shutdown."""

    async def every() -> None:
        while True:
            await asyncio.sleep(interval)
            await flush()

    task = asyncio.create_task(every(), name=name)
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
        await flush()
