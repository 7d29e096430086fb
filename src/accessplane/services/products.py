"""API products: bundles of APIs with one authentication method, published to consumers.

Holders of ``manageProducts`` see every product; everyone else with ``getProduct`` (consumers
among them) sees the published catalogue only.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, delete, exists, func, or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accessplane.auth.permissions import Permission
from accessplane.auth.principals import Principal
from accessplane.db import changes, transaction
from accessplane.errors import InputError, NotFound, UserErrorCode
from accessplane.models import (
    AccessProfileProduct,
    AccessRequest,
    AccessRequestProduct,
    AccessRequestStatus,
    Api,
    ApiProduct,
    ApiProductApi,
    AuthMethod,
)
from accessplane.services.audit import AuditAction, record_change
from accessplane.services.pagination import Page, PageArgs, paginate
from accessplane.services.scoping import get_referenced
from accessplane.services.tenancy import load_in_workspace
from accessplane.services.uniqueness import (
    check_unique_name,
    recheck_unique_name,
)
from accessplane.services.validation import Checks

MAX_APIS = 100


LABEL = "An API product"  # how userErrors name this kind of object


def sees_unpublished(actor: Principal, workspace_id: uuid.UUID) -> bool:
    """Drafts are the product managers' own; the catalogue is what is published."""
    return actor.holds(workspace_id, Permission.MANAGE_PRODUCTS)


def visible_product_clause(actor: Principal, workspace_id: uuid.UUID) -> ColumnElement[bool]:
    if sees_unpublished(actor, workspace_id):
        return true()
    return col(ApiProduct.published).is_(True)


async def get_visible_product(
    session: AsyncSession, actor: Principal, product_id: uuid.UUID
) -> ApiProduct:
    """A product the principal may see (``getProduct``; drafts only with ``manageProducts``)."""
    product = await load_in_workspace(session, actor, ApiProduct, product_id, label="API product")
    actor.require(product.workspace_id, Permission.GET_PRODUCT)
    if not product.published and not sees_unpublished(actor, product.workspace_id):
        raise NotFound("API product not found.")
    return product


async def _get_managed(
    session: AsyncSession, actor: Principal, product_id: uuid.UUID
) -> ApiProduct:
    """A product the principal may change; a draft it cannot see is NOT_FOUND."""
    product = await load_in_workspace(session, actor, ApiProduct, product_id, label="API product")
    if not product.published and not sees_unpublished(actor, product.workspace_id):
        raise NotFound("API product not found.")
    actor.require(product.workspace_id, Permission.MANAGE_PRODUCTS)
    return product


def _summary(product: ApiProduct, api_ids: Sequence[uuid.UUID] | None = None) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "name": product.name,
        "description": product.description,
        "authMethod": product.auth_method.value,
        "published": product.published,
    }
    if api_ids is not None:
        summary["apiIds"] = sorted(str(a) for a in api_ids)
    return summary


async def _apis(
    checks: Checks, session: AsyncSession, workspace_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> list[uuid.UUID]:
    if len(ids) > MAX_APIS:
        checks.add("api_ids", f"At most {MAX_APIS} APIs per product.", UserErrorCode.INVALID)
        return []
    rows = await get_referenced(
        session, Api, list(ids), workspace_id, field="api_ids", label="API", checks=checks
    )
    return [row.id for row in rows]


def _add_apis(session: AsyncSession, product: ApiProduct, api_ids: Sequence[uuid.UUID]) -> None:
    for api_id in api_ids:
        session.add(
            ApiProductApi(product_id=product.id, api_id=api_id, workspace_id=product.workspace_id)
        )


def _edited_texts(
    checks: Checks, product: ApiProduct, name: str | None, description: str | None
) -> tuple[str, str]:
    """The product's name and description after an edit (``None`` keeps the value)."""
    new_name = product.name if name is None else checks.text("name", name, max_length=100)
    if description is None:
        return new_name, product.description
    return new_name, checks.text("description", description, max_length=2000, required=False)


async def _check_auth_method_change(
    checks: Checks, session: AsyncSession, product: ApiProduct, auth_method: AuthMethod | None
) -> None:
    """Apps holding the product, and pending requests for it, fix its method: their
    credentials would no longer fit."""
    if (
        auth_method is not None
        and auth_method != product.auth_method
        and await _in_use(session, product.id)
    ):
        checks.add(
            "auth_method",
            "The authentication method cannot change while apps hold the product or requests "
            "for it are pending.",
            UserErrorCode.IN_USE,
        )


async def create_product(
    *,
    session: AsyncSession,
    actor: Principal,
    workspace_id: uuid.UUID,
    name: str,
    auth_method: AuthMethod,
    api_ids: Sequence[uuid.UUID] = (),
    description: str = "",
    published: bool = False,
) -> ApiProduct:
    """Create a product bundling APIs of the workspace."""
    actor.require(workspace_id, Permission.MANAGE_PRODUCTS)
    checks = Checks()
    name = checks.text("name", name, max_length=100)
    description = checks.text("description", description, max_length=2000, required=False)
    apis = await _apis(checks, session, workspace_id, api_ids)
    await check_unique_name(checks, session, ApiProduct, workspace_id, name, label=LABEL)
    checks.raise_if_any()
    try:
        async with transaction(session):
            product = ApiProduct(
                workspace_id=workspace_id,
                name=name,
                description=description,
                auth_method=auth_method,
                published=published,
            )
            session.add(product)
            await session.flush()
            _add_apis(session, product, apis)
            record_change(
                session,
                actor,
                product,
                AuditAction.CREATE_API_PRODUCT,
                after=_summary(product, apis),
            )
    except IntegrityError:
        # A concurrent create took the name, or deleted an API: say which, as if the requests
        # had come one after the other.
        recheck = Checks()
        await check_unique_name(recheck, session, ApiProduct, workspace_id, name, label=LABEL)
        await _apis(recheck, session, workspace_id, api_ids)
        recheck.raise_if_any()
        raise
    return product


async def _api_ids(session: AsyncSession, product_id: uuid.UUID) -> list[uuid.UUID]:
    return list(
        (
            await session.scalars(
                select(col(ApiProductApi.api_id)).where(col(ApiProductApi.product_id) == product_id)
            )
        ).all()
    )


async def _in_use(session: AsyncSession, product_id: uuid.UUID) -> bool:
    """Held by an app, or named in a pending request."""
    held = exists().where(col(AccessProfileProduct.product_id) == product_id)
    pending = exists().where(
        col(AccessRequestProduct.product_id) == product_id,
        col(AccessRequest.id) == col(AccessRequestProduct.access_request_id),
        col(AccessRequest.status) == AccessRequestStatus.PENDING,
    )
    return bool(await session.scalar(select(or_(held, pending))))


async def update_product(
    *,
    session: AsyncSession,
    actor: Principal,
    product_id: uuid.UUID,
    name: str | None = None,
    description: str | None = None,
    auth_method: AuthMethod | None = None,
    api_ids: Sequence[uuid.UUID] | None = None,
    published: bool | None = None,
) -> ApiProduct:
    """Edit a product; ``api_ids`` replaces its APIs. The authentication method cannot change
    while apps hold the product or requests for it are pending (their credentials would no
    longer fit)."""
    product = await _get_managed(session, actor, product_id)
    workspace_id = product.workspace_id  # read now: a rollback expires the product
    old_apis = await _api_ids(session, product.id)
    before = _summary(product, old_apis)
    checks = Checks()
    new_name, new_description = _edited_texts(checks, product, name, description)
    apis = None if api_ids is None else await _apis(checks, session, product.workspace_id, api_ids)
    await _check_auth_method_change(checks, session, product, auth_method)
    if name is not None:
        await check_unique_name(
            checks, session, ApiProduct, product.workspace_id, new_name, product.id, label=LABEL
        )
    checks.raise_if_any()
    try:
        async with transaction(session):
            product.name, product.description = new_name, new_description
            if auth_method is not None:
                product.auth_method = auth_method
            if published is not None:
                product.published = published
            if apis is not None:
                await session.execute(
                    delete(ApiProductApi).where(col(ApiProductApi.product_id) == product.id)
                )
                changes.changed(session, changes.tag("api_product", product.id))
                _add_apis(session, product, apis)
            session.add(product)
            after = _summary(product, old_apis if apis is None else apis)
            record_change(
                session, actor, product, AuditAction.UPDATE_API_PRODUCT, before=before, after=after
            )
    except IntegrityError:
        await recheck_unique_name(
            session, ApiProduct, workspace_id, new_name, product_id, label=LABEL
        )
        raise
    return product


async def delete_product(
    *, session: AsyncSession, actor: Principal, product_id: uuid.UUID
) -> ApiProduct:
    """Delete a product that no app holds and no pending request names (``IN_USE``)."""
    product = await _get_managed(session, actor, product_id)
    if await _in_use(session, product.id):
        raise InputError.one(
            "id",
            "Apps hold this product or pending requests name it; remove it from them first.",
            UserErrorCode.IN_USE,
        )
    async with transaction(session):
        record_change(
            session, actor, product, AuditAction.DELETE_API_PRODUCT, before=_summary(product)
        )
        await session.delete(product)
    return product


@dataclass(frozen=True, slots=True)
class ApiProductFilter:
    """``published``, ``auth_method``, and a part of the name or description."""

    published: bool | None = None
    auth_method: AuthMethod | None = None
    search: str | None = None


async def list_products(
    *,
    session: AsyncSession,
    actor: Principal,
    workspace_id: uuid.UUID,
    filter: ApiProductFilter,
    args: PageArgs,
) -> Page[ApiProduct]:
    """The products the principal may see, by name."""
    actor.require(workspace_id, Permission.GET_PRODUCT)
    query = select(ApiProduct).where(
        col(ApiProduct.workspace_id) == workspace_id, visible_product_clause(actor, workspace_id)
    )
    if filter.published is not None:
        query = query.where(col(ApiProduct.published) == filter.published)
    if filter.auth_method is not None:
        query = query.where(col(ApiProduct.auth_method) == filter.auth_method)
    if filter.search and filter.search.strip():
        term = filter.search.strip().lower()
        query = query.where(
            or_(
                func.lower(col(ApiProduct.name)).contains(term, autoescape=True),
                func.lower(col(ApiProduct.description)).contains(term, autoescape=True),
            )
        )
    return await paginate(
        session, query, sort=[col(ApiProduct.name), col(ApiProduct.id)], args=args
    )
