"""Client certificates forwarded by gateways: reading them from each gateway's header, the
SHA-256 fingerprint that identifies an MTLS app, and the RFC 8705 ``x5t#S256`` binding of
certificate-bound tokens (docs/decision.md, "Certificate-bound apps (mTLS)").

A forwarded header is client-controlled data as far as its size and shape go, so everything is
bounded before any decoding (the header, the text of one certificate, its DER) and X.509 is
parsed by ``cryptography`` only. Results are kept in a bounded LRU keyed by the header's bytes:
a gateway forwards the same few certificates over and over, and a warm request parses nothing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from cryptography import x509

from accessplane.decision.reasons import Reason

# A leaf certificate is 1-3 KB of DER (RSA-4096 with a few names stays under 2.5 KB); 8 KB
# leaves room for long subject names without letting a header cost more than a few KB.
MAX_CERTIFICATE_BYTES = 8 * 1024
# One certificate as text (base64 is 4/3 of the DER, plus PEM armour, line breaks and URL
# escapes of those): larger text is refused before it is decoded.
MAX_CERTIFICATE_TEXT = 3 * MAX_CERTIFICATE_BYTES
# A whole forwarded header: Traefik and Envoy may append the chain or several proxies' elements.
MAX_HEADER_BYTES = 64 * 1024
# Parse results kept per header value (a few hundred bytes each with the key's certificate).
PARSED_CACHE_SIZE = 4096

# Envoy's header: elements ``Hash=…;Cert="…";…``, one per proxy that appended one.
XFCC_HEADER = "x-forwarded-client-cert"
_PEM_BEGIN = "-----BEGIN CERTIFICATE-----"
_PEM_END = "-----END CERTIFICATE-----"


@dataclass(frozen=True, slots=True)
class ClientCertificate:
    """A presented certificate, known by the SHA-256 digest of its DER (empty: something was
    forwarded but it is not a readable certificate)."""

    digest: bytes

    @property
    def readable(self) -> bool:
        return len(self.digest) == 32

    @property
    def fingerprint(self) -> str:
        """Lowercase hex SHA-256 of the DER, as ``AccessProfileCertificate.fingerprint``."""
        return self.digest.hex()

    @property
    def thumbprint(self) -> str:
        """RFC 8705 ``x5t#S256``: base64url (no padding) of the same digest."""
        return base64.urlsafe_b64encode(self.digest).rstrip(b"=").decode("ascii")


UNREADABLE = ClientCertificate(b"")
_MISSING = object()


def from_der(der: bytes) -> ClientCertificate:
    """The certificate of these DER bytes (UNREADABLE if they are not one, or too long)."""
    if not der or len(der) > MAX_CERTIFICATE_BYTES:
        return UNREADABLE
    try:
        x509.load_der_x509_certificate(der)
    except ValueError:
        return UNREADABLE
    return ClientCertificate(hashlib.sha256(der).digest())


def _b64decode(text: str) -> bytes | None:
    compact = "".join(text.split())
    if "-" in compact or "_" in compact:  # the URL-safe alphabet
        compact = compact.replace("-", "+").replace("_", "/")
    compact += "=" * (-len(compact) % 4)
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return None


def from_pem(text: str) -> ClientCertificate:
    """The first certificate of a PEM text (UNREADABLE when there is none or it is too long).
    Anything outside its armour (a chain, a stray key) is not read."""
    if len(text) > MAX_CERTIFICATE_TEXT + 2 * len(_PEM_END):
        return UNREADABLE
    start = text.find(_PEM_BEGIN)
    end = text.find(_PEM_END, start + 1)
    if start < 0 or end < 0:
        return UNREADABLE
    der = _b64decode(text[start + len(_PEM_BEGIN) : end])
    return from_der(der) if der is not None else UNREADABLE


def from_text(text: str) -> ClientCertificate | None:
    """One certificate as gateways write it: PEM (nginx's ``$ssl_client_escaped_cert`` once
    unescaped), base64 DER (Caddy, Traefik without the armour), or RFC 9440's ``:base64:``.
    None for an empty value (no certificate presented)."""
    text = text.strip()
    if not text:
        return None
    if len(text) > MAX_CERTIFICATE_TEXT:
        return UNREADABLE
    if "%" in text:
        # A chain escaped whole (Traefik 2 escapes the separating commas too): its leaf.
        text = unquote(text).split(",", 1)[0]
    if _PEM_BEGIN in text:
        return from_pem(text)
    if len(text) > 1 and text[0] == text[-1] == ":":
        text = text[1:-1]
    der = _b64decode(text)
    return from_der(der) if der is not None else UNREADABLE


def _split_outside_quotes(text: str, separator: str) -> list[str]:
    """``text`` split at ``separator`` where it is not inside a double-quoted value (XFCC
    quotes values holding commas, semicolons or equals signs; ``\\"`` escapes a quote)."""
    parts, start, quoted, escaped = [], 0, False, False
    for index, char in enumerate(text):
        if escaped:
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == separator and not quoted:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return parts


def _xfcc_pairs(element: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for pair in _split_outside_quotes(element, ";"):
        key, _, value = pair.strip().partition("=")
        value = value.strip()
        if len(value) > 1 and value[0] == value[-1] == '"':
            value = value[1:-1].replace('\\"', '"')
        pairs.setdefault(key.strip().lower(), value)
    return pairs


def from_xfcc(value: str) -> ClientCertificate | None:
    """Envoy's ``x-forwarded-client-cert``: the last element (appended by the proxy nearest to
    AccessPlane, the one it trusts), its ``Cert`` (URL-encoded PEM) when present, else its
    ``Hash`` (hex SHA-256 of the DER). None when no element is there."""
    elements = [e for e in _split_outside_quotes(value, ",") if e.strip()]
    if not elements:
        return None
    pairs = _xfcc_pairs(elements[-1])
    cert = pairs.get("cert")
    if cert:
        return from_pem(unquote(cert)) if len(cert) <= MAX_CERTIFICATE_TEXT else UNREADABLE
    digest = pairs.get("hash", "")
    try:
        raw = bytes.fromhex(digest) if len(digest) == 64 else b""
    except ValueError:
        raw = b""
    return ClientCertificate(raw) if len(raw) == 32 else UNREADABLE


def parse_forwarded(header: str, value: bytes) -> ClientCertificate | None:
    """The certificate in the value of the forwarded header named ``header`` (lowercase): XFCC
    for Envoy's header, else one certificate or a comma-separated chain whose first is the
    leaf (Traefik's ``X-Forwarded-Tls-Client-Cert``, nginx, Caddy). None: no certificate."""
    if len(value) > MAX_HEADER_BYTES:
        return UNREADABLE
    text = value.decode("latin-1")
    if header == XFCC_HEADER:
        return from_xfcc(text)
    return from_text(text.split(",", 1)[0])


class ForwardedCertificates:
    """Reads the certificate a gateway forwards in one configured header, remembering the
    parse of each value in a bounded LRU."""

    def __init__(self, header: str, *, size: int = PARSED_CACHE_SIZE) -> None:
        self.header = header.strip().lower()
        self._name = self.header.encode("latin-1")
        self.size = size
        # Header values (bytes) and /v1/check fields (str) never collide: unequal types.
        self._parsed: OrderedDict[bytes | str, ClientCertificate | None] = OrderedDict()

    def __len__(self) -> int:
        """How many parse results are kept."""
        return len(self._parsed)

    def read(self, headers: dict[bytes, bytes]) -> ClientCertificate | None:
        """The certificate of a request's headers, or None when none was forwarded."""
        value = headers.get(self._name) if self._name else None
        if not value:
            return None
        if len(value) > MAX_HEADER_BYTES:  # refused before anything is hashed or kept
            return UNREADABLE
        found = self._parsed.get(value, _MISSING)
        if found is _MISSING:
            found = self._remember(value, parse_forwarded(self.header, value))
        else:
            self._parsed.move_to_end(value)
        return found  # type: ignore[return-value]

    def from_field(self, value: str) -> ClientCertificate | None:
        """The certificate of ``/v1/check``'s ``certificate`` field (PEM, or the forms of
        ``from_text``), through the same LRU."""
        if len(value) > MAX_CERTIFICATE_TEXT:
            return UNREADABLE
        found = self._parsed.get(value, _MISSING)
        if found is _MISSING:
            found = self._remember(value, from_text(value))
        else:
            self._parsed.move_to_end(value)
        return found  # type: ignore[return-value]

    def _remember(
        self, value: bytes | str, found: ClientCertificate | None
    ) -> ClientCertificate | None:
        self._parsed[value] = found
        if len(self._parsed) > self.size:
            self._parsed.popitem(last=False)
        return found


def binding_refusal(claims: dict[str, Any], certificate: ClientCertificate | None) -> Reason | None:
    """Why a certificate-bound token (RFC 8705 section 3) may not be used with the presented
    certificate, or None when its ``cnf`` claim's ``x5t#S256`` names it."""
    if certificate is None:
        return Reason.CERTIFICATE_REQUIRED
    if not certificate.readable:
        return Reason.CERTIFICATE_NOT_RECOGNISED
    cnf = claims.get("cnf")
    bound = cnf.get("x5t#S256") if isinstance(cnf, dict) else None
    if not isinstance(bound, str):
        return Reason.INVALID_TOKEN
    presented = certificate.thumbprint.encode("ascii")
    if not hmac.compare_digest(bound.rstrip("=").encode("utf-8", "replace"), presented):
        return Reason.INVALID_TOKEN
    return None
