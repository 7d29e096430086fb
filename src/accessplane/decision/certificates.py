"""Client certificates forwarded by gateways: reading them from each gateway's header, the
SHA-256 fingerprint that identifies an MTLS app, and the RFC 8705 ``x5t#S256`` binding of
certificate-bound tokens (docs/decision.md, "Certificate-bound apps (mTLS)").

A forwarded header is client-controlled data as far as its size and shape go, so everything is
bounded before any decoding (the header, the text of one certificate, its DER) and X.509 is
parsed by ``cryptography`` only. Results are kept in a bounded LRU keyed by the SHA-256 of the
header's bytes: a gateway forwards the same few certificates over and over, and a warm request
parses nothing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections import OrderedDict
from collections.abc import Callable
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
# Parse results kept, by the SHA-256 of the value (a few hundred bytes each).
PARSED_CACHE_SIZE = 4096
# The longest value whose parse is kept: a leaf's escaped PEM, or an XFCC element carrying it,
# is 2-6 KiB.
MAX_CACHED_BYTES = 8 * 1024

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


class _Malformed(ValueError):
    """An XFCC element that is not ``key=value`` pairs as Envoy writes them."""


def _xfcc_value(text: str, end: int) -> tuple[str, int]:
    """The value ending at ``text[end]`` (inclusive) read leftwards, and the index of the
    ``=`` before it. A quoted value runs back to the first unescaped quote; an unquoted one
    holds none of ``,;="`` (Envoy quotes any value that does)."""
    if end >= 0 and text[end] == '"':
        start = end - 1
        while start >= 0 and (text[start] != '"' or (start > 0 and text[start - 1] == "\\")):
            start -= 1
        if start < 0:
            raise _Malformed("unterminated quote")
        return text[start + 1 : end].replace('\\"', '"'), start - 1
    start = end
    while start >= 0 and text[start] not in ',;="':
        start -= 1
    return text[start + 1 : end + 1].strip(), start


def _last_xfcc_element(text: str) -> dict[str, str]:
    """The pairs of the last XFCC element, parsed strictly from the right: the element the
    nearest proxy appended is whole there whatever a client put before it (an unclosed quote
    of its own cannot swallow the separating comma). A pair without ``=``, a key that is not
    a word, or a key given twice raises ``_Malformed``."""
    pairs: dict[str, str] = {}
    index = len(text) - 1
    while True:
        value, index = _xfcc_value(text, index)
        if index < 0 or text[index] != "=":
            raise _Malformed("a pair without '='")
        start = index - 1
        while start >= 0 and (text[start].isalnum() or text[start] in "_-"):
            start -= 1
        key = text[start + 1 : index].lower()
        if not key or key in pairs:
            raise _Malformed("an empty or repeated key")
        pairs[key] = value
        while start >= 0 and text[start] in " \t":
            start -= 1
        if start < 0 or text[start] == ",":
            return pairs
        if text[start] != ";":
            raise _Malformed("a stray character between pairs")
        index = start - 1
        while index >= 0 and text[index] in " \t":
            index -= 1


def from_xfcc(value: str) -> ClientCertificate | None:
    """Envoy's ``x-forwarded-client-cert``: the last element (appended by the proxy nearest to
    AccessPlane, the one it trusts), its ``Cert`` (URL-encoded PEM) when present, else its
    ``Hash`` (hex SHA-256 of the DER). None when the header is empty; UNREADABLE when that
    element is malformed (an unterminated quote, a pair without ``=``, a repeated key)."""
    value = value.strip()
    if not value:
        return None
    try:
        pairs = _last_xfcc_element(value)
    except _Malformed:
        return UNREADABLE
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
    parse of each short value in a bounded LRU."""

    def __init__(self, header: str, *, size: int = PARSED_CACHE_SIZE) -> None:
        self.header = header.strip().lower()
        self._name = self.header.encode("latin-1")
        self.size = size
        # Keyed by the SHA-256 of a value (a header's, or a /v1/check field's with a prefix of
        # its own): an entry costs a few hundred bytes however long the value was.
        self._parsed: OrderedDict[bytes, ClientCertificate | None] = OrderedDict()

    def __len__(self) -> int:
        """How many parse results are kept."""
        return len(self._parsed)

    def digests(self) -> list[bytes]:
        """The LRU's keys, least recently used first (the digests of the values parsed)."""
        return list(self._parsed)

    def read(self, headers: dict[bytes, bytes]) -> ClientCertificate | None:
        """The certificate of a request's headers, or None when none was forwarded."""
        value = headers.get(self._name) if self._name else None
        if not value:
            return None
        if len(value) > MAX_HEADER_BYTES:  # refused before anything is hashed or kept
            return UNREADABLE
        return self._cached(b"h" + value, lambda: parse_forwarded(self.header, value))

    def from_field(self, value: str) -> ClientCertificate | None:
        """The certificate of ``/v1/check``'s ``certificate`` field (PEM, or the forms of
        ``from_text``), through the same LRU."""
        if len(value) > MAX_CERTIFICATE_TEXT:
            return UNREADABLE
        key = b"f" + value.encode("utf-8", "surrogatepass")
        return self._cached(key, lambda: from_text(value))

    def _cached(
        self, key: bytes, parse: Callable[[], ClientCertificate | None]
    ) -> ClientCertificate | None:
        if len(key) > MAX_CACHED_BYTES:
            # Gateways forward a few KiB; longer values are rare, parsed each time (still
            # bounded by the limits above) and never kept.
            return parse()
        digest = hashlib.sha256(key).digest()
        found = self._parsed.get(digest, _MISSING)
        if found is not _MISSING:
            self._parsed.move_to_end(digest)
            return found  # type: ignore[return-value]
        parsed = parse()
        self._parsed[digest] = parsed
        if len(self._parsed) > self.size:
            self._parsed.popitem(last=False)
        return parsed


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
