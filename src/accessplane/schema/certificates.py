"""Client certificates of MTLS apps."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from strawberry import relay

from accessplane import models
from accessplane.schema.base import UserError


@strawberry.type(
    description="A client certificate registered to an MTLS app: the public certificate only."
)
class AccessProfileCertificate(relay.Node):
    id: relay.NodeID[str]
    fingerprint: str = strawberry.field(
        description="Lowercase hex SHA-256 of the DER certificate: how the decision endpoint "
        "recognises the certificate a gateway forwards."
    )
    subject: str = strawberry.field(description="The subject's distinguished name (RFC 4514).")
    issuer: str = strawberry.field(description="The issuer's distinguished name (RFC 4514).")
    serial_number: str = strawberry.field(description="The serial number, lowercase hex.")
    not_before: datetime
    not_after: datetime = strawberry.field(
        description="After this the certificate is refused (certificate_expired); reminders "
        "go out 30, 7 and 1 days before."
    )
    pem: str = strawberry.field(description="The certificate in PEM.")
    created_at: datetime
    pk: strawberry.Private[uuid.UUID]
    workspace_id: strawberry.Private[uuid.UUID]
    access_profile_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, certificate: models.AccessProfileCertificate) -> AccessProfileCertificate:
        return cls(
            id=str(certificate.id),
            fingerprint=certificate.fingerprint,
            subject=certificate.subject,
            issuer=certificate.issuer,
            serial_number=certificate.serial_number,
            not_before=certificate.not_before,
            not_after=certificate.not_after,
            pem=certificate.pem,
            created_at=certificate.created_at,
            pk=certificate.id,
            workspace_id=certificate.workspace_id,
            access_profile_id=certificate.access_profile_id,
        )


@strawberry.input
class AddAccessProfileCertificateInput:
    access_profile_id: relay.GlobalID = strawberry.field(description="An MTLS app.")
    pem: str = strawberry.field(
        description="One client certificate in PEM (at most 16 KB), currently valid, not a CA "
        "certificate; never a private key (an input holding one is refused)."
    )


@strawberry.input
class RemoveAccessProfileCertificateInput:
    id: relay.GlobalID


@strawberry.type
class AddAccessProfileCertificatePayload:
    certificate: AccessProfileCertificate | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RemoveAccessProfileCertificatePayload:
    removed_certificate_id: relay.GlobalID | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
