"""Access requests in the service layer: submitting (existing or new app), auto-approval,
exactly one decision per request (with real concurrency on PostgreSQL), cancellation, mail."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from accessplane.auth.tokens import token_digest
from accessplane.errors import Forbidden, InputError, NotFound, UserErrorCode
from accessplane.models import (
    AccessProfile,
    AccessProfileProduct,
    AccessRequest,
    AccessRequestStatus,
    AuditEvent,
    AuthMethod,
    Notification,
)
from accessplane.services import access_requests
from accessplane.services.access_requests import NewAccessProfile
from tests.conftest import SECRET
from tests.support.db import count
from tests.support.scenario import Person, Scenario


async def submit(session: AsyncSession, person: Person, **kwargs: Any) -> Any:
    return await access_requests.submit_access_request(
        session=session, actor=person.principal, secret=SECRET.encode(), **kwargs
    )


async def catalogue(scenario: Scenario, *, auto_approve: bool = False) -> Any:
    """A workspace with a client, its consumer, two token products and a plan."""
    world = await scenario.workspace()
    api = await scenario.api(world, "Payments API")
    client = await scenario.client(world, "Partner")
    consumer = await scenario.consumer(world, client)
    first = await scenario.product(world, "Payments", apis=[api])
    second = await scenario.product(world, "Refunds")
    plan = await scenario.plan(world, "Gold", auto_approve=auto_approve)
    return world, client, consumer, first, second, plan


async def test_a_consumer_requests_products_for_a_new_app_and_gets_its_token(
    session, scenario: Scenario
) -> None:
    world, client, consumer, first, second, plan = await catalogue(scenario)

    submitted = await submit(
        session,
        consumer,
        product_ids=[first.id, second.id],
        plan_id=plan.id,
        new_access_profile=NewAccessProfile(
            client_id=client.id, name="Mobile", allowed_ips=["10.0.0.0/8"]
        ),
    )

    request = submitted.access_request
    assert request.status is AccessRequestStatus.PENDING
    assert request.created_access_profile
    assert submitted.token is not None
    assert submitted.token.startswith("apt_")
    app = await scenario.profile(request.access_profile_id)
    assert app is not None
    assert (app.name, app.auth_method, app.allowed_ips) == (
        "Mobile",
        AuthMethod.AUTH_TOKEN,
        ["10.0.0.0/8"],
    )
    assert app.token_digest == token_digest(submitted.token, SECRET.encode())
    # Nothing is granted before a decision.
    assert app.plan_id is None
    assert await count(session, AccessProfileProduct) == 0
    actions = set((await session.scalars(select(AuditEvent.action))).all())
    assert {"createAccessProfile", "submitAccessRequest"} <= actions
    # The owner (who may decide) is told; the requester is not.
    mails = (await session.scalars(select(Notification))).all()
    assert [(m.kind, m.recipient) for m in mails] == [("access_requested", world.owner.user.email)]
    assert "Mobile" in mails[0].subject
    assert consumer.user.email in mails[0].subject


async def test_products_of_another_authentication_method_write_nothing(
    session, scenario: Scenario
) -> None:
    world, client, consumer, first, _, plan = await catalogue(scenario)
    jwt = await scenario.product(world, "Ledger", auth_method=AuthMethod.JWT)
    before = await count(session, AuditEvent)

    with pytest.raises(InputError) as refused:
        await submit(
            session,
            consumer,
            product_ids=[first.id, jwt.id],
            plan_id=plan.id,
            new_access_profile=NewAccessProfile(client_id=client.id, name="Mobile"),
        )

    assert [(e.field, e.code) for e in refused.value.errors] == [
        ("product_ids", UserErrorCode.INVALID)
    ]
    assert await count(session, AccessRequest) == 0
    assert await count(session, AccessProfile) == 0
    assert await count(session, AuditEvent) == before


async def test_the_products_must_match_an_existing_apps_method(session, scenario) -> None:
    world, client, consumer, first, _, plan = await catalogue(scenario)
    app = await scenario.app(world, client, "Backend", auth_method=AuthMethod.OIDC)

    with pytest.raises(InputError) as refused:
        await submit(
            session,
            consumer,
            product_ids=[first.id],
            plan_id=plan.id,
            access_profile_id=app.access_profile.id,
        )

    assert refused.value.errors[0].field == "product_ids"
    assert "app uses OIDC" in refused.value.errors[0].message
    assert await count(session, AccessRequest) == 0


async def test_unpublished_products_cannot_be_requested(session, scenario) -> None:
    world, client, consumer, _, _, plan = await catalogue(scenario)
    draft = await scenario.product(world, "Draft", published=False)

    with pytest.raises(InputError) as refused:
        await submit(
            session,
            consumer,
            product_ids=[draft.id],
            plan_id=plan.id,
            new_access_profile=NewAccessProfile(client_id=client.id, name="Mobile"),
        )

    assert [(e.field, e.code) for e in refused.value.errors] == [
        ("product_ids", UserErrorCode.NOT_FOUND)
    ]


async def test_an_inactive_client_cannot_request(session, scenario) -> None:
    world, client, consumer, first, _, plan = await catalogue(scenario)
    from accessplane.services import clients

    await clients.set_client_active(
        session=session, actor=world.owner.principal, client_id=client.id, active=False
    )

    with pytest.raises(InputError) as refused:
        await submit(
            session,
            consumer,
            product_ids=[first.id],
            plan_id=plan.id,
            new_access_profile=NewAccessProfile(client_id=client.id, name="Mobile"),
        )

    assert refused.value.errors[0].field == "new_access_profile.client_id"
    assert await count(session, AccessProfile) == 0


async def test_a_consumer_cannot_request_for_a_client_it_does_not_belong_to(
    session, scenario
) -> None:
    world, _, _, first, _, plan = await catalogue(scenario)
    other_client = await scenario.client(world, "Someone else")
    outsider = await scenario.consumer(world)

    with pytest.raises(NotFound):
        await submit(
            session,
            outsider,
            product_ids=[first.id],
            plan_id=plan.id,
            new_access_profile=NewAccessProfile(client_id=other_client.id, name="Mobile"),
        )


async def test_auto_approve_plans_approve_at_once_and_record_it(session, scenario) -> None:
    _world, client, consumer, first, _, plan = await catalogue(scenario, auto_approve=True)

    submitted = await submit(
        session,
        consumer,
        product_ids=[first.id],
        plan_id=plan.id,
        new_access_profile=NewAccessProfile(client_id=client.id, name="Mobile"),
    )

    request = submitted.access_request
    assert request.status is AccessRequestStatus.APPROVED
    assert request.decided_by_name == "auto-approve (plan Gold)"
    app = await scenario.profile(request.access_profile_id)
    assert app is not None
    assert app.plan_id == plan.id
    assert await count(session, AccessProfileProduct) == 1
    events = (
        await session.scalars(select(AuditEvent).where(AuditEvent.target_id == request.id))
    ).all()
    assert sorted(e.action for e in events) == ["approveAccessRequest", "submitAccessRequest"]
    approval = next(e for e in events if e.action == "approveAccessRequest")
    assert approval.after is not None
    assert approval.after["autoApproved"] is True
    mails = (await session.scalars(select(Notification))).all()
    assert [(m.kind, m.recipient) for m in mails] == [("approve", consumer.user.email)]


async def pending(scenario: Scenario, session: AsyncSession) -> Any:
    world, client, consumer, first, second, plan = await catalogue(scenario)
    submitted = await submit(
        session,
        consumer,
        product_ids=[first.id, second.id],
        plan_id=plan.id,
        new_access_profile=NewAccessProfile(client_id=client.id, name="Mobile"),
    )
    return world, consumer, submitted.access_request, plan


async def test_approval_provisions_the_app_and_mails_the_requester(session, scenario) -> None:
    world, consumer, request, plan = await pending(scenario, session)

    approved = await access_requests.approve_access_request(
        session=session, actor=world.owner.principal, access_request_id=request.id, reason="ok"
    )

    assert approved.status is AccessRequestStatus.APPROVED
    assert approved.decided_by_actor_id == world.owner.member.id
    assert approved.decided_at is not None
    app = await scenario.profile(request.access_profile_id)
    assert app is not None
    assert app.plan_id == plan.id
    assert app.version == 2
    assert await count(session, AccessProfileProduct) == 2
    mail = await session.scalar(select(Notification).where(Notification.kind == "approve"))
    assert mail is not None
    assert mail.recipient == consumer.user.email
    assert "Payments, Refunds" in mail.body_text
    assert "Plan: Gold" in mail.body_text
    assert await count(session, AuditEvent, AuditEvent.action == "approveAccessRequest") == 1


async def test_rejection_needs_a_reason_and_mails_it(session, scenario) -> None:
    world, _consumer, request, _ = await pending(scenario, session)

    with pytest.raises(InputError) as refused:
        await access_requests.reject_access_request(
            session=session, actor=world.owner.principal, access_request_id=request.id, reason=" "
        )
    assert refused.value.errors[0].code is UserErrorCode.REQUIRED

    rejected = await access_requests.reject_access_request(
        session=session,
        actor=world.owner.principal,
        access_request_id=request.id,
        reason="Use the sandbox first",
    )

    assert rejected.status is AccessRequestStatus.REJECTED
    assert await count(session, AccessProfileProduct) == 0
    mail = await session.scalar(select(Notification).where(Notification.kind == "reject"))
    assert mail is not None
    assert "Use the sandbox first" in mail.body_text


async def test_a_decided_request_cannot_be_decided_again(session, scenario) -> None:
    world, _, request, _ = await pending(scenario, session)
    await access_requests.approve_access_request(
        session=session, actor=world.owner.principal, access_request_id=request.id
    )

    with pytest.raises(InputError) as refused:
        await access_requests.reject_access_request(
            session=session, actor=world.owner.principal, access_request_id=request.id, reason="no"
        )

    assert refused.value.errors[0].code is UserErrorCode.CONFLICT
    assert "approved already" in refused.value.errors[0].message
    assert await count(session, AuditEvent, AuditEvent.action == "rejectAccessRequest") == 0


async def test_only_the_requester_cancels_and_only_while_pending(session, scenario) -> None:
    world, consumer, request, _ = await pending(scenario, session)
    colleague = await scenario.consumer(world)

    with pytest.raises(NotFound):  # another consumer does not even see it
        await access_requests.cancel_access_request(
            session=session, actor=colleague.principal, access_request_id=request.id
        )
    with pytest.raises(Forbidden):  # the owner sees it but did not ask
        await access_requests.cancel_access_request(
            session=session, actor=world.owner.principal, access_request_id=request.id
        )
    cancelled = await access_requests.cancel_access_request(
        session=session, actor=consumer.principal, access_request_id=request.id
    )
    assert cancelled.status is AccessRequestStatus.CANCELLED
    with pytest.raises(InputError) as refused:
        await access_requests.approve_access_request(
            session=session, actor=world.owner.principal, access_request_id=request.id
        )
    assert refused.value.errors[0].code is UserErrorCode.CONFLICT


async def test_a_consumer_lists_only_its_own_requests(session, scenario) -> None:
    world, consumer, request, _plan = await pending(scenario, session)
    other = await scenario.consumer(world)
    from accessplane.services.pagination import PageArgs

    def listing(person: Person) -> Any:
        return access_requests.list_access_requests(
            session=session,
            actor=person.principal,
            workspace_id=world.workspace.id,
            filter=access_requests.AccessRequestFilter(),
            args=PageArgs(first=10),
        )

    assert [r.id for r in (await listing(consumer)).items] == [request.id]
    assert (await listing(other)).items == []
    assert [r.id for r in (await listing(world.owner)).items] == [request.id]


DECISIONS = {
    "approve": lambda session, actor, request_id: access_requests.approve_access_request(
        session=session, actor=actor, access_request_id=request_id
    ),
    "reject": lambda session, actor, request_id: access_requests.reject_access_request(
        session=session, actor=actor, access_request_id=request_id, reason="No"
    ),
}


async def waiting_on_locks(session: AsyncSession) -> int:
    total = await session.scalar(
        text(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
    )
    await session.commit()
    return int(total or 0)


@pytest.mark.parametrize("decisions", [("approve", "reject"), ("approve", "approve")])
async def test_concurrent_decisions_have_exactly_one_winner(
    engine: AsyncEngine, database_url: str, session, scenario: Scenario, decisions
) -> None:
    """Both deciders read the request while it is PENDING (another transaction holds its row),
    then both write: only the conditional UPDATE ... WHERE status = 'PENDING' stops the second.
    Without it both would commit, with two decision events and two mails."""
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite serialises writers; real concurrency is tested on PostgreSQL")
    world, _, request, _ = await pending(scenario, session)
    other_owner = await scenario.member(world, "Admin")
    actors = [world.owner.principal, other_owner.principal]
    sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def decide(kind: str, actor: Any) -> str:
        async with sessions() as own:
            try:
                decided = await DECISIONS[kind](own, actor, request.id)
            except InputError as error:
                return error.errors[0].code.value
            return str(decided.status.value)

    async with sessions() as blocker:
        await blocker.execute(
            select(AccessRequest).where(AccessRequest.id == request.id).with_for_update()
        )
        tasks = [
            asyncio.create_task(decide(kind, actor))
            for kind, actor in zip(decisions, actors, strict=True)
        ]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while await waiting_on_locks(session) < 2:  # both past their checks, at the UPDATE
            assert loop.time() < deadline, "the deciders never reached the row lock"
            assert not any(t.done() for t in tasks), [t.result() for t in tasks if t.done()]
            await asyncio.sleep(0.02)
        await blocker.rollback()
    results = await asyncio.gather(*tasks)

    assert sorted(results).count("CONFLICT") == 1, results
    [winner] = [r for r in results if r != "CONFLICT"]
    stored = await session.get(AccessRequest, request.id, populate_existing=True)
    assert stored is not None
    assert stored.status.value == winner
    decided = AuditEvent.action.in_(["approveAccessRequest", "rejectAccessRequest"])
    assert await count(session, AuditEvent, decided) == 1
    assert await count(session, Notification, Notification.kind.in_(["approve", "reject"])) == 1
    products = await count(session, AccessProfileProduct)
    assert products == (2 if winner == "APPROVED" else 0)
