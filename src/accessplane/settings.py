"""All configuration, read once from the environment (prefix ``ACCESSPLANE_``)."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Only good for a laptop: production refuses to start with it.
DEVELOPMENT_SECRET = "development-secret-change-me"


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

    # Bootstrap on first start of an empty database (``accessplane serve``)
    bootstrap_workspace_name: str = "Default"
    bootstrap_owner_email: str = "owner@example.com"

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

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (tests build their own ``Settings`` instead)."""
    return Settings()
