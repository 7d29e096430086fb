"""The decision counts of each app."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlmodel import col

from accessplane.decision.reasons import GatewayCallerKind
from accessplane.loaders.base import ListLoader
from accessplane.models import CredentialUsage


class UsageByAccessProfileIdLoader(ListLoader[CredentialUsage]):
    """The usage rows of each app, one per reason, by reason: one query per batch (the primary
    key's prefix, principal type and id, serves it)."""

    def query(self, keys: Sequence[uuid.UUID]) -> Select[Any, uuid.UUID]:
        return (
            select(CredentialUsage, col(CredentialUsage.principal_id))
            .where(
                col(CredentialUsage.principal_type) == GatewayCallerKind.ACCESS_PROFILE.value,
                col(CredentialUsage.principal_id).in_(keys),
            )
            .order_by(col(CredentialUsage.principal_id), col(CredentialUsage.reason))
        )
