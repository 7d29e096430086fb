"""Helpers shared by every credential AccessPlane issues (API Access keys, app tokens): a
compare-and-set on a ``version`` column, so of concurrent token changes exactly one wins."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from accessplane.db import changes
from accessplane.errors import InputError, UserErrorCode


def conflict(label: str, field: str = "id") -> InputError:
    """The userError of the loser of a concurrent change: nothing was written."""
    return InputError.one(
        field,
        f"The {label} was changed by a concurrent request; nothing was changed. "
        "Reload it and try again.",
        UserErrorCode.CONFLICT,
    )


async def compare_and_set(
    session: AsyncSession,
    model: type[Any],
    object_id: uuid.UUID,
    seen_version: int,
    *,
    label: str,
    **values: Any,
) -> None:
    """Write ``values`` and bump the version, only if nobody did since ``seen_version`` was
    read (PostgreSQL re-checks the condition after waiting for a concurrent writer); otherwise
    raise the CONFLICT userError, and the caller's transaction rolls back."""
    changed = await session.execute(
        update(model)
        .where(model.id == object_id, model.version == seen_version)
        .values(version=seen_version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise conflict(label)
    changes.changed(session, changes.tag(model.__tablename__, object_id))
