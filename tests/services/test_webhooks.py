"""Webhook endpoints and events: the secret is stored encrypted, targets are checked against
SSRF (with the setting off, as in production), subscriptions are validated, and every audit
event (and the domain events some of them are) is written for its subscribers in the change's
own transaction."""

from __future__ import annotations

import base64
import ipaddress
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col
from standardwebhooks import Webhook

from accessplane.errors import Forbidden, InputError, NotFound
from accessplane.models import AuditEvent, WebhookDelivery, WebhookEndpoint
from accessplane.notify.links import ConsoleLinks
from accessplane.notify.reminders import scan_expiring
from accessplane.services import access_requests, api_access, plans, webhooks
from accessplane.services.webhooks import WebhookPolicy, is_public_address, secret_cipher
from accessplane.settings import Settings
from tests.support.scenario import Scenario, World

LINKS = ConsoleLinks(base_url="http://console.example.com")


@pytest.fixture
def policy(settings: Settings) -> WebhookPolicy:
    """As in production: private targets refused."""
    return WebhookPolicy.from_settings(settings)


@pytest.fixture
def lenient(settings: Settings) -> WebhookPolicy:
    """Private targets allowed, so that no name needs resolving."""
    return WebhookPolicy.from_settings(
        settings.model_copy(update={"webhook_allow_private_targets": True})
    )


async def create(
    scenario: Scenario,
    world: World,
    policy: WebhookPolicy,
    url: str = "https://hooks.example.com/in",
    event_types: list[str] | None = None,
) -> webhooks.IssuedWebhookEndpoint:
    return await webhooks.create_endpoint(
        session=scenario.session,
        actor=world.owner.principal,
        policy=policy,
        workspace_id=world.workspace.id,
        url=url,
        event_types=["*"] if event_types is None else event_types,
    )


async def deliveries(session: AsyncSession) -> list[WebhookDelivery]:
    query = select(WebhookDelivery).execution_options(populate_existing=True)
    return list(await session.scalars(query))


async def test_the_secret_is_shown_once_and_stored_encrypted(
    scenario: Scenario, lenient: WebhookPolicy, settings: Settings
) -> None:
    world = await scenario.workspace()
    issued = await create(scenario, world, lenient)
    endpoint_id = issued.endpoint.id

    assert issued.secret.startswith("whsec_")
    assert len(base64.b64decode(issued.secret.removeprefix("whsec_"))) == 32
    scenario.session.expire_all()
    row = await scenario.session.get(WebhookEndpoint, endpoint_id)
    assert row is not None
    assert issued.secret not in row.secret_encrypted
    assert issued.secret.removeprefix("whsec_") not in row.secret_encrypted
    assert row.secret_hint == issued.secret[-4:]
    cipher = secret_cipher(settings.secret_key.get_secret_value().encode())
    assert webhooks.reveal_secret(row, cipher) == issued.secret
    # Another server secret cannot read it.
    with pytest.raises(webhooks.SecretUnreadable):
        webhooks.reveal_secret(row, secret_cipher(b"another-secret"))


async def test_rotation_replaces_the_secret(scenario: Scenario, lenient: WebhookPolicy) -> None:
    world = await scenario.workspace()
    issued = await create(scenario, world, lenient)
    rotated = await webhooks.rotate_secret(
        session=scenario.session,
        actor=world.owner.principal,
        policy=lenient,
        endpoint_id=issued.endpoint.id,
    )
    assert rotated.secret != issued.secret
    assert rotated.endpoint.secret_hint == rotated.secret[-4:]
    assert webhooks.reveal_secret(rotated.endpoint, lenient.fernet) == rotated.secret


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "192.0.2.1",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "64:ff9b::a9fe:a9fe",
        "2002:7f00:1::",
        "2001:db8::1",
    ],
)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert not is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address", ["93.184.215.14", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8"]
)
def test_public_addresses_are_allowed(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:8080/hook",  # a name that resolves to loopback
        "http://127.0.0.1/hook",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://169.254.169.254/latest/meta-data",
        "https://10.0.0.5/hook",
        "http://0.0.0.0:9000/",
        "http://[fe80::1]/",
        "http://224.0.0.1/",
        # Other spellings of 127.0.0.1 the resolver accepts (decimal, octal, hex, short).
        "http://2130706433/",
        "http://0177.0.0.1/",
        "http://0x7f000001/",
        "http://127.1/",
        "http://[::ffff:7f00:1]/",  # IPv4-mapped, written in hex
        "http://[fe80::1%25eth0]/",  # with a zone
    ],
)
async def test_private_targets_are_refused_at_create(
    scenario: Scenario, policy: WebhookPolicy, url: str
) -> None:
    world = await scenario.workspace()
    with pytest.raises(InputError) as refused:
        await create(scenario, world, policy, url=url)
    [error] = refused.value.errors
    assert error.field == "url"
    assert "public address" in error.message
    assert await scenario.session.scalar(select(WebhookEndpoint.id)) is None


async def test_private_targets_are_allowed_when_the_setting_says_so(
    scenario: Scenario, lenient: WebhookPolicy
) -> None:
    world = await scenario.workspace()
    issued = await create(scenario, world, lenient, url="http://127.0.0.1:9000/hook")
    assert issued.endpoint.url == "http://127.0.0.1:9000/hook"


async def test_a_public_address_literal_needs_no_resolving(
    scenario: Scenario, policy: WebhookPolicy
) -> None:
    world = await scenario.workspace()
    issued = await create(scenario, world, policy, url="https://93.184.215.14/hooks")
    assert issued.endpoint.url == "https://93.184.215.14/hooks"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/x", "https://"),
        ("example.com/hook", "https://"),
        ("https://user:pw@example.com/hook", "credentials"),
        ("https://token@example.com/hook", "credentials"),
        ("https:///nohost", "host"),
        ("https://exa mple.com/", "spaces"),
        ("https://example.com/#frag", "fragment"),
        ("https://example.com:99999/", "not a valid URL"),
        ("", "must not be empty"),
        ("https://example.com/" + "a" * 2000, "at most 2000"),
    ],
)
async def test_bad_urls_are_refused(
    scenario: Scenario, lenient: WebhookPolicy, url: str, message: str
) -> None:
    world = await scenario.workspace()
    with pytest.raises(InputError) as refused:
        await create(scenario, world, lenient, url=url)
    assert [e.field for e in refused.value.errors] == ["url"]
    assert message in refused.value.errors[0].message


@pytest.mark.parametrize(
    ("event_types", "accepted"),
    [
        (["*"], True),
        (["api_access.*", "audit.createPlan", "alert.raised"], True),
        (["access_request.approved"], True),
        ([], False),
        (["nope"], False),
        (["nope.*"], False),
        (["audit.noSuchAction"], False),
        (["api_access"], False),
        (["x"] * 51, False),
    ],
)
async def test_event_types_are_validated(
    scenario: Scenario, lenient: WebhookPolicy, event_types: list[str], accepted: bool
) -> None:
    world = await scenario.workspace()
    if accepted:
        issued = await create(scenario, world, lenient, event_types=event_types)
        assert issued.endpoint.event_types == event_types
        return
    with pytest.raises(InputError) as refused:
        await create(scenario, world, lenient, event_types=event_types)
    assert [e.field for e in refused.value.errors] == ["event_types"]


async def test_a_workspace_holds_a_bounded_number_of_endpoints(
    scenario: Scenario, settings: Settings
) -> None:
    world = await scenario.workspace()
    two = WebhookPolicy.from_settings(
        settings.model_copy(
            update={"webhook_allow_private_targets": True, "webhook_max_endpoints": 2}
        )
    )
    await create(scenario, world, two)
    await create(scenario, world, two)
    with pytest.raises(InputError) as refused:
        await create(scenario, world, two)
    assert "at most 2 webhook endpoints" in refused.value.errors[0].message


async def test_managing_endpoints_needs_manage_webhooks(
    scenario: Scenario, lenient: WebhookPolicy
) -> None:
    world = await scenario.workspace()
    developer = await scenario.member(world, "Developer")
    with pytest.raises(Forbidden):
        await webhooks.create_endpoint(
            session=scenario.session,
            actor=developer.principal,
            policy=lenient,
            workspace_id=world.workspace.id,
            url="https://hooks.example.com/",
            event_types=["*"],
        )
    admin = await scenario.member(world, "Admin")
    issued = await webhooks.create_endpoint(
        session=scenario.session,
        actor=admin.principal,
        policy=lenient,
        workspace_id=world.workspace.id,
        url="https://hooks.example.com/",
        event_types=["*"],
    )
    assert issued.endpoint.created_by_name == admin.user.email


async def test_update_keeps_what_it_is_not_given_and_is_audited(
    scenario: Scenario, lenient: WebhookPolicy
) -> None:
    world = await scenario.workspace()
    issued = await create(scenario, world, lenient, event_types=["audit.*"])
    updated = await webhooks.update_endpoint(
        session=scenario.session,
        actor=world.owner.principal,
        policy=lenient,
        endpoint_id=issued.endpoint.id,
        enabled=False,
        description="Paused",
    )
    assert (updated.url, updated.event_types) == ("https://hooks.example.com/in", ["audit.*"])
    assert (updated.enabled, updated.description) == (False, "Paused")
    # Its creation was delivered to it; its update was not: it was disabled in that change.
    types = [d.event_type for d in await deliveries(scenario.session)]
    assert types == ["audit.createWebhookEndpoint"]


async def test_audit_events_go_to_their_subscribers_only(
    scenario: Scenario, lenient: WebhookPolicy
) -> None:
    world = await scenario.workspace()
    other = await scenario.workspace()
    everything = await create(scenario, world, lenient, event_types=["*"])
    keys = await create(scenario, world, lenient, event_types=["api_access.*"])
    plans_only = await create(scenario, world, lenient, event_types=["audit.createPlan"])
    await create(scenario, other, lenient, event_types=["*"])
    before = {d.id for d in await deliveries(scenario.session)}

    await scenario.api_access(world)
    await plans.create_plan(
        session=scenario.session,
        actor=world.owner.principal,
        workspace_id=world.workspace.id,
        name="Gold",
    )

    new = [d for d in await deliveries(scenario.session) if d.id not in before]
    got = {(d.endpoint_id, d.event_type) for d in new}
    assert got == {
        (everything.endpoint.id, "audit.createApiAccess"),
        (everything.endpoint.id, "api_access.created"),
        (everything.endpoint.id, "audit.createPlan"),
        (keys.endpoint.id, "api_access.created"),
        (plans_only.endpoint.id, "audit.createPlan"),
    }
    assert len({d.message_id for d in new}) == len(new)
    created = next(d for d in new if d.event_type == "api_access.created")
    body = json.loads(created.payload)
    assert body["type"] == "api_access.created"
    assert body["data"]["target"]["type"] == "ApiAccess"
    assert body["data"]["actor"]["name"] == world.owner.user.email
    assert "token" not in json.dumps(body["data"]["after"]).lower().replace("tokenhint", "")


async def test_a_disabled_endpoint_gets_nothing(scenario: Scenario, lenient: WebhookPolicy) -> None:
    world = await scenario.workspace()
    issued = await create(scenario, world, lenient, event_types=["audit.createPlan"])
    await webhooks.update_endpoint(
        session=scenario.session,
        actor=world.owner.principal,
        policy=lenient,
        endpoint_id=issued.endpoint.id,
        enabled=False,
    )
    await plans.create_plan(
        session=scenario.session,
        actor=world.owner.principal,
        workspace_id=world.workspace.id,
        name="Gold",
    )
    assert await deliveries(scenario.session) == []


async def test_enqueue_event_writes_in_the_callers_transaction(
    scenario: Scenario, lenient: WebhookPolicy
) -> None:
    world = await scenario.workspace()
    await create(scenario, world, lenient, event_types=["alert.*"])
    await create(scenario, world, lenient, event_types=["api_access.*"])
    session = scenario.session
    workspace_id = world.workspace.id

    written = await webhooks.enqueue_event(
        session=session,
        workspace_id=workspace_id,
        event_type="alert.raised",
        payload={"rule": "denials", "count": 12},
    )
    await session.rollback()
    assert written == 1
    assert await deliveries(session) == []

    await webhooks.enqueue_event(
        session=session,
        workspace_id=workspace_id,
        event_type="alert.raised",
        payload={"rule": "denials", "count": 12},
    )
    await session.commit()
    [delivery] = await deliveries(session)
    assert json.loads(delivery.payload)["data"] == {"rule": "denials", "count": 12}
    with pytest.raises(ValueError, match="unknown webhook event type"):
        await webhooks.enqueue_event(
            session=session, workspace_id=workspace_id, event_type="nope", payload={}
        )


async def test_deleting_a_key_and_deciding_requests_are_events(
    scenario: Scenario, lenient: WebhookPolicy
) -> None:
    world = await scenario.workspace()
    await create(scenario, world, lenient, event_types=["api_access.*"])
    issued = await scenario.api_access(world)
    await api_access.delete_api_accesses(
        session=scenario.session,
        actor=world.owner.principal,
        api_access_ids=[issued.api_access.id],
    )
    types = sorted(d.event_type for d in await deliveries(scenario.session))
    assert types == ["api_access.created", "api_access.deleted"]


async def test_expiry_reminders_are_events(
    scenario: Scenario, lenient: WebhookPolicy, session: AsyncSession
) -> None:
    world = await scenario.workspace()
    await create(
        scenario, world, lenient, event_types=["api_access.expiring", "api_access.expired"]
    )
    now = datetime.now(UTC)
    issued = await scenario.api_access(world, expires_at=now + timedelta(days=5), now=now)
    sessions = async_sessionmaker(session.bind, expire_on_commit=False)

    await scan_expiring(sessions, links=LINKS, now=now)
    await scan_expiring(sessions, links=LINKS, now=now)  # once per threshold
    await scan_expiring(sessions, links=LINKS, now=now + timedelta(days=6))

    events = sorted(
        (json.loads(d.payload) for d in await deliveries(session)), key=lambda e: e["timestamp"]
    )
    assert [e["type"] for e in events] == ["api_access.expiring", "api_access.expired"]
    assert events[0]["data"]["apiAccess"]["id"] == str(issued.api_access.id)
    assert events[0]["data"]["daysBefore"] == 7


async def test_redeliver_starts_a_settled_delivery_again(
    scenario: Scenario, lenient: WebhookPolicy
) -> None:
    world = await scenario.workspace()
    await create(scenario, world, lenient)
    [delivery] = await deliveries(scenario.session)
    with pytest.raises(InputError):
        await webhooks.redeliver(
            session=scenario.session, actor=world.owner.principal, delivery_id=delivery.id
        )
    delivery.status, delivery.attempts = "FAILED", 8
    await scenario.session.commit()

    again = await webhooks.redeliver(
        session=scenario.session, actor=world.owner.principal, delivery_id=delivery.id
    )
    assert (again.status, again.attempts, again.message_id) == ("PENDING", 0, delivery.message_id)


async def test_the_signature_covers_the_stored_payload(
    scenario: Scenario, lenient: WebhookPolicy
) -> None:
    world = await scenario.workspace()
    issued = await create(scenario, world, lenient)
    [delivery] = await deliveries(scenario.session)
    stamp = datetime.now(UTC)
    signature = Webhook(issued.secret).sign(delivery.message_id, stamp, delivery.payload)
    headers = {
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(int(stamp.timestamp())),
        "webhook-signature": signature,
    }
    assert Webhook(issued.secret).verify(delivery.payload, headers)["type"] == (
        "audit.createWebhookEndpoint"
    )


async def test_another_workspaces_endpoint_is_not_found(
    scenario: Scenario, lenient: WebhookPolicy
) -> None:
    world = await scenario.workspace()
    other = await scenario.workspace()
    issued = await create(scenario, other, lenient)
    with pytest.raises(NotFound):
        await webhooks.delete_endpoint(
            session=scenario.session, actor=world.owner.principal, endpoint_id=issued.endpoint.id
        )
    with pytest.raises(NotFound):
        await webhooks.delete_endpoint(
            session=scenario.session, actor=world.owner.principal, endpoint_id=uuid.uuid4()
        )


async def test_the_audit_log_shows_an_endpoints_host_only(
    scenario: Scenario, lenient: WebhookPolicy, session: AsyncSession
) -> None:
    world = await scenario.workspace()
    await create(scenario, world, lenient, url="https://hooks.example.com/services/T0/B0/XyZ?k=1")
    [event] = await session.scalars(
        select(AuditEvent).where(col(AuditEvent.action) == "createWebhookEndpoint")
    )
    assert event.after is not None
    assert event.after["url"] == "https://hooks.example.com/…"
    assert "XyZ" not in json.dumps(event.after)


async def test_settled_deliveries_are_pruned_after_the_retention(
    scenario: Scenario, lenient: WebhookPolicy, session: AsyncSession
) -> None:
    world = await scenario.workspace()
    await create(scenario, world, lenient)
    names = ("Old delivered", "Old failed", "Old pending", "Old, redelivered lately")
    for name in names:
        await plans.create_plan(
            session=session, actor=world.owner.principal, workspace_id=world.workspace.id, name=name
        )
    rows = {
        json.loads(d.payload)["data"]["after"].get("name"): d for d in await deliveries(session)
    }
    now = datetime.now(UTC)
    long_ago = now - timedelta(days=40)
    # A settled delivery's next_attempt_at is when it was settled (as settle() sets it).
    for name, status, settled in (
        ("Old delivered", "DELIVERED", long_ago),
        ("Old failed", "FAILED", long_ago + timedelta(hours=21)),
        ("Old, redelivered lately", "DELIVERED", now - timedelta(days=1)),
    ):
        rows[name].status, rows[name].next_attempt_at = status, settled
    for name in names:
        rows[name].created_at = long_ago
    rows["Old pending"].next_attempt_at = long_ago
    await session.commit()

    pruned = await webhooks.prune_deliveries(session, older_than=now - timedelta(days=30))
    await session.commit()

    assert pruned == 2
    left = sorted(
        (json.loads(d.payload)["type"], json.loads(d.payload)["data"]["after"].get("name"))
        for d in await deliveries(session)
    )
    assert left == [
        ("audit.createPlan", "Old pending"),
        ("audit.createPlan", "Old, redelivered lately"),
        ("audit.createWebhookEndpoint", None),
    ]


async def test_access_requests_submitted_and_decided_are_events(
    scenario: Scenario, lenient: WebhookPolicy
) -> None:
    world = await scenario.workspace()
    await create(scenario, world, lenient, event_types=["access_request.*"])
    client = await scenario.client(world)
    consumer = await scenario.consumer(world, client)
    submitted = await access_requests.submit_access_request(
        session=scenario.session,
        actor=consumer.principal,
        secret=scenario.secret,
        product_ids=[(await scenario.product(world)).id],
        plan_id=(await scenario.plan(world)).id,
        new_access_profile=access_requests.NewAccessProfile(client_id=client.id, name="Mobile"),
    )
    await access_requests.approve_access_request(
        session=scenario.session,
        actor=world.owner.principal,
        access_request_id=submitted.access_request.id,
        reason="Fine.",
    )

    events = [json.loads(d.payload) for d in await deliveries(scenario.session)]
    assert sorted(e["type"] for e in events) == [
        "access_request.approved",
        "access_request.submitted",
    ]
    approved = next(e for e in events if e["type"] == "access_request.approved")
    assert approved["data"]["target"] == {
        "type": "AccessRequest",
        "id": str(submitted.access_request.id),
    }
    assert approved["data"]["after"]["reason"] == "Fine."
