"""The per-request GraphQL context: one session, one principal, one set of loaders."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from accessplane.auth.principals import Principal
from accessplane.errors import Unauthenticated
from accessplane.loaders import Loaders
from accessplane.settings import Settings


@dataclass
class Context:
    """What every resolver may use; built by ``get_context`` for each request."""

    session: AsyncSession
    settings: Settings
    viewer: Principal | None
    # Why authentication failed, if it did: reported only when a field needs a principal, so
    # a page that needs none (GraphiQL's HTML) still loads.
    auth_error: Unauthenticated | None = None
    request: Request | None = None
    response: Response | None = None

    @property
    def principal(self) -> Principal:
        """The authenticated caller, or UNAUTHENTICATED."""
        if self.viewer is None:
            raise self.auth_error or Unauthenticated(
                "Authentication required: send 'Authorization: Bearer <token>'.",
                reason="missing",
            )
        return self.viewer

    @cached_property
    def loaders(self) -> Loaders:
        """This request's loaders (UNAUTHENTICATED without a principal)."""
        return Loaders(self.session, self.principal)


Info = strawberry.Info[Context, None]
