"""What the decision endpoint keeps in memory per credential: immutable, ready-to-check policies
built from the rows once, so a warm decision is a few dictionary and set look-ups."""

from __future__ import annotations

import base64
import ipaddress
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from limits import (
    RateLimitItem,
    RateLimitItemPerDay,
    RateLimitItemPerHour,
    RateLimitItemPerMinute,
    RateLimitItemPerSecond,
)

from accessplane.decision.operations import OperationGrant
from accessplane.decision.reasons import GatewayCallerKind
from accessplane.models.plans import QuotaPeriod, RateLimitPeriod
from accessplane.net import Network

_RATE_ITEMS = {
    RateLimitPeriod.SECOND: RateLimitItemPerSecond,
    RateLimitPeriod.MINUTE: RateLimitItemPerMinute,
    RateLimitPeriod.HOUR: RateLimitItemPerHour,
}
_DAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")


def global_id(type_name: str, value: uuid.UUID) -> str:
    """The GraphQL global id of a row (base64 of ``<Type>:<uuid>``, as Relay encodes it), so
    gateways and the console speak of the same ids; the data plane needs no GraphQL library."""
    return base64.b64encode(f"{type_name}:{value}".encode()).decode("ascii")


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """Days of the week and a daily window in a time zone; an end before the start runs past
    midnight into the next day (the days name the day a window starts)."""

    days: frozenset[int]  # 0 = Monday
    start: time
    end: time
    zone: ZoneInfo

    @classmethod
    def from_stored(cls, stored: dict[str, Any]) -> TimeWindow:
        return cls(
            days=frozenset(_DAYS.index(day) for day in stored["days"]),
            start=time.fromisoformat(stored["start"]),
            end=time.fromisoformat(stored["end"]),
            zone=ZoneInfo(stored["timeZone"]),
        )

    def contains(self, now: datetime) -> bool:
        local = now.astimezone(self.zone)
        clock, weekday = local.time().replace(tzinfo=None), local.weekday()
        if self.start < self.end:
            return weekday in self.days and self.start <= clock < self.end
        started_today = weekday in self.days and clock >= self.start
        started_yesterday = (weekday - 1) % 7 in self.days and clock < self.end
        return started_today or started_yesterday


@dataclass(frozen=True, slots=True)
class Quota:
    """Requests per calendar day or month (UTC)."""

    requests: int
    period: QuotaPeriod

    def window(self, now: datetime) -> tuple[str, int, RateLimitItem]:
        """The current period's key, the seconds until it ends, and a counter that outlives it
        (the key changes at the boundary, so the count starts again from zero)."""
        now = now.astimezone(UTC)
        if self.period is QuotaPeriod.DAY:
            start = now.replace(hour=0, minute=0, second=0, microsecond=0)
            end = start + timedelta(days=1)
            key, days = start.strftime("%Y-%m-%d"), 1
        else:
            start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
            end = (start + timedelta(days=32)).replace(day=1)
            key, days = start.strftime("%Y-%m"), 31
        seconds = max(1, int((end - now).total_seconds() + 0.999))
        return key, seconds, RateLimitItemPerDay(self.requests, days, namespace="QUOTA")


@dataclass(frozen=True, slots=True)
class PlanPolicy:
    """The limits of a plan."""

    id: uuid.UUID
    rate_limit: RateLimitItem | None
    quota: Quota | None
    window: TimeWindow | None

    @classmethod
    def from_row(cls, plan: Any) -> PlanPolicy:
        rate = None
        if plan.rate_limit_requests and plan.rate_limit_period:
            item = _RATE_ITEMS[RateLimitPeriod(plan.rate_limit_period)]
            rate = item(plan.rate_limit_requests, namespace="RATE")
        quota = None
        if plan.quota_requests and plan.quota_period:
            quota = Quota(plan.quota_requests, QuotaPeriod(plan.quota_period))
        window = TimeWindow.from_stored(plan.time_window) if plan.time_window else None
        return cls(id=plan.id, rate_limit=rate, quota=quota, window=window)


@dataclass(frozen=True, slots=True)
class GatewayCaller:
    """The caller of a gateway's API a decision was about (an app or a workspace member), as
    the answer's ``principal`` shows it (global ids computed once). Not ``auth``'s
    ``Principal``, the caller of AccessPlane's own API."""

    type: GatewayCallerKind
    id: uuid.UUID
    name: str
    workspace_id: uuid.UUID
    client_id: uuid.UUID | None
    gid: str
    workspace_gid: str
    client_gid: str | None

    @classmethod
    def create(
        cls,
        type: GatewayCallerKind,
        id: uuid.UUID,
        name: str,
        workspace_id: uuid.UUID,
        client_id: uuid.UUID | None = None,
        intern: Callable[[Any], Any] = lambda value: value,
    ) -> GatewayCaller:
        kind = "AccessProfile" if type is GatewayCallerKind.ACCESS_PROFILE else "Member"
        return cls(
            type=type,
            id=id,
            name=name,
            workspace_id=intern(workspace_id),
            client_id=intern(client_id),
            gid=global_id(kind, id),
            workspace_gid=intern(global_id("Workspace", workspace_id)),
            client_gid=intern(global_id("Client", client_id)) if client_id else None,
        )

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "type": self.type,  # a StrEnum: JSON writes its value
            "id": self.gid,
            "name": self.name,
            "workspaceId": self.workspace_gid,
        }
        if self.client_gid is not None:
            data["clientId"] = self.client_gid
        return data

    def headers(self) -> list[tuple[bytes, bytes]]:
        """The identity a gateway passes upstream, as raw ASGI header pairs."""
        headers = [
            (b"x-accessplane-principal-type", self.type.encode()),
            (b"x-accessplane-principal-id", self.gid.encode()),
            (b"x-accessplane-workspace-id", self.workspace_gid.encode()),
        ]
        if self.client_gid is not None:
            headers.append((b"x-accessplane-client-id", self.client_gid.encode()))
        return headers


@dataclass(frozen=True, slots=True)
class AppPolicy:
    """An access profile (app) with everything its decisions need."""

    caller: GatewayCaller
    client_active: bool
    networks: tuple[Network, ...]  # empty: any address
    apis: frozenset[str]  # identifiers of the APIs in the app's products
    plan: PlanPolicy | None
    audience: str = ""
    required_scopes: frozenset[str] = frozenset()
    tags: tuple[str, ...] = ()
    # The app's APIs that declare operations, by identifier: which of them it may call.
    operations: Mapping[str, OperationGrant] = field(default_factory=dict, hash=False)
    # Token methods: tokens must carry the presented certificate's RFC 8705 x5t#S256.
    certificate_bound_tokens: bool = False
    # Suspended by an alert rule until an admin resumes the app.
    suspended: bool = False

    def ip_allowed(self, ip: str | None) -> bool:
        if not self.networks:
            return True
        if ip is None:
            return False
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return False
        if address.version == 6 and address.ipv4_mapped is not None:
            address = address.ipv4_mapped  # ::ffff:203.0.113.7 is 203.0.113.7
        return any(address in network for network in self.networks)


@dataclass(frozen=True, slots=True)
class MemberAccess:
    """A workspace member's reach to one API (direct grant, group grant or ``allApis``)."""

    caller: GatewayCaller
    granted: bool
    tags: tuple[str, ...] = ()
