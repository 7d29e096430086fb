"""Webhooks: endpoints, the events they subscribe to, and the outbox rows of their deliveries.

Every event is written as one ``WebhookDelivery`` per subscribed endpoint in the transaction of
the change that causes it, so a rolled-back change sends nothing. Audit events (and the domain
events some of them also are, such as ``api_access.created``) are queued by ``record`` in
``services/audit.py`` and fanned out just before the transaction commits; other events
(``api_access.expiring``, ``alert.raised``) are written at once by ``enqueue_event``. The worker
in ``notify/webhooks.py`` signs (Standard Webhooks) and sends them.

Targets: only http(s) URLs without credentials, whose host is (or resolves to) public addresses
only, unless ``webhook_allow_private_targets`` is set; the worker checks again on every attempt
and connects to the address it checked (``notify/webhooks.py``).
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import json
import secrets
import socket
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import delete, event, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlmodel import col

from accessplane.auth.permissions import Permission
from accessplane.auth.principals import Principal
from accessplane.db import transaction
from accessplane.errors import InputError, UserErrorCode
from accessplane.models import AuditEvent, WebhookDelivery, WebhookDeliveryStatus, WebhookEndpoint
from accessplane.models.base import utcnow
from accessplane.services import audit
from accessplane.services.pagination import Page, PageArgs, paginate
from accessplane.services.scoping import get_scoped
from accessplane.services.validation import Checks
from accessplane.settings import Settings

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
SECRET_HINT_LENGTH = 4
MAX_EVENT_TYPES = 50
MAX_URL_LENGTH = 2000
LAST_ERROR_LENGTH = 500
# How long resolving a target's host may take at create/update.
RESOLVE_TIMEOUT_SECONDS = 5.0
LABEL = "Webhook endpoint"

# Events that are not audit events; ``audit.<action>`` is added for every ``AuditAction``.
DOMAIN_EVENT_TYPES: tuple[str, ...] = (
    "api_access.created",
    "api_access.regenerated",
    "api_access.expiring",
    "api_access.expired",
    "api_access.deleted",
    "access_request.submitted",
    "access_request.approved",
    "access_request.rejected",
    "alert.raised",
)

# Audit actions that are also a domain event, with that event's type.
_DOMAIN_EVENT_OF_ACTION: dict[str, str] = {
    "createApiAccess": "api_access.created",
    "regenerateApiAccess": "api_access.regenerated",
    "deleteApiAccesses": "api_access.deleted",
    "submitAccessRequest": "access_request.submitted",
    "approveAccessRequest": "access_request.approved",
    "rejectAccessRequest": "access_request.rejected",
}

# session.info key: events recorded in the open transaction, fanned out before it commits.
_PENDING = "accessplane.webhook_events"


@cache
def event_types() -> frozenset[str]:
    """Every event type an endpoint may subscribe to."""
    return frozenset(DOMAIN_EVENT_TYPES) | {f"audit.{a.value}" for a in audit.AuditAction}


@cache
def event_prefixes() -> frozenset[str]:
    """The groups a subscription may name with ``<group>.*`` (``audit``, ``api_access``…)."""
    return frozenset(t.partition(".")[0] for t in event_types())


def subscribes(patterns: Iterable[str], event_type: str) -> bool:
    """Whether an endpoint with these subscriptions receives ``event_type``."""
    group = event_type.partition(".")[0]
    return any(p in ("*", event_type) or p == f"{group}.*" for p in patterns)


# -- the signing secret, stored encrypted ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WebhookPolicy:
    """What the services need from the settings: the key that encrypts signing secrets
    (derived from the server secret, separate from the token HMAC's use of it), and the
    target rules."""

    fernet: Fernet
    allow_private_targets: bool = False
    max_endpoints: int = 20

    @classmethod
    def from_settings(cls, settings: Settings) -> WebhookPolicy:
        return cls(
            fernet=secret_cipher(settings.secret_key.get_secret_value().encode()),
            allow_private_targets=settings.webhook_allow_private_targets,
            max_endpoints=settings.webhook_max_endpoints,
        )


def secret_cipher(server_secret: bytes) -> Fernet:
    """Fernet (AES-128-CBC + HMAC-SHA256) keyed by HKDF-SHA256 of the server secret with its
    own ``info``, so the key is independent of every other use of that secret."""
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"accessplane/webhook-secrets/v1"
    ).derive(server_secret)
    return Fernet(base64.urlsafe_b64encode(key))


def new_secret() -> str:
    """A ``whsec_`` secret: 256 random bits in base64, the Standard Webhooks format."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def reveal_secret(endpoint: WebhookEndpoint, fernet: Fernet) -> str:
    """The endpoint's signing secret in plaintext, for signing only; never shown again."""
    try:
        return fernet.decrypt(endpoint.secret_encrypted.encode()).decode()
    except InvalidToken:  # the server secret changed since the endpoint was made
        raise SecretUnreadable(endpoint.id) from None


class SecretUnreadable(Exception):
    """An endpoint's secret was encrypted under another server secret: rotate it."""


def _seal(endpoint: WebhookEndpoint, secret: str, fernet: Fernet) -> None:
    endpoint.secret_encrypted = fernet.encrypt(secret.encode()).decode()
    endpoint.secret_hint = secret[-SECRET_HINT_LENGTH:]


# -- targets and SSRF ------------------------------------------------------------------------------

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# Prefixes that wrap an IPv4 address inside IPv6 (NAT64, 6to4); the wrapped one is judged.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True, slots=True)
class Target:
    """A webhook URL taken apart: the host as given (IDNA-encoded) and the port to connect."""

    url: str
    scheme: str
    host: str
    port: int


def is_public_address(address: IpAddress) -> bool:
    """Whether an address is fit for a webhook target: public unicast only. IPv4 inside IPv6
    (mapped, NAT64, 6to4) is judged as the IPv4 address it carries."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public_address(embedded)
    return not (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_unspecified
        or address.is_reserved
        or not address.is_global
    )


def parse_target(checks: Checks, field: str, url: str) -> Target | None:
    """The target of an http(s) URL without credentials, or None with the reason in
    ``checks``."""
    text = checks.text(field, url, max_length=MAX_URL_LENGTH, label="url")
    if not text or len(text) > MAX_URL_LENGTH:
        return None

    def refuse(message: str) -> None:
        checks.add(field, message, UserErrorCode.INVALID)

    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in text):
        refuse("url must not contain spaces or control characters.")
        return None
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        refuse("url is not a valid URL.")
        return None
    if parts.scheme not in ("http", "https"):
        refuse("url must start with https:// (or http://).")
        return None
    if parts.username is not None or parts.password is not None:
        refuse("url must not carry credentials (user:password@); sign with the secret.")
        return None
    if parts.fragment:
        refuse("url must not have a #fragment.")
        return None
    host = (parts.hostname or "").rstrip(".")
    try:
        host = host.encode("idna").decode("ascii") if host else ""
    except UnicodeError:
        host = ""
    if not host:
        refuse("url needs a valid host name.")
        return None
    return Target(text, parts.scheme, host, port or (443 if parts.scheme == "https" else 80))


def literal_address(host: str) -> IpAddress | None:
    """The address a host names literally (``10.0.0.1``, ``[::1]``), else None."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


async def resolve(host: str, port: int) -> list[IpAddress]:
    """Every address ``host`` resolves to (one for an address literal); empty if none."""
    literal = literal_address(host)
    if literal is not None:
        return [literal]
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return []
    found: list[IpAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).partition("%")[0])
        if address not in found:
            found.append(address)
    return found


async def check_target(checks: Checks, field: str, url: str, policy: WebhookPolicy) -> str:
    """The URL, if it is an acceptable target; the reason in ``checks`` if not."""
    target = parse_target(checks, field, url)
    if target is None or policy.allow_private_targets:
        return target.url if target is not None else ""
    try:
        addresses = await asyncio.wait_for(
            resolve(target.host, target.port), timeout=RESOLVE_TIMEOUT_SECONDS
        )
    except TimeoutError:
        addresses = []
    if not addresses:
        checks.add(field, f"The host {target.host[:100]} does not resolve.", UserErrorCode.INVALID)
    elif not all(is_public_address(a) for a in addresses):
        checks.add(
            field,
            "url must point to a public address: loopback, private, link-local, multicast and "
            "reserved addresses are refused.",
            UserErrorCode.INVALID,
        )
    return target.url


def check_event_types(checks: Checks, field: str, given: Sequence[str]) -> list[str]:
    """Subscriptions: known types, ``<group>.*`` or ``*``; at least one, no repeats."""
    if not checks.at_most(field, len(given), MAX_EVENT_TYPES, "event types"):
        return []
    wanted = list(dict.fromkeys(t.strip() for t in given))
    if not wanted:
        checks.add(field, "Subscribe to at least one event type (or *).", UserErrorCode.REQUIRED)
    unknown = [
        t
        for t in wanted
        if t != "*"
        and t not in event_types()
        and not (t.endswith(".*") and t[:-2] in event_prefixes())
    ]
    if unknown:
        shown = ", ".join(repr(t[:60]) for t in unknown[:5])
        checks.add(
            field,
            f"Unknown event types: {shown}. Use a type such as api_access.created, a group "
            "such as api_access.*, or *.",
            UserErrorCode.INVALID,
        )
    return wanted


# -- endpoints -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IssuedWebhookEndpoint:
    """An endpoint with its signing secret in plaintext: shown once, on create and rotate."""

    endpoint: WebhookEndpoint
    secret: str


def shown_url(url: str) -> str:
    """The URL as the audit log (and its webhooks) show it: scheme and host only, since the
    path or query of many receivers' URLs is itself a secret (``/services/T0/B0/XyZ``)."""
    parts = urlsplit(url)
    rest = "/…" if parts.path not in ("", "/") or parts.query else "/"
    return f"{parts.scheme}://{parts.netloc}{rest}"


def _summary(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        "url": shown_url(endpoint.url),
        "description": endpoint.description,
        "eventTypes": list(endpoint.event_types),
        "enabled": endpoint.enabled,
        "secretHint": endpoint.secret_hint,
    }


async def create_endpoint(
    *,
    session: AsyncSession,
    actor: Principal,
    policy: WebhookPolicy,
    workspace_id: uuid.UUID,
    url: str,
    event_types: Sequence[str],
    description: str = "",
    enabled: bool = True,
) -> IssuedWebhookEndpoint:
    """Register an endpoint; its signing secret is returned this once."""
    actor.require(workspace_id, Permission.MANAGE_WEBHOOKS)
    checks = Checks()
    endpoint = WebhookEndpoint(
        workspace_id=workspace_id,
        url=await check_target(checks, "url", url, policy),
        description=checks.text("description", description, max_length=1000, required=False),
        event_types=check_event_types(checks, "event_types", event_types),
        enabled=enabled,
        secret_encrypted="",
        secret_hint="",
        created_by_principal_id=actor.id,
        created_by_name=actor.name[:254],
    )
    existing = await session.scalar(
        select(func.count())
        .select_from(WebhookEndpoint)
        .where(col(WebhookEndpoint.workspace_id) == workspace_id)
    )
    if int(existing or 0) >= policy.max_endpoints:
        checks.add(
            None,
            f"A workspace has at most {policy.max_endpoints} webhook endpoints; delete one first.",
            UserErrorCode.INVALID,
        )
    checks.raise_if_any()
    secret = new_secret()
    _seal(endpoint, secret, policy.fernet)
    async with transaction(session):
        session.add(endpoint)
        audit.record_change(
            session,
            actor,
            endpoint,
            audit.AuditAction.CREATE_WEBHOOK_ENDPOINT,
            after=_summary(endpoint),
        )
    return IssuedWebhookEndpoint(endpoint=endpoint, secret=secret)


async def _get_endpoint(
    session: AsyncSession, actor: Principal, endpoint_id: uuid.UUID
) -> WebhookEndpoint:
    return await get_scoped(
        session, actor, WebhookEndpoint, endpoint_id, Permission.MANAGE_WEBHOOKS, label=LABEL
    )


async def update_endpoint(
    *,
    session: AsyncSession,
    actor: Principal,
    policy: WebhookPolicy,
    endpoint_id: uuid.UUID,
    url: str | None = None,
    event_types: Sequence[str] | None = None,
    description: str | None = None,
    enabled: bool | None = None,
) -> WebhookEndpoint:
    """Edit an endpoint; ``None`` keeps a field. Pending deliveries go to the new URL."""
    endpoint = await _get_endpoint(session, actor, endpoint_id)
    before = _summary(endpoint)
    checks = Checks()
    new_url = endpoint.url if url is None else await check_target(checks, "url", url, policy)
    new_types = (
        list(endpoint.event_types)
        if event_types is None
        else check_event_types(checks, "event_types", event_types)
    )
    new_description = (
        endpoint.description
        if description is None
        else checks.text("description", description, max_length=1000, required=False)
    )
    checks.raise_if_any()
    async with transaction(session):
        endpoint.url, endpoint.event_types = new_url, new_types
        endpoint.description = new_description
        if enabled is not None:
            endpoint.enabled = enabled
        endpoint.updated_at = utcnow()
        session.add(endpoint)
        audit.record_change(
            session,
            actor,
            endpoint,
            audit.AuditAction.UPDATE_WEBHOOK_ENDPOINT,
            before=before,
            after=_summary(endpoint),
        )
    return endpoint


async def rotate_secret(
    *, session: AsyncSession, actor: Principal, policy: WebhookPolicy, endpoint_id: uuid.UUID
) -> IssuedWebhookEndpoint:
    """Give the endpoint a new signing secret, returned this once; the next attempt of every
    delivery (pending ones too) is signed with it."""
    endpoint = await _get_endpoint(session, actor, endpoint_id)
    before = {"secretHint": endpoint.secret_hint}
    secret = new_secret()
    async with transaction(session):
        _seal(endpoint, secret, policy.fernet)
        endpoint.updated_at = utcnow()
        session.add(endpoint)
        audit.record_change(
            session,
            actor,
            endpoint,
            audit.AuditAction.ROTATE_WEBHOOK_ENDPOINT_SECRET,
            before=before,
            after={"secretHint": endpoint.secret_hint},
        )
    return IssuedWebhookEndpoint(endpoint=endpoint, secret=secret)


async def delete_endpoint(
    *, session: AsyncSession, actor: Principal, endpoint_id: uuid.UUID
) -> WebhookEndpoint:
    """Delete an endpoint with its deliveries (pending ones are never sent)."""
    endpoint = await _get_endpoint(session, actor, endpoint_id)
    async with transaction(session):
        audit.record_change(
            session,
            actor,
            endpoint,
            audit.AuditAction.DELETE_WEBHOOK_ENDPOINT,
            before=_summary(endpoint),
        )
        await session.delete(endpoint)
    return endpoint


async def redeliver(
    *, session: AsyncSession, actor: Principal, delivery_id: uuid.UUID
) -> WebhookDelivery:
    """Send a delivery again from its first attempt (same message id and payload): a FAILED
    one after the receiver is fixed, or a DELIVERED one the receiver lost."""
    delivery = await get_scoped(
        session, actor, WebhookDelivery, delivery_id, Permission.MANAGE_WEBHOOKS, label="Delivery"
    )
    if delivery.status == WebhookDeliveryStatus.PENDING:
        raise InputError.one(
            "id", "The delivery is still pending; it will be attempted.", UserErrorCode.INVALID
        )
    before = {"status": delivery.status, "attempts": delivery.attempts}
    async with transaction(session):
        delivery.status = WebhookDeliveryStatus.PENDING
        delivery.attempts = 0
        delivery.next_attempt_at = utcnow()
        delivery.claim_token = None
        session.add(delivery)
        audit.record_change(
            session,
            actor,
            delivery,
            audit.AuditAction.REDELIVER_WEBHOOK,
            before=before,
            after={"status": delivery.status, "messageId": delivery.message_id},
        )
    return delivery


async def list_endpoints(
    *, session: AsyncSession, actor: Principal, workspace_id: uuid.UUID, args: PageArgs
) -> Page[WebhookEndpoint]:
    """The workspace's endpoints, oldest first."""
    actor.require(workspace_id, Permission.MANAGE_WEBHOOKS)
    query = select(WebhookEndpoint).where(col(WebhookEndpoint.workspace_id) == workspace_id)
    return await paginate(
        session,
        query,
        sort=[col(WebhookEndpoint.created_at), col(WebhookEndpoint.id)],
        args=args,
    )


async def delivery_counts(session: AsyncSession) -> dict[WebhookDeliveryStatus, int]:
    """Deliveries by status across all workspaces (for ``/metrics``: FAILED ones need a
    look; a growing PENDING count means endpoints are down or the worker is behind)."""
    rows = (
        await session.execute(
            select(col(WebhookDelivery.status), func.count()).group_by(col(WebhookDelivery.status))
        )
    ).all()
    counts = dict.fromkeys(WebhookDeliveryStatus, 0)
    for status, total in rows:
        counts[WebhookDeliveryStatus(status)] = int(total)
    return counts


async def prune_deliveries(session: AsyncSession, *, older_than: datetime) -> int:
    """Delete deliveries settled (DELIVERED, FAILED) before ``older_than``; pending ones stay
    whatever their age. The caller commits.

    A settled delivery's ``next_attempt_at`` is the moment it was settled, so the condition is
    a range of the ``(status, next_attempt_at)`` index: the worker's pass reads only what it
    deletes, not every delivery kept (``created_at`` has no index). It also keeps a delivery
    redelivered lately, however old, for the whole retention."""
    result = await session.execute(
        delete(WebhookDelivery)
        .where(
            col(WebhookDelivery.status).in_(
                [WebhookDeliveryStatus.DELIVERED, WebhookDeliveryStatus.FAILED]
            ),
            col(WebhookDelivery.next_attempt_at) < older_than,
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


# -- events ---------------------------------------------------------------------------------------


def new_message_id() -> str:
    """A Standard Webhooks message id, the same on every attempt of one delivery."""
    return f"msg_{uuid.uuid4().hex}"


def event_body(event_type: str, data: dict[str, Any], at: datetime | None = None) -> str:
    """The JSON body of an event: ``type``, ``timestamp`` and ``data`` (Standard Webhooks)."""
    moment = at or utcnow()
    body = {
        "type": event_type,
        "timestamp": moment.isoformat().replace("+00:00", "Z"),
        "data": data,
    }
    return json.dumps(body, separators=(",", ":"), sort_keys=True, default=str)


def _deliveries(session: Session, events: Sequence[tuple[uuid.UUID, str, dict[str, Any]]]) -> int:
    """Write a delivery of each (workspace, type, data) for every enabled endpoint of the
    workspace subscribed to the type: one SELECT for all of them."""
    workspace_ids = {workspace_id for workspace_id, _, _ in events}
    endpoints = session.execute(
        select(
            col(WebhookEndpoint.id),
            col(WebhookEndpoint.workspace_id),
            col(WebhookEndpoint.event_types),
        ).where(
            col(WebhookEndpoint.workspace_id).in_(workspace_ids),
            col(WebhookEndpoint.enabled).is_(True),
        )
    ).all()
    written = 0
    now = utcnow()
    for workspace_id, event_type, data in events:
        body = event_body(event_type, data, now)
        for endpoint_id, endpoint_workspace, patterns in endpoints:
            if endpoint_workspace == workspace_id and subscribes(patterns, event_type):
                session.add(
                    WebhookDelivery(
                        endpoint_id=endpoint_id,
                        workspace_id=workspace_id,
                        event_type=event_type,
                        message_id=new_message_id(),
                        payload=body,
                        next_attempt_at=now,
                        created_at=now,
                    )
                )
                written += 1
    return written


async def enqueue_event(
    *,
    session: AsyncSession,
    workspace_id: uuid.UUID,
    event_type: str,
    payload: dict[str, Any],
) -> int:
    """Write a delivery of one event (``alert.raised``, ``api_access.expiring``…) for every
    enabled endpoint of the workspace subscribed to it, in the caller's transaction (it
    commits or rolls back with the caller's change); returns how many. ``payload`` becomes
    the body's ``data`` and must be JSON-serialisable."""
    if event_type not in event_types():
        raise ValueError(f"unknown webhook event type {event_type!r}")
    return await session.run_sync(_deliveries, [(workspace_id, event_type, payload)])


def _audit_data(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": str(event.id),
        "workspaceId": str(event.workspace_id),
        "action": event.action,
        "actor": {
            "type": event.actor_type,
            "id": str(event.actor_id) if event.actor_id else None,
            "name": event.actor_name,
        },
        "target": {
            "type": event.target_type,
            "id": str(event.target_id) if event.target_id else None,
        },
        "before": event.before,
        "after": event.after,
        "requestId": event.request_id,
        "at": event.at.isoformat().replace("+00:00", "Z"),
    }


def queue_audit_event(session: AsyncSession | Session, event: AuditEvent) -> None:
    """Remember an audit event of the open transaction: just before it commits, it becomes
    ``audit.<action>`` (and its domain event, if it is one) for every subscribed endpoint; a
    rollback forgets it."""
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    data = _audit_data(event)
    pending = sync.info.setdefault(_PENDING, [])
    pending.append((event.workspace_id, f"audit.{event.action}", data))
    domain = _DOMAIN_EVENT_OF_ACTION.get(event.action)
    if domain is not None:
        pending.append((event.workspace_id, domain, data))


def _fan_out(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending:
        _deliveries(session, pending)


def _forget(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:  # the outermost transaction rolled back
        session.info.pop(_PENDING, None)


if not event.contains(Session, "before_commit", _fan_out):
    event.listen(Session, "before_commit", _fan_out)
    event.listen(Session, "after_soft_rollback", _forget)
