"""All configuration, read once from the environment (prefix ``ACCESSPLANE_``)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Literal

from pydantic import (
    BaseModel,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

# Only good for a laptop: production refuses to start with it.
DEVELOPMENT_SECRET = "development-secret-change-me"


class OidcIssuer(BaseModel):
    """One trusted OpenID Provider: console login (with a client secret) and bearer tokens."""

    issuer: (
        str  # exactly as in the provider's discovery document, e.g. https://idp.example/realms/x
    )
    # Short name for ``/auth/login?issuer=<name>``; defaults to the issuer URL itself.
    name: str = ""
    client_id: str = ""
    client_secret: SecretStr | None = None  # None for bearer-only issuers or public clients
    # Accepted ``aud`` values of bearer tokens; empty means the client id.
    audience: list[str] = Field(default_factory=list)
    # Claim holding the user's IdP groups (e.g. "groups"); None turns group sync off.
    groups_claim: str | None = None
    # The first user of this issuer becomes Owner of the default workspace.
    bootstrap_owner: bool = False
    scope: str = "openid email profile"

    @property
    def key(self) -> str:
        return self.name or self.issuer

    @property
    def audiences(self) -> list[str]:
        return self.audience or ([self.client_id] if self.client_id else [])


class Settings(BaseSettings):
    """AccessPlane settings; every field can be set as ``ACCESSPLANE_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="ACCESSPLANE_", env_file=".env", extra="ignore")

    environment: Literal["development", "production", "test"] = "development"
    database_url: str = "sqlite+aiosqlite:///./accessplane.db"
    database_echo: bool = False
    # Keys the HMAC that stores every token AccessPlane issues; rotating it invalidates them all.
    secret_key: SecretStr = SecretStr(DEVELOPMENT_SECRET)

    host: str = "127.0.0.1"
    port: int = 8000

    graphiql: bool = True
    introspection: bool = True
    cors_origins: list[str] = Field(default_factory=list)
    # Proxies whose X-Forwarded-For is believed (addresses or CIDR ranges).
    trusted_proxies: list[str] = Field(default_factory=list)

    # GraphQL hardening
    max_query_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 5000
    max_page_size: int = 100
    # The largest request body read (413 beyond it); multipart uploads may add the largest
    # client logo (client_logo_max_bytes) to it. /v1/check reads at most 64 KiB.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # The most values (list items, object fields, scalars) a GraphQL request's variables may
    # hold: coercing them costs CPU per value before any resolver can refuse a long list.
    max_variable_values: int = Field(default=10_000, ge=100)

    # Bootstrap on first start of an empty database (``accessplane serve``)
    bootstrap_workspace_name: str = "Default"
    bootstrap_owner_email: str = "owner@example.com"

    # OpenID Connect (docs/oidc.md): trusted issuers, as JSON in ACCESSPLANE_OIDC_ISSUERS.
    oidc_issuers: list[OidcIssuer] = Field(default_factory=list)
    # Public base URL of this service (behind a proxy): the base of the callback and logout
    # URLs (empty: taken from the request) and of the console links in mails (empty:
    # http://<host>:<port>).
    public_url: str = ""
    # Console sessions: absolute lifetime, also the signed cookie's max-age.
    session_max_age: int = Field(default=8 * 3600, ge=60, le=30 * 24 * 3600)
    session_cookie: str = "accessplane_session"
    # Bearer JWTs: clock skew allowed on exp/nbf/iat, and JWKS/discovery cache lifetime.
    jwt_leeway: int = Field(default=30, ge=0, le=300)
    jwks_cache_ttl: int = Field(default=3600, ge=10)
    # A refetch of the JWKS on an unknown ``kid`` happens at most this often per issuer.
    jwks_min_refetch_interval: float = Field(default=30.0, ge=0)
    http_timeout: float = Field(default=5.0, gt=0)
    # Each console login first re-fetches the provider's discovery document, this fast, so a
    # provider that is down is answered 503 provider_unavailable at once.
    oidc_discovery_timeout: float = Field(default=2.0, gt=0)
    # Console sign-in with an API key (POST /auth/key): failed attempts allowed per client IP
    # within the window, then 429 until the window has passed.
    key_sign_in_max_failures: int = Field(default=10, ge=1)
    key_sign_in_window_seconds: int = Field(default=300, ge=1)

    # API Access keys (docs/api-access.md)
    api_access_max_lifetime_days: int = Field(default=365, ge=1, le=3650)
    # Upper bound of a regeneration's gracePeriodSeconds (the old token's overlap).
    api_access_max_grace_seconds: int = Field(default=24 * 3600, ge=0, le=30 * 24 * 3600)
    # lastUsedAt/usageCount are counted in memory and written this often (and at shutdown).
    api_access_usage_flush_seconds: float = Field(default=10.0, gt=0)
    # Revoked tokens answer ``revoked`` for this long, then ``unknown_credential``.
    api_access_revocation_retention_days: int = Field(default=90, ge=1)

    # Consumers (docs/consumers.md): the largest client logo upload, in bytes.
    client_logo_max_bytes: int = Field(default=1024 * 1024, ge=1024, le=10 * 1024 * 1024)

    # Email (docs/api-access.md); no smtp_host: mail is written to the log instead.
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "AccessPlane <noreply@localhost>"
    smtp_starttls: bool = True
    smtp_timeout: float = Field(default=30.0, gt=0)
    # The outbox worker: how often it looks for due mail, and retries with exponential backoff.
    notification_worker_interval: float = Field(default=5.0, gt=0)
    notification_worker_in_process: bool = False  # run the worker inside `accessplane serve`
    notification_batch_size: int = Field(default=20, ge=1, le=500)
    notification_retry_base_seconds: float = Field(default=30.0, gt=0)
    notification_retry_max_seconds: float = Field(default=3600.0, gt=0)
    # Permanent refusals (5xx) give up after this many attempts; outages are retried forever.
    notification_max_attempts: int = Field(default=10, ge=1)
    # How long a claimed notification stays with its worker before another may take it over.
    notification_claim_seconds: float = Field(default=300.0, gt=0)
    reminder_scan_interval: float = Field(default=60.0, gt=0)
    # Webhooks (docs/observability.md): endpoints per workspace, and their delivery outbox.
    # Targets on loopback, private, link-local and other non-public addresses are refused
    # (at create and on every delivery) unless this is set: only for trusted networks.
    webhook_allow_private_targets: bool = False
    webhook_max_endpoints: int = Field(default=20, ge=1, le=1000)
    webhook_timeout: float = Field(default=10.0, gt=0, le=60)
    # After the n-th failed attempt: base x 4^(n-1), at most max, +/- 20 % jitter; FAILED after
    # max_attempts (8 attempts span about 21 hours).
    webhook_max_attempts: int = Field(default=8, ge=1, le=50)
    webhook_retry_base_seconds: float = Field(default=30.0, gt=0)
    webhook_retry_max_seconds: float = Field(default=10 * 3600.0, gt=0)
    webhook_batch_size: int = Field(default=50, ge=1, le=500)
    webhook_concurrency: int = Field(default=10, ge=1, le=100)
    # Settled deliveries (DELIVERED, FAILED) are kept this long, then pruned by the worker.
    webhook_delivery_retention_days: int = Field(default=30, ge=1)

    # The decision endpoint (docs/decision.md).
    # Gateways must send it in X-AccessPlane-Gateway-Secret; unset: the endpoint is open.
    decision_gateway_secret: SecretStr | None = None
    # Host -> API identifier, for forward auth without ?api= or X-AccessPlane-Api.
    decision_api_hosts: dict[str, str] = Field(default_factory=dict)
    # The one header in which the gateway forwards the client certificate of an mTLS
    # connection (e.g. X-Client-Cert for nginx, X-Forwarded-Tls-Client-Cert for Traefik,
    # X-Forwarded-Client-Cert for Envoy); unset: no header is read. Believed only from
    # trusted proxies or with the gateway secret (docs/decision.md).
    decision_certificate_header: str = Field(default="", pattern=r"^[A-Za-z0-9-]*$")
    # Credentials kept in memory (apps and members), and unknown ones remembered as unknown.
    decision_cache_size: int = Field(default=200_000, ge=100)
    decision_negative_cache_size: int = Field(default=100_000, ge=100)
    # Safety net: a cached credential is reloaded at least this often even if no change
    # notification reached this instance.
    decision_cache_ttl: float = Field(default=300.0, gt=0)
    # Per-credential allowed/denied counts are kept in memory and written this often.
    decision_usage_flush_seconds: float = Field(default=10.0, gt=0)
    # Their hourly series (AccessProfile.usageSeries) is kept this long, then pruned.
    decision_usage_hour_retention_days: int = Field(default=90, ge=1)
    # The call log (docs/observability.md): every decision, kept in a bounded buffer (a full
    # buffer drops records and counts them) and written every call_log_flush_seconds or every
    # call_log_batch_size records, one multi-row INSERT per batch; pruned after the retention.
    call_log_enabled: bool = True
    call_log_retention_days: int = Field(default=7, ge=1, le=3650)
    call_log_buffer: int = Field(default=50_000, ge=100)
    call_log_flush_seconds: float = Field(default=1.0, gt=0)
    call_log_batch_size: int = Field(default=1000, ge=1, le=2000)
    # The longest time range one export of the call log may ask for.
    call_log_export_max_days: int = Field(default=31, ge=1)
    # Shared rate-limit and quota counters (``redis://host:6379/0``); unset: in memory, exact
    # for one instance only.
    redis_url: str | None = None
    # When those shared counters cannot be reached: ``closed`` answers ``limiter_unavailable``
    # (503) for credentials with a rate limit or quota; ``open`` counts them in this instance's
    # memory until the shared counters are back (docs/decision.md).
    limiter_failure_mode: Literal["closed", "open"] = "closed"
    # GET /metrics (Prometheus); with a token set it must come as ``Authorization: Bearer``.
    metrics_enabled: bool = True
    metrics_token: SecretStr | None = None
    # Logs (docs/observability.md): plain ``text`` lines or one ``json`` object per line.
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    # OpenTelemetry tracing, exported over OTLP/HTTP (needs the ``otel`` extra). The endpoint
    # is the traces URL, e.g. http://collector:4318/v1/traces; unset, the exporter's own
    # OTEL_EXPORTER_OTLP_* variables or default apply.
    otel_enabled: bool = False
    otel_endpoint: str | None = None
    otel_service_name: str = "accessplane"

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_case_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if self.environment == "production":
            secret = self.secret_key.get_secret_value()
            if secret == DEVELOPMENT_SECRET or len(secret) < 32:
                raise ValueError(
                    "ACCESSPLANE_SECRET_KEY must be set to a random value of at least 32 "
                    "characters in production (for example: openssl rand -hex 32)"
                )
        return self

    @model_validator(mode="after")
    def _check_oidc_issuers(self) -> Settings:
        keys = [issuer.key for issuer in self.oidc_issuers]
        if len(set(keys)) != len(keys):
            raise ValueError("ACCESSPLANE_OIDC_ISSUERS: each issuer needs a distinct name")
        for issuer in self.oidc_issuers:
            if self.environment == "production" and not issuer.issuer.startswith("https://"):
                raise ValueError(f"OIDC issuer {issuer.issuer} must use https in production")
        return self

    @property
    def secure_cookies(self) -> bool:
        """Cookies carry ``Secure`` everywhere but on a developer's plain-HTTP laptop."""
        return self.environment not in ("development", "test")

    def oidc_issuer(self, issuer: str) -> OidcIssuer | None:
        """The configured issuer with this issuer URL, if any."""
        return next((i for i in self.oidc_issuers if i.issuer == issuer), None)


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (tests build their own ``Settings`` instead)."""
    return Settings()


class ConfigurationError(Exception):
    """A setting (or the database it names) that keeps AccessPlane from running, said in one
    line an operator can act on; the command line prints it without a traceback."""


def load_settings() -> Settings:
    """``get_settings()``, with an invalid environment as one ``ConfigurationError``."""
    try:
        return get_settings()
    except ValidationError as error:
        raise ConfigurationError(describe_validation_error(error)) from None
    except SettingsError as error:  # a JSON setting that does not parse
        cause = f": {error.__cause__}" if error.__cause__ is not None else ""
        raise ConfigurationError(f"{error}{cause}") from None


def describe_validation_error(error: ValidationError) -> str:
    """Every refused setting on one line, named by its environment variable. The values are
    left out: a refused value may be a secret."""
    return "; ".join(_describe(detail) for detail in error.errors(include_url=False))


def _describe(detail: Any) -> str:
    message = str(detail["msg"]).removeprefix("Value error, ")
    loc = detail["loc"]
    if not loc:  # a model validator: its message names the variables itself
        return message
    name = f"ACCESSPLANE_{str(loc[0]).upper()}"
    path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc[1:])
    return f"{name}{path}: {message}"
