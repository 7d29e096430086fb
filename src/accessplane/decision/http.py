"""``POST /v1/check`` and ``GET /v1/authorize`` (forward auth): docs/decision.md."""

from __future__ import annotations

import hmac
import time
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from accessplane.decision.decider import Decider, Decision, DecisionRequest
from accessplane.decision.reasons import Reason
from accessplane.net import client_ip
from accessplane.settings import Settings

_ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


class Observer(Protocol):
    def observe(self, *, endpoint: str, reason: Reason, seconds: float) -> None: ...


def _error(status: int, error: str, message: str) -> Response:
    return JSONResponse({"error": error, "message": message}, status_code=status)


def _credential(request: Request) -> str | None:
    authorization = request.headers.get("authorization")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    return request.headers.get("x-api-key") or None


def _host(request: Request) -> str:
    host = request.headers.get("x-forwarded-host") or request.headers.get("host") or ""
    host = host.split(",")[0].strip().lower()
    if host.startswith("["):  # [2001:db8::1]:8443
        return host.partition("]")[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class DecisionEndpoints:
    """The two endpoints over one ``Decider``."""

    def __init__(
        self, decider: Decider, settings: Settings, metrics: Observer | None = None
    ) -> None:
        self.decider = decider
        self.settings = settings
        self.metrics = metrics
        secret = settings.decision_gateway_secret
        self._secret = secret.get_secret_value().encode() if secret else None
        self._hosts = {host.lower(): api for host, api in settings.decision_api_hosts.items()}

    def routes(self) -> list[Route]:
        return [
            Route("/v1/check", self.check, methods=["POST"]),
            Route("/v1/authorize", self.authorize, methods=["GET", "HEAD", "POST"]),
            # Envoy's HTTP ext_authz appends the original path and keeps the original method.
            Route("/v1/authorize/{path:path}", self.authorize, methods=_ALL_METHODS),
        ]

    def _gateway_refused(self, request: Request) -> Response | None:
        if self._secret is None:
            return None
        given = request.headers.get("x-accessplane-gateway-secret", "").encode()
        if hmac.compare_digest(given, self._secret):
            return None
        return _error(
            403, "gateway_forbidden", "Send the gateway secret in X-AccessPlane-Gateway-Secret."
        )

    async def _decide(self, endpoint: str, request: DecisionRequest) -> Decision:
        started = time.perf_counter()
        decision = await self.decider.decide(request)
        if self.metrics is not None:
            self.metrics.observe(
                endpoint=endpoint, reason=decision.reason, seconds=time.perf_counter() - started
            )
        return decision

    async def check(self, request: Request) -> Response:
        """``POST /v1/check``: the decision as JSON, always 200 when it could be made."""
        refused = self._gateway_refused(request)
        if refused is not None:
            return refused
        try:
            body: Any = await request.json()
        except ValueError:
            return _error(400, "invalid_request", "The body must be a JSON object.")
        if not isinstance(body, dict):
            return _error(400, "invalid_request", "The body must be a JSON object.")
        fields = {}
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
                return _error(400, "invalid_request", f"'{name}' must be {kind}.")
            fields[name] = value
        decision = await self._decide(
            "check",
            DecisionRequest(
                credential=fields.get("credential"),
                api=fields["api"],
                ip=fields.get("ip"),
                method=fields.get("method", ""),
                path=fields.get("path", ""),
            ),
        )
        headers = decision.limit.headers() if decision.limit is not None else None
        return JSONResponse(decision.as_json(), headers=headers)

    async def authorize(self, request: Request) -> Response:
        """``GET /v1/authorize``: forward auth for nginx, Traefik, Envoy and Caddy."""
        refused = self._gateway_refused(request)
        if refused is not None:
            return refused
        headers = request.headers
        api = (
            request.query_params.get("api")
            or headers.get("x-accessplane-api")
            or self._hosts.get(_host(request))
        )
        if not api:
            return _error(
                400,
                "api_required",
                "Name the API: ?api=<identifier>, X-AccessPlane-Api, or a host in "
                "ACCESSPLANE_DECISION_API_HOSTS.",
            )
        ip = client_ip(
            request.client.host if request.client else None,
            headers.get("x-forwarded-for"),
            self.settings.trusted_proxies,
        )
        decision = await self._decide(
            "authorize",
            DecisionRequest(
                credential=_credential(request),
                api=api,
                ip=ip,
                method=headers.get("x-forwarded-method") or headers.get("x-original-method") or "",
                path=headers.get("x-forwarded-uri")
                or headers.get("x-original-uri")
                or "/" + request.path_params.get("path", ""),
            ),
        )
        reason = decision.reason
        answer = {"X-AccessPlane-Reason": reason.value}
        if decision.limit is not None:
            answer.update(decision.limit.headers())
        if decision.allowed and decision.principal is not None:
            answer.update(decision.principal.headers)
        elif reason is Reason.MISSING_CREDENTIAL:
            answer["WWW-Authenticate"] = 'Bearer realm="accessplane"'
        elif reason.status == 401:
            answer["WWW-Authenticate"] = (
                f'Bearer error="invalid_token", error_description="{reason}"'
            )
        elif reason.status == 429 and decision.limit is not None:
            answer["Retry-After"] = str(max(1, decision.limit.reset_seconds))
        return JSONResponse(decision.as_json(), status_code=reason.status, headers=answer)
