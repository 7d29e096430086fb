"""Bearer JWTs from trusted OpenID Providers, verified with joserfc.

Per issuer, the discovery document and the JWKS are cached for ``jwks_cache_ttl`` seconds. A
token signed with a ``kid`` the cache does not know triggers one refetch (the provider rotated
its keys), at most once per ``jwks_min_refetch_interval`` per issuer, so a flood of invented
``kid``s cannot hammer the provider. When the provider is down, the keys already cached keep
verifying tokens. Only asymmetric algorithms are accepted: a token that names ``HS256`` (signed
with a public key as an HMAC secret) or ``none`` is refused before any key is looked up.

Tokens are never logged.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from joserfc import jws, jwt
from joserfc.errors import (
    BadSignatureError,
    DecodeError,
    ExpiredTokenError,
    InvalidClaimError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import KeySet

from accessplane.errors import Unauthenticated
from accessplane.settings import OidcIssuer, Settings

logger = logging.getLogger(__name__)

# Asymmetric signatures only; never HS* (the public key would become an HMAC secret) or none.
ALGORITHMS: tuple[str, ...] = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)


class ProviderUnavailable(Exception):
    """The provider's discovery document or JWKS could not be fetched."""


@dataclass(frozen=True, slots=True)
class VerifiedToken:
    """A JWT whose signature, issuer, audience and lifetime were checked."""

    issuer: OidcIssuer
    claims: dict[str, Any]

    @property
    def subject(self) -> str | None:
        sub = self.claims.get("sub")
        return sub if isinstance(sub, str) and sub else None

    @property
    def client_id(self) -> str | None:
        """The OAuth client the token was issued to (RFC 9068 ``client_id``, else ``azp``)."""
        value = self.claims.get("client_id") or self.claims.get("azp")
        return value if isinstance(value, str) and value else None

    @property
    def is_client_token(self) -> bool:
        """A token with no user in it: client credentials, where ``sub`` is the client."""
        return self.subject is None or self.subject == self.client_id


@dataclass
class IssuerKeys:
    """The cached discovery document and JWKS of one issuer."""

    config: OidcIssuer
    settings: Settings
    clock: Callable[[], float] = time.monotonic
    metadata: dict[str, Any] | None = None
    metadata_at: float = 0.0
    keys: KeySet | None = None
    keys_at: float = 0.0
    last_fetch: float | None = None
    fetches: int = 0  # JWKS requests made; tests read it to prove the rate limit
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            # A client per fetch: fetches are rare (cached), and nothing is left open.
            async with httpx.AsyncClient(timeout=self.settings.http_timeout) as client:
                response = await client.get(url, headers={"Accept": "application/json"})
                response.raise_for_status()
                body = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise ProviderUnavailable(f"{url}: {type(error).__name__}") from error
        if not isinstance(body, dict):
            raise ProviderUnavailable(f"{url}: not a JSON object")
        return body

    def _fresh(self, at: float) -> bool:
        return self.clock() - at < self.settings.jwks_cache_ttl

    async def discovery(self) -> dict[str, Any]:
        """The discovery document; a stale copy is kept when the provider is down."""
        if self.metadata is not None and self._fresh(self.metadata_at):
            return self.metadata
        url = self.config.issuer.rstrip("/") + "/.well-known/openid-configuration"
        try:
            metadata = await self._get_json(url)
        except ProviderUnavailable:
            if self.metadata is not None:
                logger.warning("discovery of %s failed; using the cached copy", self.config.issuer)
                return self.metadata
            raise
        if metadata.get("issuer") != self.config.issuer:
            raise ProviderUnavailable(f"{url}: the document names another issuer")
        self.metadata, self.metadata_at = metadata, self.clock()
        return metadata

    async def _fetch_keys(self) -> None:
        # Counted from the attempt, so a provider that is down is not asked on every request.
        self.last_fetch = self.clock()
        metadata = await self.discovery()
        uri = metadata.get("jwks_uri")
        if not isinstance(uri, str):
            raise ProviderUnavailable("the discovery document has no jwks_uri")
        self.fetches += 1
        body = await self._get_json(uri)
        try:
            keys = KeySet.import_key_set(body)  # type: ignore[arg-type]
        except (JoseError, ValueError, KeyError, TypeError) as error:
            raise ProviderUnavailable(f"{uri}: not a JWK set") from error
        self.keys, self.keys_at = keys, self.clock()

    def _has(self, kid: str | None) -> bool:
        if self.keys is None:
            return False
        if kid is None:
            return len(self.keys.keys) > 0
        return any(key.kid == kid for key in self.keys.keys)

    async def key_set(self, kid: str | None) -> KeySet | None:
        """The JWKS holding ``kid``, fetching it when missing, stale, or ``kid`` is new;
        None when no key with ``kid`` is known (and a refetch is not allowed yet)."""
        async with self.lock:  # one fetch at a time per issuer; waiters reuse its result
            stale = self.keys is None or not self._fresh(self.keys_at)
            allowed = (
                self.last_fetch is None
                or self.clock() - self.last_fetch >= self.settings.jwks_min_refetch_interval
            )
            if (stale or not self._has(kid)) and allowed:
                try:
                    await self._fetch_keys()
                except ProviderUnavailable:
                    if self.keys is None:
                        raise
                    logger.warning("JWKS of %s unavailable; using cached keys", self.config.issuer)
            elif self.keys is None:
                raise ProviderUnavailable("the last attempt to fetch the keys failed just now")
            return self.keys if self._has(kid) else None


# Far above any real access token; refuses megabytes of base64 before decoding them.
MAX_TOKEN_LENGTH = 16 * 1024


def _unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims of a compact JWS, before any check: only to pick issuer and key."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise Unauthenticated("The bearer token is too long.", reason="malformed")
    try:
        compact = jws.extract_compact(token.encode("ascii"))
        claims = json.loads(compact.payload)
    except (DecodeError, ValueError, UnicodeError) as error:
        raise Unauthenticated("The bearer token is not a valid JWT.", reason="malformed") from error
    if not isinstance(claims, dict):
        raise Unauthenticated("The bearer token's claims are not an object.", reason="malformed")
    return dict(compact.headers()), claims


class JwtValidator:
    """Verifies bearer JWTs of the configured issuers."""

    def __init__(self, settings: Settings, *, clock: Callable[[], float] | None = None) -> None:
        self.settings = settings
        # The wall clock for exp/nbf; tests move it instead of sleeping.
        self.clock: Callable[[], float] = clock or time.time
        self.issuers: dict[str, IssuerKeys] = {
            issuer.issuer: IssuerKeys(config=issuer, settings=settings)
            for issuer in settings.oidc_issuers
        }

    async def validate(self, token: str) -> VerifiedToken:
        """The token's verified claims, or UNAUTHENTICATED with a ``reason``."""
        header, unverified = _unverified(token)
        alg = header.get("alg")
        if alg not in ALGORITHMS:
            raise Unauthenticated(
                f"Tokens signed with '{alg}' are not accepted.", reason="unsupported_algorithm"
            )
        issuer = unverified.get("iss")
        keys = self.issuers.get(issuer) if isinstance(issuer, str) else None
        if keys is None:
            raise Unauthenticated("The token's issuer is not trusted.", reason="wrong_issuer")
        kid = header.get("kid")
        try:
            key_set = await keys.key_set(kid if isinstance(kid, str) else None)
        except ProviderUnavailable as error:
            logger.warning("cannot verify a token of %s: %s", keys.config.issuer, error)
            raise Unauthenticated(
                "The token's issuer cannot be reached to fetch its signing keys.",
                reason="provider_unavailable",
            ) from error
        if key_set is None:
            raise Unauthenticated(
                "The token is signed with a key its issuer does not publish.",
                reason="bad_signature",
            )
        try:
            decoded = jwt.decode(token, key_set, algorithms=list(ALGORITHMS))
        except BadSignatureError as error:
            raise Unauthenticated(
                "The token's signature is invalid.", reason="bad_signature"
            ) from error
        except (JoseError, ValueError) as error:
            raise Unauthenticated("The bearer token is malformed.", reason="malformed") from error
        self._check_claims(decoded.claims, keys.config)
        return VerifiedToken(issuer=keys.config, claims=dict(decoded.claims))

    def _check_claims(self, claims: dict[str, Any], issuer: OidcIssuer) -> None:
        registry = jwt.JWTClaimsRegistry(
            now=lambda: int(self.clock()),
            leeway=self.settings.jwt_leeway,
            iss={"essential": True, "value": issuer.issuer},
            aud={"essential": True, "values": issuer.audiences},
            exp={"essential": True},
        )
        try:
            registry.validate(claims)
        except ExpiredTokenError as error:
            raise Unauthenticated("The token has expired.", reason="expired") from error
        except MissingClaimError as error:
            raise Unauthenticated(
                f"The token lacks required claims ({error.description}).", reason="malformed"
            ) from error
        except InvalidClaimError as error:
            claim = error.claim
            if claim == "aud":
                raise Unauthenticated(
                    "The token is meant for another audience.", reason="wrong_audience"
                ) from error
            if claim == "iss":
                raise Unauthenticated(
                    "The token's issuer is not trusted.", reason="wrong_issuer"
                ) from error
            if claim in ("nbf", "iat"):
                raise Unauthenticated(
                    "The token is not valid yet.", reason="not_yet_valid"
                ) from error
            raise Unauthenticated(
                f"The token has an invalid claim '{claim}'.", reason="malformed"
            ) from error
