"""nginx terminating mutual TLS in front of AccessPlane, as docs/decision.md shows it: the
configuration of ``deploy/nginx/accessplane-mtls.conf`` run by a real nginx against a test CA,
AccessPlane served over HTTP by uvicorn, clients connecting over TLS with their certificates,
and an upstream whose access log says whether a request reached it.

nginx runs as one process, so the upstream (a second ``server`` of it) has written its log line
before the gateway answers the client: counting lines right after a response is exact.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from accessplane.app import create_app
from accessplane.models import (
    AccessProfile,
    AccessProfileCertificate,
    AccessProfileProduct,
    Api,
    ApiProduct,
    AuthMethod,
    Client,
)
from accessplane.services import access_profiles
from accessplane.settings import Settings
from tests.conftest import require_service
from tests.support.certificates import (
    CertificateAuthority,
    IssuedCertificate,
    expired_certificate,
    unknown_ca_certificate,
)
from tests.support.issuer import LocalIssuer, local_issuer, serve
from tests.support.nginx import NginxProcess, free_port, nginx_unavailable_reason
from tests.support.scenario import Scenario, World, gid

ROOT = Path(__file__).resolve().parents[2]
GATEWAY_CONF = ROOT / "deploy" / "nginx" / "accessplane-mtls.conf"
DOCS = ROOT / "docs" / "decision.md"
GATEWAY_SECRET = "gateway-secret-0123456789abcdef"
UPSTREAM_LOG = "upstream.log"
UPSTREAM_BODY = "upstream reached\n"

UPSTREAM_SERVER = """\
log_format upstream '$request_method $request_uri '
                    'principal=$http_x_accessplane_principal_id';

server {{
    listen 127.0.0.1:{port};
    access_log {log} upstream;

    location / {{
        default_type text/plain;
        return 200 "upstream reached\\n";
    }}
}}
"""


def substitute(text: str, replacements: dict[str, str]) -> str:
    """Replace each placeholder, which must occur exactly once (so the test notices when the
    documented file changes shape)."""
    for old, new in replacements.items():
        assert text.count(old) == 1, f"{old!r} should occur once in {GATEWAY_CONF}"
        text = text.replace(old, new)
    return text


@dataclass
class Tls:
    """The files nginx and the clients need: the CA that issues client certificates, and a
    server certificate for 127.0.0.1."""

    ca: CertificateAuthority
    directory: Path
    ca_path: Path
    server: tuple[Path, Path]

    def client(self, issued: IssuedCertificate | None, stem: str = "client") -> ssl.SSLContext:
        """A client's TLS context: trusts the CA, presents ``issued`` (or no certificate)."""
        context = ssl.create_default_context(cafile=str(self.ca_path))
        if issued is not None:
            cert, key = issued.write(self.directory, f"{stem}-{issued.fingerprint[:12]}")
            context.load_cert_chain(cert, key)
        return context


@pytest.fixture
def tls(tmp_path: Path) -> Tls:
    directory = tmp_path / "tls"
    directory.mkdir()
    ca = CertificateAuthority.create()
    server = ca.issue("gateway", server_names=("127.0.0.1", "localhost"))
    return Tls(ca, directory, ca.write(directory), server.write(directory, "server"))


def gateway_config(
    tls: Tls, *, listen: int, accessplane: int, upstream: int, secret: str = ""
) -> str:
    """The documented configuration with this test's addresses and files."""
    cert, key = tls.server
    return substitute(
        GATEWAY_CONF.read_text(),
        {
            "listen 443 ssl;": f"listen 127.0.0.1:{listen} ssl;",
            "server 127.0.0.1:8000;": f"server 127.0.0.1:{accessplane};",
            "server 127.0.0.1:9000;": f"server 127.0.0.1:{upstream};",
            "/etc/nginx/tls/api.example.com.crt;": f"{cert};",
            "/etc/nginx/tls/api.example.com.key;": f"{key};",
            "/etc/nginx/tls/client-ca.crt;": f"{tls.ca_path};",
            'X-AccessPlane-Gateway-Secret "";': f'X-AccessPlane-Gateway-Secret "{secret}";',
        },
    )


@dataclass
class Call:
    response: httpx.Response
    reached: bool

    @property
    def reason(self) -> str | None:
        return self.response.headers.get("X-AccessPlane-Reason")


@dataclass
class Gateway:
    nginx: NginxProcess
    port: int
    tls: Tls

    def upstream_log(self) -> list[str]:
        return self.nginx.log(UPSTREAM_LOG)

    async def get(
        self,
        issued: IssuedCertificate | None,
        *,
        headers: dict[str, str] | None = None,
        path: str = "/orders/42",
    ) -> Call:
        before = len(self.upstream_log())
        async with httpx.AsyncClient(verify=self.tls.client(issued), timeout=10) as http:
            response = await http.get(f"https://127.0.0.1:{self.port}{path}", headers=headers)
        return Call(response, reached=len(self.upstream_log()) > before)


@asynccontextmanager
async def running_gateway(
    directory: Path, tls: Tls, *, accessplane: int, secret: str = ""
) -> AsyncIterator[Gateway]:
    reason = nginx_unavailable_reason()
    require_service("nginx", reason is None, reason or "")
    listen, upstream = free_port(), free_port()
    http = "\n".join(
        [
            UPSTREAM_SERVER.format(port=upstream, log=directory / UPSTREAM_LOG),
            gateway_config(
                tls, listen=listen, accessplane=accessplane, upstream=upstream, secret=secret
            ),
        ]
    )
    nginx = NginxProcess(directory, http, ports=[listen, upstream])
    await nginx.start()
    try:
        yield Gateway(nginx, listen, tls)
    finally:
        await nginx.stop()


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """AccessPlane behind nginx: it wants the secret the gateway sends, and reads the
    certificate from the header the configuration sets."""
    return settings.model_copy(
        update={
            "trusted_proxies": ["127.0.0.1"],
            "decision_gateway_secret": SecretStr(GATEWAY_SECRET),
            "decision_certificate_header": "X-Client-Cert",
        }
    )


@pytest.fixture
async def gateway(app: Starlette, tls: Tls, tmp_path: Path) -> AsyncIterator[Gateway]:
    port = free_port()
    async with (
        serve(app, port),
        running_gateway(tmp_path / "nginx", tls, accessplane=port, secret=GATEWAY_SECRET) as gw,
    ):
        yield gw


@dataclass
class Orders:
    """``orders`` in an MTLS product, held by one client's MTLS app with ``certificate``."""

    world: World
    api: Api
    product: ApiProduct
    client: Client
    app: AccessProfile
    certificate: IssuedCertificate


async def register(scenario: Scenario, app: AccessProfile, issued: IssuedCertificate) -> None:
    """The certificate's row, as the registration service writes it."""
    certificate = issued.certificate
    scenario.session.add(
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
    await scenario.session.commit()


@pytest.fixture
async def orders(scenario: Scenario, tls: Tls) -> Orders:
    world = await scenario.workspace()
    api = await scenario.api(world, "Orders")
    product = await scenario.product(world, apis=[api], auth_method=AuthMethod.MTLS)
    client = await scenario.client(world)
    app = AccessProfile(
        workspace_id=world.workspace.id,
        client_id=client.id,
        name="orders-app",
        auth_method=AuthMethod.MTLS,
    )
    scenario.session.add(app)
    await scenario.session.flush()
    scenario.session.add(
        AccessProfileProduct(
            access_profile_id=app.id, product_id=product.id, workspace_id=world.workspace.id
        )
    )
    await scenario.session.commit()
    issued = tls.ca.issue("orders-app")
    await register(scenario, app, issued)
    return Orders(world, api, product, client, app, issued)


def test_the_docs_show_the_tested_configuration() -> None:
    text = DOCS.read_text()
    section = text[text.index("## Certificate-bound apps (mTLS)") :]
    shown = re.search(r"```nginx\n(.*?)```", section, flags=re.DOTALL)

    assert shown is not None
    assert shown.group(1) == GATEWAY_CONF.read_text()


async def test_a_registered_certificate_reaches_the_upstream_with_the_identity(
    gateway: Gateway, orders: Orders
) -> None:
    call = await gateway.get(orders.certificate, path="/orders/42?expand=lines")

    assert (call.response.status_code, call.reached) == (200, True)
    assert call.response.text == UPSTREAM_BODY
    principal = gid("AccessProfile", orders.app.id)
    assert gateway.upstream_log()[-1] == f"GET /orders/42?expand=lines principal={principal}"


async def test_each_refusal_through_nginx(
    gateway: Gateway, orders: Orders, tls: Tls, app: Starlette
) -> None:
    missing = await gateway.get(None)
    stranger = await gateway.get(tls.ca.issue("never-registered"))
    # nginx itself refuses what its CA did not issue, and what has expired.
    unknown_ca = await gateway.get(unknown_ca_certificate())
    expired = await gateway.get(expired_certificate(tls.ca))
    # A client without a certificate cannot pass one off in a header of its own.
    injected = await gateway.get(None, headers={"X-Client-Cert": orders.certificate.escaped_pem})

    assert (missing.response.status_code, missing.reason) == (401, "certificate_required")
    assert (stranger.response.status_code, stranger.reason) == (401, "certificate_not_recognised")
    assert (injected.response.status_code, injected.reason) == (401, "certificate_required")
    assert (unknown_ca.response.status_code, unknown_ca.reason) == (400, None)
    assert (expired.response.status_code, expired.reason) == (400, None)
    assert gateway.upstream_log() == []

    # Registered, valid when nginx checks it, but past its end when AccessPlane decides.
    later = orders.certificate.certificate.not_valid_after_utc + timedelta(minutes=1)
    app.state.decider.clock = lambda: later
    past = await gateway.get(orders.certificate)
    assert (past.response.status_code, past.reason) == (401, "certificate_expired")
    assert not past.reached


async def test_the_header_is_ignored_from_a_gateway_accessplane_does_not_trust(
    settings: Settings, engine: AsyncEngine, orders: Orders, tls: Tls, tmp_path: Path
) -> None:
    # Neither the secret nor nginx's address: the forwarded certificate is not believed.
    distrustful = settings.model_copy(
        update={"trusted_proxies": [], "decision_gateway_secret": None}
    )
    port = free_port()
    async with (
        serve(create_app(distrustful, engine=engine), port),
        running_gateway(tmp_path / "nginx", tls, accessplane=port) as gateway,
    ):
        call = await gateway.get(orders.certificate)

    assert (call.response.status_code, call.reason) == (401, "certificate_required")
    assert not call.reached


@pytest.fixture
async def issuer() -> AsyncIterator[LocalIssuer]:
    async with local_issuer() as running:
        yield running


async def test_a_certificate_bound_token_passes_only_with_its_certificate(
    gateway: Gateway, orders: Orders, scenario: Scenario, tls: Tls, issuer: LocalIssuer
) -> None:
    # The same "orders" API, in a JWT product of its own, for an app whose tokens are bound.
    product = await scenario.product(orders.world, apis=[orders.api], auth_method=AuthMethod.JWT)
    issued = await access_profiles.create_access_profile(
        session=scenario.session,
        actor=orders.world.owner.principal,
        secret=scenario.secret,
        client_id=orders.client.id,
        name="partner",
        auth_method=AuthMethod.JWT,
        token=access_profiles.TokenSettings(trusted_issuer=issuer.url, client_id="partner"),
        product_ids=[product.id],
    )
    profile = await scenario.session.get(AccessProfile, issued.access_profile.id)
    assert profile is not None
    profile.certificate_bound_tokens = True
    await scenario.session.commit()
    holder, thief = tls.ca.issue("partner"), tls.ca.issue("thief")
    token = issuer.token(client_id="partner", cnf={"x5t#S256": holder.x5t_s256})
    bearer = {"Authorization": f"Bearer {token}"}

    bound = await gateway.get(holder, headers=bearer)
    stolen = await gateway.get(thief, headers=bearer)
    bare = await gateway.get(None, headers=bearer)

    assert (bound.response.status_code, bound.reached) == (200, True)
    assert (stolen.response.status_code, stolen.reason) == (401, "invalid_token")
    assert (bare.response.status_code, bare.reason) == (401, "certificate_required")
    assert gateway.upstream_log()[-1].endswith(f"principal={gid('AccessProfile', profile.id)}")
