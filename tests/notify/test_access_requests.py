"""Access request mail end to end through a real SMTP server (aiosmtpd): the deciders hear of
a new request, the requester of the decision, with the workspace's own subjects."""

from __future__ import annotations

from typing import Any

from accessplane.models import NotificationKind
from accessplane.notify.outbox import Worker
from accessplane.services import access_requests, notifications
from accessplane.services.access_requests import NewAccessProfile
from tests.conftest import SECRET
from tests.notify.conftest import SmtpServer, eventually
from tests.support.scenario import Scenario


async def test_request_and_decision_mails_reach_the_smtp_server(
    session: Any, scenario: Scenario, smtp: SmtpServer, worker: Worker
) -> None:
    world = await scenario.workspace("Acme")
    admin = await scenario.member(world, "Admin")  # may decide: mailed too
    client = await scenario.client(world, "Partner")
    consumer = await scenario.consumer(world, client)
    product = await scenario.product(world, "Payments")
    plan = await scenario.plan(world, "Gold")
    await notifications.update_notification_settings(
        session=session,
        actor=world.owner.principal,
        workspace_id=world.workspace.id,
        subjects={
            NotificationKind.REJECT: "[{{ workspace_name }}] No access for {{ app_name }}",
        },
    )

    submitted = await access_requests.submit_access_request(
        session=session,
        actor=consumer.principal,
        secret=SECRET.encode(),
        product_ids=[product.id],
        plan_id=plan.id,
        new_access_profile=NewAccessProfile(client_id=client.id, name="Mobile"),
    )
    assert (await worker.run_once()).sent == 2
    told = sorted((m["To"], m["Subject"]) for m in smtp.messages)
    assert told == sorted(
        (email, f"Access requested: Mobile by {consumer.user.email}")
        for email in (world.owner.user.email, admin.user.email)
    )
    assert "Payments" in smtp.messages[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]

    await access_requests.reject_access_request(
        session=session,
        actor=admin.principal,
        access_request_id=submitted.access_request.id,
        reason="Use the sandbox first",
    )
    await worker.run_once()
    rejected = await eventually(lambda: _found(smtp, "[Acme] No access for Mobile"), within=5.0)
    assert rejected["To"] == consumer.user.email
    body = rejected.get_body(("plain",)).get_content()
    assert "Use the sandbox first" in body
    assert "was rejected" in body


async def _found(smtp: SmtpServer, subject: str) -> Any:
    return next((m for m in smtp.messages if m["Subject"] == subject), None)
