"""Delivering one email: through SMTP (aiosmtplib), or to the log when no SMTP is configured."""

from __future__ import annotations

import logging
import re
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Protocol

import aiosmtplib

from accessplane.models import Notification
from accessplane.settings import Settings

logger = logging.getLogger(__name__)


class DeliveryError(Exception):
    """A send failed; ``permanent`` when the server refused the mail itself (5xx), not when
    it could not be reached or asked to try later (outage, 4xx)."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class MailSender(Protocol):
    """Sends one message or raises ``DeliveryError``."""

    async def send(self, message: EmailMessage) -> None: ...


def build_message(notification: Notification, sender: str) -> EmailMessage:
    """A multipart/alternative message (text, then HTML) for a notification."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = notification.recipient
    message["Subject"] = notification.subject
    # Made of the notification's id alone (no time or random part, unlike make_msgid), so
    # every attempt carries the same one and a receiver can drop a re-delivery.
    _, at, domain = parseaddr(sender)[1].rpartition("@")
    if not (at and domain):
        domain = "accessplane"
    message["Message-ID"] = f"<{notification.id.hex}@{domain}>"
    message.set_content(notification.body_text)
    message.add_alternative(notification.body_html, subtype="html")
    return message


class SmtpSender:
    """Sends through an SMTP server; STARTTLS and login as configured."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = True,
        timeout: float = 30.0,
    ) -> None:
        self.host, self.port = host, port
        self.username, self.password = username, password
        self.starttls, self.timeout = starttls, timeout

    async def send(self, message: EmailMessage) -> None:
        try:
            await aiosmtplib.send(
                message,
                hostname=self.host,
                port=self.port,
                username=self.username,
                password=self.password,
                start_tls=self.starttls,
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as error:
            codes = [refusal.code for refusal in error.recipients]
            raise DeliveryError(
                f"recipients refused ({', '.join(map(str, codes))})",
                permanent=all(code >= 500 for code in codes),
            ) from None
        except aiosmtplib.SMTPResponseException as error:
            raise DeliveryError(
                f"SMTP {error.code}: {error.message}"[:300], permanent=error.code >= 500
            ) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            raise DeliveryError(f"{type(error).__name__}: {error}"[:300], permanent=False) from None


# What the log keeps of a mail's text: its start, on one line, with anything shaped like a
# token or secret (our prefixes, or a long unbroken run of token characters) masked. Mails
# carry no tokens; this keeps a template mistake from putting one in the log.
EXCERPT_CHARS = 400
_SECRET_LIKE = re.compile(r"\b(?:apk|apt|whsec)_\S+|[A-Za-z0-9_\-+/=]{32,}")


def log_excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """A bounded, token-free, one-line excerpt of a mail's text for the log."""
    flat = " ".join(text[: limit * 4].split())
    masked = _SECRET_LIKE.sub("[redacted]", flat)
    return masked if len(masked) <= limit else masked[:limit] + "…"


class LogSender:
    """Writes each mail to the log: for development, and when no SMTP server is configured.
    Recipient, subject and a bounded excerpt of the text (``log_excerpt``), never the whole
    body: a log is kept and shipped far more widely than a mailbox."""

    async def send(self, message: EmailMessage) -> None:
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        logger.info(
            "email (no SMTP configured) to %s, subject %r: %s",
            message["To"],
            message["Subject"],
            log_excerpt(text),
        )


def sender_from_settings(settings: Settings) -> MailSender:
    """SMTP if ``smtp_host`` is set, else the log."""
    if not settings.smtp_host:
        return LogSender()
    return SmtpSender(
        host=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        starttls=settings.smtp_starttls,
        timeout=settings.smtp_timeout,
    )
