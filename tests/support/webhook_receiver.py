"""A real webhook receiver for the delivery tests: a Starlette app served by uvicorn on
loopback that verifies every request's signature with ``standardwebhooks`` (as a customer's
receiver would), keeps what it got, and can be told to fail the next N requests."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from standardwebhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from tests.support.certificates import CertificateAuthority
from tests.support.issuer import serve


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Received:
    """One request as the receiver saw it."""

    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def event(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


@dataclass
class WebhookReceiver:
    """Answers 204 to a request signed with ``secret``, 401 to any other; ``fail_next``
    requests first get ``fail_status``."""

    secret: str | None = None
    scheme: str = "http"
    fail_next: int = 0
    fail_status: int = 500
    port: int = field(default_factory=free_port)
    received: list[Received] = field(default_factory=list)

    @property
    def url(self) -> str:
        """The receiving URL on a name that resolves to loopback."""
        return f"{self.scheme}://localhost:{self.port}/hooks"

    @property
    def verified(self) -> list[Received]:
        return [r for r in self.received if r.verified and r.path == "/hooks"]

    def app(self) -> Starlette:
        async def hooks(request: Request) -> Response:
            body = await request.body()
            verified = False
            if self.secret is not None:
                try:
                    Webhook(self.secret).verify(body, dict(request.headers))
                    verified = True
                except WebhookVerificationError:
                    pass
            self.received.append(Received("/hooks", dict(request.headers), body, verified))
            if not verified:
                return Response(status_code=401)
            if self.fail_next > 0:
                self.fail_next -= 1
                return Response(status_code=self.fail_status)
            return Response(status_code=204)

        async def moved(request: Request) -> Response:
            self.received.append(
                Received("/moved", dict(request.headers), await request.body(), False)
            )
            return RedirectResponse("/hooks", status_code=307)

        return Starlette(
            routes=[
                Route("/hooks", hooks, methods=["POST"]),
                Route("/moved", moved, methods=["POST"]),
            ]
        )


@contextlib.asynccontextmanager
async def webhook_receiver(secret: str | None = None) -> AsyncIterator[WebhookReceiver]:
    """A receiver listening for the duration of the block."""
    receiver = WebhookReceiver(secret=secret)
    async with serve(receiver.app(), receiver.port):
        yield receiver


@contextlib.asynccontextmanager
async def tls_webhook_receiver(
    directory: Path, ca: CertificateAuthority, server_name: str = "localhost"
) -> AsyncIterator[WebhookReceiver]:
    """A receiver on HTTPS, with a certificate of ``ca`` for ``server_name`` only."""
    receiver = WebhookReceiver(scheme="https")
    cert, key = ca.issue(server_name, server_names=(server_name,)).write(directory, "receiver")
    config = uvicorn.Config(
        receiver.app(),
        host="127.0.0.1",
        port=receiver.port,
        log_level="warning",
        ssl_certfile=str(cert),
        ssl_keyfile=str(key),
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(10):
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.01)
        yield receiver
    finally:
        server.should_exit = True
        await task


@contextlib.asynccontextmanager
async def ipv6_webhook_receiver(secret: str | None = None) -> AsyncIterator[WebhookReceiver]:
    """A receiver on the IPv6 loopback ``[::1]`` only, its URL an IPv6 address literal."""
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
        probe.bind(("::1", 0))
        port = int(probe.getsockname()[1])
    receiver = WebhookReceiver(secret=secret, port=port)
    server = uvicorn.Server(
        uvicorn.Config(receiver.app(), host="::1", port=port, log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(10):
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.01)
        yield receiver
    finally:
        server.should_exit = True
        await task
