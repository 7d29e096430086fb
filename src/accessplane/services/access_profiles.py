"""Access profiles: the apps of clients, their credentials, and what they may call.

An ``AUTH_TOKEN`` app holds an ``apt_`` token in the format and storage of every AccessPlane
token (auth/tokens.py): shown once, to whoever created or refreshed it, and stored as a keyed
hash. The token methods (``OAUTH2``, ``JWT``, ``OIDC``) name the issuer, audience, client id
and scopes of the tokens the app presents instead, and may require them bound to the client
certificate presented with them (RFC 8705). ``MTLS`` apps present a registered client
certificate (services/certificates.py) and no token. Managing apps needs ``manageClients``; the
members of a client may see its apps and refresh their tokens (with ``requestAccess``).
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accessplane.auth.permissions import Permission
from accessplane.auth.principals import Principal
from accessplane.auth.tokens import IssuedToken, TokenKind, issue_token
from accessplane.db import changes, transaction
from accessplane.errors import Forbidden, InputError, NotFound, UserErrorCode
from accessplane.models import (
    AccessProfile,
    AccessProfileProduct,
    AccessProfileRevocation,
    ApiProduct,
    AuthMethod,
    Client,
    Plan,
)
from accessplane.models.access_profiles import TokenRevocationReason
from accessplane.models.base import utcnow
from accessplane.services.audit import AuditAction, record_change
from accessplane.services.clients import (
    get_managed_client,
    get_visible_client,
    is_client_member,
    sees_all_clients,
)
from accessplane.services.credentials import compare_and_set
from accessplane.services.scoping import get_referenced
from accessplane.services.tenancy import load_in_workspace
from accessplane.services.uniqueness import check_unique, duplicate_error
from accessplane.services.validation import Checks, excerpt

MAX_ALLOWED_IPS = 100
MAX_SCOPES = 50
MAX_PRODUCTS = 50
_SCOPE = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]{1,200}$")  # RFC 6749 scope-token
# The longest text form: an IPv6 address with an embedded IPv4 one and a prefix length
# ("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128" is 49 characters).
_MAX_ADDRESS_LENGTH = 49


LABEL = "An app of this client"  # how userErrors name this kind of object
# Methods whose apps trust no token issuer: AccessPlane's own token, or a client certificate.
_WITHOUT_ISSUER = frozenset({AuthMethod.AUTH_TOKEN, AuthMethod.MTLS})


@dataclass(frozen=True, slots=True)
class IssuedAccessProfile:
    """An app and, for ``AUTH_TOKEN``, its new token's plaintext (the only time it exists)."""

    access_profile: AccessProfile
    token: str | None


@dataclass(frozen=True, slots=True)
class TokenSettings:
    """What token methods check in the tokens an app presents."""

    trusted_issuer: str = ""
    audience: str = ""
    client_id: str = ""
    required_scopes: Sequence[str] = ()
    # RFC 8705: tokens carry cnf.x5t#S256 of the client certificate presented with them.
    certificate_bound: bool = False


def _loopback_http(url: str) -> bool:
    """Plain http is accepted only for an issuer on this machine (a local provider in
    development, or a sidecar): nothing crosses a network unencrypted."""
    parts = urlsplit(url)
    return parts.scheme == "http" and parts.hostname in ("localhost", "127.0.0.1", "::1")


def parse_allowed_ips(
    checks: Checks, entries: Sequence[str], field: str = "allowed_ips"
) -> list[str]:
    """Addresses and CIDR ranges, IPv4 and IPv6; each entry may itself be comma-separated.
    Stored normalised (``2001:DB8::/32`` is ``2001:db8::/32``; ``10.0.0.1/32`` is
    ``10.0.0.1``) and de-duplicated. A range with host bits set is refused, not guessed.
    The addresses are counted before any is parsed, and one too long to be an address is
    refused unparsed, so the work is bounded whatever the input's size."""
    pieces = [text for entry in entries for raw in entry.split(",") if (text := raw.strip())]
    if not checks.at_most(field, len(pieces), MAX_ALLOWED_IPS, "addresses or ranges"):
        return []
    result: list[str] = []
    for text in pieces:
        if len(text) > _MAX_ADDRESS_LENGTH:
            checks.add(
                field,
                f"{excerpt(text)} is not an IP address or CIDR range: it is too long.",
                UserErrorCode.INVALID,
            )
            continue
        try:
            if "/" in text:
                network = ipaddress.ip_network(text, strict=True)
                value = (
                    str(network.network_address)
                    if network.prefixlen == network.max_prefixlen
                    else str(network)
                )
            else:
                value = str(ipaddress.ip_address(text))
        except ValueError as error:
            checks.add(
                field,
                f"{excerpt(text)} is not an IP address or CIDR range: {error}",
                UserErrorCode.INVALID,
            )
            continue
        if value not in result:
            result.append(value)
    return result


def _check_token_settings(
    checks: Checks, method: AuthMethod, settings: TokenSettings, *, field_prefix: str = ""
) -> TokenSettings:
    def name(field: str) -> str:
        return f"{field_prefix}{field}"

    issuer = checks.text(
        name("trusted_issuer"),
        settings.trusted_issuer,
        max_length=500,
        required=False,
        label="trustedIssuer",
    )
    audience = checks.text(name("audience"), settings.audience, max_length=500, required=False)
    client_id = checks.text(
        name("token_client_id"),
        settings.client_id,
        max_length=255,
        required=False,
        label="tokenClientId",
    )
    scopes: list[str] = []
    given = settings.required_scopes
    if checks.at_most(name("required_scopes"), len(given), MAX_SCOPES, "scopes"):
        for scope in given:
            text = scope.strip()
            if not _SCOPE.match(text):
                checks.add(
                    name("required_scopes"),
                    f"{excerpt(text)} is not a valid scope.",
                    UserErrorCode.INVALID,
                )
            elif text not in scopes:
                scopes.append(text)
    if method in _WITHOUT_ISSUER:
        if issuer or audience or client_id or scopes:
            checks.add(
                name("trusted_issuer"),
                "trustedIssuer, audience, clientId and requiredScopes are for the token methods "
                f"(OAUTH2, JWT, OIDC), not {method.value}.",
                UserErrorCode.INVALID,
            )
        if settings.certificate_bound:
            checks.add(
                name("certificate_bound_tokens"),
                "certificateBoundTokens is for the token methods (OAUTH2, JWT, OIDC), "
                f"not {method.value}.",
                UserErrorCode.INVALID,
            )
    elif not issuer:
        checks.add(
            name("trusted_issuer"),
            f"{method.value} apps need the trustedIssuer of their tokens.",
            UserErrorCode.REQUIRED,
        )
    elif not (issuer.startswith("https://") or _loopback_http(issuer)):
        checks.add(
            name("trusted_issuer"), "trustedIssuer must be an https URL.", UserErrorCode.INVALID
        )
    return TokenSettings(issuer, audience, client_id, scopes, settings.certificate_bound)


async def _check_unique_name(
    checks: Checks,
    session: AsyncSession,
    client_id: uuid.UUID,
    name: str,
    *,
    field: str = "name",
    exclude: uuid.UUID | None = None,
) -> None:
    await check_unique(
        checks,
        session,
        col(AccessProfile.name),
        name,
        label=LABEL,
        field=field,
        within=col(AccessProfile.client_id) == client_id,
        exclude=None if exclude is None else col(AccessProfile.id) != exclude,
    )


def _duplicate(name: str, field: str = "name") -> InputError:
    return duplicate_error(LABEL, name, field=field)


async def check_products(
    checks: Checks,
    session: AsyncSession,
    workspace_id: uuid.UUID,
    product_ids: Sequence[uuid.UUID],
    method: AuthMethod | None,
    *,
    field: str = "product_ids",
    published_only: bool = False,
) -> list[ApiProduct]:
    """Products of the workspace (published ones only, for consumers), all with the app's
    authentication method (``method``; None: they need only agree with each other)."""
    if len(product_ids) > MAX_PRODUCTS:
        checks.add(field, f"At most {MAX_PRODUCTS} products at once.", UserErrorCode.INVALID)
        return []
    products = await get_referenced(
        session,
        ApiProduct,
        list(product_ids),
        workspace_id,
        field=field,
        label="API product",
        checks=checks,
    )
    if not products:
        return []
    if published_only and any(not p.published for p in products):
        checks.add(
            field,
            f"{sum(not p.published for p in products)} API product(s) not found in this workspace.",
            UserErrorCode.NOT_FOUND,
        )
        return []
    methods = {p.auth_method for p in products}
    if len(methods) > 1:
        checks.add(
            field,
            "All products must use the same authentication method; these use "
            f"{', '.join(sorted(m.value for m in methods))}.",
            UserErrorCode.INVALID,
        )
    elif methods and method is not None and methods != {method}:
        checks.add(
            field,
            f"The products use {next(iter(methods)).value}, but the app uses {method.value}.",
            UserErrorCode.INVALID,
        )
    return products


async def check_plan(
    checks: Checks,
    session: AsyncSession,
    workspace_id: uuid.UUID,
    plan_id: uuid.UUID | None,
    *,
    field: str = "plan_id",
) -> Plan | None:
    if plan_id is None:
        return None
    plans = await get_referenced(
        session, Plan, [plan_id], workspace_id, field=field, label="plan", checks=checks
    )
    return plans[0] if plans else None


def summary(
    profile: AccessProfile, product_ids: Sequence[uuid.UUID] | None = None
) -> dict[str, Any]:
    """What the audit log keeps of an app (never its token: the hint only)."""
    result: dict[str, Any] = {
        "name": profile.name,
        "clientId": str(profile.client_id),
        "authMethod": profile.auth_method.value,
        "planId": str(profile.plan_id) if profile.plan_id else None,
        "allowedIps": list(profile.allowed_ips),
        "trustedIssuer": profile.trusted_issuer,
        "audience": profile.audience,
        "tokenClientId": profile.token_client_id,
        "requiredScopes": list(profile.required_scopes),
        "certificateBoundTokens": profile.certificate_bound_tokens,
        "tokenHint": profile.token_hint,
    }
    if product_ids is not None:
        result["productIds"] = sorted(str(p) for p in product_ids)
    return result


@dataclass(frozen=True, slots=True)
class NewProfile:
    """A checked app, ready to be added (by an admin, or with an access request)."""

    client: Client
    name: str
    auth_method: AuthMethod
    allowed_ips: list[str]
    token: TokenSettings


async def check_new_profile(
    checks: Checks,
    session: AsyncSession,
    client: Client,
    *,
    name: str,
    auth_method: AuthMethod,
    allowed_ips: Sequence[str],
    token: TokenSettings,
    field_prefix: str = "",
) -> NewProfile:
    """Check the settings of a new app of ``client``; problems go to ``checks``."""
    clean_name = checks.text(f"{field_prefix}name", name, max_length=100, label="name")
    ips = parse_allowed_ips(checks, allowed_ips, f"{field_prefix}allowed_ips")
    settings = _check_token_settings(checks, auth_method, token, field_prefix=field_prefix)
    await _check_unique_name(checks, session, client.id, clean_name, field=f"{field_prefix}name")
    return NewProfile(client, clean_name, auth_method, ips, settings)


def add_profile(
    session: AsyncSession, new: NewProfile, secret: bytes, plan_id: uuid.UUID | None = None
) -> tuple[AccessProfile, IssuedToken | None]:
    """Add a checked app to the session (the caller's transaction), with its token if it is
    an ``AUTH_TOKEN`` app."""
    issued = (
        issue_token(TokenKind.ACCESS_PROFILE, secret)
        if new.auth_method is AuthMethod.AUTH_TOKEN
        else None
    )
    profile = AccessProfile(
        workspace_id=new.client.workspace_id,
        client_id=new.client.id,
        name=new.name,
        auth_method=new.auth_method,
        plan_id=plan_id,
        allowed_ips=new.allowed_ips,
        trusted_issuer=new.token.trusted_issuer,
        audience=new.token.audience,
        token_client_id=new.token.client_id,
        required_scopes=list(new.token.required_scopes),
        certificate_bound_tokens=new.token.certificate_bound,
        token_digest=issued.digest if issued else None,
        token_hint=issued.hint if issued else "",
    )
    session.add(profile)
    return profile, issued


async def grant_products(
    session: AsyncSession, profile: AccessProfile, product_ids: Sequence[uuid.UUID]
) -> None:
    """Give the app these products (kept if it holds them already: concurrent approvals of
    two requests for one app both succeed)."""
    if not product_ids:
        return
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    now = utcnow()
    changes.changed(session, changes.tag("access_profile", profile.id))
    await session.execute(
        insert(AccessProfileProduct)
        .values(
            [
                {
                    "access_profile_id": profile.id,
                    "product_id": product_id,
                    "workspace_id": profile.workspace_id,
                    "created_at": now,
                }
                for product_id in dict.fromkeys(product_ids)
            ]
        )
        .on_conflict_do_nothing()
    )


async def create_access_profile(
    *,
    session: AsyncSession,
    actor: Principal,
    secret: bytes,
    client_id: uuid.UUID,
    name: str,
    auth_method: AuthMethod,
    allowed_ips: Sequence[str] = (),
    token: TokenSettings = TokenSettings(),
    product_ids: Sequence[uuid.UUID] = (),
    plan_id: uuid.UUID | None = None,
) -> IssuedAccessProfile:
    """Create an app of a client; an ``AUTH_TOKEN`` app's token is returned this once only."""
    client = await get_managed_client(session, actor, client_id)
    checks = Checks()
    new = await check_new_profile(
        checks,
        session,
        client,
        name=name,
        auth_method=auth_method,
        allowed_ips=allowed_ips,
        token=token,
    )
    products = await check_products(checks, session, client.workspace_id, product_ids, auth_method)
    plan = await check_plan(checks, session, client.workspace_id, plan_id)
    checks.raise_if_any()
    try:
        async with transaction(session):
            profile, issued = add_profile(session, new, secret, plan.id if plan else None)
            await session.flush()
            await grant_products(session, profile, [p.id for p in products])
            record_change(
                session,
                actor,
                profile,
                AuditAction.CREATE_ACCESS_PROFILE,
                after=summary(profile, [p.id for p in products]),
            )
    except IntegrityError:
        raise _duplicate(new.name) from None
    return IssuedAccessProfile(profile, issued.plaintext if issued else None)


async def get_visible_profile(
    session: AsyncSession, actor: Principal, profile_id: uuid.UUID
) -> AccessProfile:
    """An app the principal may see: with its client (``getClient``, or a member of it)."""
    profile = await load_in_workspace(
        session, actor, AccessProfile, profile_id, label="Access profile"
    )
    try:
        await get_visible_client(session, actor, profile.client_id)
    except NotFound:
        raise NotFound("Access profile not found.") from None
    return profile


async def get_managed_profile(
    session: AsyncSession, actor: Principal, profile_id: uuid.UUID
) -> AccessProfile:
    """An app the principal may change: ``manageClients`` (NOT_FOUND when it may not see it)."""
    return await _get_managed_profile(session, actor, profile_id)


async def _get_managed_profile(
    session: AsyncSession, actor: Principal, profile_id: uuid.UUID
) -> AccessProfile:
    profile = await load_in_workspace(
        session, actor, AccessProfile, profile_id, label="Access profile"
    )
    try:
        await get_managed_client(session, actor, profile.client_id)
    except NotFound:
        raise NotFound("Access profile not found.") from None
    return profile


async def _product_ids(session: AsyncSession, profile_id: uuid.UUID) -> list[uuid.UUID]:
    return list(
        (
            await session.scalars(
                select(col(AccessProfileProduct.product_id)).where(
                    col(AccessProfileProduct.access_profile_id) == profile_id
                )
            )
        ).all()
    )


async def update_access_profile(
    *,
    session: AsyncSession,
    actor: Principal,
    access_profile_id: uuid.UUID,
    name: str | None = None,
    allowed_ips: Sequence[str] | None = None,
    trusted_issuer: str | None = None,
    audience: str | None = None,
    token_client_id: str | None = None,
    required_scopes: Sequence[str] | None = None,
    product_ids: Sequence[uuid.UUID] | None = None,
    plan_id: uuid.UUID | None = None,
    certificate_bound_tokens: bool | None = None,
) -> AccessProfile:
    """Edit an app; fields left ``None`` keep their value, ``product_ids`` replaces its
    products, an empty ``allowed_ips`` allows any address, token settings left ``None`` keep
    theirs. The authentication method is fixed at creation: credentials of another kind make
    another app."""
    profile = await _get_managed_profile(session, actor, access_profile_id)
    old_products = await _product_ids(session, profile.id)
    before = summary(profile, old_products)
    checks = Checks()
    new_name = profile.name if name is None else checks.text("name", name, max_length=100)
    values: dict[str, Any] = {"name": new_name}
    if allowed_ips is not None:
        values["allowed_ips"] = parse_allowed_ips(checks, allowed_ips)
    edit = _TokenEdit(
        trusted_issuer, audience, token_client_id, required_scopes, certificate_bound_tokens
    )
    values.update(_edited_token_columns(checks, profile, edit))
    products = None
    if product_ids is not None:
        products = await check_products(
            checks, session, profile.workspace_id, product_ids, profile.auth_method
        )
    plan = await check_plan(checks, session, profile.workspace_id, plan_id)
    if plan is not None:
        values["plan_id"] = plan.id
    if name is not None:
        await _check_unique_name(checks, session, profile.client_id, new_name, exclude=profile.id)
    checks.raise_if_any()
    new_products = None if products is None else [p.id for p in products]
    try:
        async with transaction(session):
            await _write_profile(session, profile, values, new_products)
            after = summary(profile, old_products if new_products is None else new_products)
            record_change(
                session,
                actor,
                profile,
                AuditAction.UPDATE_ACCESS_PROFILE,
                before=before,
                after=after,
            )
    except IntegrityError:
        raise _duplicate(new_name) from None
    return profile


@dataclass(frozen=True, slots=True)
class _TokenEdit:
    """Token settings to change; ``None`` keeps one."""

    trusted_issuer: str | None = None
    audience: str | None = None
    client_id: str | None = None
    required_scopes: Sequence[str] | None = None
    certificate_bound: bool | None = None


def _edited_token_columns(
    checks: Checks, profile: AccessProfile, edit: _TokenEdit
) -> dict[str, Any]:
    """The app's token columns after ``edit``, checked as a whole; none if it changes none."""
    fields = (
        edit.trusted_issuer,
        edit.audience,
        edit.client_id,
        edit.required_scopes,
        edit.certificate_bound,
    )
    if all(value is None for value in fields):
        return {}
    given = TokenSettings(
        trusted_issuer=profile.trusted_issuer
        if edit.trusted_issuer is None
        else edit.trusted_issuer,
        audience=profile.audience if edit.audience is None else edit.audience,
        client_id=profile.token_client_id if edit.client_id is None else edit.client_id,
        required_scopes=profile.required_scopes
        if edit.required_scopes is None
        else edit.required_scopes,
        certificate_bound=profile.certificate_bound_tokens
        if edit.certificate_bound is None
        else edit.certificate_bound,
    )
    settings = _check_token_settings(checks, profile.auth_method, given)
    return {
        "trusted_issuer": settings.trusted_issuer,
        "audience": settings.audience,
        "token_client_id": settings.client_id,
        "required_scopes": list(settings.required_scopes),
        "certificate_bound_tokens": settings.certificate_bound,
    }


async def _write_profile(
    session: AsyncSession,
    profile: AccessProfile,
    values: dict[str, Any],
    product_ids: list[uuid.UUID] | None,
) -> None:
    """Write an app's checked edit (if nobody changed it meanwhile): its columns and, unless
    ``product_ids`` is None, its products in place of the old ones."""
    await compare_and_set(
        session,
        AccessProfile,
        profile.id,
        profile.version,
        label="access profile",
        **values,
        updated_at=utcnow(),
    )
    if product_ids is not None:
        await session.execute(
            delete(AccessProfileProduct).where(
                col(AccessProfileProduct.access_profile_id) == profile.id
            )
        )
        await grant_products(session, profile, product_ids)
    await session.refresh(profile)


async def _refreshable_profile(
    session: AsyncSession, actor: Principal, access_profile_id: uuid.UUID
) -> AccessProfile:
    """An ``AUTH_TOKEN`` app whose token the principal may refresh: with ``manageClients``, or
    as a member of its client holding ``requestAccess``."""
    profile = await load_in_workspace(
        session, actor, AccessProfile, access_profile_id, label="Access profile"
    )
    workspace_id = profile.workspace_id
    client = await session.get(Client, profile.client_id)
    assert client is not None
    if not actor.holds(workspace_id, Permission.MANAGE_CLIENTS):
        member = await is_client_member(session, actor, client)
        if not member and not sees_all_clients(actor, workspace_id):
            raise NotFound("Access profile not found.")
        if not (member and actor.holds(workspace_id, Permission.REQUEST_ACCESS)):
            raise Forbidden(
                f"The permission '{Permission.MANAGE_CLIENTS.value}' is needed.",
                permission=Permission.MANAGE_CLIENTS.value,
            )
    if profile.auth_method is not AuthMethod.AUTH_TOKEN:
        raise InputError.one(
            "id",
            f"{profile.auth_method.value} apps present their issuer's tokens; only AUTH_TOKEN "
            "apps have a token to refresh.",
            UserErrorCode.INVALID,
        )
    return profile


async def refresh_access_profile_token(
    *, session: AsyncSession, actor: Principal, secret: bytes, access_profile_id: uuid.UUID
) -> IssuedAccessProfile:
    """Revoke an ``AUTH_TOKEN`` app's token and issue a new one, returned this once only. The
    old token fails on the very next decision. Admins (``manageClients``) and the client's own
    members (``requestAccess``) may refresh; of concurrent refreshes exactly one wins."""
    profile = await _refreshable_profile(session, actor, access_profile_id)
    workspace_id = profile.workspace_id
    before = summary(profile)
    old_digest = profile.token_digest
    issued = issue_token(TokenKind.ACCESS_PROFILE, secret)
    now = utcnow()
    async with transaction(session):
        await compare_and_set(
            session,
            AccessProfile,
            profile.id,
            profile.version,
            label="access profile",
            token_digest=issued.digest,
            token_hint=issued.hint,
            updated_at=now,
        )
        if old_digest is not None:
            session.add(
                AccessProfileRevocation(
                    token_digest=old_digest,
                    workspace_id=workspace_id,
                    access_profile_id=profile.id,
                    reason=TokenRevocationReason.REFRESHED,
                    revoked_at=now,
                )
            )
        await session.refresh(profile)
        record_change(
            session,
            actor,
            profile,
            AuditAction.REFRESH_ACCESS_PROFILE_TOKEN,
            before={"tokenHint": before["tokenHint"]},
            after={"tokenHint": issued.hint},
        )
    return IssuedAccessProfile(profile, issued.plaintext)


async def delete_access_profile(
    *, session: AsyncSession, actor: Principal, access_profile_id: uuid.UUID
) -> AccessProfile:
    """Delete an app with its requests; its token is revoked at once."""
    profile = await _get_managed_profile(session, actor, access_profile_id)
    async with transaction(session):
        # Re-read under a row lock: the digest revoked is the current one.
        locked = await session.scalar(
            select(AccessProfile)
            .where(col(AccessProfile.id) == profile.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if locked is None:
            raise NotFound("Access profile not found.")
        if locked.token_digest is not None:
            session.add(
                AccessProfileRevocation(
                    token_digest=locked.token_digest,
                    workspace_id=locked.workspace_id,
                    access_profile_id=locked.id,
                    reason=TokenRevocationReason.DELETED,
                    revoked_at=utcnow(),
                )
            )
        record_change(
            session, actor, locked, AuditAction.DELETE_ACCESS_PROFILE, before=summary(locked)
        )
        await session.delete(locked)
    return profile


async def touch(session: AsyncSession, profile_id: uuid.UUID, **values: Any) -> None:
    """Bump an app's version (the decision endpoint's caches notice) with ``values``."""
    await session.execute(
        update(AccessProfile)
        .where(col(AccessProfile.id) == profile_id)
        .values(version=col(AccessProfile.version) + 1, updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    changes.changed(session, changes.tag("access_profile", profile_id))
