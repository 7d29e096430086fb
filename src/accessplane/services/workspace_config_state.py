"""A workspace's current state as a configuration file, and the ids behind its names.

Reading goes by what the principal may see: APIs it can reach (and their grants), published
products unless it manages products. Service members (OIDC clients) are left out: they are
managed by their own mutations, so apply never touches them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accessplane.auth.permissions import Permission
from accessplane.auth.principals import Principal
from accessplane.errors import NotFound
from accessplane.models import (
    AccessProfile,
    AccessProfileProduct,
    Api,
    ApiGrant,
    ApiOperation,
    ApiProduct,
    ApiProductApi,
    ApiProductOperation,
    Client,
    ClientMember,
    Group,
    GroupMember,
    Member,
    MemberKind,
    NotificationSettings,
    Plan,
    Role,
    User,
    Workspace,
)
from accessplane.services.products import visible_product_clause
from accessplane.services.scoping import accessible_api_clause
from accessplane.services.workspace_config_file import (
    ApiConfig,
    AppConfig,
    ClientConfig,
    GrantsConfig,
    GroupConfig,
    MemberConfig,
    NotificationsConfig,
    OperationConfig,
    PermissionEntry,
    PlanConfig,
    ProductConfig,
    QuotaConfig,
    RateLimitConfig,
    RoleConfig,
    TimeWindowConfig,
    WorkspaceConfig,
)

# What reading a workspace's whole configuration needs.
READ_PERMISSIONS = (
    Permission.GET_WORKSPACE,
    Permission.GET_MEMBER,
    Permission.GET_ROLE,
    Permission.GET_GROUP,
    Permission.GET_API,
    Permission.GET_API_GRANTS,
    Permission.GET_PRODUCT,
    Permission.GET_CLIENT,
)


@dataclass
class Ids:
    """Database ids by natural key; apply adds the objects it creates."""

    roles: dict[str, uuid.UUID] = field(default_factory=dict)
    built_in_roles: set[str] = field(default_factory=set)
    members: dict[str, uuid.UUID] = field(default_factory=dict)
    groups: dict[str, uuid.UUID] = field(default_factory=dict)
    apis: dict[str, uuid.UUID] = field(default_factory=dict)
    # Every API of the workspace, reachable or not: products may bundle any of them.
    all_apis: dict[str, uuid.UUID] = field(default_factory=dict)
    # Operations of every API by (API identifier, method, path): products may choose any.
    operations: dict[tuple[str, str, str], uuid.UUID] = field(default_factory=dict)
    plans: dict[str, uuid.UUID] = field(default_factory=dict)
    products: dict[str, uuid.UUID] = field(default_factory=dict)
    clients: dict[str, uuid.UUID] = field(default_factory=dict)
    apps: dict[tuple[str, str], uuid.UUID] = field(default_factory=dict)
    # Members of a client that the file leaves out (service members): kept by every update.
    unlisted_client_members: dict[str, list[uuid.UUID]] = field(default_factory=dict)
    # Products of an app the principal cannot see (drafts, without manageProducts), by app id:
    # kept by every update, as the file cannot name them.
    unlisted_app_products: dict[uuid.UUID, list[uuid.UUID]] = field(default_factory=dict)


@dataclass
class State:
    """The workspace as a file, and the ids behind its names."""

    workspace: Workspace
    config: WorkspaceConfig
    ids: Ids


def _by_name(rows: Any, key: str = "name") -> dict[str, uuid.UUID]:
    return {getattr(row, key): row.id for row in rows}


async def _roles(session: AsyncSession, workspace_id: uuid.UUID, ids: Ids) -> list[RoleConfig]:
    rows = (await session.scalars(select(Role).where(col(Role.workspace_id) == workspace_id))).all()
    ids.roles = _by_name(rows)
    ids.built_in_roles = {r.name for r in rows if r.built_in}
    known = {p.value for p in Permission}
    return sorted(
        (
            RoleConfig(
                name=r.name,
                description=r.description,
                all_apis=r.all_apis,
                permissions=[
                    PermissionEntry(name=Permission(p["name"]), name_pattern=p.get("namePattern"))
                    for p in r.permissions
                    if p.get("name") in known
                ],
            )
            for r in rows
            if not r.built_in
        ),
        key=lambda r: r.name,
    )


async def _members(
    session: AsyncSession, workspace_id: uuid.UUID, ids: Ids
) -> tuple[list[MemberConfig], dict[uuid.UUID, str]]:
    rows = (
        await session.execute(
            select(Member, col(User.email), col(Role.name))
            .join(User, col(User.id) == col(Member.user_id))
            .join(Role, col(Role.id) == col(Member.role_id))
            .where(col(Member.workspace_id) == workspace_id, col(Member.kind) == MemberKind.HUMAN)
        )
    ).all()
    ids.members = {email: member.id for member, email, _ in rows}
    emails = {member.id: email for member, email, _ in rows}
    configs = [MemberConfig(email=email, role=role) for _, email, role in rows]
    return sorted(configs, key=lambda m: m.email), emails


async def _groups(
    session: AsyncSession, workspace_id: uuid.UUID, ids: Ids, emails: dict[uuid.UUID, str]
) -> list[GroupConfig]:
    groups = (
        await session.scalars(select(Group).where(col(Group.workspace_id) == workspace_id))
    ).all()
    ids.groups = _by_name(groups)
    links = (
        await session.execute(
            select(col(GroupMember.group_id), col(GroupMember.member_id)).where(
                col(GroupMember.group_id).in_([g.id for g in groups])
            )
        )
    ).all()
    members: dict[uuid.UUID, list[str]] = {}
    for group_id, member_id in links:
        if member_id in emails:
            members.setdefault(group_id, []).append(emails[member_id])
    return sorted(
        (
            GroupConfig(name=g.name, description=g.description, members=members.get(g.id, []))
            for g in groups
        ),
        key=lambda g: g.name,
    )


async def _apis(
    session: AsyncSession, actor: Principal, workspace_id: uuid.UUID, ids: Ids
) -> list[ApiConfig]:
    rows = (await session.scalars(select(Api).where(col(Api.workspace_id) == workspace_id))).all()
    ids.all_apis = _by_name(rows, "identifier")
    reachable = set(
        (
            await session.scalars(
                select(col(Api.id)).where(
                    col(Api.workspace_id) == workspace_id,
                    accessible_api_clause(actor, workspace_id),
                )
            )
        ).all()
    )
    ids.apis = {a.identifier: a.id for a in rows if a.id in reachable}
    operations = await _operations(session, workspace_id, ids)
    return sorted(
        (
            ApiConfig(
                identifier=a.identifier,
                name=a.name,
                base_url=a.base_url,
                description=a.description,
                operations=operations.get(a.id),
            )
            for a in rows
            if a.id in reachable
        ),
        key=lambda a: a.identifier,
    )


async def _operations(
    session: AsyncSession, workspace_id: uuid.UUID, ids: Ids
) -> dict[uuid.UUID, list[OperationConfig]]:
    """The operations of each API (none: not listed), and the ids of every API's."""
    identifiers = {api_id: identifier for identifier, api_id in ids.all_apis.items()}
    rows = (
        await session.scalars(
            select(ApiOperation).where(col(ApiOperation.workspace_id) == workspace_id)
        )
    ).all()
    by_api: dict[uuid.UUID, list[OperationConfig]] = {}
    for row in rows:
        ids.operations[(identifiers[row.api_id], row.method, row.path)] = row.id
        by_api.setdefault(row.api_id, []).append(
            OperationConfig(method=row.method, path=row.path, name=row.name, scopes=row.scopes)
        )
    return {api_id: sorted(ops, key=lambda o: (o.path, o.method)) for api_id, ops in by_api.items()}


async def _chosen_operations(
    session: AsyncSession, ids: Ids, product_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[str]]:
    """Each product's chosen operations, as the file names them."""
    names = {
        op_id: f"{api} {method} {path}" for (api, method, path), op_id in ids.operations.items()
    }
    links = (
        await session.execute(
            select(
                col(ApiProductOperation.product_id), col(ApiProductOperation.operation_id)
            ).where(col(ApiProductOperation.product_id).in_(product_ids))
        )
    ).all()
    chosen: dict[uuid.UUID, list[str]] = {}
    for product_id, operation_id in links:
        chosen.setdefault(product_id, []).append(names[operation_id])
    return chosen


async def _grants(
    session: AsyncSession, workspace_id: uuid.UUID, ids: Ids, emails: dict[uuid.UUID, str]
) -> GrantsConfig:
    identifiers = {api_id: identifier for identifier, api_id in ids.apis.items()}
    groups = {group_id: name for name, group_id in ids.groups.items()}
    rows = (
        await session.scalars(
            select(ApiGrant).where(
                col(ApiGrant.workspace_id) == workspace_id,
                col(ApiGrant.api_id).in_(list(identifiers)),
            )
        )
    ).all()
    by_member: dict[str, list[str]] = {}
    by_group: dict[str, list[str]] = {}
    for grant in rows:
        api = identifiers[grant.api_id]
        if grant.member_id is not None and grant.member_id in emails:
            by_member.setdefault(emails[grant.member_id], []).append(api)
        elif grant.group_id is not None:
            by_group.setdefault(groups[grant.group_id], []).append(api)
    return GrantsConfig(members=by_member, groups=by_group)


def _plan_config(plan: Plan) -> PlanConfig:
    window = plan.time_window
    return PlanConfig(
        name=plan.name,
        description=plan.description,
        rate_limit=(
            RateLimitConfig(requests=plan.rate_limit_requests, period=plan.rate_limit_period)
            if plan.rate_limit_period is not None and plan.rate_limit_requests is not None
            else None
        ),
        quota=(
            QuotaConfig(requests=plan.quota_requests, period=plan.quota_period)
            if plan.quota_period is not None and plan.quota_requests is not None
            else None
        ),
        time_window=(
            TimeWindowConfig(
                days=window["days"],
                start=window["start"],
                end=window["end"],
                time_zone=window["timeZone"],
            )
            if window
            else None
        ),
        auto_approve=plan.auto_approve,
    )


async def _plans(session: AsyncSession, workspace_id: uuid.UUID, ids: Ids) -> list[PlanConfig]:
    rows = (await session.scalars(select(Plan).where(col(Plan.workspace_id) == workspace_id))).all()
    ids.plans = _by_name(rows)
    return sorted((_plan_config(p) for p in rows), key=lambda p: p.name)


async def _products(
    session: AsyncSession, actor: Principal, workspace_id: uuid.UUID, ids: Ids
) -> list[ProductConfig]:
    rows = (
        await session.scalars(
            select(ApiProduct).where(
                col(ApiProduct.workspace_id) == workspace_id,
                visible_product_clause(actor, workspace_id),
            )
        )
    ).all()
    ids.products = _by_name(rows)
    identifiers = {api_id: identifier for identifier, api_id in ids.all_apis.items()}
    links = (
        await session.execute(
            select(col(ApiProductApi.product_id), col(ApiProductApi.api_id)).where(
                col(ApiProductApi.product_id).in_([p.id for p in rows])
            )
        )
    ).all()
    apis: dict[uuid.UUID, list[str]] = {}
    for product_id, api_id in links:
        apis.setdefault(product_id, []).append(identifiers[api_id])
    chosen = await _chosen_operations(session, ids, [p.id for p in rows])
    return sorted(
        (
            ProductConfig(
                name=p.name,
                description=p.description,
                auth_method=p.auth_method,
                published=p.published,
                apis=apis.get(p.id, []),
                operations=chosen.get(p.id),
            )
            for p in rows
        ),
        key=lambda p: p.name,
    )


async def _apps(session: AsyncSession, workspace_id: uuid.UUID, ids: Ids) -> dict[uuid.UUID, Any]:
    rows = (
        await session.scalars(
            select(AccessProfile).where(col(AccessProfile.workspace_id) == workspace_id)
        )
    ).all()
    product_names = {product_id: name for name, product_id in ids.products.items()}
    plan_names = {plan_id: name for name, plan_id in ids.plans.items()}
    links = (
        await session.execute(
            select(
                col(AccessProfileProduct.access_profile_id), col(AccessProfileProduct.product_id)
            ).where(col(AccessProfileProduct.workspace_id) == workspace_id)
        )
    ).all()
    products: dict[uuid.UUID, list[str]] = {}
    for profile_id, product_id in links:
        if product_id in product_names:
            products.setdefault(profile_id, []).append(product_names[product_id])
        else:
            ids.unlisted_app_products.setdefault(profile_id, []).append(product_id)
    apps: dict[uuid.UUID, list[tuple[uuid.UUID, AppConfig]]] = {}
    for p in rows:
        app = AppConfig(
            name=p.name,
            auth_method=p.auth_method,
            allowed_ips=sorted(p.allowed_ips),
            trusted_issuer=p.trusted_issuer,
            audience=p.audience,
            token_client_id=p.token_client_id,
            required_scopes=list(p.required_scopes),
            products=products.get(p.id, []),
            plan=plan_names.get(p.plan_id) if p.plan_id else None,
        )
        apps.setdefault(p.client_id, []).append((p.id, app))
    return apps


async def _clients(
    session: AsyncSession, workspace_id: uuid.UUID, ids: Ids, emails: dict[uuid.UUID, str]
) -> list[ClientConfig]:
    rows = (
        await session.scalars(select(Client).where(col(Client.workspace_id) == workspace_id))
    ).all()
    ids.clients = _by_name(rows)
    links = (
        await session.execute(
            select(col(ClientMember.client_id), col(ClientMember.member_id)).where(
                col(ClientMember.workspace_id) == workspace_id
            )
        )
    ).all()
    members: dict[uuid.UUID, list[str]] = {}
    unlisted: dict[uuid.UUID, list[uuid.UUID]] = {}
    for client_id, member_id in links:
        if member_id in emails:
            members.setdefault(client_id, []).append(emails[member_id])
        else:
            unlisted.setdefault(client_id, []).append(member_id)
    apps = await _apps(session, workspace_id, ids)
    configs = []
    for c in rows:
        for app_id, app in apps.get(c.id, []):
            ids.apps[(c.name, app.name)] = app_id
        ids.unlisted_client_members[c.name] = unlisted.get(c.id, [])
        configs.append(
            ClientConfig(
                name=c.name,
                description=c.description,
                logo_url=c.logo_url,
                active=c.active,
                members=members.get(c.id, []),
                apps=[app for _, app in apps.get(c.id, [])],
            )
        )
    return sorted(configs, key=lambda c: c.name)


async def read_state(session: AsyncSession, *, actor: Principal, workspace_id: uuid.UUID) -> State:
    """The workspace's current configuration as the principal sees it, or NOT_FOUND /
    FORBIDDEN (reading it all needs ``READ_PERMISSIONS``)."""
    actor.membership(workspace_id)
    for permission in READ_PERMISSIONS:
        actor.require(workspace_id, permission)
    workspace = await session.get(Workspace, workspace_id)
    if workspace is None:
        raise NotFound("Workspace not found.")
    ids = Ids()
    members, emails = await _members(session, workspace_id, ids)
    roles = await _roles(session, workspace_id, ids)
    groups = await _groups(session, workspace_id, ids, emails)
    apis = await _apis(session, actor, workspace_id, ids)
    settings = await session.get(NotificationSettings, workspace_id)
    config = WorkspaceConfig(
        version=1,
        workspace=workspace.slug,
        roles=roles,
        members=members,
        groups=groups,
        apis=apis,
        grants=await _grants(session, workspace_id, ids, emails),
        plans=await _plans(session, workspace_id, ids),
        products=await _products(session, actor, workspace_id, ids),
        clients=await _clients(session, workspace_id, ids, emails),
        notifications=NotificationsConfig(subjects=settings.subjects if settings else {}),
    )
    return State(workspace=workspace, config=config, ids=ids)
