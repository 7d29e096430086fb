"""Cold credentials: concurrent first look-ups go together in one round of statements
(``decision.batching``), rounds are bounded, and revocation stays exact."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from accessplane.auth.tokens import TokenKind, issue_token, token_digest
from accessplane.decision import loading
from accessplane.decision.batching import Batches
from accessplane.decision.policies import AppPolicy
from accessplane.services import access_profiles
from tests.conftest import QueryCounter
from tests.support.gateway import Gate, Shop
from tests.support.scenario import Scenario

APPS = 12


async def more_apps(scenario: Scenario, shop: Shop, count: int) -> list[str]:
    """``count`` more apps of the shop's client holding its product; their tokens."""
    tokens = []
    for _ in range(count):
        issued = await scenario.app(shop.world, shop.client, products=[shop.product])
        assert issued.token is not None
        tokens.append(issued.token)
    return tokens


def policy_statements(counter: QueryCounter) -> list[str]:
    """The statements that read apps by token digest (the first of a look-up's round)."""
    return [s for s in counter.statements if "access_profile.token_digest" in s.split("WHERE")[-1]]


async def test_concurrent_first_lookups_share_one_round(
    engine: AsyncEngine, scenario: Scenario, shop: Shop, count_queries: QueryCounter
) -> None:
    tokens = [shop.token, *await more_apps(scenario, shop, APPS - 1)]
    digests = [token_digest(t, scenario.secret) for t in tokens]
    unknown = token_digest(issue_token(TokenKind.ACCESS_PROFILE, b"x").plaintext, scenario.secret)

    async def look_up(digest: str) -> AppPolicy | None:
        async with AsyncSession(engine) as session:
            return await loading.app_by_digest(session, digest)

    with count_queries:
        found = await asyncio.gather(*(look_up(d) for d in [*digests, unknown]))

    assert [app.caller.name if app else None for app in found[:1]] == ["web"]
    assert all(app is not None for app in found[:-1])
    assert len({app.caller.id for app in found[:-1] if app}) == APPS
    assert found[-1] is None
    # One round for all of them: the apps, then their products' APIs.
    assert len(policy_statements(count_queries)) == 1, count_queries.statements
    assert count_queries.count == 2, count_queries.statements


async def test_concurrent_first_requests_are_answered_from_few_rounds(
    gate: Gate, scenario: Scenario, shop: Shop, count_queries: QueryCounter
) -> None:
    tokens = [shop.token, *await more_apps(scenario, shop, APPS - 1)]
    invented = issue_token(TokenKind.ACCESS_PROFILE, b"guess").plaintext

    with count_queries:
        answers = await asyncio.gather(*(gate.check(t) for t in [*tokens, invented]))

    assert [a["reason"] for a in answers] == ["ok"] * APPS + ["unknown_credential"]
    # Requests that arrive while a round runs wait for the next one: never one per request.
    assert len(policy_statements(count_queries)) <= 2, count_queries.statements
    with count_queries:
        warm = [(await gate.check(t))["reason"] for t in tokens]
    assert warm == ["ok"] * APPS
    assert count_queries.count == 0  # and then they are warm


async def test_a_round_holds_at_most_its_limit(
    engine: AsyncEngine, scenario: Scenario, shop: Shop
) -> None:
    tokens = [shop.token, *await more_apps(scenario, shop, 6)]
    rounds: list[int] = []

    async def fetch(session: AsyncSession, keys: list[str], intern: Any) -> dict[str, AppPolicy]:
        rounds.append(len(keys))
        return await loading.apps_by_digests(session, keys)

    batches: Batches[AppPolicy] = Batches(fetch, limit=3)

    async def look_up(token: str) -> AppPolicy | None:
        async with AsyncSession(engine) as session:
            return await batches.load(session, token_digest(token, scenario.secret))

    found = await asyncio.gather(*(look_up(t) for t in tokens))

    assert all(app is not None for app in found)
    assert rounds == [3, 3, 1]


async def test_a_failed_round_fails_each_of_its_callers(engine: AsyncEngine) -> None:
    async def fetch(session: AsyncSession, keys: list[str], intern: Any) -> dict[str, int]:
        raise RuntimeError("the database went away")

    batches: Batches[int] = Batches(fetch)

    async def look_up(key: str) -> int | None:
        async with AsyncSession(engine) as session:
            return await batches.load(session, key)

    answers = await asyncio.gather(look_up("a"), look_up("b"), return_exceptions=True)

    assert [str(a) for a in answers] == ["the database went away"] * 2
    # The next round starts afresh.
    answers = await asyncio.gather(look_up("c"), return_exceptions=True)
    assert [str(a) for a in answers] == ["the database went away"]


async def test_a_caller_that_gives_up_stops_nobody_else(
    engine: AsyncEngine, scenario: Scenario, shop: Shop
) -> None:
    started = asyncio.Event()
    release = asyncio.Event()

    async def fetch(session: AsyncSession, keys: list[str], intern: Any) -> dict[str, AppPolicy]:
        started.set()
        await release.wait()
        return await loading.apps_by_digests(session, keys)

    batches: Batches[AppPolicy] = Batches(fetch)
    digest = token_digest(shop.token, scenario.secret)

    async def look_up() -> AppPolicy | None:
        async with AsyncSession(engine) as session:
            return await batches.load(session, digest)

    leaving, staying = asyncio.create_task(look_up()), asyncio.create_task(look_up())
    await started.wait()
    leaving.cancel()
    release.set()

    with pytest.raises(asyncio.CancelledError):
        await leaving
    found = await staying
    assert found is not None
    assert found.caller.id == shop.app.id


async def test_revocation_stays_exact_after_batched_first_lookups(
    gate: Gate, scenario: Scenario, shop: Shop
) -> None:
    tokens = [shop.token, *await more_apps(scenario, shop, 4)]
    answers = await asyncio.gather(*(gate.check(t) for t in tokens))
    assert {a["reason"] for a in answers} == {"ok"}

    await access_profiles.refresh_access_profile_token(
        session=scenario.session,
        actor=shop.world.owner.principal,
        secret=scenario.secret,
        access_profile_id=shop.app.id,
    )

    answers = await asyncio.gather(*(gate.check(t) for t in tokens))
    assert [a["reason"] for a in answers] == ["revoked"] + ["ok"] * 4


async def test_a_session_bound_to_a_connection_looks_up_alone(
    engine: AsyncEngine, scenario: Scenario, shop: Shop, count_queries: QueryCounter
) -> None:
    digest = token_digest(shop.token, scenario.secret)
    async with engine.connect() as connection:
        session = AsyncSession(bind=connection)
        with count_queries:
            found = await loading.app_by_digest(session, digest)
        await session.close()

    assert found is not None
    assert found.caller.id == shop.app.id
    assert len(policy_statements(count_queries)) == 1
