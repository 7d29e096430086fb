"""``POST /v1/check`` and ``GET /v1/authorize`` (forward auth): docs/decision.md.

Gateways call these on every request, so they are plain ASGI in front of the application's
middleware and router: no session cookie, no routing table, headers read once from the scope.
Everything else passes through to the application untouched.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import time
from typing import Any, Protocol
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Receive, Scope, Send

from accessplane.bodylimit import too_large_message
from accessplane.decision.calls import CallLog
from accessplane.decision.certificates import ClientCertificate, ForwardedCertificates
from accessplane.decision.decider import Decider, Decision, DecisionRequest
from accessplane.decision.reasons import Reason
from accessplane.net import client_ip, parse_networks
from accessplane.settings import Settings

CHECK_PATH = "/v1/check"
AUTHORIZE_PATH = "/v1/authorize"
# The largest /v1/check body read (or ACCESSPLANE_MAX_BODY_BYTES if smaller): a JWT is at
# most 16 KiB (auth.jwt.MAX_TOKEN_LENGTH).
MAX_BODY = 64 * 1024

Headers = dict[bytes, bytes]


class Observer(Protocol):
    def observe(self, *, endpoint: str, reason: Reason, seconds: float) -> None: ...


class BadRequest(Exception):
    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error, self.message = status, error, message


def _text(headers: Headers, name: bytes) -> str | None:
    value = headers.get(name)
    return value.decode("latin-1") if value is not None else None


def credential_of(headers: Headers) -> str | None:
    """``Authorization: Bearer <credential>``, else ``X-API-Key``."""
    authorization = _text(headers, b"authorization")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    return _text(headers, b"x-api-key") or None


def host_of(headers: Headers) -> str:
    """The request's host without its port (the gateway's ``X-Forwarded-Host`` first)."""
    host = _text(headers, b"x-forwarded-host") or _text(headers, b"host") or ""
    host = host.split(",")[0].strip().lower()
    if host.startswith("["):  # [2001:db8::1]:8443
        return host.partition("]")[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


RawHeaders = list[tuple[bytes, bytes]]


async def _send(
    send: Send, status: int, body: dict[str, Any], headers: RawHeaders | None = None
) -> None:
    payload = json.dumps(body, separators=(",", ":")).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(payload))]
    if headers:
        raw.extend(headers)
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})


def _api_parameter(query: bytes) -> str:
    """``api`` of the query string (the common case, ``api=orders``, without a full parse)."""
    if not query:
        return ""
    if query.startswith(b"api=") and b"&" not in query and b"%" not in query and b"+" not in query:
        return query[4:].decode("latin-1")
    return parse_qs(query.decode("latin-1")).get("api", [""])[0]


def _appended_path(scope: Scope) -> str:
    """The original path Envoy appends to ``/v1/authorize``, as the client sent it (the
    server's ``path`` is percent-decoded, and a decoded ``%2F`` would be a separator the
    upstream never sees); empty when nothing follows, which matches no operation."""
    raw = scope.get("raw_path")
    if raw is None:
        return str(scope["path"])[len(AUTHORIZE_PATH) :]
    sent = raw.decode("latin-1")
    return sent[len(AUTHORIZE_PATH) :] if sent.startswith(AUTHORIZE_PATH) else ""


async def _read_body(receive: Receive, limit: int) -> bytes:
    """The body, refused with 413 as soon as more than ``limit`` bytes have arrived (a
    chunked body has no Content-Length to check first)."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise BadRequest(400, "invalid_request", "The client went away.")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BadRequest(413, "payload_too_large", too_large_message(limit))
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


class DecisionEndpoints:
    """ASGI middleware answering the two decision paths, passing anything else on."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        decider: Decider,
        settings: Settings,
        metrics: Observer | None = None,
        calls: CallLog | None = None,
    ) -> None:
        self.app = app
        self.decider = decider
        self.settings = settings
        self.metrics = metrics
        # The call log (docs/observability.md): every decision is handed to its buffer.
        self.calls = calls
        secret = settings.decision_gateway_secret
        self._secret = secret.get_secret_value().encode() if secret else None
        self._hosts = {host.lower(): api for host, api in settings.decision_api_hosts.items()}
        self._max_body = min(MAX_BODY, settings.max_body_bytes)
        self.certificates = ForwardedCertificates(settings.decision_certificate_header)
        self._proxies = parse_networks(tuple(settings.trusted_proxies))

    def _believes_certificates(self, scope: Scope) -> bool:
        """Whether a forwarded certificate is believed: with the gateway secret set (every
        request that gets this far carries it), or from a trusted proxy, as X-Forwarded-For.
        A certificate is public, so anyone else could present anybody's."""
        if self._secret is not None:
            return True
        client = scope.get("client")
        if not client or not self._proxies:
            return False
        try:
            peer = ipaddress.ip_address(client[0])
        except ValueError:
            return False
        return any(peer in network for network in self._proxies)

    def _forwarded_certificate(self, scope: Scope, headers: Headers) -> ClientCertificate | None:
        if not self.certificates.header or not self._believes_certificates(scope):
            return None
        return self.certificates.read(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path == CHECK_PATH:
            handler = self.check
        elif path == AUTHORIZE_PATH or path.startswith(AUTHORIZE_PATH + "/"):
            # Envoy's HTTP ext_authz appends the original path and keeps the original method.
            handler = self.authorize
        else:
            await self.app(scope, receive, send)
            return
        headers: Headers = dict(scope["headers"])
        try:
            if self._secret is not None and not hmac.compare_digest(
                headers.get(b"x-accessplane-gateway-secret", b""), self._secret
            ):
                raise BadRequest(
                    403,
                    "gateway_forbidden",
                    "Send the gateway secret in X-AccessPlane-Gateway-Secret.",
                )
            await handler(scope, receive, send, headers)
        except BadRequest as refused:
            await _send(send, refused.status, {"error": refused.error, "message": refused.message})

    async def _decide(self, endpoint: str, headers: Headers, request: DecisionRequest) -> Decision:
        started = time.perf_counter()
        decision = await self.decider.decide(request)
        seconds = time.perf_counter() - started
        if self.metrics is not None:
            self.metrics.observe(endpoint=endpoint, reason=decision.reason, seconds=seconds)
        if self.calls is not None:
            # A tuple appended to a bounded buffer: parsing and writing happen off this path.
            self.calls.record(
                (
                    self.decider.clock(),
                    decision.caller,
                    request.api,
                    request.method,
                    request.path,
                    request.ip,
                    decision.reason,
                    seconds,
                    headers.get(b"x-request-id"),
                    decision.operation_id,
                )
            )
        return decision

    async def check(self, scope: Scope, receive: Receive, send: Send, headers: Headers) -> None:
        """``POST /v1/check``: the decision as JSON, 200 whenever one could be made (503, with
        the same body, when the rate-limit counters are unreachable and limits fail closed)."""
        if scope["method"] != "POST":
            raise BadRequest(405, "method_not_allowed", "Use POST.")
        try:
            body: Any = json.loads(await _read_body(receive, self._max_body))
        except (ValueError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict):
            raise BadRequest(400, "invalid_request", "The body must be a JSON object.")
        fields: dict[str, str] = {}
        for name, required in (
            ("credential", False),
            ("api", True),
            ("method", False),
            ("path", False),
            ("ip", False),
        ):
            value = body.get(name)
            if value is None and not required:
                continue
            if not isinstance(value, str) or (required and not value):
                kind = "a non-empty string" if required else "a string"
                raise BadRequest(400, "invalid_request", f"'{name}' must be {kind}.")
            fields[name] = value
        decision = await self._decide(
            "check",
            headers,
            DecisionRequest(
                credential=fields.get("credential"),
                api=fields["api"],
                ip=fields.get("ip"),
                method=fields.get("method", ""),
                path=fields.get("path", ""),
                certificate=self._check_certificate(scope, body.get("certificate")),
            ),
        )
        limit = decision.limit.headers() if decision.limit is not None else None
        # No decision could be made without the rate-limit counters (failing closed): 503.
        status = 503 if decision.reason is Reason.LIMITER_UNAVAILABLE else 200
        await _send(send, status, decision.as_json(), limit)

    def _check_certificate(self, scope: Scope, value: Any) -> ClientCertificate | None:
        """``/v1/check``'s optional ``certificate`` (PEM): 400 when it is not one readable
        certificate; ignored unread, like the forwarded header, from a caller not believed."""
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise BadRequest(400, "invalid_request", "'certificate' must be a string.")
        if not self._believes_certificates(scope):
            return None  # never parsed (nor cached): nothing of it would be used
        certificate = self.certificates.from_field(value)
        if certificate is None or not certificate.readable:
            raise BadRequest(
                400,
                "invalid_request",
                "'certificate' must be one PEM certificate (at most 8 KiB of DER).",
            )
        return certificate

    async def authorize(self, scope: Scope, receive: Receive, send: Send, headers: Headers) -> None:
        """``/v1/authorize``: forward auth for nginx, Traefik, Envoy and Caddy."""
        # Envoy appends the client's own path and query to /v1/authorize: a query after an
        # appended path is the client's, so its ``api`` would let the client pick the API.
        appended = scope["path"] != AUTHORIZE_PATH
        query = b"" if appended else scope.get("query_string", b"")
        api = _api_parameter(query) or (
            _text(headers, b"x-accessplane-api") or self._hosts.get(host_of(headers))
        )
        if not api:
            raise BadRequest(
                400,
                "api_required",
                "Name the API: ?api=<identifier> (not after an appended path), "
                "X-AccessPlane-Api, or a host in ACCESSPLANE_DECISION_API_HOSTS.",
            )
        client = scope.get("client")
        ip = client_ip(
            client[0] if client else None,
            _text(headers, b"x-forwarded-for"),
            self.settings.trusted_proxies,
        )
        decision = await self._decide(
            "authorize",
            headers,
            DecisionRequest(
                credential=credential_of(headers),
                api=api,
                ip=ip,
                method=_text(headers, b"x-forwarded-method")
                or _text(headers, b"x-original-method")
                or scope["method"],
                path=_text(headers, b"x-forwarded-uri")
                or _text(headers, b"x-original-uri")
                or _appended_path(scope),
                path_bytes=True,  # headers and raw_path were read as latin-1: bytes
                certificate=self._forwarded_certificate(scope, headers),
            ),
        )
        status = decision.reason.status
        answer = _forward_auth_headers(decision)
        if decision.allowed:
            # Gateways discard an allowing answer's body: send none (and skip encoding one).
            answer.append((b"content-length", b"0"))
            await send({"type": "http.response.start", "status": status, "headers": answer})
            await send({"type": "http.response.body", "body": b""})
            return
        await _send(send, status, decision.as_json(), answer)


def _forward_auth_headers(decision: Decision) -> list[tuple[bytes, bytes]]:
    """A forward-auth answer's headers: the reason, the limits, and the caller's identity when
    allowed or the challenge or retry delay when not."""
    reason = decision.reason
    answer = [(b"x-accessplane-reason", reason.encode())]
    if decision.limit is not None:
        answer.extend(decision.limit.headers())
    if decision.allowed and decision.caller is not None:
        answer.extend(decision.caller.headers())
    elif reason is Reason.MISSING_CREDENTIAL:
        answer.append((b"www-authenticate", b'Bearer realm="accessplane"'))
    elif reason.status == 401:
        challenge = f'Bearer error="invalid_token", error_description="{reason}"'
        answer.append((b"www-authenticate", challenge.encode()))
    elif reason.status == 429 and decision.limit is not None:
        answer.append((b"retry-after", b"%d" % max(1, decision.limit.reset_seconds)))
    return answer
