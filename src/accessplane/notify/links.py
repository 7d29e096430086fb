"""Absolute links into the console for mails, built from ids in one place.

The console lives at the service's public base URL (``ACCESSPLANE_PUBLIC_URL``); without one,
at ``http://<host>:<port>`` of the serving settings (``localhost`` for a server listening on
every address, with a warning). Its pages name objects by the GraphQL
API's Relay global ids (base64 of ``<Type>:<uuid>``), so links carry the same ids.
"""

from __future__ import annotations

import base64
import functools
import logging
import uuid
from dataclasses import dataclass
from urllib.parse import quote

from accessplane.settings import Settings

logger = logging.getLogger(__name__)

# Listening on every address names no host a reader could open.
_WILDCARDS = frozenset({"0.0.0.0", "::", ""})


def global_id(type_name: str, value: uuid.UUID) -> str:
    """The Relay global id the GraphQL API gives the object ``value`` of ``type_name``. The
    base64 of ASCII text never holds a "/", so it is one path segment as it stands."""
    return base64.b64encode(f"{type_name}:{value}".encode()).decode("ascii")


def console_base_url(settings: Settings) -> str:
    """The console's base URL without a trailing slash."""
    if settings.public_url.strip():
        return settings.public_url.strip().rstrip("/")
    host = settings.host.strip()
    if host in _WILDCARDS:
        _warn_wildcard(host, settings.port)
        host = "localhost"
    elif ":" in host:  # an IPv6 address
        host = f"[{host}]"
    return f"http://{host}:{settings.port}"


@functools.cache
def _warn_wildcard(host: str, port: int) -> None:
    logger.warning(
        "ACCESSPLANE_PUBLIC_URL is empty and the server listens on %r: console links in mails "
        "use http://localhost:%d, which only this machine can open; set ACCESSPLANE_PUBLIC_URL",
        host,
        port,
    )


@dataclass(frozen=True, slots=True)
class ConsoleLinks:
    """The console's pages that mails link to."""

    base_url: str

    @classmethod
    def from_settings(cls, settings: Settings) -> ConsoleLinks:
        return cls(console_base_url(settings))

    def access_request(self, *, workspace_id: uuid.UUID, access_request_id: uuid.UUID) -> str:
        """An access request's page, where it is approved or rejected."""
        return (
            f"{self._workspace(workspace_id)}/access-requests/"
            f"{global_id('AccessRequest', access_request_id)}"
        )

    def api_access(self, *, workspace_id: uuid.UUID, api_access_id: uuid.UUID) -> str:
        """An API Access key's detail on the Access keys screen."""
        return f"{self._workspace(workspace_id)}/keys/{global_id('ApiAccess', api_access_id)}"

    def sign_in(self, *, workspace_id: uuid.UUID) -> str:
        """The console's sign-in page, opening the workspace once signed in (a consumer's
        landing there is the API catalogue)."""
        target = f"/workspaces/{global_id('Workspace', workspace_id)}"
        # "+" and "=" of the base64 id would not survive a query string unquoted.
        return f"{self.base_url}/sign-in?next={quote(target, safe='/')}"

    def _workspace(self, workspace_id: uuid.UUID) -> str:
        return f"{self.base_url}/workspaces/{global_id('Workspace', workspace_id)}"
