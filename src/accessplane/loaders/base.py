"""Batching helpers shared by every loader: by id, counts by parent, pages by parent."""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from aiodataloader import DataLoader
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from accessplane.services.pagination import (
    Column,
    Page,
    PageArgs,
    after_clause,
    decode_cursor,
    encode_cursor,
)

T = TypeVar("T")
PageKey = tuple[uuid.UUID, PageArgs]


class ByIdLoader(DataLoader[uuid.UUID, T | None], Generic[T]):
    """Rows of one table by primary key: one ``WHERE id IN (…)`` per batch."""

    model: type[Any]

    def __init__(self, session: AsyncSession) -> None:
        super().__init__()
        self.session = session

    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[T | None]:
        rows = (await self.session.scalars(select(self.model).where(self.model.id.in_(keys)))).all()
        by_id = {row.id: row for row in rows}
        return [by_id.get(key) for key in keys]


class CountLoader(DataLoader[uuid.UUID, int], ABC):
    """A count per parent id: one ``GROUP BY`` per batch."""

    def __init__(self, session: AsyncSession) -> None:
        super().__init__()
        self.session = session

    @abstractmethod
    def query(self, keys: Sequence[uuid.UUID]) -> Select[Any, int]:
        """(parent id, count) rows for these parents."""

    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[int]:
        counts = {
            parent: total for parent, total in (await self.session.execute(self.query(keys))).all()
        }
        return [int(counts.get(key, 0)) for key in keys]


class PageLoader(DataLoader[PageKey, Page[T]], ABC, Generic[T]):
    """A page of children per parent id: one windowed query per batch (and per distinct page
    arguments), whatever the number of parents."""

    def __init__(self, session: AsyncSession) -> None:
        super().__init__()
        self.session = session

    # Subclasses say what a child is, how it joins its parent, and its sort key.
    entity: type[Any]

    @abstractmethod
    def children(self, parent_ids: Sequence[uuid.UUID]) -> tuple[Select[Any], Column]:
        """The children of these parents, and the column holding each child's parent id."""

    @abstractmethod
    def sort(self) -> Sequence[Column]:
        """The children's order; its last column must be unique."""

    async def batch_load_fn(self, keys: Sequence[PageKey]) -> list[Page[T]]:
        by_args: dict[PageArgs, list[uuid.UUID]] = defaultdict(list)
        for parent_id, args in keys:
            by_args[args].append(parent_id)
        pages: dict[PageKey, Page[T]] = {}
        for args, parent_ids in by_args.items():
            pages.update(await self._load(args, parent_ids))
        return [pages[key] for key in keys]

    async def _load(self, args: PageArgs, parent_ids: list[uuid.UUID]) -> dict[PageKey, Page[T]]:
        query, parent = self.children(parent_ids)
        sort = list(self.sort())
        if args.after is not None:
            query = query.where(after_clause(sort, decode_cursor(args.after, sort)))
        rank = func.row_number().over(partition_by=parent, order_by=sort)
        inner = query.add_columns(
            parent.label("page_parent"),
            rank.label("page_rank"),
            *(column.label(f"page_sort{i}") for i, column in enumerate(sort)),
        ).subquery()
        child = aliased(self.entity, inner)
        sort_columns = [inner.c[f"page_sort{i}"] for i in range(len(sort))]
        rows = (
            await self.session.execute(
                select(child, inner.c["page_parent"], *sort_columns)
                .where(inner.c["page_rank"] <= args.first + 1)
                .order_by(inner.c["page_parent"], inner.c["page_rank"])
            )
        ).all()
        grouped: dict[uuid.UUID, list[Any]] = defaultdict(list)
        for row in rows:
            grouped[row[1]].append(row)
        result: dict[PageKey, Page[T]] = {}
        for parent_id in parent_ids:
            found = grouped.get(parent_id, [])
            shown = found[: args.first]
            result[(parent_id, args)] = Page(
                items=[row[0] for row in shown],
                cursors=[encode_cursor(tuple(row[2:])) for row in shown],
                has_next_page=len(found) > args.first,
                has_previous_page=args.after is not None,
            )
        return result


class ChildCountLoader(CountLoader):
    """How many children each parent has in a ``PageLoader``: the same query, grouped."""

    def __init__(self, pages: PageLoader[Any]) -> None:
        super().__init__(pages.session)
        self.pages = pages

    def query(self, keys: Sequence[uuid.UUID]) -> Select[Any, int]:
        children, parent = self.pages.children(keys)
        return children.with_only_columns(
            parent, func.count(), maintain_column_froms=True
        ).group_by(parent)


class ListLoader(DataLoader[uuid.UUID, list[T]], ABC, Generic[T]):
    """All children per parent id, for short lists (an app's products, a product's APIs): one
    query per batch, ordered by the subclass."""

    def __init__(self, session: AsyncSession) -> None:
        super().__init__()
        self.session = session

    @abstractmethod
    def query(self, keys: Sequence[uuid.UUID]) -> Select[Any, uuid.UUID]:
        """(child, parent id) rows for these parents, in the children's order."""

    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[list[T]]:
        grouped: dict[uuid.UUID, list[T]] = defaultdict(list)
        for child, parent_id in (await self.session.execute(self.query(keys))).all():
            grouped[parent_id].append(child)
        return [grouped.get(key, []) for key in keys]
