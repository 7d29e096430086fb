"""Rows by primary key, one loader per table."""

from __future__ import annotations

from accessplane.loaders.base import ByIdLoader
from accessplane.models import (
    AccessProfile,
    Client,
    Plan,
    Role,
    User,
    Workspace,
)


class WorkspaceByIdLoader(ByIdLoader[Workspace]):
    model = Workspace


class UserByIdLoader(ByIdLoader[User]):
    model = User


class RoleByIdLoader(ByIdLoader[Role]):
    model = Role


class ClientByIdLoader(ByIdLoader[Client]):
    model = Client


class AccessProfileByIdLoader(ByIdLoader[AccessProfile]):
    model = AccessProfile


class PlanByIdLoader(ByIdLoader[Plan]):
    model = Plan
