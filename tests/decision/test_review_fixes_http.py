"""Regressions of a security review of the decision endpoint: with Envoy's appended path the
client's query cannot name the API; XFCC is read strictly from the right, so a client's
unclosed quote cannot swallow the nearest proxy's element; the certificate parse cache holds
digests of short values only and never sees an unbelieved ``certificate`` field; the call
log's buffer keeps records cut to what a row stores."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from accessplane.decision.calls import CallLog
from accessplane.decision.certificates import (
    MAX_CACHED_BYTES,
    UNREADABLE,
    ForwardedCertificates,
    from_xfcc,
)
from accessplane.decision.http import DecisionEndpoints
from accessplane.decision.reasons import Reason
from accessplane.models.calls import MAX_PATH_LENGTH
from accessplane.settings import Settings
from tests.conftest import SECRET
from tests.decision.test_certificates import MtlsShop, make_mtls_shop
from tests.support.certificates import CertificateAuthority, IssuedCertificate
from tests.support.gateway import PEER, Gate, Shop
from tests.support.scenario import Scenario

XFCC = "X-Forwarded-Client-Cert"
UNTRUSTED = "198.51.100.9"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        environment="test",
        database_url=database_url,
        secret_key=SECRET,  # type: ignore[arg-type]
        trusted_proxies=[PEER],
        decision_certificate_header=XFCC,
    )


@pytest.fixture(scope="module")
def ca() -> CertificateAuthority:
    return CertificateAuthority.create()


@pytest.fixture(scope="module")
def good(ca: CertificateAuthority) -> IssuedCertificate:
    return ca.issue("orders-app")


# 1. Envoy's appended path: the client's query does not name the API.


async def test_a_query_after_envoy_s_appended_path_cannot_pick_the_api(
    http: httpx.AsyncClient, shop: Shop, scenario: Scenario
) -> None:
    await scenario.api(shop.world, "Admin")  # exists, but the app is granted only ``orders``
    bearer = {"Authorization": f"Bearer {shop.token}"}

    picked = await http.get(
        "/v1/authorize/admin/42?api=orders", headers={**bearer, "X-AccessPlane-Api": "admin"}
    )
    unnamed = await http.get("/v1/authorize/admin/42?api=orders", headers=bearer)
    # The forms that stay: the header after an appended path, the query without one.
    by_header = await http.get(
        "/v1/authorize/orders/42", headers={**bearer, "X-AccessPlane-Api": "orders"}
    )
    by_query = await http.get(
        "/v1/authorize?api=orders",
        headers={**bearer, "X-Original-URI": "/orders/1", "X-AccessPlane-Api": "admin"},
    )

    assert picked.status_code == 403
    assert picked.headers["x-accessplane-reason"] == "api_not_granted"
    assert unnamed.status_code == 400
    assert unnamed.json()["error"] == "api_required"
    assert by_header.status_code == 200
    assert by_query.status_code == 200


# 2. XFCC read strictly from the right.


def test_an_unclosed_quote_cannot_hide_the_nearest_proxy_s_element(
    ca: CertificateAuthority, good: IssuedCertificate
) -> None:
    attacker = ca.issue("attacker")
    forged = f'By=x;Hash={good.fingerprint};X="'
    appended = f'By=gw;Hash={attacker.fingerprint};Subject="CN=a";URI='

    found = from_xfcc(f"{forged},{appended}")

    assert found is not None
    assert found.fingerprint == attacker.fingerprint


@pytest.mark.parametrize(
    "element",
    [
        'By=gw;Hash={h};X="',  # an unterminated quote
        'By=gw;Hash={h};X="a"b"',  # a quote inside a quoted value, unescaped
        "By=gw;Hash={h};junk",  # a pair without '='
        "By=gw;Hash={h};Hash={h}",  # a repeated key
        "By=gw;HASH={h};hash={h}",  # keys are case-insensitive: still repeated
        'By=gw;Hash={h}"',  # a stray quote after an unquoted value
        "By=gw;=x;Hash={h}",  # an empty key
        "By=gw,Hash={h},",  # an empty last element
    ],
)
def test_a_malformed_last_element_is_unreadable(good: IssuedCertificate, element: str) -> None:
    assert from_xfcc(element.format(h=good.fingerprint)) is UNREADABLE
    assert from_xfcc(f"By=far;Hash={'0' * 64}," + element.format(h=good.fingerprint)) is (
        UNREADABLE
    )


def test_valid_multi_element_headers_are_read(
    ca: CertificateAuthority, good: IssuedCertificate
) -> None:
    far = ca.issue("far-proxy")
    subject = r'Subject="CN=orders-app,O=Tests;x=1 \"quoted\", y";URI=spiffe://example/app'
    elements = [
        f'By=spiffe://edge;Hash={far.fingerprint};Subject="CN=far,O=x"',
        f'By=spiffe://mid;Hash={far.fingerprint};Cert="{far.escaped_pem}"',
        f"By=spiffe://gw;Hash={good.fingerprint};{subject}",
    ]
    with_cert = [*elements[:2], f'Hash={far.fingerprint};Cert="{good.escaped_pem}";DNS=a']

    for value in (",".join(elements), ", ".join(elements), ",".join(with_cert)):
        found = from_xfcc(value)
        assert found is not None, value
        assert found.fingerprint == good.fingerprint, value
    assert from_xfcc("  ") is None


async def test_the_attack_through_forward_auth_is_not_the_victim(
    http: httpx.AsyncClient, scenario: Scenario, ca: CertificateAuthority, good: IssuedCertificate
) -> None:
    shop: MtlsShop = await make_mtls_shop(scenario, good)
    attacker = ca.issue("attacker")
    forged = f'By=x;Hash={good.fingerprint};X="'
    sent = {"X-Original-URI": "/orders/1", "X-Original-Method": "GET"}

    async def reason(xfcc: str) -> str:
        answered = await http.get(
            "/v1/authorize", params={"api": "orders"}, headers={**sent, XFCC: xfcc}
        )
        return answered.headers["x-accessplane-reason"]

    assert await reason(f"By=gw;Hash={good.fingerprint}") == "ok"
    assert await reason(f"{forged},By=gw;Hash={attacker.fingerprint};URI=") == (
        Reason.CERTIFICATE_NOT_RECOGNISED.value
    )
    assert await reason(forged) == Reason.CERTIFICATE_NOT_RECOGNISED.value
    assert shop.app.id is not None


# 3. The parse cache: digests of short values, never an unbelieved field.


def test_the_cache_keeps_digests_of_short_values_only(
    ca: CertificateAuthority, good: IssuedCertificate
) -> None:
    reader = ForwardedCertificates("x-client-cert", size=3)
    issued = [ca.issue(f"app-{n}") for n in range(5)]

    for certificate in issued:
        assert reader.read({b"x-client-cert": certificate.escaped_pem.encode()}) is not None
    long_value = (good.pem + " " * MAX_CACHED_BYTES).encode()
    parsed_uncached = reader.read({b"x-client-cert": long_value})

    assert len(reader) == 3
    assert all(isinstance(key, bytes) and len(key) == 32 for key in reader.digests())
    assert parsed_uncached is not None
    assert parsed_uncached.fingerprint == good.fingerprint  # read, but not kept
    assert reader.read({b"x-client-cert": long_value}) == parsed_uncached
    assert len(reader) == 3
    assert reader.from_field(good.pem) is not None
    assert len(reader) == 3  # the oldest made room


def _endpoints(app: Starlette) -> DecisionEndpoints:
    layer = app.middleware_stack
    while layer is not None and not isinstance(layer, DecisionEndpoints):
        layer = getattr(layer, "app", None)
    assert isinstance(layer, DecisionEndpoints)
    return layer


@pytest.fixture
async def untrusted(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=(UNTRUSTED, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def test_an_unbelieved_certificate_field_is_never_parsed_or_cached(
    app: Starlette,
    http: httpx.AsyncClient,
    untrusted: httpx.AsyncClient,
    shop: Shop,
    good: IssuedCertificate,
) -> None:
    body = {"credential": shop.token, "api": "orders", "method": "GET", "path": "/orders/1"}
    ignored = await untrusted.post("/v1/check", json={**body, "certificate": good.pem})
    endpoints = _endpoints(app)
    garbage = await untrusted.post("/v1/check", json={**body, "certificate": "not a cert"})
    wrong_type = await untrusted.post("/v1/check", json={**body, "certificate": 7})

    assert ignored.status_code == 200
    assert ignored.json()["reason"] == "ok"
    assert garbage.status_code == 200  # never read, so never refused
    assert wrong_type.status_code == 400
    assert len(endpoints.certificates) == 0
    believed = await http.post("/v1/check", json={**body, "certificate": good.pem})
    assert believed.status_code == 200
    assert len(endpoints.certificates) == 1
    refused = await http.post("/v1/check", json={**body, "certificate": "not a cert"})
    assert refused.status_code == 400


# 4. The call log's buffer keeps bounded records.


async def test_recorded_calls_are_cut_when_buffered(engine: AsyncEngine) -> None:
    log = CallLog(async_sessionmaker(engine))
    log.record(
        (
            datetime(2026, 3, 1, tzinfo=UTC),
            None,
            "a" * 60_000,
            "M" * 60_000,
            "/" + "p" * 60 * 1024,
            "x" * 60_000,
            Reason.OK,
            0.001,
            b"r" * 65,
            None,
        )
    )
    log.record(
        (
            datetime(2026, 3, 1, tzinfo=UTC),
            None,
            "o",
            "GET",
            "/",
            "::1",
            Reason.OK,
            0.0,
            b"r" * 64,
            None,
        )
    )

    (cut, kept) = log._buffer
    assert (len(cut[2]), len(cut[3]), len(cut[4])) == (63, 16, MAX_PATH_LENGTH)
    assert (cut[5], cut[8]) == (None, None)
    assert kept[2:6] == ("o", "GET", "/", "::1")
    assert kept[8] == b"r" * 64


async def test_a_long_path_is_cut_before_it_is_buffered(
    app: Starlette, gate: Gate, shop: Shop, session: AsyncSession
) -> None:
    await gate.check(shop.token, path="/orders/" + "x" * 60 * 1024)
    await gate.authorize(shop.token, headers={"X-Original-URI": "/" + "y" * 60 * 1024})

    checked, authorized = app.state.call_log._buffer
    assert len(checked[4]) == MAX_PATH_LENGTH
    assert len(authorized[4]) == MAX_PATH_LENGTH
