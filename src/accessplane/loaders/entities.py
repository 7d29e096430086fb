"""Rows by primary key, one loader per table."""

from __future__ import annotations

from accessplane.loaders.base import ByIdLoader
from accessplane.models import (
    AccessProfile,
    Api,
    ApiProduct,
    Client,
    Group,
    Member,
    Plan,
    Role,
    User,
    Workspace,
)


class WorkspaceByIdLoader(ByIdLoader[Workspace]):
    model = Workspace


class UserByIdLoader(ByIdLoader[User]):
    model = User


class MemberByIdLoader(ByIdLoader[Member]):
    model = Member


class RoleByIdLoader(ByIdLoader[Role]):
    model = Role


class GroupByIdLoader(ByIdLoader[Group]):
    model = Group


class ApiByIdLoader(ByIdLoader[Api]):
    model = Api


class ClientByIdLoader(ByIdLoader[Client]):
    model = Client


class AccessProfileByIdLoader(ByIdLoader[AccessProfile]):
    model = AccessProfile


class ApiProductByIdLoader(ByIdLoader[ApiProduct]):
    model = ApiProduct


class PlanByIdLoader(ByIdLoader[Plan]):
    model = Plan
