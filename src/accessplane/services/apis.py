"""APIs: registering, editing, deleting, and listing the ones a principal can reach."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accessplane.auth.permissions import Permission
from accessplane.auth.principals import Principal
from accessplane.db import transaction
from accessplane.db.sql import delete_row, fold
from accessplane.errors import NotFound
from accessplane.models import Api, ApiGrant
from accessplane.services.audit import AuditAction, record
from accessplane.services.pagination import Page, PageArgs, paginate
from accessplane.services.scoping import accessible_api_clause, get_accessible_api
from accessplane.services.uniqueness import check_unique
from accessplane.services.validation import Checks


def _summary(api: Api) -> dict[str, Any]:
    return {"name": api.name, "identifier": api.identifier, "baseUrl": api.base_url}


async def _check_unique(
    checks: Checks,
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    name: str | None,
    identifier: str | None,
    exclude: uuid.UUID | None = None,
) -> None:
    for field, column, value in (
        ("name", col(Api.name), name),
        ("identifier", col(Api.identifier), identifier),
    ):
        await check_unique(
            checks,
            session,
            column,
            value or "",
            label="An API",
            field=field,
            within=col(Api.workspace_id) == workspace_id,
            exclude=None if exclude is None else col(Api.id) != exclude,
        )


async def _recheck_unique(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    name: str | None,
    identifier: str | None,
    exclude: uuid.UUID | None = None,
) -> None:
    """After a write met a unique constraint: DUPLICATE if a concurrent create or edit took the
    name or the identifier; returns when neither is taken, for the caller to re-raise."""
    checks = Checks()
    await _check_unique(
        checks, session, workspace_id, name=name, identifier=identifier, exclude=exclude
    )
    checks.raise_if_any()


async def create_api(
    *,
    session: AsyncSession,
    actor: Principal,
    workspace_id: uuid.UUID,
    name: str,
    identifier: str,
    base_url: str = "",
    description: str = "",
) -> Api:
    """Register an API. Its creator, if a member without ``allApis``, is granted it directly,
    so the API they just made does not vanish from their own list."""
    membership = actor.membership(workspace_id)
    actor.require(workspace_id, Permission.CREATE_API)
    checks = Checks()
    name = checks.text("name", name, max_length=100)
    identifier = checks.slug("identifier", identifier)
    base_url = checks.url("baseUrl", base_url)
    description = checks.text("description", description, max_length=2000, required=False)
    await _check_unique(checks, session, workspace_id, name=name, identifier=identifier)
    checks.raise_if_any()
    try:
        async with transaction(session):
            api = Api(
                workspace_id=workspace_id,
                name=name,
                identifier=identifier,
                base_url=base_url,
                description=description,
            )
            session.add(api)
            await session.flush()
            if membership.member_id is not None and not membership.all_apis:
                session.add(
                    ApiGrant(
                        workspace_id=workspace_id,
                        api_id=api.id,
                        member_id=membership.member_id,
                        granted_by_principal_id=actor.id,
                        granted_by_name=actor.name,
                    )
                )
            record(
                session,
                actor=actor,
                workspace_id=workspace_id,
                action=AuditAction.CREATE_API,
                target_type="Api",
                target_id=api.id,
                after=_summary(api),
            )
    except IntegrityError:
        # A concurrent create took the name or the identifier: say which.
        await _recheck_unique(session, workspace_id, name=name, identifier=identifier)
        raise
    return api


async def update_api(
    *,
    session: AsyncSession,
    actor: Principal,
    api_id: uuid.UUID,
    name: str | None = None,
    identifier: str | None = None,
    base_url: str | None = None,
    description: str | None = None,
) -> Api:
    """Edit an API one can reach; fields left ``None`` keep their value."""
    api = await get_accessible_api(session, actor, api_id, Permission.UPDATE_API)
    before = _summary(api)
    checks = Checks()
    if name is not None:
        name = checks.text("name", name, max_length=100)
    if identifier is not None:
        identifier = checks.slug("identifier", identifier)
    if base_url is not None:
        base_url = checks.url("baseUrl", base_url)
    if description is not None:
        description = checks.text("description", description, max_length=2000, required=False)
    await _check_unique(
        checks, session, api.workspace_id, name=name, identifier=identifier, exclude=api.id
    )
    checks.raise_if_any()
    workspace_id = api.workspace_id
    try:
        async with transaction(session):
            for attribute, value in (
                ("name", name),
                ("identifier", identifier),
                ("base_url", base_url),
                ("description", description),
            ):
                if value is not None:
                    setattr(api, attribute, value)
            session.add(api)
            record(
                session,
                actor=actor,
                workspace_id=api.workspace_id,
                action=AuditAction.UPDATE_API,
                target_type="Api",
                target_id=api.id,
                before=before,
                after=_summary(api),
            )
    except IntegrityError:
        await _recheck_unique(
            session, workspace_id, name=name, identifier=identifier, exclude=api_id
        )
        raise
    return api


async def delete_api(*, session: AsyncSession, actor: Principal, api_id: uuid.UUID) -> Api:
    """Delete an API one can reach, with all its grants."""
    api = await get_accessible_api(session, actor, api_id, Permission.DELETE_API)
    async with transaction(session):
        record(
            session,
            actor=actor,
            workspace_id=api.workspace_id,
            action=AuditAction.DELETE_API,
            target_type="Api",
            target_id=api.id,
            before=_summary(api),
        )
        if not await delete_row(session, api):  # a concurrent deleteApi won
            raise NotFound("API not found.")
    return api


@dataclass(frozen=True, slots=True)
class ApiFilter:
    """``people_ids``/``group_ids``: APIs granted directly to any of these members / to any of
    these groups; ``search``: a part of the name or identifier."""

    people_ids: list[uuid.UUID] | None = None
    group_ids: list[uuid.UUID] | None = None
    search: str | None = None


async def list_apis(
    *,
    session: AsyncSession,
    actor: Principal,
    workspace_id: uuid.UUID,
    filter: ApiFilter,
    args: PageArgs,
) -> Page[Api]:
    """The APIs of the workspace that the principal can reach, by name."""
    actor.require(workspace_id, Permission.GET_API)
    query = select(Api).where(
        col(Api.workspace_id) == workspace_id, accessible_api_clause(actor, workspace_id)
    )
    if filter.people_ids:
        query = query.where(
            col(Api.id).in_(
                select(col(ApiGrant.api_id)).where(col(ApiGrant.member_id).in_(filter.people_ids))
            )
        )
    if filter.group_ids:
        query = query.where(
            col(Api.id).in_(
                select(col(ApiGrant.api_id)).where(col(ApiGrant.group_id).in_(filter.group_ids))
            )
        )
    if filter.search:
        # autoescape: a "_" or "%" in the search is a character, not a wildcard
        term = filter.search.strip().lower()
        query = query.where(
            or_(
                fold(col(Api.name)).contains(term, autoescape=True),
                fold(col(Api.identifier)).contains(term, autoescape=True),
            )
        )
    return await paginate(session, query, sort=[col(Api.name), col(Api.id)], args=args)
