"""The products of each app and of each request, and the APIs of each product."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlmodel import col

from accessplane.loaders.base import ListLoader
from accessplane.models import (
    AccessProfileProduct,
    AccessRequestProduct,
    Api,
    ApiProduct,
    ApiProductApi,
)


class ApisByProductIdLoader(ListLoader[Api]):
    """The APIs bundled in each product, by name."""

    def query(self, keys: Sequence[uuid.UUID]) -> Select[Any, uuid.UUID]:
        return (
            select(Api, col(ApiProductApi.product_id))
            .join(ApiProductApi, col(ApiProductApi.api_id) == col(Api.id))
            .where(col(ApiProductApi.product_id).in_(keys))
            .order_by(col(Api.name), col(Api.id))
        )


class ProductsByAccessProfileIdLoader(ListLoader[ApiProduct]):
    """The products each app holds, by name."""

    def query(self, keys: Sequence[uuid.UUID]) -> Select[Any, uuid.UUID]:
        return (
            select(ApiProduct, col(AccessProfileProduct.access_profile_id))
            .join(AccessProfileProduct, col(AccessProfileProduct.product_id) == col(ApiProduct.id))
            .where(col(AccessProfileProduct.access_profile_id).in_(keys))
            .order_by(col(ApiProduct.name), col(ApiProduct.id))
        )


class ProductsByAccessRequestIdLoader(ListLoader[ApiProduct]):
    """The products in each request's cart, by name."""

    def query(self, keys: Sequence[uuid.UUID]) -> Select[Any, uuid.UUID]:
        return (
            select(ApiProduct, col(AccessRequestProduct.access_request_id))
            .join(AccessRequestProduct, col(AccessRequestProduct.product_id) == col(ApiProduct.id))
            .where(col(AccessRequestProduct.access_request_id).in_(keys))
            .order_by(col(ApiProduct.name), col(ApiProduct.id))
        )
