"""JWTs presented to the decision endpoint by apps of the token methods (``OAUTH2``, ``JWT``,
``OIDC``), verified against the app's trusted issuer.

The issuer's discovery document and JWKS are fetched and cached exactly as for the console's
bearer tokens (``auth.jwt.IssuerKeys``: TTL, one refetch on an unknown ``kid``, rate-limited,
stale keys kept while the provider is down), one cache per issuer whatever the number of apps
trusting it. Only asymmetric algorithms are accepted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    JoseError,
    MissingClaimError,
)

from accessplane.auth.jwt import ALGORITHMS, IssuerKeys, ProviderUnavailable
from accessplane.decision.reasons import Reason
from accessplane.settings import OidcIssuer, Settings


class TokenRefused(Exception):
    """A JWT that does not authenticate, with the decision's reason."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class UnverifiedToken:
    """The parts of a JWT read before any check, only to find who could verify it."""

    header: dict[str, Any]
    claims: dict[str, Any]

    @property
    def issuer(self) -> str | None:
        value = self.claims.get("iss")
        return value if isinstance(value, str) else None

    @property
    def names(self) -> list[str]:
        """How the token may name an app: ``client_id``, ``azp``, then ``sub``."""
        found = []
        for claim in ("client_id", "azp", "sub"):
            value = self.claims.get(claim)
            if isinstance(value, str) and value and value not in found:
                found.append(value)
        return found


def scopes_of(claims: dict[str, Any]) -> frozenset[str]:
    """The token's scopes: ``scope`` (space-separated, RFC 8693/9068) or ``scp`` (a list)."""
    scope = claims.get("scope")
    if isinstance(scope, str):
        return frozenset(scope.split())
    scp = claims.get("scp")
    if isinstance(scp, list):
        return frozenset(s for s in scp if isinstance(s, str))
    if isinstance(scp, str):
        return frozenset(scp.split())
    return frozenset()


class TrustedIssuers:
    """Verifies tokens of the issuers apps trust; one key cache per issuer."""

    def __init__(self, settings: Settings, *, clock: Callable[[], float] | None = None) -> None:
        self.settings = settings
        self.clock: Callable[[], float] = clock or time.time
        self.keys: dict[str, IssuerKeys] = {}

    def _keys(self, issuer: str) -> IssuerKeys:
        keys = self.keys.get(issuer)
        if keys is None:
            keys = IssuerKeys(config=OidcIssuer(issuer=issuer), settings=self.settings)
            self.keys[issuer] = keys
        return keys

    async def verify(self, token: str, unverified: UnverifiedToken) -> dict[str, Any]:
        """The claims of a token of ``unverified.issuer`` after checking its signature,
        ``iss``, ``exp`` and ``nbf``. The audience is the app's to check (apps of one issuer
        may each name their own)."""
        alg = unverified.header.get("alg")
        if alg not in ALGORITHMS:
            raise TokenRefused(Reason.INVALID_TOKEN, f"tokens signed with {alg!r} are refused")
        issuer = unverified.issuer
        assert issuer is not None
        kid = unverified.header.get("kid")
        try:
            key_set = await self._keys(issuer).key_set(kid if isinstance(kid, str) else None)
        except ProviderUnavailable as error:
            raise TokenRefused(Reason.INVALID_TOKEN, "the issuer's keys are unavailable") from error
        if key_set is None:
            raise TokenRefused(
                Reason.INVALID_TOKEN, "signed with a key the issuer does not publish"
            )
        try:
            decoded = jwt.decode(token, key_set, algorithms=list(ALGORITHMS))
        except BadSignatureError as error:
            raise TokenRefused(Reason.INVALID_TOKEN, "bad signature") from error
        except (JoseError, ValueError) as error:
            raise TokenRefused(Reason.INVALID_TOKEN, "malformed token") from error
        claims = dict(decoded.claims)
        rules: dict[str, Any] = {
            "iss": {"essential": True, "value": issuer},
            "exp": {"essential": True},
        }
        registry = jwt.JWTClaimsRegistry(
            now=lambda: int(self.clock()), leeway=self.settings.jwt_leeway, **rules
        )
        try:
            registry.validate(claims)
        except ExpiredTokenError as error:
            raise TokenRefused(Reason.EXPIRED, "the token has expired") from error
        except (MissingClaimError, InvalidClaimError) as error:
            raise TokenRefused(Reason.INVALID_TOKEN, f"claim check failed: {error}") from error
        return claims
