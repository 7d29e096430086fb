"""Call log rows for tests that read the log: inserted at once, as the writer would have."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accessplane.models import Call
from accessplane.services.calls import ensure_partitions, ip_bytes

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def add_calls(
    session: AsyncSession,
    workspace_id: uuid.UUID | None,
    count: int = 1,
    *,
    start: datetime = START,
    step: timedelta = timedelta(seconds=1),
    ip: str | None = "198.51.100.4",
    **fields: Any,
) -> list[Call]:
    """``count`` calls of the workspace, one ``step`` apart from ``start`` on, each with
    ``fields`` (an allowed GET of ``orders`` by default); committed."""
    rows = [
        Call(
            at=start + step * i,
            workspace_id=workspace_id,
            **{
                "api_identifier": "orders",
                "method": "GET",
                "path": f"/orders/{i}",
                "ip": ip_bytes(ip),
                "reason": "ok",
                "allowed": True,
                "latency_us": 100 + i,
                "request_id": f"req-{i}",
                **fields,
            },
        )
        for i in range(count)
    ]
    # The writer makes a day's partition before its first row (PostgreSQL); so do the tests.
    sessions = async_sessionmaker(session.bind, expire_on_commit=False)
    await ensure_partitions(sessions, {row.at.astimezone(UTC).date() for row in rows})
    session.add_all(rows)
    await session.commit()
    return rows
