"""Client certificates of MTLS apps: registering and removing them.

An ``MTLS`` app is recognised by the client certificate its gateway forwards: the decision
endpoint looks the certificate's fingerprint (lowercase hex SHA-256 of its DER) up among the
registered ones. A fingerprint identifies one app across every workspace, so a certificate is
registered once. Only the public certificate is kept; an input that holds a private key is
refused and nothing of it is stored or logged. Registering and removing certificates is
changing the app: it needs ``manageClients``, as ``updateAccessProfile`` does.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import ExtendedKeyUsageOID
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accessplane.auth.principals import Principal
from accessplane.db import transaction
from accessplane.errors import InputError, NotFound, UserErrorCode
from accessplane.models import AccessProfile, AccessProfileCertificate, AuthMethod
from accessplane.models.base import utcnow
from accessplane.services.access_profiles import get_managed_profile, get_visible_profile
from accessplane.services.audit import AuditAction, record_change
from accessplane.services.credentials import compare_and_set
from accessplane.services.tenancy import load_in_workspace

# A client certificate is one to a few KB; the bound keeps parsing cheap whatever is pasted.
MAX_PEM_BYTES = 16 * 1024
MAX_CERTIFICATES_PER_APP = 10
MAX_NAME_LENGTH = 1000  # subject and issuer, RFC 4514
MAX_SERIAL_LENGTH = 64  # hex digits; RFC 5280 allows 20 octets (40 digits)

_BEGIN_CERTIFICATE = "-----BEGIN CERTIFICATE-----"
_PRIVATE_KEY_MARK = "PRIVATE KEY-----"  # "RSA PRIVATE KEY", "ENCRYPTED PRIVATE KEY", …
_CLIENT_USAGES = (ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE)
_FIELD = "pem"


@dataclass(frozen=True, slots=True)
class ParsedCertificate:
    """What is stored of a registered certificate."""

    fingerprint: str
    subject: str
    issuer: str
    serial_number: str
    not_before: datetime
    not_after: datetime
    pem: str


def _refuse(message: str, code: UserErrorCode = UserErrorCode.INVALID) -> InputError:
    return InputError.one(_FIELD, message, code)


def _one_certificate_block(pem: str) -> None:
    """Refuse, before any parsing, what is not exactly one PEM certificate (and a key)."""
    if not pem.strip():
        raise _refuse("Paste the app's client certificate (PEM).", UserErrorCode.REQUIRED)
    if _PRIVATE_KEY_MARK in pem:
        # Say so plainly: the key may have to be treated as exposed.
        raise _refuse(
            "The input holds a private key; nothing was stored. Register the certificate "
            "alone and keep its key with the app (replace the key if it was shared)."
        )
    if len(pem.encode()) > MAX_PEM_BYTES:
        raise _refuse(
            f"A certificate in PEM is at most {MAX_PEM_BYTES // 1024} KB; this input is larger.",
            UserErrorCode.TOO_LONG,
        )
    blocks = pem.count(_BEGIN_CERTIFICATE)
    if blocks == 0:
        raise _refuse(
            "This is not a PEM certificate: it must start with '-----BEGIN CERTIFICATE-----'."
        )
    if blocks > 1:
        raise _refuse(
            f"One certificate at a time: the input holds {blocks}. Register the app's own "
            "(leaf) certificate, without its CA chain."
        )


def _load(pem: str) -> x509.Certificate:
    try:
        certificate = x509.load_pem_x509_certificate(pem.encode())
        # Extensions are decoded lazily; a malformed one must fail here, not later.
        certificate.extensions  # noqa: B018
        return certificate
    except ValueError:
        raise _refuse("This is not a valid X.509 certificate (its PEM does not decode).") from None


def _check_use(certificate: x509.Certificate, now: datetime) -> None:
    """Refuse a certificate no gateway would accept from a client now."""
    if certificate.not_valid_after_utc <= now:
        raise _refuse(
            f"The certificate expired on {certificate.not_valid_after_utc:%Y-%m-%d %H:%M} UTC."
        )
    if certificate.not_valid_before_utc > now:
        raise _refuse(
            "The certificate is not valid yet: it is valid from "
            f"{certificate.not_valid_before_utc:%Y-%m-%d %H:%M} UTC."
        )
    extensions = certificate.extensions
    try:
        if extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
            raise _refuse(
                "This is a CA certificate; register the app's own client certificate "
                "(the gateway trusts the CA)."
            )
    except x509.ExtensionNotFound:
        pass
    try:
        usages = extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return
    if not any(usage in usages for usage in _CLIENT_USAGES):
        raise _refuse("The certificate is not for client authentication (extendedKeyUsage).")


def parse_certificate(pem: str, *, now: datetime) -> ParsedCertificate:
    """One client certificate in PEM, valid at ``now``, not a CA's; InputError on ``pem``
    otherwise. The stored PEM is the certificate re-encoded alone (text around it is dropped)."""
    _one_certificate_block(pem)
    certificate = _load(pem)
    _check_use(certificate, now)
    subject = certificate.subject.rfc4514_string()
    issuer = certificate.issuer.rfc4514_string()
    serial = format(certificate.serial_number, "x")
    if max(len(subject), len(issuer)) > MAX_NAME_LENGTH or len(serial) > MAX_SERIAL_LENGTH:
        raise _refuse(
            f"The certificate's subject or issuer is over {MAX_NAME_LENGTH} characters, or "
            f"its serial number over {MAX_SERIAL_LENGTH} hex digits."
        )
    return ParsedCertificate(
        fingerprint=certificate.fingerprint(hashes.SHA256()).hex(),
        subject=subject,
        issuer=issuer,
        serial_number=serial,
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
    )


def summary(certificate: AccessProfileCertificate) -> dict[str, Any]:
    """What the audit log keeps of a certificate (never the PEM: it is in the table)."""
    return {
        "accessProfileId": str(certificate.access_profile_id),
        "fingerprint": certificate.fingerprint,
        "subject": certificate.subject,
        "issuer": certificate.issuer,
        "serialNumber": certificate.serial_number,
        "notAfter": certificate.not_after.isoformat(),
    }


async def _count(session: AsyncSession, profile_id: uuid.UUID) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(AccessProfileCertificate)
            .where(col(AccessProfileCertificate.access_profile_id) == profile_id)
        )
        or 0
    )


def _already_registered(owner: uuid.UUID | None, profile_id: uuid.UUID) -> InputError:
    # Another app's (maybe another workspace's) is not named: only that it is taken.
    where = "to this app" if owner == profile_id else "to another app"
    return _refuse(
        f"This certificate is already registered {where}; a certificate identifies one app.",
        UserErrorCode.DUPLICATE,
    )


async def _check_room(
    session: AsyncSession, profile: AccessProfile, parsed: ParsedCertificate
) -> None:
    owner = await session.scalar(
        select(col(AccessProfileCertificate.access_profile_id)).where(
            col(AccessProfileCertificate.fingerprint) == parsed.fingerprint
        )
    )
    if owner is not None:
        raise _already_registered(owner, profile.id)
    if await _count(session, profile.id) >= MAX_CERTIFICATES_PER_APP:
        raise _refuse(
            f"An app holds at most {MAX_CERTIFICATES_PER_APP} certificates; remove one first.",
        )


async def add_access_profile_certificate(
    *,
    session: AsyncSession,
    actor: Principal,
    access_profile_id: uuid.UUID,
    pem: str,
    now: datetime | None = None,
) -> AccessProfileCertificate:
    """Register a client certificate to an ``MTLS`` app. The app's version is bumped in the
    same transaction, so of concurrent additions the limit holds (one wins, the other is a
    CONFLICT) and the decision endpoint's caches drop the app and the fingerprint."""
    profile = await get_managed_profile(session, actor, access_profile_id)
    if profile.auth_method is not AuthMethod.MTLS:
        raise InputError.one(
            "access_profile_id",
            f"Certificates are registered to MTLS apps; this app uses {profile.auth_method.value}.",
            UserErrorCode.INVALID,
        )
    moment = now or utcnow()
    parsed = parse_certificate(pem, now=moment)
    await _check_room(session, profile, parsed)
    certificate = AccessProfileCertificate(
        workspace_id=profile.workspace_id,
        access_profile_id=profile.id,
        **asdict(parsed),
        created_at=moment,
    )
    try:
        async with transaction(session):
            await compare_and_set(
                session,
                AccessProfile,
                profile.id,
                profile.version,
                label="access profile",
                updated_at=moment,
            )
            session.add(certificate)
            await session.flush()
            await session.refresh(profile)  # its new version, for the session's next change
            record_change(
                session,
                actor,
                certificate,
                AuditAction.ADD_ACCESS_PROFILE_CERTIFICATE,
                after=summary(certificate),
            )
    except IntegrityError:
        # Registered meanwhile (the fingerprint is unique): to which app is not said.
        raise _already_registered(None, profile.id) from None
    return certificate


async def remove_access_profile_certificate(
    *,
    session: AsyncSession,
    actor: Principal,
    certificate_id: uuid.UUID,
    now: datetime | None = None,
) -> AccessProfileCertificate:
    """Remove a registered certificate: the gateway's next request with it is refused."""
    certificate = await load_in_workspace(
        session, actor, AccessProfileCertificate, certificate_id, label="Certificate"
    )
    try:
        profile = await get_managed_profile(session, actor, certificate.access_profile_id)
    except NotFound:
        raise NotFound("Certificate not found.") from None
    async with transaction(session):
        await compare_and_set(
            session,
            AccessProfile,
            profile.id,
            profile.version,
            label="access profile",
            updated_at=now or utcnow(),
        )
        await session.refresh(profile)
        record_change(
            session,
            actor,
            certificate,
            AuditAction.REMOVE_ACCESS_PROFILE_CERTIFICATE,
            before=summary(certificate),
        )
        await session.delete(certificate)
    return certificate


async def get_visible_certificate(
    session: AsyncSession, actor: Principal, certificate_id: uuid.UUID
) -> AccessProfileCertificate:
    """A certificate whose app the principal may see (``node``)."""
    certificate = await load_in_workspace(
        session, actor, AccessProfileCertificate, certificate_id, label="Certificate"
    )
    try:
        await get_visible_profile(session, actor, certificate.access_profile_id)
    except NotFound:
        raise NotFound("Certificate not found.") from None
    return certificate
