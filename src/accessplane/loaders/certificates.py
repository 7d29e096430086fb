"""The client certificates registered to each app."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlmodel import col

from accessplane.loaders.base import ListLoader
from accessplane.models import AccessProfileCertificate


class CertificatesByAccessProfileIdLoader(ListLoader[AccessProfileCertificate]):
    """Each app's certificates (at most a few), the soonest to expire first."""

    def query(self, keys: Sequence[uuid.UUID]) -> Select[Any, uuid.UUID]:
        return (
            select(AccessProfileCertificate, col(AccessProfileCertificate.access_profile_id))
            .where(col(AccessProfileCertificate.access_profile_id).in_(keys))
            .order_by(col(AccessProfileCertificate.not_after), col(AccessProfileCertificate.id))
        )
