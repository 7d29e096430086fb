"""Why a decision came out as it did, and what a forward-auth answer says about it."""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    """The reason of a decision (the documented reasons, plus ``revoked`` and
    ``missing_credential``)."""

    OK = "ok"
    MISSING_CREDENTIAL = "missing_credential"
    UNKNOWN_CREDENTIAL = "unknown_credential"
    INVALID_TOKEN = "invalid_token"
    EXPIRED = "expired"
    REVOKED = "revoked"
    INSUFFICIENT_SCOPE = "insufficient_scope"
    INACTIVE_CLIENT = "inactive_client"
    IP_NOT_ALLOWED = "ip_not_allowed"
    API_NOT_GRANTED = "api_not_granted"
    # The API declares operations and none the app was granted matches the method and path.
    OPERATION_NOT_ALLOWED = "operation_not_allowed"
    # MTLS apps: no client certificate forwarded by a trusted gateway, one registered to no
    # app, or one past its validity. Also a certificate-bound token (RFC 8705) presented
    # without its certificate.
    CERTIFICATE_REQUIRED = "certificate_required"
    CERTIFICATE_NOT_RECOGNISED = "certificate_not_recognised"
    CERTIFICATE_EXPIRED = "certificate_expired"
    # Suspended by an alert rule's automatic response until an admin lifts it.
    SUSPENDED = "suspended"
    OUTSIDE_TIME_WINDOW = "outside_time_window"
    RATE_LIMITED = "rate_limited"
    QUOTA_EXCEEDED = "quota_exceeded"
    # The shared rate-limit counters are unreachable and the limiter fails closed.
    LIMITER_UNAVAILABLE = "limiter_unavailable"

    @property
    def status(self) -> int:
        """The HTTP status of a forward-auth answer with this reason."""
        return _STATUS.get(self, 403)


_STATUS: dict[Reason, int] = {
    Reason.OK: 200,
    Reason.MISSING_CREDENTIAL: 401,
    Reason.UNKNOWN_CREDENTIAL: 401,
    Reason.INVALID_TOKEN: 401,
    Reason.EXPIRED: 401,
    Reason.REVOKED: 401,
    Reason.CERTIFICATE_REQUIRED: 401,
    Reason.CERTIFICATE_NOT_RECOGNISED: 401,
    Reason.CERTIFICATE_EXPIRED: 401,
    Reason.RATE_LIMITED: 429,
    Reason.QUOTA_EXCEEDED: 429,
    Reason.LIMITER_UNAVAILABLE: 503,
}


class GatewayCallerKind(StrEnum):
    """Who a gateway credential stands for: an app (access profile) or a workspace member (not
    ``auth``'s ``PrincipalKind``, how a caller of AccessPlane's own API authenticated)."""

    ACCESS_PROFILE = "ACCESS_PROFILE"
    MEMBER = "MEMBER"
