"""The operations each API declares, and those each product chose."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlmodel import col

from accessplane.loaders.base import PageLoader
from accessplane.models import ApiOperation, ApiProductOperation
from accessplane.services.pagination import Column

# Operations read by path, then method: the order of an OpenAPI document's paths.
_ORDER = (col(ApiOperation.path), col(ApiOperation.method), col(ApiOperation.id))


class OperationsByApiIdLoader(PageLoader[ApiOperation]):
    """The operations each API declares, by path then method."""

    entity = ApiOperation

    def children(self, parent_ids: Sequence[uuid.UUID]) -> tuple[Select[Any], Column]:
        query = select(ApiOperation).where(col(ApiOperation.api_id).in_(parent_ids))
        return query, col(ApiOperation.api_id)

    def sort(self) -> Sequence[Column]:
        return _ORDER


class OperationsByProductIdLoader(PageLoader[ApiOperation]):
    """The operations each product chose, by path then method."""

    entity = ApiOperation

    def children(self, parent_ids: Sequence[uuid.UUID]) -> tuple[Select[Any], Column]:
        query = (
            select(ApiOperation)
            .join(
                ApiProductOperation, col(ApiProductOperation.operation_id) == col(ApiOperation.id)
            )
            .where(col(ApiProductOperation.product_id).in_(parent_ids))
        )
        return query, col(ApiProductOperation.product_id)

    def sort(self) -> Sequence[Column]:
        return _ORDER
