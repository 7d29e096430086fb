"""Client certificates at the decision endpoint: each gateway's header format, the bounded
parse cache, MTLS apps recognised by their certificate's fingerprint (with its reasons,
caching and invalidation), whom a forwarded certificate is believed from, and RFC 8705
certificate-bound JWTs. Certificates are real X.509 (tests/support/certificates.py), the
issuer of JWTs a real HTTP server."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from accessplane.app import create_app
from accessplane.decision import certificates
from accessplane.decision.certificates import (
    MAX_HEADER_BYTES,
    UNREADABLE,
    ClientCertificate,
    ForwardedCertificates,
    binding_refusal,
    from_text,
    from_xfcc,
    parse_forwarded,
)
from accessplane.decision.reasons import Reason
from accessplane.models import (
    AccessProfile,
    AccessProfileCertificate,
    AccessProfileProduct,
    Api,
    ApiProduct,
    AuthMethod,
    Client,
)
from accessplane.models.plans import RateLimitPeriod
from accessplane.services import access_profiles, plans
from accessplane.settings import Settings
from tests.conftest import SECRET, QueryCounter
from tests.support.certificates import (
    GARBAGE_PEM,
    CertificateAuthority,
    IssuedCertificate,
    unknown_ca_certificate,
)
from tests.support.gateway import PEER
from tests.support.issuer import LocalIssuer, local_issuer
from tests.support.scenario import Scenario, World, gid

HEADER = "X-Client-Cert"
UNTRUSTED = "198.51.100.9"


@pytest.fixture(scope="module")
def ca() -> CertificateAuthority:
    return CertificateAuthority.create()


@pytest.fixture(scope="module")
def good(ca: CertificateAuthority) -> IssuedCertificate:
    return ca.issue("orders-app")


# Header formats


def traefik(*chain: IssuedCertificate) -> str:
    """Traefik's ``X-Forwarded-Tls-Client-Cert``: base64 DER without armour, comma-separated,
    leaf first (v2 also URL-escaped it)."""
    return ",".join(base64.b64encode(c.der).decode() for c in chain)


def test_each_gateway_s_format_gives_the_fingerprint_and_thumbprint(
    ca: CertificateAuthority, good: IssuedCertificate
) -> None:
    der64 = base64.b64encode(good.der).decode()
    forms = {
        "nginx $ssl_client_escaped_cert": good.escaped_pem,
        "PEM": good.pem,
        "Caddy certificate_der_base64": der64,
        "Traefik v2 (escaped)": quote(traefik(good, ca.issued), safe=","),
        "Traefik v2 (escaped, commas too)": quote(traefik(good, ca.issued), safe=""),
        "Traefik v3": traefik(good, ca.issued),
        "RFC 9440 Client-Cert": f":{der64}:",
        "base64url": base64.urlsafe_b64encode(good.der).decode().rstrip("="),
    }

    for form, value in forms.items():
        found = parse_forwarded("x-client-cert", value.encode())
        assert found is not None, form
        assert found.fingerprint == good.fingerprint, form
        assert found.thumbprint == good.x5t_s256, form


def test_envoy_s_xfcc_uses_the_nearest_proxy_s_element(
    ca: CertificateAuthority, good: IssuedCertificate
) -> None:
    other = ca.issue("upstream-proxy")
    subject = 'Subject="CN=orders-app,O=Tests;x=1";URI=spiffe://example/app'
    near = f'By=spiffe://example/ap;Hash={good.fingerprint};Cert="{good.escaped_pem}";{subject}'
    far = f"By=spiffe://example/edge;Hash={other.fingerprint}"

    found = from_xfcc(f"{far},{near}")
    hash_only = from_xfcc(f"{far},By=spiffe://x;Hash={good.fingerprint.upper()}")
    # The Cert is preferred: a Hash naming another certificate is not believed over it.
    cert_first = from_xfcc(f'Hash={other.fingerprint};Cert="{good.escaped_pem}"')

    assert found is not None
    assert found.fingerprint == good.fingerprint
    assert hash_only is not None
    assert hash_only.fingerprint == good.fingerprint
    assert cert_first is not None
    assert cert_first.fingerprint == good.fingerprint
    assert from_xfcc("") is None
    assert from_xfcc('By=spiffe://x;Subject="CN=a,b"') is UNREADABLE
    assert from_xfcc("Hash=not-hex-" + "0" * 56) is UNREADABLE
    assert from_xfcc("Hash=" + "a b " * 16) is UNREADABLE  # 64 characters, 16 bytes of hex


def test_what_is_not_one_certificate_is_unreadable(
    ca: CertificateAuthority, good: IssuedCertificate
) -> None:
    key_only = good.key_pem
    huge_pem = good.pem.replace("\n", "\n" + " " * 30_000, 1)
    for value in (
        GARBAGE_PEM,
        "not a certificate",
        key_only,
        huge_pem,
        "%ZZ",
        base64.b64encode(b"\x30\x82" + b"\x00" * 100).decode(),
        base64.b64encode(b"x" * (certificates.MAX_CERTIFICATE_BYTES + 1)).decode(),
    ):
        assert from_text(value) is UNREADABLE, value[:40]
    assert from_text("") is None
    assert from_text("   ") is None
    # A certificate with a key after it is the certificate (the key is not read).
    assert from_text(good.pem_with_key) == ClientCertificate(hashlib.sha256(good.der).digest())


def test_hostile_headers_are_refused_before_any_parsing() -> None:
    reader = ForwardedCertificates(HEADER)
    oversized = b"A" * (MAX_HEADER_BYTES + 1)
    quotes = ('"' * 20_000 + ";" * 20_000 + "," * 20_000).encode()

    assert reader.read({b"x-client-cert": oversized}) is UNREADABLE
    assert len(reader) == 0  # an oversized value is neither parsed nor kept
    assert parse_forwarded("x-forwarded-client-cert", quotes) is UNREADABLE
    assert parse_forwarded("x-forwarded-client-cert", oversized) is UNREADABLE


def test_parses_are_remembered_in_a_bounded_lru(
    ca: CertificateAuthority, good: IssuedCertificate
) -> None:
    reader = ForwardedCertificates(HEADER, size=2)
    others = [ca.issue(f"app-{n}") for n in range(2)]

    first = reader.read({b"x-client-cert": good.escaped_pem.encode()})
    again = reader.read({b"x-client-cert": good.escaped_pem.encode()})
    for other in others:
        reader.read({b"x-client-cert": other.escaped_pem.encode()})
    after_eviction = reader.read({b"x-client-cert": good.escaped_pem.encode()})

    assert first is not None
    assert first.fingerprint == good.fingerprint
    assert again is first  # answered from the LRU: not parsed twice
    assert len(reader) == 2
    assert after_eviction == first
    assert after_eviction is not first
    assert reader.read({b"x-other": good.escaped_pem.encode()}) is None
    assert ForwardedCertificates("").read({b"x-client-cert": b"anything"}) is None


def test_a_bound_token_must_name_the_presented_certificate(
    ca: CertificateAuthority, good: IssuedCertificate
) -> None:
    presented = from_text(good.pem)
    stolen_with = from_text(ca.issue("thief").pem)
    bound = {"cnf": {"x5t#S256": good.x5t_s256}}

    assert binding_refusal(bound, presented) is None
    assert binding_refusal({"cnf": {"x5t#S256": good.x5t_s256 + "="}}, presented) is None
    assert binding_refusal(bound, None) is Reason.CERTIFICATE_REQUIRED
    assert binding_refusal(bound, UNREADABLE) is Reason.CERTIFICATE_NOT_RECOGNISED
    assert binding_refusal(bound, stolen_with) is Reason.INVALID_TOKEN
    assert binding_refusal({}, presented) is Reason.INVALID_TOKEN
    assert binding_refusal({"cnf": "x"}, presented) is Reason.INVALID_TOKEN
    assert binding_refusal({"cnf": {"x5t#S256": 7}}, presented) is Reason.INVALID_TOKEN


# Decisions


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        environment="test",
        database_url=database_url,
        secret_key=SECRET,  # type: ignore[arg-type]
        trusted_proxies=[PEER],
        decision_certificate_header=HEADER,
    )


@dataclass
class MtlsShop:
    """``orders`` sold by an MTLS product to one client's MTLS app holding ``good``."""

    scenario: Scenario
    world: World
    api: Api
    product: ApiProduct
    client: Client
    app: AccessProfile

    async def mtls_app(
        self, name: str, *, allowed_ips: list[str] | None = None, products: bool = True
    ) -> AccessProfile:
        """An MTLS app of the client holding the product. The rows are written directly:
        the decision endpoint reads them whichever service wrote them."""
        session = self.scenario.session
        app = AccessProfile(
            workspace_id=self.world.workspace.id,
            client_id=self.client.id,
            name=name,
            auth_method=AuthMethod.MTLS,
            allowed_ips=allowed_ips or [],
        )
        session.add(app)
        await session.flush()
        if products:
            session.add(
                AccessProfileProduct(
                    access_profile_id=app.id,
                    product_id=self.product.id,
                    workspace_id=self.world.workspace.id,
                )
            )
        await session.commit()
        return app

    async def register(self, app: AccessProfile, issued: IssuedCertificate) -> None:
        certificate = issued.certificate
        self.scenario.session.add(
            AccessProfileCertificate(
                workspace_id=app.workspace_id,
                access_profile_id=app.id,
                fingerprint=issued.fingerprint,
                subject=certificate.subject.rfc4514_string(),
                issuer=certificate.issuer.rfc4514_string(),
                serial_number=issued.serial_hex,
                not_before=certificate.not_valid_before_utc,
                not_after=certificate.not_valid_after_utc,
                pem=issued.pem,
            )
        )
        await self.scenario.session.commit()


async def make_mtls_shop(scenario: Scenario, good: IssuedCertificate) -> MtlsShop:
    world = await scenario.workspace()
    api = await scenario.api(world, "Orders")
    product = await scenario.product(world, apis=[api], auth_method=AuthMethod.MTLS)
    client = await scenario.client(world)
    shop = MtlsShop(scenario, world, api, product, client, app=None)  # type: ignore[arg-type]
    shop.app = await shop.mtls_app("orders-app")
    await shop.register(shop.app, good)
    return shop


@pytest.fixture
async def shop(scenario: Scenario, good: IssuedCertificate) -> MtlsShop:
    return await make_mtls_shop(scenario, good)


STATUS = {
    "ok": 200,
    "missing_credential": 401,
    "certificate_required": 401,
    "certificate_not_recognised": 401,
    "certificate_expired": 401,
    "invalid_token": 401,
    "unknown_credential": 401,
}


@dataclass
class CertGate:
    """Asks /v1/check (``certificate`` field) and /v1/authorize (the forwarded header) the
    same question and checks that they agree."""

    http: httpx.AsyncClient

    async def check(
        self, certificate: str | None, credential: str | None = None, api: str = "orders"
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"api": api, "method": "GET", "path": "/orders/1", "ip": PEER}
        if certificate is not None:
            body["certificate"] = certificate
        if credential is not None:
            body["credential"] = credential
        response = await self.http.post("/v1/check", json=body)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    async def authorize(
        self,
        header: str | None,
        credential: str | None = None,
        api: str = "orders",
        name: str = HEADER,
    ) -> httpx.Response:
        sent = {"X-Original-URI": "/orders/1", "X-Original-Method": "GET"}
        if header is not None:
            sent[name] = header
        if credential is not None:
            sent["Authorization"] = f"Bearer {credential}"
        return await self.http.get("/v1/authorize", params={"api": api}, headers=sent)

    async def both(
        self, issued: IssuedCertificate | None, credential: str | None = None, api: str = "orders"
    ) -> str:
        checked = await self.check(issued.pem if issued else None, credential, api)
        answered = await self.authorize(issued.escaped_pem if issued else None, credential, api)
        reason = answered.headers["x-accessplane-reason"]
        assert checked["reason"] == reason, (checked, answered.text)
        assert answered.status_code == STATUS.get(reason, 403), (reason, answered.status_code)
        return reason


@pytest.fixture
def gate(http: httpx.AsyncClient) -> CertGate:
    return CertGate(http)


async def test_an_mtls_app_is_recognised_by_its_certificate(
    gate: CertGate, shop: MtlsShop, good: IssuedCertificate
) -> None:
    checked = await gate.check(good.pem)
    answered = await gate.authorize(good.escaped_pem)

    assert checked["allowed"] is True
    assert checked["principal"]["id"] == gid("AccessProfile", shop.app.id)
    assert checked["principal"]["clientId"] == gid("Client", shop.client.id)
    assert answered.status_code == 200
    assert answered.headers["x-accessplane-principal-id"] == gid("AccessProfile", shop.app.id)


async def test_each_certificate_reason(
    gate: CertGate, shop: MtlsShop, ca: CertificateAuthority, good: IssuedCertificate, app: Any
) -> None:
    assert await gate.both(None) == "certificate_required"
    assert await gate.both(ca.issue("never-registered")) == "certificate_not_recognised"
    assert await gate.both(unknown_ca_certificate()) == "certificate_not_recognised"
    # A header that holds no readable certificate is not one.
    garbage = await gate.authorize(quote(GARBAGE_PEM, safe=""))
    assert garbage.headers["x-accessplane-reason"] == "certificate_not_recognised"
    # An API no MTLS product holds still asks for a credential.
    assert await gate.both(None, api="billing") == "missing_credential"

    later = good.certificate.not_valid_after_utc + timedelta(seconds=1)
    app.state.decider.clock = lambda: later
    assert await gate.both(good) == "certificate_expired"
    app.state.decider.clock = lambda: later - timedelta(seconds=2)
    assert await gate.both(good) == "ok"


async def test_a_malformed_certificate_field_is_a_bad_request(
    http: httpx.AsyncClient, shop: MtlsShop
) -> None:
    for value in (GARBAGE_PEM, "x" * 100_000, 42, ["pem"]):
        response = await http.post("/v1/check", json={"api": "orders", "certificate": value})
        assert response.status_code in (400, 413), value
        if response.status_code == 400:
            assert response.json()["error"] == "invalid_request"
            assert "certificate" in response.json()["message"]


async def test_the_app_s_usual_checks_follow(
    gate: CertGate, shop: MtlsShop, ca: CertificateAuthority, scenario: Scenario
) -> None:
    elsewhere, far, idle = ca.issue("elsewhere"), ca.issue("far"), ca.issue("idle")
    await shop.register(await shop.mtls_app("Elsewhere", allowed_ips=["192.0.2.0/24"]), far)
    await shop.register(await shop.mtls_app("No products", products=False), idle)
    await shop.register(shop.app, elsewhere)  # an app may hold several certificates

    assert await gate.both(far) == "ip_not_allowed"
    assert await gate.both(idle) == "api_not_granted"
    assert await gate.both(elsewhere) == "ok"
    client = await scenario.session.get(Client, shop.client.id)
    assert client is not None
    client.active = False
    await scenario.session.commit()
    assert await gate.both(elsewhere) == "inactive_client"


async def test_plan_limits_apply(
    gate: CertGate, shop: MtlsShop, scenario: Scenario, good: IssuedCertificate
) -> None:
    plan = await plans.create_plan(
        session=scenario.session,
        actor=shop.world.owner.principal,
        workspace_id=shop.world.workspace.id,
        name="One a minute",
        rate_limit=plans.RateLimit(1, RateLimitPeriod.MINUTE),
    )
    shop.app.plan_id = plan.id
    scenario.session.add(shop.app)
    await scenario.session.commit()

    first = await gate.authorize(good.escaped_pem)
    second = await gate.authorize(good.escaped_pem)

    assert (first.status_code, second.status_code) == (200, 429)
    assert second.headers["x-accessplane-reason"] == "rate_limited"


async def test_certificate_lookups_are_cached_and_invalidated(
    gate: CertGate,
    shop: MtlsShop,
    ca: CertificateAuthority,
    good: IssuedCertificate,
    count_queries: QueryCounter,
    scenario: Scenario,
) -> None:
    stranger = ca.issue("stranger")
    assert await gate.both(good) == "ok"
    assert await gate.both(stranger) == "certificate_not_recognised"
    assert await gate.both(None) == "certificate_required"
    with count_queries:
        for _ in range(3):
            assert await gate.both(good) == "ok"
            assert await gate.both(stranger) == "certificate_not_recognised"
            assert await gate.both(None) == "certificate_required"
    assert count_queries.count == 0

    # Registering the unknown certificate makes it known at once.
    await shop.register(shop.app, stranger)
    assert await gate.both(stranger) == "ok"


async def test_removing_a_certificate_forgets_it_at_once(
    gate: CertGate, shop: MtlsShop, good: IssuedCertificate, scenario: Scenario
) -> None:
    assert await gate.both(good) == "ok"
    row = await scenario.session.scalar(
        select(AccessProfileCertificate).where(
            AccessProfileCertificate.fingerprint == good.fingerprint  # type: ignore[arg-type]
        )
    )
    await scenario.session.delete(row)
    await scenario.session.commit()

    assert await gate.both(good) == "certificate_not_recognised"


async def test_an_api_put_in_an_mtls_product_asks_for_a_certificate_at_once(
    gate: CertGate, shop: MtlsShop, scenario: Scenario
) -> None:
    billing = await scenario.api(shop.world, "Billing")
    assert await gate.both(None, api="billing") == "missing_credential"

    await scenario.product(shop.world, apis=[billing], auth_method=AuthMethod.MTLS)

    assert await gate.both(None, api="billing") == "certificate_required"


async def test_only_mtls_apps_authenticate_by_certificate(
    gate: CertGate, shop: MtlsShop, good: IssuedCertificate, scenario: Scenario
) -> None:
    assert await gate.both(good) == "ok"
    shop.app.auth_method = AuthMethod.AUTH_TOKEN
    scenario.session.add(shop.app)
    await scenario.session.commit()

    assert await gate.both(good) == "certificate_not_recognised"


# Whom the forwarded certificate is believed from


@pytest.fixture
async def untrusted(app: Starlette) -> AsyncIterator[CertGate]:
    transport = httpx.ASGITransport(app=app, client=(UNTRUSTED, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield CertGate(client)


async def test_a_certificate_from_an_untrusted_peer_is_ignored(
    untrusted: CertGate, shop: MtlsShop, good: IssuedCertificate
) -> None:
    assert await untrusted.both(good) == "certificate_required"


async def test_with_the_gateway_secret_any_peer_is_believed(
    settings: Settings, engine: AsyncEngine, shop: MtlsShop, good: IssuedCertificate
) -> None:
    secret = "gateway-secret-0123456789abcdef"
    closed = settings.model_copy(
        update={"trusted_proxies": [], "decision_gateway_secret": SecretStr(secret)}
    )
    transport = httpx.ASGITransport(app=create_app(closed, engine=engine), client=(UNTRUSTED, 1))
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://testserver",
        headers={"X-AccessPlane-Gateway-Secret": secret},
    ) as client:
        assert await CertGate(client).both(good) == "ok"


async def test_without_a_configured_header_nothing_is_read(
    settings: Settings, engine: AsyncEngine, shop: MtlsShop, good: IssuedCertificate
) -> None:
    unset = settings.model_copy(update={"decision_certificate_header": ""})
    transport = httpx.ASGITransport(app=create_app(unset, engine=engine), client=(PEER, 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        gate = CertGate(client)
        answered = await gate.authorize(good.escaped_pem)
        checked = await gate.check(good.pem)

    assert answered.headers["x-accessplane-reason"] == "certificate_required"
    assert checked["reason"] == "ok"  # the JSON field needs no header configuration


@pytest.mark.parametrize(
    ("header", "form"),
    [
        ("X-Forwarded-Tls-Client-Cert", "traefik"),
        ("X-Forwarded-Client-Cert", "xfcc"),
        ("X-Client-Cert", "caddy"),
    ],
)
async def test_each_gateway_s_header_is_read_when_configured(
    settings: Settings,
    engine: AsyncEngine,
    shop: MtlsShop,
    ca: CertificateAuthority,
    good: IssuedCertificate,
    header: str,
    form: str,
) -> None:
    value = {
        "traefik": traefik(good, ca.issued),
        "xfcc": f"By=spiffe://edge;Hash={'0' * 64},By=spiffe://ap;Hash={good.fingerprint}",
        "caddy": base64.b64encode(good.der).decode(),
    }[form]
    configured = settings.model_copy(update={"decision_certificate_header": header})
    transport = httpx.ASGITransport(app=create_app(configured, engine=engine), client=(PEER, 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        gate = CertGate(client)
        right = await gate.authorize(value, name=header)
        # The other gateways' headers are not read: a client could have sent them.
        wrong = await gate.authorize(good.escaped_pem, name="X-Some-Other-Cert")

    assert right.status_code == 200, right.text
    assert wrong.headers["x-accessplane-reason"] == "certificate_required"


# RFC 8705: certificate-bound JWTs


@pytest.fixture
async def issuer() -> AsyncIterator[LocalIssuer]:
    async with local_issuer() as running:
        yield running


async def bound_app(
    scenario: Scenario, issuer: LocalIssuer, *, bound: bool = True
) -> tuple[AccessProfile, str]:
    """A JWT app of ``partner-orders`` trusting ``issuer`` for client ``partner``; its API."""
    world = await scenario.workspace()
    api = await scenario.api(world, "Partner Orders")
    product = await scenario.product(world, apis=[api], auth_method=AuthMethod.JWT)
    client = await scenario.client(world)
    issued = await access_profiles.create_access_profile(
        session=scenario.session,
        actor=world.owner.principal,
        secret=scenario.secret,
        client_id=client.id,
        name="partner",
        auth_method=AuthMethod.JWT,
        token=access_profiles.TokenSettings(trusted_issuer=issuer.url, client_id="partner"),
        product_ids=[product.id],
    )
    profile = await scenario.session.get(AccessProfile, issued.access_profile.id)
    assert profile is not None
    profile.certificate_bound_tokens = bound
    await scenario.session.commit()
    return profile, api.identifier


async def test_a_certificate_bound_token_needs_its_certificate(
    gate: CertGate,
    scenario: Scenario,
    issuer: LocalIssuer,
    ca: CertificateAuthority,
    good: IssuedCertificate,
) -> None:
    _, api = await bound_app(scenario, issuer)
    bound = issuer.token(client_id="partner", cnf={"x5t#S256": good.x5t_s256})
    unbound = issuer.token(client_id="partner")

    assert await gate.both(good, bound, api=api) == "ok"
    assert await gate.both(None, bound, api=api) == "certificate_required"
    # A stolen token presented with the thief's own certificate.
    assert await gate.both(ca.issue("thief"), bound, api=api) == "invalid_token"
    assert await gate.both(good, unbound, api=api) == "invalid_token"


async def test_tokens_of_apps_without_binding_need_no_certificate(
    gate: CertGate, scenario: Scenario, issuer: LocalIssuer, good: IssuedCertificate
) -> None:
    _, api = await bound_app(scenario, issuer, bound=False)

    assert await gate.both(None, issuer.token(client_id="partner"), api=api) == "ok"
    # Presented anyway, the certificate changes nothing.
    assert await gate.both(good, issuer.token(client_id="partner"), api=api) == "ok"


async def test_turning_binding_on_applies_at_once(
    gate: CertGate, scenario: Scenario, issuer: LocalIssuer
) -> None:
    profile, api = await bound_app(scenario, issuer, bound=False)
    token = issuer.token(client_id="partner")
    assert await gate.both(None, token, api=api) == "ok"

    profile_row = await scenario.session.get(AccessProfile, profile.id)
    assert profile_row is not None
    profile_row.certificate_bound_tokens = True
    await scenario.session.commit()

    assert await gate.both(None, token, api=api) == "certificate_required"
