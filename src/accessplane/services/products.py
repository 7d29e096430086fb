"""API products: bundles of APIs with one authentication method, published to consumers.

A product may also choose operations of its APIs (``docs/operations.md``): for an API of which
it chose some, it grants only those; for the others, the whole API. Choosing an operation puts
its API in the product.

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
    ApiOperation,
    ApiProduct,
    ApiProductApi,
    ApiProductOperation,
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
MAX_OPERATIONS = 500


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


def _summary(
    product: ApiProduct,
    api_ids: Sequence[uuid.UUID] | None = None,
    operation_ids: Sequence[uuid.UUID] | None = None,
) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "name": product.name,
        "description": product.description,
        "authMethod": product.auth_method.value,
        "published": product.published,
    }
    if api_ids is not None:
        summary["apiIds"] = sorted(str(a) for a in api_ids)
    if operation_ids:
        summary["operationIds"] = sorted(str(o) for o in operation_ids)
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


async def _operations(
    checks: Checks, session: AsyncSession, workspace_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> list[ApiOperation]:
    if not checks.at_most("operation_ids", len(ids), MAX_OPERATIONS, "operations per product"):
        return []
    return await get_referenced(
        session,
        ApiOperation,
        list(ids),
        workspace_id,
        field="operation_ids",
        label="operation",
        checks=checks,
    )


def _with_operation_apis(
    checks: Checks, api_ids: Sequence[uuid.UUID], operations: Sequence[ApiOperation]
) -> list[uuid.UUID]:
    """The product's APIs: those named and those of the chosen operations."""
    apis = list(dict.fromkeys([*api_ids, *(op.api_id for op in operations)]))
    if len(apis) > MAX_APIS:
        checks.add("api_ids", f"At most {MAX_APIS} APIs per product.", UserErrorCode.INVALID)
    return apis


def _add_apis(session: AsyncSession, product: ApiProduct, api_ids: Sequence[uuid.UUID]) -> None:
    for api_id in api_ids:
        session.add(
            ApiProductApi(product_id=product.id, api_id=api_id, workspace_id=product.workspace_id)
        )


def _add_operations(
    session: AsyncSession, product: ApiProduct, operation_ids: Sequence[uuid.UUID]
) -> None:
    for operation_id in operation_ids:
        session.add(
            ApiProductOperation(
                product_id=product.id,
                operation_id=operation_id,
                workspace_id=product.workspace_id,
            )
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
    operation_ids: Sequence[uuid.UUID] = (),
) -> ApiProduct:
    """Create a product bundling APIs of the workspace, and of some of them only the chosen
    operations (their APIs join the product)."""
    actor.require(workspace_id, Permission.MANAGE_PRODUCTS)
    checks = Checks()
    name = checks.text("name", name, max_length=100)
    description = checks.text("description", description, max_length=2000, required=False)
    operations = await _operations(checks, session, workspace_id, operation_ids)
    apis = _with_operation_apis(
        checks, await _apis(checks, session, workspace_id, api_ids), operations
    )
    chosen = [op.id for op in operations]
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
            _add_operations(session, product, chosen)
            record_change(
                session,
                actor,
                product,
                AuditAction.CREATE_API_PRODUCT,
                after=_summary(product, apis, chosen),
            )
    except IntegrityError:
        # A concurrent create took the name, or deleted an API: say which, as if the requests
        # had come one after the other.
        recheck = Checks()
        await check_unique_name(recheck, session, ApiProduct, workspace_id, name, label=LABEL)
        await _apis(recheck, session, workspace_id, api_ids)
        await _operations(recheck, session, workspace_id, operation_ids)
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


async def _operation_rows(session: AsyncSession, product_id: uuid.UUID) -> list[ApiOperation]:
    return list(
        (
            await session.scalars(
                select(ApiOperation)
                .join(ApiProductOperation, col(ApiProductOperation.operation_id) == ApiOperation.id)
                .where(col(ApiProductOperation.product_id) == product_id)
            )
        ).all()
    )


@dataclass(frozen=True, slots=True)
class _Contents:
    """A product's APIs and chosen operations; ``None``: left as they are."""

    api_ids: list[uuid.UUID] | None
    operation_ids: list[uuid.UUID] | None


async def _edited_contents(
    checks: Checks,
    session: AsyncSession,
    product: ApiProduct,
    api_ids: Sequence[uuid.UUID] | None,
    operation_ids: Sequence[uuid.UUID] | None,
) -> _Contents:
    """``api_ids`` replaces the APIs, ``operation_ids`` the chosen operations (adding their
    APIs). New APIs alone keep the chosen operations of the APIs that stay."""
    if api_ids is None and operation_ids is None:
        return _Contents(None, None)
    workspace_id = product.workspace_id
    apis = (
        await _api_ids(session, product.id)
        if api_ids is None
        else await _apis(checks, session, workspace_id, api_ids)
    )
    if operation_ids is None:
        kept = [op for op in await _operation_rows(session, product.id) if op.api_id in apis]
        return _Contents(apis, [op.id for op in kept])
    operations = await _operations(checks, session, workspace_id, operation_ids)
    apis = _with_operation_apis(checks, apis, operations)
    return _Contents(apis, [op.id for op in operations])


async def _replace_contents(
    session: AsyncSession, product: ApiProduct, contents: _Contents
) -> None:
    if contents.api_ids is None or contents.operation_ids is None:
        return
    await session.execute(delete(ApiProductApi).where(col(ApiProductApi.product_id) == product.id))
    await session.execute(
        delete(ApiProductOperation).where(col(ApiProductOperation.product_id) == product.id)
    )
    changes.changed(session, changes.tag("api_product", product.id))
    _add_apis(session, product, contents.api_ids)
    _add_operations(session, product, contents.operation_ids)


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
    operation_ids: Sequence[uuid.UUID] | None = None,
) -> ApiProduct:
    """Edit a product; ``api_ids`` replaces its APIs, ``operation_ids`` its chosen operations
    (their APIs join it). The authentication method cannot change while apps hold the product
    or requests for it are pending (their credentials would no longer fit)."""
    product = await _get_managed(session, actor, product_id)
    workspace_id = product.workspace_id  # read now: a rollback expires the product
    old_apis = await _api_ids(session, product.id)
    old_operations = [op.id for op in await _operation_rows(session, product.id)]
    before = _summary(product, old_apis, old_operations)
    checks = Checks()
    new_name, new_description = _edited_texts(checks, product, name, description)
    contents = await _edited_contents(checks, session, product, api_ids, operation_ids)
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
            await _replace_contents(session, product, contents)
            session.add(product)
            after = _summary(
                product,
                old_apis if contents.api_ids is None else contents.api_ids,
                old_operations if contents.operation_ids is None else contents.operation_ids,
            )
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
