"""Client certificates of MTLS apps, and the expiry reminders sent for them."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from accessplane.models.base import UTCDateTime, new_id, utcnow


class AccessProfileCertificate(SQLModel, table=True):
    """A client certificate registered to an app. Only the public certificate is kept; the
    fingerprint is globally unique because a presented certificate identifies one app."""

    __tablename__ = "access_profile_certificate"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    workspace_id: uuid.UUID = Field(foreign_key="workspace.id", ondelete="CASCADE", index=True)
    access_profile_id: uuid.UUID = Field(
        foreign_key="access_profile.id", ondelete="CASCADE", index=True
    )
    # Lowercase hex SHA-256 of the DER certificate (RFC 8705's x5t#S256, hex-encoded).
    fingerprint: str = Field(max_length=64, unique=True)
    subject: str = Field(max_length=1000)  # RFC 4514
    issuer: str = Field(max_length=1000)  # RFC 4514
    serial_number: str = Field(max_length=64)  # hex
    not_before: datetime = Field(sa_type=UTCDateTime)
    not_after: datetime = Field(sa_type=UTCDateTime)
    pem: str = Field(sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CertificateReminder(SQLModel, table=True):
    """An expiry reminder threshold handled for one certificate; the primary key makes each
    (certificate, threshold) happen once, whatever the number of workers."""

    __tablename__ = "certificate_reminder"

    certificate_id: uuid.UUID = Field(
        foreign_key="access_profile_certificate.id", ondelete="CASCADE", primary_key=True
    )
    threshold_days: int = Field(primary_key=True)  # 30, 7, 1, or 0 for "has expired"
    sent_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
