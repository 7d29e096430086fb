"""The format of every token AccessPlane issues, and how it is stored.

``<prefix>_<30 base62 random characters><6 base62 CRC32 characters>``: 30 base62 characters carry
178 bits of randomness; the CRC32 checksum lets secret scanners recognise a token and lets the
server reject a mistyped or invented one without a database lookup. Only an HMAC-SHA256 of the
whole token, keyed with the server secret, is stored; the last four characters are kept as a hint.
"""

from __future__ import annotations

import hmac
import secrets
import zlib
from dataclasses import dataclass
from enum import StrEnum

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_RANDOM_LENGTH = 30
_CHECKSUM_LENGTH = 6
HINT_LENGTH = 4


class TokenKind(StrEnum):
    """The prefix says what a token is for."""

    API_ACCESS = "apk"
    ACCESS_PROFILE = "apt"


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A freshly minted token: the plaintext is shown once, the rest is stored."""

    plaintext: str
    digest: str
    hint: str


def _base62(number: int, width: int) -> str:
    chars = []
    for _ in range(width):
        number, rest = divmod(number, 62)
        chars.append(_ALPHABET[rest])
    return "".join(reversed(chars))


def _checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode()), _CHECKSUM_LENGTH)


def token_digest(token: str, secret: bytes) -> str:
    """The keyed hash under which a token is stored and looked up."""
    return hmac.digest(secret, token.encode(), "sha256").hex()  # one C call, same value


def format_token(kind: TokenKind, body: str) -> str:
    """The token of ``kind`` with this random ``body`` (30 base62 characters) and its checksum;
    ``issue_token`` draws the body from ``secrets``, a seeded benchmark generator from its own."""
    if len(body) != _RANDOM_LENGTH or any(c not in _ALPHABET for c in body):
        raise ValueError(f"a token body is {_RANDOM_LENGTH} base62 characters")
    return f"{kind.value}_{body}{_checksum(body)}"


def issue_token(kind: TokenKind, secret: bytes) -> IssuedToken:
    """Mint a new token of ``kind``."""
    body = "".join(secrets.choice(_ALPHABET) for _ in range(_RANDOM_LENGTH))
    plaintext = format_token(kind, body)
    return IssuedToken(
        plaintext=plaintext, digest=token_digest(plaintext, secret), hint=plaintext[-HINT_LENGTH:]
    )


def parse_token(token: str) -> TokenKind | None:
    """The kind of a well-formed token, or None if the prefix, length or checksum is wrong."""
    prefix, sep, rest = token.partition("_")
    if not sep or len(rest) != _RANDOM_LENGTH + _CHECKSUM_LENGTH:
        return None
    try:
        kind = TokenKind(prefix)
    except ValueError:
        return None
    body, checksum = rest[:_RANDOM_LENGTH], rest[_RANDOM_LENGTH:]
    if any(c not in _ALPHABET for c in body):
        return None
    if not hmac.compare_digest(checksum, _checksum(body)):
        return None
    return kind
