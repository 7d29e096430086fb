"""A bound on request bodies, enforced while they are read: a declared ``Content-Length`` over
the bound is refused before any byte is read, and a body without one (chunked) is refused as
soon as the bytes received pass the bound, so nothing larger is ever buffered.

The decision endpoints sit in front of this middleware and bound their bodies themselves.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(Exception):
    """Raised from ``receive`` when the body passes the bound; answered 413 here."""


def too_large_message(limit: int) -> str:
    return f"The request body exceeds {limit} bytes."


class BodyLimit:
    """Answer 413 with a JSON body to requests whose body exceeds ``max_bytes``, or
    ``multipart_max_bytes`` for ``multipart/form-data`` (file uploads). On ``graphql_path``
    the answer is a GraphQL error list, elsewhere ``{"error", "message"}``."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        multipart_max_bytes: int,
        graphql_path: str = "/graphql",
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.multipart_max_bytes = multipart_max_bytes
        self.graphql_path = graphql_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        multipart = headers.get(b"content-type", b"").startswith(b"multipart/form-data")
        limit = self.multipart_max_bytes if multipart else self.max_bytes
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, send, limit)
            return

        received = 0
        started = False

        async def bounded_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, bounded_receive, watched_send)
        except BodyTooLarge:
            if started:  # too late to answer 413; the server ends the connection
                raise
            await self._refuse(scope, send, limit)

    async def _refuse(self, scope: Scope, send: Send, limit: int) -> None:
        message = too_large_message(limit)
        if scope.get("path") == self.graphql_path:
            body: object = {
                "errors": [{"message": message, "extensions": {"code": "PAYLOAD_TOO_LARGE"}}]
            }
        else:
            body = {"error": "payload_too_large", "message": message}
        payload = json.dumps(body, separators=(",", ":")).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", b"%d" % len(payload)),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})
