"""Plan mutations."""

from __future__ import annotations

from typing import Any

import strawberry

from accessplane.auth.permissions import Permission
from accessplane.context import Info
from accessplane.schema.base import decode_id, to_global_id, user_errors_as_payload
from accessplane.schema.permissions import requires
from accessplane.schema.plans import (
    CreatePlanInput,
    DeletePlanInput,
    DeletePlanPayload,
    Plan,
    PlanPayload,
    QuotaInput,
    RateLimitInput,
    TimeWindowInput,
    UpdatePlanInput,
)
from accessplane.services import plans


def _rate_limit(value: RateLimitInput | None) -> plans.RateLimit | None:
    return plans.RateLimit(value.requests, value.period) if value is not None else None


def _quota(value: QuotaInput | None) -> plans.Quota | None:
    return plans.Quota(value.requests, value.period) if value is not None else None


def _window(value: TimeWindowInput | None) -> plans.TimeWindow | None:
    if value is None:
        return None
    return plans.TimeWindow(
        days=list(value.days), start=value.start, end=value.end, time_zone=value.time_zone
    )


def _kept(value: Any, convert: Any) -> Any:
    """An update's field: left out keeps the value, null clears it."""
    return plans.KEEP if value is strawberry.UNSET else convert(value)


@strawberry.type
class PlanMutations:
    @strawberry.mutation(extensions=requires(Permission.MANAGE_PLANS))
    @user_errors_as_payload
    async def create_plan(self, info: Info, input: CreatePlanInput) -> PlanPayload:
        ctx = info.context
        plan = await plans.create_plan(
            session=ctx.session,
            actor=ctx.principal,
            workspace_id=decode_id(input.workspace_id, "Workspace", field="workspaceId"),
            name=input.name,
            description=input.description,
            rate_limit=_rate_limit(input.rate_limit),
            quota=_quota(input.quota),
            time_window=_window(input.time_window),
            auto_approve=input.auto_approve,
        )
        return PlanPayload(plan=Plan.from_model(plan))

    @strawberry.mutation(
        extensions=requires(Permission.MANAGE_PLANS),
        description="Apps on the plan get the new limits on their next decision.",
    )
    @user_errors_as_payload
    async def update_plan(self, info: Info, input: UpdatePlanInput) -> PlanPayload:
        ctx = info.context
        plan = await plans.update_plan(
            session=ctx.session,
            actor=ctx.principal,
            plan_id=decode_id(input.id, "Plan", field="id"),
            name=input.name,
            description=input.description,
            rate_limit=_kept(input.rate_limit, _rate_limit),
            quota=_kept(input.quota, _quota),
            time_window=_kept(input.time_window, _window),
            auto_approve=input.auto_approve,
        )
        return PlanPayload(plan=Plan.from_model(plan))

    @strawberry.mutation(
        extensions=requires(Permission.MANAGE_PLANS),
        description="Delete a plan no app is on and no pending request names.",
    )
    @user_errors_as_payload
    async def delete_plan(self, info: Info, input: DeletePlanInput) -> DeletePlanPayload:
        ctx = info.context
        plan = await plans.delete_plan(
            session=ctx.session,
            actor=ctx.principal,
            plan_id=decode_id(input.id, "Plan", field="id"),
        )
        return DeletePlanPayload(deleted_plan_id=to_global_id("Plan", plan.id))
