"""Plans in the service layer: limits, time windows and updates that keep or clear."""

from __future__ import annotations

import pytest

from accessplane.errors import InputError, UserErrorCode
from accessplane.models import QuotaPeriod, RateLimitPeriod, Weekday
from accessplane.services import plans
from accessplane.services.plans import KEEP, Quota, RateLimit, TimeWindow
from tests.support.scenario import Scenario


async def test_a_window_past_midnight_is_allowed(session, scenario: Scenario) -> None:
    world = await scenario.workspace()

    plan = await plans.create_plan(
        session=session,
        actor=world.owner.principal,
        workspace_id=world.workspace.id,
        name="Night",
        quota=Quota(1000, QuotaPeriod.DAY),
        time_window=TimeWindow([Weekday.SAT, Weekday.FRI], "22:00", "06:00", "America/New_York"),
    )

    assert plan.time_window == {
        "days": ["FRI", "SAT"],
        "start": "22:00",
        "end": "06:00",
        "timeZone": "America/New_York",
    }
    assert plan.rate_limit_requests is None
    assert plan.quota_requests == 1000


@pytest.mark.parametrize("zone", ["Nowhere/City", "", "localtime", "EST5EDT/x", "UTC"])
async def test_time_zones_are_checked_with_zoneinfo(session, scenario: Scenario, zone: str):
    world = await scenario.workspace()
    window = TimeWindow([Weekday.MON], "09:00", "17:00", zone)

    if zone == "UTC":
        plan = await plans.create_plan(
            session=session,
            actor=world.owner.principal,
            workspace_id=world.workspace.id,
            name="Office",
            time_window=window,
        )
        assert plan.time_window is not None
        assert plan.time_window["timeZone"] == "UTC"
        return
    with pytest.raises(InputError) as refused:
        await plans.create_plan(
            session=session,
            actor=world.owner.principal,
            workspace_id=world.workspace.id,
            name="Office",
            time_window=window,
        )
    assert [(e.field, e.code) for e in refused.value.errors] == [
        ("time_window.time_zone", UserErrorCode.INVALID)
    ]


async def test_updates_keep_or_clear_each_limit(session, scenario: Scenario) -> None:
    world = await scenario.workspace()
    plan = await plans.create_plan(
        session=session,
        actor=world.owner.principal,
        workspace_id=world.workspace.id,
        name="Gold",
        rate_limit=RateLimit(10, RateLimitPeriod.SECOND),
        quota=Quota(5, QuotaPeriod.MONTH),
    )

    updated = await plans.update_plan(
        session=session, actor=world.owner.principal, plan_id=plan.id, rate_limit=None, quota=KEEP
    )

    assert (updated.rate_limit_requests, updated.rate_limit_period) == (None, None)
    assert (updated.quota_requests, updated.quota_period) == (5, QuotaPeriod.MONTH)
