"""A real SMTP server for the console's e2e run (aiosmtpd on 127.0.0.1).

Usage: ``python mailsink.py DIRECTORY PORT``. Each message received is written to DIRECTORY as
one JSON file (recipients, subject, plain-text body) so the specs can read mails without a MIME
parser; the file is renamed into place once written, so a reader never sees half of one. Prints
``ready`` once it accepts connections, and runs until SIGTERM or SIGINT.
"""

from __future__ import annotations

import json
import signal
import sys
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

try:
    from aiosmtpd.controller import Controller
except ImportError:  # server.ts reads this line as the reason to skip the mail steps
    print("aiosmtpd is not installed (it is a dev dependency: uv sync)", flush=True)
    sys.exit(3)


def plain_text(message: EmailMessage) -> str:
    """The text/plain body, decoded (mails are multipart text and HTML)."""
    body = message.get_body(preferencelist=("plain",))
    return str(body.get_content()) if body is not None else ""


class Sink:
    """Writes each message to a numbered JSON file in ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        record = {
            "to": list(envelope.rcpt_tos),
            "subject": str(message["Subject"] or ""),
            "text": plain_text(message),
        }
        self.count += 1
        partial = self.directory / f"{self.count:05d}.partial"
        partial.write_text(json.dumps(record))
        partial.rename(self.directory / f"{self.count:05d}.json")
        return "250 Message accepted for delivery"


def main() -> None:
    directory, port = Path(sys.argv[1]), int(sys.argv[2])
    directory.mkdir(parents=True, exist_ok=True)
    controller = Controller(Sink(directory), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    controller.stop()


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    main()
