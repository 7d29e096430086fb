"""A real SMTP server (aiosmtpd) on loopback for the notification tests, which can be down and
come back on the same port, and an outbox wired to it."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from accessplane.notify.outbox import Outbox, Worker
from accessplane.notify.sender import SmtpSender
from accessplane.settings import Settings


class Inbox:
    """An aiosmtpd handler that keeps every message; recipients in ``refuse`` get a 550."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        self.messages.append(message_from_bytes(content, policy=policy.default))  # type: ignore[arg-type]
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SmtpServer:
    """An SMTP server on a fixed loopback port that tests start and stop."""

    def __init__(self) -> None:
        self.port = free_port()
        self.inbox = Inbox()
        self._controller: Controller | None = None

    @property
    def messages(self) -> list[EmailMessage]:
        return self.inbox.messages

    def start(self) -> None:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """Not started: call ``start()`` (and ``stop()``) to simulate an outage and recovery."""
    server = SmtpServer()
    yield server
    server.stop()


@pytest.fixture
def smtp(smtp_server: SmtpServer) -> SmtpServer:
    """A running SMTP server."""
    smtp_server.start()
    return smtp_server


@pytest.fixture
def mail_settings(settings: Settings, smtp_server: SmtpServer) -> Settings:
    return settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_server.port,
            "smtp_starttls": False,
            "smtp_timeout": 5.0,
            "notification_retry_base_seconds": 60.0,
            "notification_retry_max_seconds": 3600.0,
            "notification_max_attempts": 3,
            "notification_batch_size": 5,
        }
    )


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def smtp_sender(settings: Settings) -> SmtpSender:
    assert settings.smtp_host is not None
    return SmtpSender(
        host=settings.smtp_host,
        port=settings.smtp_port,
        starttls=settings.smtp_starttls,
        timeout=settings.smtp_timeout,
    )


@pytest.fixture
def outbox(sessions: async_sessionmaker[AsyncSession], mail_settings: Settings) -> Outbox:
    return Outbox(sessions, smtp_sender(mail_settings), mail_settings)


@pytest.fixture
def worker(sessions: async_sessionmaker[AsyncSession], mail_settings: Settings) -> Worker:
    return Worker(sessions, smtp_sender(mail_settings), mail_settings)


async def eventually(check: Callable[[], Awaitable[Any]], *, within: float = 10.0) -> Any:
    """Poll ``check`` until it returns something truthy, or fail after ``within`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        result = await check()
        if result:
            return result
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)
