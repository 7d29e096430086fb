"""What a page of the call log links to: the APIs of its rows, as the viewer may see them."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence

from aiodataloader import DataLoader
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accessplane.auth.principals import Principal
from accessplane.models import Api
from accessplane.services.scoping import accessible_api_clause

# (workspace id, API id)
ApiKey = tuple[uuid.UUID, uuid.UUID]


class ReachableApiByIdLoader(DataLoader[ApiKey, Api | None]):
    """APIs by (workspace, id), each only if the viewer reaches it by the access rule (None
    otherwise, as for a deleted API): one ``WHERE id IN (…)`` per workspace and batch."""

    def __init__(self, session: AsyncSession, viewer: Principal) -> None:
        super().__init__()
        self.session = session
        self.viewer = viewer

    async def batch_load_fn(self, keys: Sequence[ApiKey]) -> list[Api | None]:
        by_workspace: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
        for workspace_id, api_id in keys:
            by_workspace[workspace_id].append(api_id)
        found: dict[ApiKey, Api] = {}
        for workspace_id, api_ids in by_workspace.items():
            rows = await self.session.scalars(
                select(Api).where(
                    col(Api.id).in_(api_ids),
                    col(Api.workspace_id) == workspace_id,
                    accessible_api_clause(self.viewer, workspace_id),
                )
            )
            found.update({(workspace_id, row.id): row for row in rows})
        return [found.get(key) for key in keys]
