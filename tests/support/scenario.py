"""Builds test worlds through the real services, so fixtures obey the same rules as users."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.relay import GlobalID

from accessplane.auth.principals import Principal
from accessplane.auth.tokens import TokenKind, issue_token
from accessplane.models import (
    AccessProfile,
    Api,
    ApiAccess,
    ApiProduct,
    AuthMethod,
    Client,
    Group,
    Member,
    Notification,
    NotificationKind,
    Plan,
    Role,
    User,
    Workspace,
)
from accessplane.services import (
    access_profiles,
    api_access,
    apis,
    clients,
    grants,
    groups,
    members,
    plans,
    products,
    roles,
    workspaces,
)
from accessplane.services.api_access import IssuedApiAccess
from accessplane.signin.authenticate import principal_for_user


def gid(type_name: str, pk: uuid.UUID) -> str:
    """The global id a client would send."""
    return str(GlobalID(type_name, str(pk)))


@dataclass
class Person:
    """A member and the principal they act as."""

    member: Member
    user: User
    principal: Principal

    @property
    def id(self) -> str:
        return gid("Member", self.member.id)


@dataclass
class World:
    """A workspace with its owner and built-in roles."""

    workspace: Workspace
    owner: Person
    roles: dict[str, Role] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return gid("Workspace", self.workspace.id)

    def role_id(self, name: str) -> str:
        return gid("Role", self.roles[name].id)


@dataclass
class Scenario:
    session: AsyncSession
    secret: bytes
    _count: int = 0

    def _unique(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}{self._count}"

    async def principal(self, user: User) -> Principal:
        return await principal_for_user(self.session, user)

    async def workspace(self, name: str | None = None) -> World:
        email = f"{self._unique('owner')}@example.com"
        user = await members.get_or_create_user(self.session, email)
        await self.session.commit()
        workspace = await workspaces.create_workspace(
            session=self.session,
            actor=await self.principal(user),
            name=name or self._unique("Workspace "),
        )
        principal = await self.principal(user)
        member = await self.session.scalar(
            select(Member).where(Member.workspace_id == workspace.id, Member.user_id == user.id)
        )
        assert member is not None
        role_rows = (
            await self.session.scalars(select(Role).where(Role.workspace_id == workspace.id))
        ).all()
        return World(workspace, Person(member, user, principal), {r.name: r for r in role_rows})

    async def member(
        self, world: World, role: str = "Developer", email: str | None = None
    ) -> Person:
        member = await members.add_member(
            session=self.session,
            actor=world.owner.principal,
            workspace_id=world.workspace.id,
            email=email or f"{self._unique('member')}@example.com",
            role_id=world.roles[role].id,
        )
        user = await self.session.get(User, member.user_id)
        assert user is not None
        # A world's people are there from the start: their invitations are not the story of
        # the tests that count mail (tests/notify/test_invite.py checks them).
        await self.session.execute(
            delete(Notification).where(
                Notification.kind == NotificationKind.INVITE.value,  # type: ignore[arg-type]
                Notification.recipient == user.email,  # type: ignore[arg-type]
            )
        )
        await self.session.commit()
        return Person(member, user, await self.principal(user))

    async def refresh(self, person: Person) -> Person:
        """The person's principal after their role or memberships changed."""
        return Person(person.member, person.user, await self.principal(person.user))

    async def custom_role(
        self,
        world: World,
        name: str,
        permissions: list[roles.PermissionSpec],
        *,
        all_apis: bool = False,
    ) -> Role:
        role = await roles.create_role(
            session=self.session,
            actor=world.owner.principal,
            workspace_id=world.workspace.id,
            name=name,
            permissions=permissions,
            all_apis=all_apis,
        )
        world.roles[name] = role
        return role

    async def api(self, world: World, name: str | None = None) -> Api:
        name = name or self._unique("Api ")
        return await apis.create_api(
            session=self.session,
            actor=world.owner.principal,
            workspace_id=world.workspace.id,
            name=name,
            identifier=name.lower().replace(" ", "-"),
        )

    async def group(
        self, world: World, name: str | None = None, people: list[Person] | None = None
    ) -> Group:
        return await groups.create_group(
            session=self.session,
            actor=world.owner.principal,
            workspace_id=world.workspace.id,
            name=name or self._unique("Group "),
            member_ids=[p.member.id for p in people or []],
        )

    async def grant(
        self,
        world: World,
        api: Api,
        *,
        people: list[Person] | None = None,
        groups: list[Group] | None = None,
    ) -> None:
        await grants.grant_access(
            session=self.session,
            actor=world.owner.principal,
            api_id=api.id,
            member_ids=[p.member.id for p in people or []],
            group_ids=[g.id for g in groups or []],
        )

    async def api_key(
        self,
        world: World,
        role: str = "Owner",
        *,
        expires_at: datetime | None = None,
        name: str | None = None,
    ) -> str:
        """A platform API key acting with ``role``; returns the plaintext token."""
        issued = issue_token(TokenKind.API_ACCESS, self.secret)
        self.session.add(
            ApiAccess(
                workspace_id=world.workspace.id,
                name=name or self._unique("key "),
                role_id=world.roles[role].id,
                token_digest=issued.digest,
                token_hint=issued.hint,
                expires_at=expires_at,
            )
        )
        await self.session.commit()
        return issued.plaintext

    async def api_access(
        self,
        world: World,
        role: str = "Developer",
        *,
        by: Person | None = None,
        name: str | None = None,
        tags: list[str] | None = None,
        description: str = "",
        expires_at: datetime | None = None,
        now: datetime | None = None,
    ) -> IssuedApiAccess:
        """An API Access made through the service by ``by`` (the owner by default)."""
        moment = now or datetime.now(UTC)
        return await api_access.create_api_access(
            session=self.session,
            actor=(by or world.owner).principal,
            policy=api_access.ApiAccessPolicy(secret=self.secret),
            workspace_id=world.workspace.id,
            name=name or self._unique("key-"),
            role_id=world.roles[role].id,
            expires_at=expires_at or moment + timedelta(days=90),
            description=description,
            tags=tags or [],
            now=moment,
        )

    async def client(
        self,
        world: World,
        name: str | None = None,
        *,
        members: list[Person] | None = None,
        logo_url: str | None = None,
    ) -> Client:
        return await clients.create_client(
            session=self.session,
            actor=world.owner.principal,
            workspace_id=world.workspace.id,
            name=name or self._unique("Client "),
            member_ids=[p.member.id for p in members or []],
            logo_url=logo_url,
        )

    async def consumer(self, world: World, client: Client | None = None) -> Person:
        """A member with the Consumer role, belonging to ``client`` if given."""
        person = await self.member(world, "Consumer")
        if client is not None:
            current = await clients._member_ids(self.session, client.id)
            await clients.update_client(
                session=self.session,
                actor=world.owner.principal,
                client_id=client.id,
                member_ids=[*current, person.member.id],
            )
        return person

    async def product(
        self,
        world: World,
        name: str | None = None,
        *,
        apis: list[Api] | None = None,
        auth_method: AuthMethod = AuthMethod.AUTH_TOKEN,
        published: bool = True,
    ) -> ApiProduct:
        return await products.create_product(
            session=self.session,
            actor=world.owner.principal,
            workspace_id=world.workspace.id,
            name=name or self._unique("Product "),
            auth_method=auth_method,
            api_ids=[a.id for a in apis or []],
            published=published,
        )

    async def plan(
        self, world: World, name: str | None = None, *, auto_approve: bool = False
    ) -> Plan:
        return await plans.create_plan(
            session=self.session,
            actor=world.owner.principal,
            workspace_id=world.workspace.id,
            name=name or self._unique("Plan "),
            rate_limit=plans.RateLimit(100, plans.RateLimitPeriod.MINUTE),
            auto_approve=auto_approve,
        )

    async def app(
        self,
        world: World,
        client: Client,
        name: str | None = None,
        *,
        auth_method: AuthMethod = AuthMethod.AUTH_TOKEN,
        products: list[ApiProduct] | None = None,
    ) -> access_profiles.IssuedAccessProfile:
        """An access profile made by the owner; ``.token`` for AUTH_TOKEN apps."""
        token = (
            access_profiles.TokenSettings()
            if auth_method is AuthMethod.AUTH_TOKEN
            else access_profiles.TokenSettings(trusted_issuer="https://idp.example.com")
        )
        return await access_profiles.create_access_profile(
            session=self.session,
            actor=world.owner.principal,
            secret=self.secret,
            client_id=client.id,
            name=name or self._unique("App "),
            auth_method=auth_method,
            token=token,
            product_ids=[p.id for p in products or []],
        )

    async def profile(self, profile_id: uuid.UUID) -> AccessProfile | None:
        """The stored app, fresh from the database."""
        row = await self.session.get(AccessProfile, profile_id, populate_existing=True)
        await self.session.commit()
        return row
