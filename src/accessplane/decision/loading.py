"""The SQL behind a cold decision: a credential's policy, read in a few statements and then
cached (``decision.cache``). Nothing here writes."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accessplane import access_rule
from accessplane.db.changes import tag, workspace_access
from accessplane.decision.batching import Batches
from accessplane.decision.operations import Operation, OperationGrant, OperationTable
from accessplane.decision.policies import AppPolicy, GatewayCaller, MemberAccess, PlanPolicy
from accessplane.decision.reasons import GatewayCallerKind
from accessplane.models import (
    AccessProfile,
    AccessProfileCertificate,
    AccessProfileProduct,
    AccessProfileRevocation,
    Api,
    ApiOperation,
    ApiProduct,
    ApiProductApi,
    ApiProductOperation,
    AuthMethod,
    Client,
    GroupMember,
    Member,
    Plan,
    ServiceAccount,
    User,
)
from accessplane.net import parse_networks


def _same(value: Any) -> Any:
    return value


async def _policies(
    session: AsyncSession,
    where: Any,
    intern: Callable[[Any], Any] = _same,
    digests: dict[uuid.UUID, str] | None = None,
) -> list[AppPolicy]:
    """Apps matching ``where`` with what their decisions need. Values many apps share (the
    workspace, client, plan, API set and tags) go through ``intern``, so that a hundred
    thousand cached apps hold one copy of each. ``digests`` receives each app's token
    digest by app id (for a batched look-up to answer each of its callers)."""
    rows = (
        await session.execute(
            select(AccessProfile, col(Client.active), Plan)
            .join(Client, col(Client.id) == col(AccessProfile.client_id))
            .outerjoin(Plan, col(Plan.id) == col(AccessProfile.plan_id))
            .where(where)
            .order_by(col(AccessProfile.created_at), col(AccessProfile.id))
        )
    ).all()
    if not rows:
        return []
    if digests is not None:
        digests.update((p.id, p.token_digest) for p, _, _ in rows if p.token_digest is not None)
    apis, tags, declaring = await _products_reach(session, [profile.id for profile, _, _ in rows])
    # Only apps reaching an API that declares operations cost a statement more.
    grants = await _operation_grants(session, declaring, intern) if declaring else {}
    return [
        _app_policy(
            profile,
            bool(active),
            plan,
            apis[profile.id],
            tags[profile.id],
            intern,
            grants.get(profile.id, _NO_OPERATIONS),
        )
        for profile, active, plan in rows
    ]


async def _products_reach(
    session: AsyncSession, ids: list[uuid.UUID]
) -> tuple[dict[uuid.UUID, set[str]], dict[uuid.UUID, set[str]], _Declaring]:
    """Per app: the identifiers of the APIs in its products, the tags of those products
    and APIs, and (only for apps that have any) the products and APIs declaring operations."""
    reach = (
        await session.execute(
            select(
                col(AccessProfileProduct.access_profile_id),
                col(AccessProfileProduct.product_id),
                col(Api.id),
                col(Api.identifier),
                exists().where(col(ApiOperation.api_id) == col(Api.id)),
            )
            .outerjoin(
                ApiProductApi,
                col(ApiProductApi.product_id) == col(AccessProfileProduct.product_id),
            )
            .outerjoin(Api, col(Api.id) == col(ApiProductApi.api_id))
            .where(col(AccessProfileProduct.access_profile_id).in_(ids))
        )
    ).all()
    apis: dict[uuid.UUID, set[str]] = {i: set() for i in ids}
    tags: dict[uuid.UUID, set[str]] = {i: set() for i in ids}
    declaring: _Declaring = {}
    for profile_id, product_id, api_id, identifier, declares in reach:
        tags[profile_id].add(tag("api_product", product_id))
        if api_id is not None:
            apis[profile_id].add(identifier)
            tags[profile_id].add(tag("api", api_id))
            if declares:
                declaring.setdefault(profile_id, set()).add((product_id, api_id, identifier))
    return apis, tags, declaring


# Per app: (product, API, API identifier) for each API of its products declaring operations.
_Declaring = dict[uuid.UUID, set[tuple[uuid.UUID, uuid.UUID, str]]]
# The operations of an app whose APIs declare none (one shared, never changed mapping).
_NO_OPERATIONS: dict[str, OperationGrant] = {}


async def _operation_grants(
    session: AsyncSession, declaring: _Declaring, intern: Callable[[Any], Any]
) -> dict[uuid.UUID, dict[str, OperationGrant]]:
    """Per app, per API declaring operations: the API's compiled table and what the app may
    call of it, in one statement for all of them. A product that chose none of an API's
    operations grants the whole API; otherwise the ones it chose (the union over products)."""
    pairs = {(product, api) for found in declaring.values() for product, api, _ in found}
    rows = await session.execute(
        select(
            col(ApiOperation.id),
            col(ApiOperation.api_id),
            col(ApiOperation.method),
            col(ApiOperation.path),
            col(ApiOperation.scopes),
            col(ApiProductOperation.product_id),
        )
        .outerjoin(
            ApiProductOperation,
            and_(
                col(ApiProductOperation.operation_id) == col(ApiOperation.id),
                col(ApiProductOperation.product_id).in_({product for product, _ in pairs}),
            ),
        )
        .where(col(ApiOperation.api_id).in_({api for _, api in pairs}))
    )
    declared: dict[uuid.UUID, set[Operation]] = {}
    chosen: dict[tuple[uuid.UUID, uuid.UUID], set[uuid.UUID]] = {}
    for op_id, api_id, method, path, scopes, product_id in rows:
        declared.setdefault(api_id, set()).add(Operation(op_id, method, path, frozenset(scopes)))
        if product_id is not None:
            chosen.setdefault((product_id, api_id), set()).add(op_id)
    tables = {api: intern(OperationTable.compile(ops)) for api, ops in declared.items()}
    return {
        profile_id: _grants_of(found, tables, chosen, intern)
        for profile_id, found in declaring.items()
    }


def _grants_of(
    found: set[tuple[uuid.UUID, uuid.UUID, str]],
    tables: dict[uuid.UUID, OperationTable],
    chosen: dict[tuple[uuid.UUID, uuid.UUID], set[uuid.UUID]],
    intern: Callable[[Any], Any],
) -> dict[str, OperationGrant]:
    """One app's grants from its (product, API) pairs."""
    allowed: dict[tuple[uuid.UUID, str], set[uuid.UUID] | None] = {}
    for product_id, api_id, identifier in found:
        if api_id not in tables:
            continue  # its operations were deleted since: the API as a whole
        key, picked = (api_id, identifier), chosen.get((product_id, api_id))
        if picked is None or (key in allowed and allowed[key] is None):
            allowed[key] = None
        else:
            allowed[key] = (allowed.get(key) or set()) | picked
    return {
        identifier: intern(
            OperationGrant(tables[api_id], None if ids is None else intern(frozenset(ids)))
        )
        for (api_id, identifier), ids in allowed.items()
    }


def _app_policy(
    profile: AccessProfile,
    active: bool,
    plan: Plan | None,
    apis: set[str],
    product_tags: set[str],
    intern: Callable[[Any], Any],
    operations: dict[str, OperationGrant] = _NO_OPERATIONS,
) -> AppPolicy:
    """One app's policy from its rows."""
    shared = {tag("client", profile.client_id), tag("workspace", profile.workspace_id)}
    if plan is not None:
        shared.add(tag("plan", plan.id))
    shared |= product_tags
    return AppPolicy(
        caller=GatewayCaller.create(
            GatewayCallerKind.ACCESS_PROFILE,
            profile.id,
            profile.name,
            profile.workspace_id,
            profile.client_id,
            intern,
        ),
        client_active=active,
        networks=intern(parse_networks(tuple(profile.allowed_ips))),
        apis=intern(frozenset(apis)),
        plan=intern(PlanPolicy.from_row(plan)) if plan is not None else None,
        audience=profile.audience,
        required_scopes=intern(frozenset(profile.required_scopes)),
        tags=(tag("access_profile", profile.id), *(intern(name) for name in sorted(shared))),
        operations=operations,
        certificate_bound_tokens=profile.certificate_bound_tokens,
        suspended=profile.suspended_at is not None,
    )


async def app_by_digest(
    session: AsyncSession, digest: str, intern: Callable[[Any], Any] = _same
) -> AppPolicy | None:
    """The app whose ``apt_`` token has this keyed hash. Look-ups asked for while another
    runs go together in the next round (``decision.batching``): a cold start's first
    requests cost one round of statements per round, not one per credential."""
    return await _BY_DIGEST.load(session, digest, intern)


async def apps_by_digests(
    session: AsyncSession, digests: list[str], intern: Callable[[Any], Any] = _same
) -> dict[str, AppPolicy]:
    """The apps whose ``apt_`` tokens have these keyed hashes, by hash (unknown ones absent)."""
    ids: dict[uuid.UUID, str] = {}
    found = await _policies(session, col(AccessProfile.token_digest).in_(digests), intern, ids)
    return {ids[app.caller.id]: app for app in found}


_BY_DIGEST: Batches[AppPolicy] = Batches(apps_by_digests)


async def app_by_certificate(
    session: AsyncSession, fingerprint: str, intern: Callable[[Any], Any] = _same
) -> tuple[AppPolicy, datetime] | None:
    """The MTLS app this certificate (by its fingerprint) is registered to, with the
    certificate's ``not_after``; None when no MTLS app holds it."""
    found = (
        await session.execute(
            select(
                col(AccessProfileCertificate.access_profile_id),
                col(AccessProfileCertificate.not_after),
            ).where(col(AccessProfileCertificate.fingerprint) == fingerprint)
        )
    ).first()
    if found is None:
        return None
    profile_id, not_after = found
    apps = await _policies(
        session,
        and_(
            col(AccessProfile.id) == profile_id,
            col(AccessProfile.auth_method) == AuthMethod.MTLS,
        ),
        intern,
    )
    return (apps[0], not_after) if apps else None


async def certificate_apis(session: AsyncSession) -> frozenset[str]:
    """Identifiers of the APIs some MTLS product holds (in any workspace): a request for one
    of them without a credential lacks a certificate rather than a token."""
    rows = await session.scalars(
        select(col(Api.identifier))
        .join(ApiProductApi, col(ApiProductApi.api_id) == col(Api.id))
        .join(ApiProduct, col(ApiProduct.id) == col(ApiProductApi.product_id))
        .where(col(ApiProduct.auth_method) == AuthMethod.MTLS)
        .distinct()
    )
    return frozenset(rows)


async def revoked_caller(
    session: AsyncSession, digest: str, intern: Callable[[Any], Any] = _same
) -> GatewayCaller | None:
    """The app a refreshed or deleted token belonged to, None if this keyed hash never was
    revoked. The revocation keeps the workspace and the app's id, so the call log and alert
    rules know whose old token is presented; the name and client are the app's while it exists
    (empty and none once it is deleted)."""
    row = (
        await session.execute(
            select(
                col(AccessProfileRevocation.workspace_id),
                col(AccessProfileRevocation.access_profile_id),
                col(AccessProfile.name),
                col(AccessProfile.client_id),
            )
            .outerjoin(
                AccessProfile,
                col(AccessProfile.id) == col(AccessProfileRevocation.access_profile_id),
            )
            .where(col(AccessProfileRevocation.token_digest) == digest)
        )
    ).first()
    if row is None:
        return None
    workspace_id, app_id, name, client_id = row
    return GatewayCaller.create(
        GatewayCallerKind.ACCESS_PROFILE, app_id, name or "", workspace_id, client_id, intern
    )


async def trusted_issuers(session: AsyncSession) -> frozenset[str]:
    """Every issuer some app trusts."""
    rows = await session.scalars(
        select(col(AccessProfile.trusted_issuer))
        .where(col(AccessProfile.trusted_issuer) != "")
        .distinct()
    )
    return frozenset(rows)


async def apps_by_token_client(
    session: AsyncSession, issuer: str, names: Sequence[str], intern: Callable[[Any], Any] = _same
) -> list[AppPolicy]:
    """Apps that trust ``issuer`` and are named in its tokens by one of ``names`` (the
    token's ``client_id``/``azp``, or its ``sub``), oldest first."""
    if not names:
        return []
    return await _policies(
        session,
        and_(
            col(AccessProfile.trusted_issuer) == issuer,
            col(AccessProfile.token_client_id).in_(list(names)),
        ),
        intern,
    )


async def member_access(
    session: AsyncSession,
    *,
    issuer: str,
    subject: str | None,
    client_id: str | None,
    api: str,
) -> list[MemberAccess]:
    """The workspace members a verified OIDC token stands for (the user with this issuer and
    subject, or the service member linked to this OAuth client), each with whether it reaches
    the API ``api`` (by identifier, in that member's workspace) by the access rule. Empty:
    nobody."""
    query = _token_members(issuer=issuer, subject=subject, client_id=client_id, api=api)
    if query is None:
        return []
    rows = (await session.execute(query)).all()
    if not rows:
        return []
    member_ids = [member.id for member, _, _ in rows]
    groups = await _groups_of(session, member_ids)
    api_ids = [found.id for _, _, found in rows if found is not None]
    reached: set[tuple[uuid.UUID, uuid.UUID]] = set()
    if api_ids:  # an API no workspace of these members has is reached by none of them
        reached = {
            (api_id, member_id)
            for api_id, member_id in await session.execute(access_rule.reached(member_ids, api_ids))
        }
    return [
        MemberAccess(
            caller=GatewayCaller.create(
                GatewayCallerKind.MEMBER, member.id, email or "", member.workspace_id
            ),
            granted=found is not None and (found.id, member.id) in reached,
            tags=_member_tags(member, groups[member.id]),
        )
        for member, email, found in rows
    ]


def _token_members(
    *, issuer: str, subject: str | None, client_id: str | None, api: str
) -> Select[Member, str, Api | None] | None:
    """Members named by a token (a user's subject, else a service member's OAuth client),
    each with its email and its workspace's API ``api`` (None when it has none)."""
    query = (
        select(Member, col(User.email), Api)
        .join(User, col(User.id) == col(Member.user_id))
        .outerjoin(
            Api,
            and_(col(Api.workspace_id) == col(Member.workspace_id), col(Api.identifier) == api),
        )
    )
    if subject is not None:
        return query.where(col(User.issuer) == issuer, col(User.subject) == subject)
    if client_id is not None:
        return query.join(ServiceAccount, col(ServiceAccount.member_id) == col(Member.id)).where(
            col(ServiceAccount.issuer) == issuer, col(ServiceAccount.client_id) == client_id
        )
    return None


async def _groups_of(
    session: AsyncSession, member_ids: list[uuid.UUID]
) -> dict[uuid.UUID, set[uuid.UUID]]:
    """Each member's groups: their changes must drop the member's cached decisions."""
    groups: dict[uuid.UUID, set[uuid.UUID]] = {m: set() for m in member_ids}
    for member_id, group_id in await session.execute(
        select(col(GroupMember.member_id), col(GroupMember.group_id)).where(
            col(GroupMember.member_id).in_(member_ids)
        )
    ):
        groups[member_id].add(group_id)
    return groups


def _member_tags(member: Member, group_ids: set[uuid.UUID]) -> tuple[str, ...]:
    """The change tags that drop a member's cached decisions."""
    tags = {
        workspace_access(member.workspace_id),
        tag("member", member.id),
        tag("user", member.user_id),
        tag("workspace", member.workspace_id),
        *(tag("group", g) for g in group_ids),
    }
    return tuple(sorted(tags))
