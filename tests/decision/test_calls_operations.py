"""The call log names the declared operation a request was matched to: the decision carries
its id (through ``/v1/check`` and ``/v1/authorize`` alike), a refusal after the match (the
plan's limits) keeps it, and a request matched to no operation the app may call, or to an API
that declares none, has none."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accessplane.models import Call
from accessplane.models.plans import RateLimitPeriod
from accessplane.services import plans
from tests.decision.test_operations import ask, choose, declare
from tests.support.gateway import Gate, Shop, make_shop
from tests.support.scenario import Scenario


async def logged(app, session: AsyncSession) -> list[tuple[str, str, str, uuid.UUID | None]]:  # type: ignore[no-untyped-def]
    """(method, path, reason, operation id) of every call written, oldest first."""
    await app.state.call_log.flush()
    rows = (
        await session.scalars(
            select(Call).order_by(Call.at, Call.id).execution_options(populate_existing=True)  # type: ignore[arg-type]
        )
    ).all()
    await session.commit()
    return [(row.method, row.path, row.reason, row.operation_id) for row in rows]


async def test_a_call_matching_a_declared_operation_is_logged_with_its_id(
    app, gate: Gate, shop: Shop, scenario: Scenario, session: AsyncSession
) -> None:
    read = await declare(scenario, shop.api, "GET", "/orders/{id}")
    files = await declare(scenario, shop.api, "GET", "/files/*")
    create = await declare(scenario, shop.api, "POST", "/orders")
    await choose(scenario, shop.product, read, files)

    # ask() sends each request to both endpoints: two calls each.
    assert await ask(gate, shop.token, "GET", "/orders/7") == "ok"
    assert await ask(gate, shop.token, "GET", "/files/a/b.pdf") == "ok"
    assert await ask(gate, shop.token, "POST", "/orders") == "operation_not_allowed"
    assert await ask(gate, shop.token, "GET", "/nowhere") == "operation_not_allowed"

    rows = await logged(app, session)
    assert sorted(rows, key=str) == sorted(
        [
            *[("GET", "/orders/7", "ok", read.id)] * 2,
            *[("GET", "/files/a/b.pdf", "ok", files.id)] * 2,
            # Declared but not chosen by the app's product: no operation the app may call.
            *[("POST", "/orders", "operation_not_allowed", None)] * 2,
            *[("GET", "/nowhere", "operation_not_allowed", None)] * 2,
        ],
        key=str,
    )
    assert create.id not in {operation for *_, operation in rows}


async def test_an_api_without_operations_logs_none_and_a_whole_api_grant_logs_the_match(
    app, gate: Gate, shop: Shop, scenario: Scenario, session: AsyncSession
) -> None:
    assert await ask(gate, shop.token, "GET", "/orders/7") == "ok"
    # Declared now, and the product chose none of them: it holds the whole API.
    read = await declare(scenario, shop.api, "GET", "/orders/{id}")
    assert await ask(gate, shop.token, "GET", "/orders/8") == "ok"

    rows = await logged(app, session)
    assert sorted(rows, key=str) == sorted(
        [
            *[("GET", "/orders/7", "ok", None)] * 2,
            *[("GET", "/orders/8", "ok", read.id)] * 2,
        ],
        key=str,
    )


async def test_a_call_refused_by_the_plan_after_the_match_keeps_the_operation(
    app, gate: Gate, scenario: Scenario, session: AsyncSession
) -> None:
    shop = await make_shop(scenario, rate_limit=plans.RateLimit(1, RateLimitPeriod.MINUTE))
    read = await declare(scenario, shop.api, "GET", "/orders/{id}")
    await choose(scenario, shop.product, read)

    first = await gate.check(shop.token, method="GET", path="/orders/1")
    second = await gate.check(shop.token, method="GET", path="/orders/1")
    assert (first["reason"], second["reason"]) == ("ok", "rate_limited")

    assert await logged(app, session) == [
        ("GET", "/orders/1", "ok", read.id),
        ("GET", "/orders/1", "rate_limited", read.id),
    ]
