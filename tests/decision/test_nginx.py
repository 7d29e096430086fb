"""nginx in front of AccessPlane, as the README shows it: the configuration of
``deploy/nginx/accessplane.conf`` run by a real nginx, AccessPlane served over HTTP by uvicorn,
and an upstream whose access log says whether a request reached it (not just the status code).

The upstream is a second ``server`` of the same nginx. nginx runs as one process, so the upstream
has written its log line before the gateway can answer the client: counting lines right after a
response is exact.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from accessplane.app import create_app
from accessplane.auth.tokens import TokenKind, issue_token
from accessplane.models import Api, ApiProduct, AuthMethod, Client, Plan, RateLimitPeriod
from accessplane.services import access_profiles, plans
from accessplane.settings import Settings
from tests.conftest import require_service
from tests.decision.test_operations import choose, declare
from tests.support.nginx import NginxProcess, free_port, nginx_unavailable_reason
from tests.support.scenario import Scenario, World, gid

ROOT = Path(__file__).resolve().parents[2]
GATEWAY_CONF = ROOT / "deploy" / "nginx" / "accessplane.conf"
README = ROOT / "README.md"
GATEWAY_SECRET = "gateway-secret-0123456789abcdef"
UPSTREAM_LOG = "upstream.log"
UPSTREAM_BODY = "upstream reached\n"
SERVER_START_TIMEOUT = 10.0

# The API the documented configuration protects: what nginx forwards to, the upstream logs
# the identity headers nginx adds.
UPSTREAM_SERVER = """\
log_format upstream '$request_method $request_uri '
                    'principal=$http_x_accessplane_principal_id '
                    'client=$http_x_accessplane_client_id';

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


def gateway_config(*, listen: int, accessplane: int, upstream: int, secret: str = "") -> str:
    """The documented configuration with this test's addresses."""
    return substitute(
        GATEWAY_CONF.read_text(),
        {
            "listen 80;": f"listen 127.0.0.1:{listen};",
            "server 127.0.0.1:8000;": f"server 127.0.0.1:{accessplane};",
            "server 127.0.0.1:9000;": f"server 127.0.0.1:{upstream};",
            'X-AccessPlane-Gateway-Secret "";': f'X-AccessPlane-Gateway-Secret "{secret}";',
        },
    )


@dataclass
class Call:
    """A response from the gateway, and whether the request reached the upstream."""

    response: httpx.Response
    reached: bool


@dataclass
class Gateway:
    """nginx running the documented configuration, in front of AccessPlane and the upstream."""

    nginx: NginxProcess
    port: int

    def upstream_log(self) -> list[str]:
        return self.nginx.log(UPSTREAM_LOG)

    async def get(
        self,
        path: str = "/orders/42",
        *,
        headers: dict[str, str] | None = None,
        local_address: str = "127.0.0.1",
    ) -> Call:
        before = len(self.upstream_log())
        transport = httpx.AsyncHTTPTransport(local_address=local_address)
        async with httpx.AsyncClient(transport=transport, timeout=10) as http:
            response = await http.get(f"http://127.0.0.1:{self.port}{path}", headers=headers)
        return Call(response, reached=len(self.upstream_log()) > before)


@asynccontextmanager
async def running_gateway(
    directory: Path, *, accessplane: int, secret: str = ""
) -> AsyncIterator[Gateway]:
    """nginx with the documented gateway in front of AccessPlane on port ``accessplane``."""
    reason = nginx_unavailable_reason()
    require_service("nginx", reason is None, reason or "")
    listen, upstream = free_port(), free_port()
    http = "\n".join(
        [
            UPSTREAM_SERVER.format(port=upstream, log=directory / UPSTREAM_LOG),
            gateway_config(
                listen=listen, accessplane=accessplane, upstream=upstream, secret=secret
            ),
        ]
    )
    nginx = NginxProcess(directory, http, ports=[listen, upstream])
    await nginx.start()
    try:
        yield Gateway(nginx, listen)
    finally:
        await nginx.stop()


@asynccontextmanager
async def serving(app: Starlette, port: int) -> AsyncIterator[None]:
    """Serve ``app`` over HTTP on 127.0.0.1:``port`` in this event loop, lifespan included."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", log_config=None
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("uvicorn stopped before it started")
        if time.monotonic() > deadline:
            server.should_exit = True
            await task
            raise RuntimeError(f"uvicorn did not start in {SERVER_START_TIMEOUT}s")
        await asyncio.sleep(0.02)
    try:
        yield
    finally:
        server.should_exit = True
        await task


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """AccessPlane behind nginx: it believes nginx's X-Forwarded-For, and wants the secret the
    gateway configuration sends."""
    return settings.model_copy(
        update={
            "trusted_proxies": ["127.0.0.1"],
            "decision_gateway_secret": SecretStr(GATEWAY_SECRET),
        }
    )


@pytest.fixture
async def gateway(app: Starlette, tmp_path: Path) -> AsyncIterator[Gateway]:
    port = free_port()
    async with (
        serving(app, port),
        running_gateway(tmp_path / "nginx", accessplane=port, secret=GATEWAY_SECRET) as gateway,
    ):
        yield gateway


@dataclass
class Orders:
    """The API "orders" in a product, a plan of 2 calls a minute, and a client to give apps."""

    world: World
    api: Api
    product: ApiProduct
    plan: Plan
    client: Client

    async def app(
        self, scenario: Scenario, name: str = "Web", *, allowed_ips: Sequence[str] = ()
    ) -> access_profiles.IssuedAccessProfile:
        """An AUTH_TOKEN app holding the product on the plan; ``.token`` is its token."""
        return await access_profiles.create_access_profile(
            session=scenario.session,
            actor=self.world.owner.principal,
            secret=scenario.secret,
            client_id=self.client.id,
            name=name,
            auth_method=AuthMethod.AUTH_TOKEN,
            allowed_ips=allowed_ips,
            product_ids=[self.product.id],
            plan_id=self.plan.id,
        )


@pytest.fixture
async def orders(scenario: Scenario) -> Orders:
    world = await scenario.workspace()
    api = await scenario.api(world, "Orders")
    assert api.identifier == "orders"  # what the documented configuration asks about
    product = await scenario.product(world, apis=[api])
    plan = await plans.create_plan(
        session=scenario.session,
        actor=world.owner.principal,
        workspace_id=world.workspace.id,
        name="Two a minute",
        rate_limit=plans.RateLimit(2, RateLimitPeriod.MINUTE),
    )
    return Orders(world, api, product, plan, await scenario.client(world))


def bearer(token: str | None) -> dict[str, str]:
    assert token is not None
    return {"Authorization": f"Bearer {token}"}


def test_the_readme_shows_the_tested_configuration() -> None:
    text = README.read_text()
    section = text[text.index("## Gateways") :]
    shown = re.search(r"```nginx\n(.*?)```", section, flags=re.DOTALL)

    assert shown is not None
    assert shown.group(1) == GATEWAY_CONF.read_text()


async def test_the_documented_configuration_is_valid_nginx(tmp_path: Path) -> None:
    reason = nginx_unavailable_reason()
    require_service("nginx", reason is None, reason or "")
    # `nginx -t` binds the ports it would listen on, and port 80 needs root.
    documented = substitute(GATEWAY_CONF.read_text(), {"listen 80;": f"listen {free_port()};"})
    nginx = NginxProcess(tmp_path, documented)

    output = await nginx.check_config()

    assert "syntax is ok" in output
    assert "test is successful" in output


async def test_without_accessplane_the_gateway_fails_closed(tmp_path: Path) -> None:
    async with running_gateway(tmp_path, accessplane=free_port()) as gateway:
        call = await gateway.get(
            headers=bearer(issue_token(TokenKind.ACCESS_PROFILE, b"-").plaintext)
        )

    assert call.response.status_code == 500
    assert not call.reached


async def test_an_allowed_call_reaches_the_upstream_with_the_identity(
    gateway: Gateway, orders: Orders, scenario: Scenario
) -> None:
    issued = await orders.app(scenario)
    forged = {"X-AccessPlane-Principal-Id": "forged", "X-AccessPlane-Client-Id": "forged"}

    call = await gateway.get("/orders/42?expand=lines", headers=bearer(issued.token) | forged)

    assert call.response.status_code == 200
    assert call.response.text == UPSTREAM_BODY
    assert call.reached
    principal = gid("AccessProfile", issued.access_profile.id)
    client = gid("Client", orders.client.id)
    assert gateway.upstream_log()[-1] == (
        f"GET /orders/42?expand=lines principal={principal} client={client}"
    )
    assert call.response.headers["X-RateLimit-Limit"] == "2"
    assert call.response.headers["X-RateLimit-Remaining"] == "1"
    assert int(call.response.headers["X-RateLimit-Reset"]) > 0


async def test_the_x_api_key_header_works_too(
    gateway: Gateway, orders: Orders, scenario: Scenario
) -> None:
    issued = await orders.app(scenario)
    assert issued.token is not None

    call = await gateway.get(headers={"X-API-Key": issued.token})

    assert call.response.status_code == 200
    assert call.response.text == UPSTREAM_BODY
    assert call.reached


async def test_unknown_or_missing_credentials_are_401(
    gateway: Gateway, orders: Orders, scenario: Scenario
) -> None:
    await orders.app(scenario)
    never_issued = issue_token(TokenKind.ACCESS_PROFILE, scenario.secret).plaintext

    unknown = await gateway.get(headers=bearer(never_issued))
    missing = await gateway.get()

    assert (unknown.response.status_code, unknown.reached) == (401, False)
    assert (missing.response.status_code, missing.reached) == (401, False)
    assert unknown.response.headers["WWW-Authenticate"].startswith("Bearer")
    assert gateway.upstream_log() == []


async def test_a_refreshed_token_is_refused_and_its_successor_accepted(
    gateway: Gateway, orders: Orders, scenario: Scenario
) -> None:
    issued = await orders.app(scenario)
    before = await gateway.get(headers=bearer(issued.token))
    refreshed = await access_profiles.refresh_access_profile_token(
        session=scenario.session,
        actor=orders.world.owner.principal,
        secret=scenario.secret,
        access_profile_id=issued.access_profile.id,
    )

    old = await gateway.get(headers=bearer(issued.token))
    new = await gateway.get(headers=bearer(refreshed.token))

    assert (before.response.status_code, before.reached) == (200, True)
    assert (old.response.status_code, old.reached) == (401, False)
    assert (new.response.status_code, new.reached) == (200, True)
    assert len(gateway.upstream_log()) == 2


async def test_the_ip_allowlist_sees_the_address_nginx_saw(
    gateway: Gateway, orders: Orders, scenario: Scenario
) -> None:
    elsewhere = await orders.app(scenario, "Elsewhere", allowed_ips=["198.51.100.0/24"])
    here = await orders.app(scenario, "Here", allowed_ips=["127.0.0.2/32"])

    denied = await gateway.get(headers=bearer(elsewhere.token))
    # From 127.0.0.2, which AccessPlane does not trust as a proxy: its own X-Forwarded-For is
    # ignored, and nginx's address for it is believed.
    spoofed = await gateway.get(
        headers=bearer(elsewhere.token) | {"X-Forwarded-For": "198.51.100.7"},
        local_address="127.0.0.2",
    )
    allowed = await gateway.get(headers=bearer(here.token), local_address="127.0.0.2")

    assert (denied.response.status_code, denied.reached) == (403, False)
    assert (spoofed.response.status_code, spoofed.reached) == (403, False)
    assert (allowed.response.status_code, allowed.reached) == (200, True)


async def test_over_the_rate_limit_the_client_gets_429_with_retry_after(
    gateway: Gateway, orders: Orders, scenario: Scenario
) -> None:
    issued = await orders.app(scenario)

    calls = [await gateway.get(headers=bearer(issued.token)) for _ in range(3)]

    assert [(c.response.status_code, c.reached) for c in calls] == [
        (200, True),
        (200, True),
        (429, False),
    ]
    limited = calls[-1].response.headers
    assert 0 < int(limited["Retry-After"]) <= 60
    assert limited["X-RateLimit-Limit"] == "2"
    assert limited["X-RateLimit-Remaining"] == "0"
    assert len(gateway.upstream_log()) == 2


async def test_with_the_rate_limiter_unreachable_the_client_gets_503(
    settings: Settings, engine: AsyncEngine, orders: Orders, scenario: Scenario, tmp_path: Path
) -> None:
    # Shared counters in a Redis nobody listens on: the limiter fails closed (the default).
    unreachable = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    issued = await orders.app(scenario)
    port = free_port()
    async with (
        serving(create_app(unreachable, engine=engine), port),
        running_gateway(tmp_path / "nginx", accessplane=port, secret=GATEWAY_SECRET) as gateway,
    ):
        call = await gateway.get(headers=bearer(issued.token))

    assert (call.response.status_code, call.reached) == (503, False)
    assert gateway.upstream_log() == []


async def _raw(port: int, method: str, target: str, token: str) -> int:
    """The status nginx answers to ``method target`` sent byte for byte (an HTTP client would
    normalise ``..`` or ``//`` before sending)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"{method} {target} HTTP/1.1\r\nHost: api.example.com\r\n"
        f"Authorization: Bearer {token}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode()
    )
    await writer.drain()
    status = await reader.readline()
    writer.close()
    await writer.wait_closed()
    return int(status.split()[1])


async def test_operations_are_checked_on_the_uri_nginx_received(
    gateway: Gateway, orders: Orders, scenario: Scenario
) -> None:
    issued = await orders.app(scenario)
    assert issued.token is not None
    read = await declare(scenario, orders.api, "GET", "/orders/{id}")
    await declare(scenario, orders.api, "GET", "/admin")
    await choose(scenario, orders.product, read)
    refused = [
        ("POST", "/orders/42"),
        ("GET", "/admin"),
        ("GET", "/orders/42/../../admin"),
        ("GET", "/orders/1%2F..%2F..%2Fadmin"),
        ("GET", "//orders/42"),
        ("GET", "/orders/42;x"),
    ]

    allowed = await _raw(gateway.port, "GET", "/orders/42?expand=lines", issued.token)
    statuses = [await _raw(gateway.port, m, t, issued.token) for m, t in refused]

    assert allowed == 200
    assert statuses == [403] * len(refused)
    assert gateway.upstream_log() == [
        f"GET /orders/42?expand=lines principal={gid('AccessProfile', issued.access_profile.id)} "
        f"client={gid('Client', orders.client.id)}"
    ]
