"""The call log: one row per decision of the decision endpoint, allowed or denied."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index, LargeBinary
from sqlmodel import Field, SQLModel

from accessplane.models.base import UTCDateTime, new_id

# The longest request path kept; a longer one is cut (a gateway may send any URI).
MAX_PATH_LENGTH = 512
# PostgreSQL keeps a day's rows in a partition of this schema (docs/observability.md).
PARTITION_SCHEMA = "call_log_partitions"


class Call(SQLModel, table=True):
    """One decision, written in batches off the request path by ``decision/calls.py``.

    No foreign keys: a row outlives the app, member or API it names (and on PostgreSQL the
    table is partitioned by day, which foreign keys would make costlier to drop). A call with
    an unknown credential has no workspace: nobody's log shows it, operators read it in SQL.
    """

    __tablename__ = "call_log"
    __table_args__ = (
        # Every read is one workspace's time range, newest first (keyset on at, id).
        Index("ix_call_log_workspace_at", "workspace_id", "at", "id"),
        # Day partitions on PostgreSQL; SQLite ignores it (a plain table).
        {"postgresql_partition_by": "RANGE (at)"},
    )

    # The partition key must be part of the primary key; first, so pruning by time on SQLite
    # walks the key's order.
    at: datetime = Field(sa_type=UTCDateTime, primary_key=True)
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    workspace_id: uuid.UUID | None = Field(default=None)
    # The gateway caller (a ``GatewayCallerKind``: ACCESS_PROFILE or MEMBER) and its id.
    principal_type: str | None = Field(default=None, max_length=16)
    principal_id: uuid.UUID | None = Field(default=None)
    # The API as the gateway named it, and its id when the workspace has such an API.
    api_identifier: str = Field(default="", max_length=63)
    api_id: uuid.UUID | None = Field(default=None)
    # The operation the request matched, when the API declares operations.
    operation_id: uuid.UUID | None = Field(default=None)
    method: str = Field(default="", max_length=16)
    path: str = Field(default="", max_length=MAX_PATH_LENGTH)
    # 16 bytes (IPv4 as IPv4-mapped IPv6) so that a CIDR is a byte range on both databases.
    ip: bytes | None = Field(default=None, sa_type=LargeBinary(16))
    reason: str = Field(max_length=32)
    allowed: bool
    # How long the decision took, in microseconds (capped at 2**31 - 1: 35 minutes).
    latency_us: int = Field(default=0)
    request_id: str | None = Field(default=None, max_length=64)
