"""A gateway's view of AccessPlane for tests: ``Gate`` asks both decision endpoints the same
question, ``Shop`` is a small world of one API (``orders``), a product, a plan and a client with
an app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from accessplane.models import AccessProfile, Api, ApiProduct, AuthMethod, Client, Plan
from accessplane.services import access_profiles, plans
from tests.support.scenario import Scenario, World

PEER = "203.0.113.7"  # the test client's address, trusted as a proxy by the decision tests


@dataclass
class Gate:
    """Asks both endpoints the same question and checks that they agree."""

    http: httpx.AsyncClient

    async def check(
        self, credential: str | None, api: str = "orders", ip: str | None = PEER, **extra: Any
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"api": api, "method": "GET", "path": "/orders/1", **extra}
        if credential is not None:
            body["credential"] = credential
        if ip is not None:
            body["ip"] = ip
        response = await self.http.post("/v1/check", json=body)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    async def authorize(
        self,
        credential: str | None,
        api: str = "orders",
        ip: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        sent = {"X-Original-URI": "/orders/1", "X-Original-Method": "GET", **(headers or {})}
        if credential is not None:
            sent["Authorization"] = f"Bearer {credential}"
        if ip is not None:
            sent["X-Forwarded-For"] = ip
        return await self.http.get("/v1/authorize", params={"api": api}, headers=sent)

    async def both(self, credential: str | None, api: str = "orders", ip: str = PEER) -> str:
        """The reason both endpoints give (they must agree, and the status must fit it).
        Each endpoint counts against the app's limits: one call here is two requests."""
        checked = await self.check(credential, api, ip)
        answered = await self.authorize(credential, api, ip)
        reason = answered.headers["x-accessplane-reason"]
        assert checked["reason"] == reason, (checked, answered.text)
        assert checked["allowed"] is (reason == "ok")
        expected = {
            "ok": 200,
            "missing_credential": 401,
            "unknown_credential": 401,
            "invalid_token": 401,
            "expired": 401,
            "revoked": 401,
            "rate_limited": 429,
            "quota_exceeded": 429,
        }.get(reason, 403)
        assert answered.status_code == expected, (reason, answered.status_code)
        if reason == "ok":
            assert answered.content == b""  # gateways discard an allowing answer's body
        else:
            assert answered.json()["reason"] == reason
        return reason


@dataclass
class Shop:
    """One workspace selling ``orders`` to one client's app."""

    world: World
    api: Api
    product: ApiProduct
    plan: Plan
    client: Client
    app: AccessProfile
    token: str


async def make_shop(scenario: Scenario, **plan_limits: Any) -> Shop:
    world = await scenario.workspace()
    api = await scenario.api(world, "Orders")
    product = await scenario.product(world, apis=[api])
    plan = await plans.create_plan(
        session=scenario.session,
        actor=world.owner.principal,
        workspace_id=world.workspace.id,
        name="Gold",
        **plan_limits,
    )
    client = await scenario.client(world)
    issued = await access_profiles.create_access_profile(
        session=scenario.session,
        actor=world.owner.principal,
        secret=scenario.secret,
        client_id=client.id,
        name="web",
        auth_method=AuthMethod.AUTH_TOKEN,
        product_ids=[product.id],
        plan_id=plan.id,
    )
    assert issued.token is not None
    return Shop(world, api, product, plan, client, issued.access_profile, issued.token)
