"""The statement-count loop of list tests: one request per page size, counted."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from tests.conftest import QueryCounter

PAGE_SIZES = (10, 100)


async def statements_per_page(
    count_queries: QueryCounter,
    request: Callable[[int], Awaitable[Any]],
    sizes: Iterable[int] = PAGE_SIZES,
) -> dict[int, int]:
    """Page size -> the SQL statements ``request(size)`` ran (it asserts on its own answer);
    a list costs the same for every size when the values are all equal."""
    counted: dict[int, int] = {}
    for size in sizes:
        with count_queries:
            await request(size)
        counted[size] = count_queries.count
    return counted
