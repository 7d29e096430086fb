"""Mails that mention the console link to the exact page, through a real SMTP server: the
access request to decide, the key about to expire or expired. The base is ACCESSPLANE_PUBLIC_URL
(with or without its trailing slash), else ``http://<host>:<port>`` of the serving settings; the
ids are the GraphQL API's global ids, which the console's routes carry."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from markupsafe import escape
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.relay import from_base64

from accessplane.notify.links import ConsoleLinks, _warn_wildcard, console_base_url
from accessplane.notify.outbox import Worker
from accessplane.services import access_requests
from accessplane.services.access_requests import NewAccessProfile
from accessplane.settings import Settings
from tests.conftest import SECRET
from tests.notify.conftest import SmtpServer, smtp_sender
from tests.support.graphql import GraphQLClient
from tests.support.scenario import Scenario, World, gid

NOW = datetime(2030, 6, 1, 8, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Served:
    """Serving settings and the base every console link must start with."""

    public_url: str
    host: str
    port: int
    base: str


PUBLIC = "https://access.example.com"
SERVED = [
    pytest.param(Served(f"{PUBLIC}/", "127.0.0.1", 8000, PUBLIC), id="public-url-slash"),
    pytest.param(Served(PUBLIC, "127.0.0.1", 8000, PUBLIC), id="public-url"),
    pytest.param(Served("", "192.0.2.10", 8443, "http://192.0.2.10:8443"), id="fallback"),
    pytest.param(Served("", "::1", 8000, "http://[::1]:8000"), id="fallback-ipv6"),
]


def bodies(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    assert html is not None
    return str(text.get_content()), str(html.get_content())


def assert_links_to(message: EmailMessage, url: str) -> None:
    text, html = bodies(message)
    assert url in text.split()
    assert f'<a href="{escape(url)}">{escape(url)}</a>' in html


def path_ids(url: str, base: str) -> list[tuple[str, str]]:
    """The (type, uuid) pairs of a console URL's ids: /workspaces/<id>/<section>/<id>."""
    assert url.startswith(f"{base}/workspaces/")
    _, _, workspace, _, item = url.removeprefix(base).split("/")
    return [from_base64(workspace), from_base64(item)]


@pytest.fixture(params=SERVED)
def served(request: pytest.FixtureRequest) -> Served:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def served_settings(served: Served, mail_settings: Settings) -> Settings:
    return mail_settings.model_copy(
        update={"public_url": served.public_url, "host": served.host, "port": served.port}
    )


@pytest.fixture
def link_worker(sessions: async_sessionmaker[AsyncSession], served_settings: Settings) -> Worker:
    """A worker of the serving settings: its reminders link to their base."""
    return Worker(sessions, smtp_sender(served_settings), served_settings)


def test_the_base_url_is_the_public_url_else_the_serving_address() -> None:
    def base(**values: Any) -> str:
        return console_base_url(Settings(**values))

    assert base(public_url="https://access.example.com/") == "https://access.example.com"
    assert base(public_url=" https://access.example.com/ap/ ") == "https://access.example.com/ap"
    assert base(host="10.1.2.3", port=9000) == "http://10.1.2.3:9000"
    assert base() == "http://127.0.0.1:8000"


def test_a_server_on_every_address_links_to_localhost_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    _warn_wildcard.cache_clear()  # said once per process and address
    with caplog.at_level(logging.WARNING, logger="accessplane.notify.links"):
        assert console_base_url(Settings(host="0.0.0.0", port=8123)) == "http://localhost:8123"
        assert console_base_url(Settings(host="::", port=8123)) == "http://localhost:8123"

    assert [r.getMessage() for r in caplog.records] == [
        "ACCESSPLANE_PUBLIC_URL is empty and the server listens on '0.0.0.0': console links in "
        "mails use http://localhost:8123, which only this machine can open; set "
        "ACCESSPLANE_PUBLIC_URL",
        "ACCESSPLANE_PUBLIC_URL is empty and the server listens on '::': console links in "
        "mails use http://localhost:8123, which only this machine can open; set "
        "ACCESSPLANE_PUBLIC_URL",
    ]
    assert all(r.exc_info is None for r in caplog.records)


async def submit(scenario: Scenario, world: World, links: ConsoleLinks | None = None) -> Any:
    client = await scenario.client(world, "Partner")
    consumer = await scenario.consumer(world, client)
    product = await scenario.product(world, "Payments")
    plan = await scenario.plan(world, "Gold")
    return await access_requests.submit_access_request(
        session=scenario.session,
        actor=consumer.principal,
        secret=SECRET.encode(),
        product_ids=[product.id],
        plan_id=plan.id,
        new_access_profile=NewAccessProfile(client_id=client.id, name="Mobile"),
        links=links,
    )


async def test_the_access_request_mail_links_to_the_request_in_the_console(
    scenario: Scenario,
    smtp: SmtpServer,
    link_worker: Worker,
    served: Served,
    served_settings: Settings,
) -> None:
    world = await scenario.workspace("Acme")

    submitted = await submit(scenario, world, ConsoleLinks.from_settings(served_settings))
    assert (await link_worker.run_once(NOW)).sent == 1

    [message] = smtp.messages
    request = submitted.access_request
    url = (
        f"{served.base}/workspaces/{gid('Workspace', world.workspace.id)}"
        f"/access-requests/{gid('AccessRequest', request.id)}"
    )
    assert_links_to(message, url)
    assert path_ids(url, served.base) == [
        ("Workspace", str(world.workspace.id)),
        ("AccessRequest", str(request.id)),
    ]


KEYS_QUERY = """
query Keys($id: ID!) {
  workspace(id: $id) { id apiAccesses { edges { node { id name } } } }
}
"""


async def test_the_key_reminders_link_to_the_key_in_the_console(
    graphql: GraphQLClient,
    scenario: Scenario,
    smtp: SmtpServer,
    link_worker: Worker,
    served: Served,
) -> None:
    world = await scenario.workspace("Acme")
    expires = NOW + 5 * DAY
    issued = await scenario.api_access(world, name="deploy", expires_at=expires, now=NOW)

    assert (await link_worker.run_once(NOW)).sent == 1  # expires in 5 days
    assert (await link_worker.run_once(expires)).sent == 1  # has expired

    listed = (
        await graphql.as_principal(world.owner.principal).execute(
            KEYS_QUERY, id=gid("Workspace", world.workspace.id)
        )
    ).ok()["workspace"]
    [key] = [e["node"] for e in listed["apiAccesses"]["edges"] if e["node"]["name"] == "deploy"]
    url = f"{served.base}/workspaces/{listed['id']}/keys/{key['id']}"
    expiring, expired = smtp.messages
    assert expiring["Subject"] == 'API key "deploy" expires in 5 days'
    assert expired["Subject"] == 'API key "deploy" has expired'
    assert_links_to(expiring, url)
    assert_links_to(expired, url)
    assert path_ids(url, served.base) == [
        ("Workspace", str(world.workspace.id)),
        ("ApiAccess", str(issued.api_access.id)),
    ]


async def test_the_decision_mails_to_consumers_carry_no_console_link(
    scenario: Scenario, smtp: SmtpServer, worker: Worker
) -> None:
    """Approve and reject mails do not mention the console: a consumer may have none."""
    world = await scenario.workspace("Acme")
    submitted = await submit(scenario, world, ConsoleLinks("https://access.example.com"))
    await access_requests.reject_access_request(
        session=scenario.session,
        actor=world.owner.principal,
        access_request_id=submitted.access_request.id,
        reason="Use the sandbox first",
    )
    await worker.run_once(NOW)

    [rejected] = [m for m in smtp.messages if m["Subject"].startswith("Access request rejected")]
    for body in bodies(rejected):
        assert "console" not in body
        assert "https://" not in body
