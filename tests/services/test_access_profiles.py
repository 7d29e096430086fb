"""Access profiles in the service layer: allowed IPs, token settings, and token refreshes
(exactly one winner among concurrent ones, on PostgreSQL)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from accessplane.auth.tokens import token_digest
from accessplane.errors import InputError, UserErrorCode
from accessplane.models import AccessProfile, AccessProfileRevocation, AuthMethod
from accessplane.services import access_profiles
from accessplane.services.access_profiles import TokenSettings, parse_allowed_ips
from accessplane.services.validation import Checks
from tests.conftest import SECRET
from tests.support.scenario import Scenario


def test_allowed_ips_are_validated_and_normalised() -> None:
    checks = Checks()

    ips = parse_allowed_ips(
        checks,
        [
            " 203.0.113.7 , 198.51.100.0/24",
            "2001:0DB8:0000::/48",
            "::ffff:192.0.2.1",
            "203.0.113.7",
            "10.1.2.3/32",
            "2001:db8::1/128",
            "",
        ],
    )

    assert checks.errors == []
    assert ips == [
        "203.0.113.7",
        "198.51.100.0/24",
        "2001:db8::/48",
        "::ffff:c000:201",
        "10.1.2.3",
        "2001:db8::1",
    ]


@pytest.mark.parametrize(
    "entry", ["10.0.0.256", "10.0.0.1/24", "10.0.0.0/33", "example.com", "::g"]
)
def test_bad_allowed_ips_are_refused(entry: str) -> None:
    checks = Checks()

    parse_allowed_ips(checks, [f"10.0.0.1,{entry}"])

    assert [(e.field, e.code) for e in checks.errors] == [("allowed_ips", UserErrorCode.INVALID)]
    assert entry in checks.errors[0].message


async def test_token_methods_need_an_https_issuer(session, scenario: Scenario) -> None:
    world = await scenario.workspace()
    client = await scenario.client(world)

    with pytest.raises(InputError) as refused:
        await access_profiles.create_access_profile(
            session=session,
            actor=world.owner.principal,
            secret=SECRET.encode(),
            client_id=client.id,
            name="Backend",
            auth_method=AuthMethod.OAUTH2,
            token=TokenSettings(required_scopes=["ok", "not ok"]),
        )

    assert {(e.field, e.code) for e in refused.value.errors} == {
        ("required_scopes", UserErrorCode.INVALID),
        ("trusted_issuer", UserErrorCode.REQUIRED),
    }


async def test_concurrent_refreshes_leave_exactly_one_valid_token(
    engine: AsyncEngine, database_url: str, session, scenario: Scenario
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite serialises writers; real concurrency is tested on PostgreSQL")
    world = await scenario.workspace()
    issued = await scenario.app(world, await scenario.client(world), "Mobile")
    sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def attempt() -> str:
        async with sessions() as own:
            try:
                refreshed = await access_profiles.refresh_access_profile_token(
                    session=own,
                    actor=world.owner.principal,
                    secret=SECRET.encode(),
                    access_profile_id=issued.access_profile.id,
                )
            except InputError as error:
                return error.errors[0].code.value
            assert refreshed.token is not None
            return refreshed.token

    results = await asyncio.gather(*(attempt() for _ in range(10)))

    tokens = [r for r in results if r.startswith("apt_")]
    assert tokens
    assert set(results) - set(tokens) <= {"CONFLICT"}
    row = await session.get(AccessProfile, issued.access_profile.id, populate_existing=True)
    assert row is not None
    assert row.version == 1 + len(tokens)
    valid = [t for t in tokens if token_digest(t, SECRET.encode()) == row.token_digest]
    assert len(valid) == 1
    revoked = await session.scalar(select(func.count()).select_from(AccessProfileRevocation))
    assert revoked == len(tokens)  # the original and every superseded winner
