"""Batched reads of webhook endpoints' deliveries, newest first."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import aliased
from sqlmodel import col

from accessplane.loaders.base import PageKey, PageLoader
from accessplane.models import WebhookDelivery
from accessplane.services.pagination import (
    Column,
    Page,
    PageArgs,
    after_clause,
    decode_cursor,
    encode_cursor,
)


class DeliveriesByEndpointIdLoader(PageLoader[WebhookDelivery]):
    """Each endpoint's deliveries, newest first: one windowed query per batch of endpoints
    (``PageLoader``'s, with the order reversed, since a log is read from its end)."""

    entity = WebhookDelivery

    def children(self, parent_ids: Sequence[uuid.UUID]) -> tuple[Select[Any], Column]:
        query = select(WebhookDelivery).where(col(WebhookDelivery.endpoint_id).in_(parent_ids))
        return query, col(WebhookDelivery.endpoint_id)

    def sort(self) -> Sequence[Column]:
        return [col(WebhookDelivery.created_at), col(WebhookDelivery.id)]

    async def batch_load_fn(self, keys: Sequence[PageKey]) -> list[Page[WebhookDelivery]]:
        by_args: dict[PageArgs, list[uuid.UUID]] = defaultdict(list)
        for parent_id, args in keys:
            by_args[args].append(parent_id)
        pages: dict[PageKey, Page[WebhookDelivery]] = {}
        for args, parent_ids in by_args.items():
            pages.update(await self.newest_first(args, parent_ids))
        return [pages[key] for key in keys]

    async def newest_first(
        self, args: PageArgs, parent_ids: list[uuid.UUID]
    ) -> dict[PageKey, Page[WebhookDelivery]]:
        """One page per endpoint, in one query."""
        query, parent = self.children(parent_ids)
        sort = list(self.sort())
        if args.after is not None:
            query = query.where(
                after_clause(sort, decode_cursor(args.after, sort), descending=True)
            )
        rank = func.row_number().over(partition_by=parent, order_by=[c.desc() for c in sort])
        inner = query.add_columns(
            parent.label("page_parent"),
            rank.label("page_rank"),
            *(column.label(f"page_sort{i}") for i, column in enumerate(sort)),
        ).subquery()
        child = aliased(WebhookDelivery, inner)
        rows = (
            await self.session.execute(
                select(child, inner.c["page_parent"], inner.c["page_sort0"], inner.c["page_sort1"])
                .where(inner.c["page_rank"] <= args.first + 1)
                .order_by(inner.c["page_parent"], inner.c["page_rank"])
            )
        ).all()
        grouped: dict[uuid.UUID, list[Any]] = defaultdict(list)
        for row in rows:
            grouped[row[1]].append(row)
        result: dict[PageKey, Page[WebhookDelivery]] = {}
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
