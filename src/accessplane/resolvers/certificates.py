"""Client certificate mutations (MTLS apps)."""

from __future__ import annotations

import strawberry

from accessplane.auth.permissions import Permission
from accessplane.context import Info
from accessplane.schema.base import decode_id, to_global_id, user_errors_as_payload
from accessplane.schema.certificates import (
    AccessProfileCertificate,
    AddAccessProfileCertificateInput,
    AddAccessProfileCertificatePayload,
    RemoveAccessProfileCertificateInput,
    RemoveAccessProfileCertificatePayload,
)
from accessplane.schema.permissions import requires
from accessplane.services import certificates


@strawberry.type
class CertificateMutations:
    @strawberry.mutation(
        extensions=requires(Permission.MANAGE_CLIENTS),
        description="Register a client certificate to an MTLS app; the gateway's requests "
        "presenting it are the app's from the next decision on.",
    )
    @user_errors_as_payload
    async def add_access_profile_certificate(
        self, info: Info, input: AddAccessProfileCertificateInput
    ) -> AddAccessProfileCertificatePayload:
        ctx = info.context
        certificate = await certificates.add_access_profile_certificate(
            session=ctx.session,
            actor=ctx.principal,
            access_profile_id=decode_id(
                input.access_profile_id, "AccessProfile", field="accessProfileId"
            ),
            pem=input.pem,
        )
        return AddAccessProfileCertificatePayload(
            certificate=AccessProfileCertificate.from_model(certificate)
        )

    @strawberry.mutation(
        extensions=requires(Permission.MANAGE_CLIENTS),
        description="Remove a client certificate from its app: requests presenting it are "
        "refused from the next decision on.",
    )
    @user_errors_as_payload
    async def remove_access_profile_certificate(
        self, info: Info, input: RemoveAccessProfileCertificateInput
    ) -> RemoveAccessProfileCertificatePayload:
        ctx = info.context
        certificate = await certificates.remove_access_profile_certificate(
            session=ctx.session,
            actor=ctx.principal,
            certificate_id=decode_id(input.id, "AccessProfileCertificate", field="id"),
        )
        return RemoveAccessProfileCertificatePayload(
            removed_certificate_id=to_global_id("AccessProfileCertificate", certificate.id)
        )
