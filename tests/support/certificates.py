"""X.509 test certificates made with ``cryptography``: a CA that issues client (and server)
certificates, valid or expired or not yet valid, and the malformed inputs the registration
must refuse.

    ca = CertificateAuthority.create()
    good = ca.issue("orders-app")                       # valid from an hour ago for 90 days
    old = ca.issue("old", not_after=utcnow() - timedelta(days=1), not_before=...)
    expired_certificate(ca), not_yet_valid_certificate(ca), unknown_ca_certificate()
    good.pem, good.der, good.fingerprint (lowercase hex SHA-256 of the DER), good.key_pem,
    good.x5t_s256 (RFC 8705 ``cnf`` value), good.pem_with_key (a PEM that must be refused)
    app = await mtls_app(scenario, world); await register(scenario, world, app, good)

Keys are P-256 (fast to generate; every test may make its own CA)."""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from accessplane.models import (
    AccessProfile,
    AccessProfileCertificate,
    ApiProduct,
    AuthMethod,
    Client,
)
from accessplane.services import access_profiles, certificates
from tests.support.scenario import Scenario, World

GARBAGE_PEM = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n"
NOT_PEM = "this is not a certificate"


def _now() -> datetime:
    return datetime.now(UTC)


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "AccessPlane Tests"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _key_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@dataclass(frozen=True)
class IssuedCertificate:
    """A certificate with its private key, in the forms tests and gateways need."""

    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def pem(self) -> str:
        """The certificate alone, PEM (what a consumer registers)."""
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode()

    @property
    def der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    @property
    def fingerprint(self) -> str:
        """Lowercase hex SHA-256 of the DER: the stored ``fingerprint``."""
        return hashlib.sha256(self.der).hexdigest()

    @property
    def x5t_s256(self) -> str:
        """RFC 8705 ``cnf``.``x5t#S256``: base64url SHA-256 of the DER, unpadded."""
        digest = hashlib.sha256(self.der).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    @property
    def key_pem(self) -> str:
        """The private key, unencrypted PKCS#8 PEM."""
        return _key_pem(self.key)

    @property
    def pem_with_key(self) -> str:
        """Certificate and private key in one PEM: registration must refuse it."""
        return self.pem + self.key_pem

    @property
    def escaped_pem(self) -> str:
        """URL-encoded PEM, as nginx's ``$ssl_client_escaped_cert`` forwards it."""
        return quote(self.pem, safe="")

    @property
    def serial_hex(self) -> str:
        return format(self.certificate.serial_number, "x")

    def write(self, directory: Path, stem: str) -> tuple[Path, Path]:
        """Write ``<stem>.crt`` and ``<stem>.key`` (for nginx, curl, httpx); their paths."""
        cert_path, key_path = directory / f"{stem}.crt", directory / f"{stem}.key"
        cert_path.write_text(self.pem)
        key_path.write_text(self.key_pem)
        key_path.chmod(0o600)
        return cert_path, key_path


@dataclass(frozen=True)
class CertificateAuthority:
    """A self-signed CA (basicConstraints CA=true) that issues leaf certificates."""

    issued: IssuedCertificate

    @classmethod
    def create(cls, common_name: str = "AccessPlane Test CA") -> CertificateAuthority:
        """A new CA with a new key, valid from a day ago for ten years."""
        key, now = _new_key(), _now()
        name = _name(common_name)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .sign(key, hashes.SHA256())
        )
        return cls(IssuedCertificate(certificate, key))

    @property
    def pem(self) -> str:
        """The CA certificate, PEM (nginx's ``ssl_client_certificate``)."""
        return self.issued.pem

    @property
    def certificate(self) -> x509.Certificate:
        return self.issued.certificate

    def issue(
        self,
        common_name: str = "client.example",
        not_before: datetime | None = None,
        not_after: datetime | None = None,
        *,
        ca: bool = False,
        server_names: tuple[str, ...] = (),
    ) -> IssuedCertificate:
        """A certificate signed by this CA: by default a client certificate valid from an hour
        ago for 90 days. ``ca=True`` makes an intermediate CA certificate; ``server_names``
        (DNS names or IP addresses) make a server certificate for them."""
        now, key = _now(), _new_key()
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before or now - timedelta(hours=1))
            .not_valid_after(not_after or now + timedelta(days=90))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.issued.key.public_key()),
                critical=False,
            )
        )
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server_names else ExtendedKeyUsageOID.CLIENT_AUTH
        if not ca:
            builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        if server_names:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([_general_name(name) for name in server_names]),
                critical=False,
            )
        return IssuedCertificate(builder.sign(self.issued.key, hashes.SHA256()), key)

    def write(self, directory: Path, stem: str = "ca") -> Path:
        """Write the CA certificate as ``<stem>.crt``; its path."""
        path = directory / f"{stem}.crt"
        path.write_text(self.pem)
        return path


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def expired_certificate(
    ca: CertificateAuthority, common_name: str = "expired.example"
) -> IssuedCertificate:
    """Valid for 30 days until yesterday."""
    now = _now()
    return ca.issue(common_name, now - timedelta(days=31), now - timedelta(days=1))


def not_yet_valid_certificate(
    ca: CertificateAuthority, common_name: str = "future.example"
) -> IssuedCertificate:
    """Valid from tomorrow for 90 days."""
    now = _now()
    return ca.issue(common_name, now + timedelta(days=1), now + timedelta(days=91))


def expiring_certificate(
    ca: CertificateAuthority, in_: timedelta, common_name: str = "expiring.example"
) -> IssuedCertificate:
    """Valid from a day ago until ``in_`` from now (for expiry reminders)."""
    now = _now()
    return ca.issue(common_name, now - timedelta(days=1), now + in_)


def unknown_ca_certificate(common_name: str = "stranger.example") -> IssuedCertificate:
    """A valid client certificate of a CA nobody trusts (a fresh one)."""
    return CertificateAuthority.create("Unknown Test CA").issue(common_name)


# -- MTLS apps in test worlds (through the real services) ------------------------------------


async def mtls_app(
    scenario: Scenario,
    world: World,
    client: Client | None = None,
    name: str | None = None,
    *,
    products: list[ApiProduct] | None = None,
) -> AccessProfile:
    """An ``MTLS`` app made by the world's owner (a new client's unless ``client`` is given)."""
    issued = await access_profiles.create_access_profile(
        session=scenario.session,
        actor=world.owner.principal,
        secret=scenario.secret,
        client_id=(client or await scenario.client(world)).id,
        name=name or f"MTLS app {uuid.uuid4().hex[:8]}",
        auth_method=AuthMethod.MTLS,
        product_ids=[p.id for p in products or []],
    )
    return issued.access_profile


async def register(
    scenario: Scenario, world: World, app: AccessProfile, issued: IssuedCertificate
) -> AccessProfileCertificate:
    """Register ``issued`` to the MTLS ``app`` as the world's owner."""
    return await certificates.add_access_profile_certificate(
        session=scenario.session,
        actor=world.owner.principal,
        access_profile_id=app.id,
        pem=issued.pem,
    )
