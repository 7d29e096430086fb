"""The call log's list: decode the filter, ask the service, map the page."""

from __future__ import annotations

import uuid

from accessplane.context import Info
from accessplane.schema.base import Connection, decode_ids, parse_page, root_connection
from accessplane.schema.calls import Call, CallFilter
from accessplane.services import calls


async def workspace_calls(
    info: Info,
    workspace_id: uuid.UUID,
    filter: CallFilter | None,
    first: int | None,
    after: str | None,
) -> Connection[Call]:  # type: ignore[type-var]  # a call is no Node (see schema/calls.py)
    """``Workspace.calls``: one page, newest first."""
    ctx = info.context
    wanted = filter or CallFilter()
    page = await calls.list_calls(
        session=ctx.session,
        actor=ctx.principal,
        workspace_id=workspace_id,
        filter=calls.CallFilter(
            access_profile_ids=decode_ids(
                wanted.access_profile_ids, "AccessProfile", field="accessProfileIds"
            )
            if wanted.access_profile_ids is not None
            else None,
            api_ids=decode_ids(wanted.api_ids, "Api", field="apiIds")
            if wanted.api_ids is not None
            else None,
            reasons=wanted.reasons,
            allowed=wanted.allowed,
            ip=wanted.ip,
            from_=wanted.from_,
            to=wanted.to,
        ),
        args=parse_page(first, after, maximum=ctx.settings.max_page_size),
    )
    return root_connection(ctx.session, page, Call.from_model)  # type: ignore[type-var]
