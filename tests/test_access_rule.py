"""One access rule, asked three ways: on generated workspaces (members of every built-in role, an
allApis role, a member with nothing, a service member, a user in two workspaces, groups, direct
and group grants), the GraphQL view (each member's ``apis``, batched, and ``Workspace.apis`` as
the member), ``explainAccess`` and the decision endpoint (``/v1/check`` with the member's OIDC
token, or the service member's client token) must give the answers the rule predicts, before and
after grants, groups and roles change."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from accessplane.auth.principals import Principal
from accessplane.models import Api, Group, Member, User
from accessplane.services import grants, groups, members, service_accounts
from accessplane.services.roles import PermissionSpec
from accessplane.settings import OidcIssuer, Settings
from tests.conftest import SECRET
from tests.support.graphql import GraphQLClient
from tests.support.issuer import LocalIssuer, local_issuer
from tests.support.scenario import Scenario, World, gid

AUDIENCE = "urn:accessplane:api"
# The first workspace has all but the last; the second a few, the last among them.
IDENTIFIERS = ("orders", "billing", "search", "ledger", "maps")
ROLES = ("Developer", "Viewer", "Admin", "Consumer")
ALL_APIS_ROLES = frozenset({"Owner", "Reach all"})
SERVICE_CLIENT = "nightly-export"

MEMBER_APIS = """
query MemberApis($id: ID!) {
  workspace(id: $id) {
    members(first: 50) {
      edges { node { id apis(first: 50) { totalCount edges { node { identifier } } } } }
    }
  }
}
"""
OWN_APIS = """
query OwnApis($id: ID!) {
  workspace(id: $id) { apis(first: 50) { totalCount edges { node { identifier } } } }
}
"""
EXPLAIN = """
query Explain($id: ID!, $member: ID!, $api: ID!) {
  workspace(id: $id) {
    explainAccess(memberId: $member, apiId: $api) { hasAccess paths { kind group { name } } }
  }
}
"""


@pytest.fixture
async def issuer() -> AsyncIterator[LocalIssuer]:
    async with local_issuer() as running:
        yield running


@pytest.fixture
def settings(database_url: str, issuer: LocalIssuer) -> Settings:
    return Settings(
        environment="test",
        database_url=database_url,
        secret_key=SECRET,  # type: ignore[arg-type]
        oidc_issuers=[OidcIssuer(issuer=issuer.url, audience=[AUDIENCE])],
    )


@dataclass
class Access:
    """What was generated, by label, and what the rule makes of it (computed here, apart from
    the code under test)."""

    workspace: dict[str, int] = field(default_factory=dict)  # member -> workspace index
    roles: dict[str, str] = field(default_factory=dict)  # member -> role name
    apis: dict[int, list[str]] = field(default_factory=dict)  # workspace -> identifiers
    direct: set[tuple[str, str]] = field(default_factory=set)  # (member, identifier)
    groups: dict[str, set[str]] = field(default_factory=dict)  # group -> members
    group_grants: set[tuple[str, str]] = field(default_factory=set)  # (group, identifier)

    def paths(self, member: str, identifier: str) -> list[tuple[str, str | None]]:
        """The rule's paths, in explainAccess's order: role, direct grant, groups by name."""
        if identifier not in self.apis[self.workspace[member]]:
            return []
        found: list[tuple[str, str | None]] = []
        if self.roles[member] in ALL_APIS_ROLES:
            found.append(("ROLE", None))
        if (member, identifier) in self.direct:
            found.append(("DIRECT", None))
        found += [
            ("GROUP", name)
            for name in sorted(self.groups)
            if member in self.groups[name] and (name, identifier) in self.group_grants
        ]
        return found

    def reached(self, member: str) -> set[str]:
        return {i for i in self.apis[self.workspace[member]] if self.paths(member, i)}

    def members_of(self, index: int) -> list[str]:
        return sorted(m for m, w in self.workspace.items() if w == index)


@dataclass
class Generated:
    """The rows behind the labels, and the gateway credentials of the people."""

    access: Access
    worlds: list[World]
    members: dict[str, Member] = field(default_factory=dict)
    apis: dict[tuple[int, str], Api] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    credentials: dict[str, tuple[str, list[str]]] = field(default_factory=dict)

    def owner(self, member: str) -> Principal:
        return self.worlds[self.access.workspace[member]].owner.principal


async def _add(
    scenario: Scenario, gen: Generated, index: int, label: str, role: str, email: str = ""
) -> Member:
    person = await scenario.member(gen.worlds[index], role, email=email or None)
    gen.members[label] = person.member
    gen.access.workspace[label], gen.access.roles[label] = index, role
    return person.member


async def _people(scenario: Scenario, gen: Generated, rng: random.Random, issuer: str) -> None:
    """Members of the first workspace (the owner, an allApis role, one with nothing, five of
    random built-in roles, a service member), and of the second (its owner, and the first
    random member's user again)."""
    first, second = gen.worlds
    await scenario.custom_role(first, "Reach all", [PermissionSpec("getApi")], all_apis=True)
    for index, world in enumerate(gen.worlds):
        label = f"owner{index + 1}"
        gen.members[label] = world.owner.member
        gen.access.workspace[label], gen.access.roles[label] = index, "Owner"
    await _add(scenario, gen, 0, "everything", "Reach all")
    await _add(scenario, gen, 0, "nobody", rng.choice(ROLES))
    for n in range(1, 6):
        await _add(scenario, gen, 0, f"m{n}", rng.choice(ROLES))
    twin_user = await scenario.session.get(User, gen.members["m1"].user_id)
    assert twin_user is not None
    await _add(scenario, gen, 1, "twin", rng.choice(ROLES), email=twin_user.email)
    service = await service_accounts.link_service_account(
        session=scenario.session,
        actor=first.owner.principal,
        workspace_id=first.workspace.id,
        issuer=issuer,
        client_id=SERVICE_CLIENT,
        role_id=first.roles["Developer"].id,
        name="Nightly export",
        known_issuers=[issuer],
    )
    gen.members["service"] = service
    gen.access.workspace["service"], gen.access.roles["service"] = 0, "Developer"
    assert second.workspace.id == gen.members["twin"].workspace_id


async def _grants(scenario: Scenario, gen: Generated, rng: random.Random) -> None:
    """Groups of random members, then each API granted to random members and groups."""
    access = gen.access
    for index, names in ((0, ("Alpha", "Beta", "Gamma")), (1, ("Delta",))):
        candidates = [m for m in access.members_of(index) if m != "nobody"]
        for name in names:
            chosen = [m for m in candidates if rng.random() < 0.4]
            gen.groups[name] = await groups.create_group(
                session=scenario.session,
                actor=gen.worlds[index].owner.principal,
                workspace_id=gen.worlds[index].workspace.id,
                name=name,
                member_ids=[gen.members[m].id for m in chosen],
            )
            access.groups[name] = set(chosen)
        for identifier in access.apis[index]:
            people = [m for m in candidates if rng.random() < 0.3]
            teams = [g for g in names if rng.random() < 0.4]
            if people or teams:
                await grants.grant_access(
                    session=scenario.session,
                    actor=gen.worlds[index].owner.principal,
                    api_id=gen.apis[(index, identifier)].id,
                    member_ids=[gen.members[m].id for m in people],
                    group_ids=[gen.groups[g].id for g in teams],
                )
            access.direct |= {(m, identifier) for m in people}
            access.group_grants |= {(g, identifier) for g in teams}


async def generate(scenario: Scenario, rng: random.Random, issuer: LocalIssuer) -> Generated:
    """Two workspaces, their APIs, people, groups and grants; every person signs in through
    ``issuer`` (its subject is its label) and holds a token for the gateway."""
    gen = Generated(Access(), [await scenario.workspace(), await scenario.workspace()])
    gen.access.apis = {
        0: list(IDENTIFIERS[:-1]),
        1: [i for i in IDENTIFIERS[:-1] if rng.random() < 0.5] + [IDENTIFIERS[-1]],
    }
    for index, identifiers in gen.access.apis.items():
        for identifier in identifiers:
            api = await scenario.api(gen.worlds[index], identifier.capitalize())
            assert api.identifier == identifier
            gen.apis[(index, identifier)] = api
    await _people(scenario, gen, rng, issuer.url)
    await _grants(scenario, gen, rng)
    if ("twin", "maps") not in gen.access.direct:
        # The user's first workspace has no such API: the second one's grant must decide.
        await grants.grant_access(
            session=scenario.session,
            actor=gen.worlds[1].owner.principal,
            api_id=gen.apis[(1, "maps")].id,
            member_ids=[gen.members["twin"].id],
            group_ids=[],
        )
        gen.access.direct.add(("twin", "maps"))
    users: dict[str, list[str]] = {}
    for label, member in gen.members.items():
        if label != "service":
            users.setdefault(str(member.user_id), []).append(label)
    for labels in users.values():
        user = await scenario.session.get(User, gen.members[labels[0]].user_id)
        assert user is not None
        user.issuer, user.subject = issuer.url, labels[0]
        scenario.session.add(user)
        gen.credentials[labels[0]] = (issuer.token(sub=labels[0], aud=AUDIENCE), labels)
    await scenario.session.commit()
    client_token = issuer.token(sub=SERVICE_CLIENT, client_id=SERVICE_CLIENT, aud=AUDIENCE)
    gen.credentials["service"] = (client_token, ["service"])
    return gen


async def change(scenario: Scenario, gen: Generated, rng: random.Random) -> None:
    """A random revocation, a member leaving a group, a new group grant, and two role changes
    (one member gains allApis, the allApis member loses it)."""
    access, session = gen.access, scenario.session
    if access.direct:
        member, identifier = rng.choice(sorted(access.direct))
        await grants.revoke_access(
            session=session,
            actor=gen.owner(member),
            api_id=gen.apis[(access.workspace[member], identifier)].id,
            member_ids=[gen.members[member].id],
            group_ids=[],
        )
        access.direct.discard((member, identifier))
    joined = sorted((g, m) for g, ms in access.groups.items() for m in ms)
    if joined:
        name, member = rng.choice(joined)
        await groups.remove_group_members(
            session=session,
            actor=gen.owner(member),
            group_id=gen.groups[name].id,
            member_ids=[gen.members[member].id],
        )
        access.groups[name].discard(member)
    name, identifier = rng.choice(["Alpha", "Beta", "Gamma"]), rng.choice(access.apis[0])
    await grants.grant_access(
        session=session,
        actor=gen.worlds[0].owner.principal,
        api_id=gen.apis[(0, identifier)].id,
        member_ids=[],
        group_ids=[gen.groups[name].id],
    )
    access.group_grants.add((name, identifier))
    for member, role in (
        (rng.choice(["m2", "m3", "m4", "m5"]), "Reach all"),
        ("everything", "Viewer"),
    ):
        await members.update_member_role(
            session=session,
            actor=gen.worlds[0].owner.principal,
            member_id=gen.members[member].id,
            role_id=gen.worlds[0].roles[role].id,
        )
        access.roles[member] = role


def _identifiers(connection: dict[str, Any]) -> set[str]:
    found = {edge["node"]["identifier"] for edge in connection["edges"]}
    assert connection["totalCount"] == len(found) == len(connection["edges"])
    return found


async def members_apis(graphql: GraphQLClient, gen: Generated) -> dict[str, set[str]]:
    """Each member's ``apis``, read by its workspace's owner (who sees every API) for all the
    workspace's members in one request: the loader batches them."""
    by_gid = {gid("Member", member.id): label for label, member in gen.members.items()}
    seen: dict[str, set[str]] = {}
    for world in gen.worlds:
        caller = graphql.as_principal(world.owner.principal)
        data = (await caller.execute(MEMBER_APIS, id=world.id)).ok()
        for edge in data["workspace"]["members"]["edges"]:
            seen[by_gid[edge["node"]["id"]]] = _identifiers(edge["node"]["apis"])
    return seen


async def own_apis(
    graphql: GraphQLClient, scenario: Scenario, gen: Generated, issuer: str
) -> dict[str, set[str] | str]:
    """``Workspace.apis`` as each member sees it (FORBIDDEN without ``getApi``)."""
    seen: dict[str, set[str] | str] = {}
    for label, member in gen.members.items():
        if label == "service":
            principal = await service_accounts.principal_for_client(
                scenario.session, issuer, SERVICE_CLIENT
            )
        else:
            user = await scenario.session.get(User, member.user_id)
            assert user is not None
            principal = await scenario.principal(user)
        assert principal is not None
        world = gen.worlds[gen.access.workspace[label]]
        result = await graphql.as_principal(principal).execute(OWN_APIS, id=world.id)
        if result.errors:
            assert result.error_codes == ["FORBIDDEN"], result.errors
            seen[label] = "FORBIDDEN"
        else:
            seen[label] = _identifiers(result.ok()["workspace"]["apis"])
    return seen


def expected_own_apis(access: Access) -> dict[str, set[str] | str]:
    return {
        label: "FORBIDDEN" if access.roles[label] == "Consumer" else access.reached(label)
        for label in access.workspace
    }


async def explanations(
    graphql: GraphQLClient, gen: Generated
) -> dict[tuple[str, str], list[tuple[str, str | None]]]:
    """``explainAccess`` for every member and every API of its workspace, asked by the owner;
    ``hasAccess`` must agree with the paths."""
    seen: dict[tuple[str, str], list[tuple[str, str | None]]] = {}
    for label, member in gen.members.items():
        index = gen.access.workspace[label]
        world = gen.worlds[index]
        caller = graphql.as_principal(world.owner.principal)
        for identifier in gen.access.apis[index]:
            variables = {
                "id": world.id,
                "member": gid("Member", member.id),
                "api": gid("Api", gen.apis[(index, identifier)].id),
            }
            data = (await caller.execute(EXPLAIN, **variables)).ok()
            explained = data["workspace"]["explainAccess"]
            paths = [(p["kind"], (p["group"] or {}).get("name")) for p in explained["paths"]]
            assert explained["hasAccess"] is bool(paths)
            seen[(label, identifier)] = paths
    return seen


async def decisions(http: httpx.AsyncClient, gen: Generated) -> dict[tuple[str, str], str]:
    """``/v1/check`` for every credential and every identifier; an allowing answer names a
    member of the credential that reaches the API."""
    by_gid = {gid("Member", member.id): label for label, member in gen.members.items()}
    seen: dict[tuple[str, str], str] = {}
    for name, (token, labels) in gen.credentials.items():
        for identifier in IDENTIFIERS:
            body = {"credential": token, "api": identifier, "method": "GET", "path": "/"}
            response = await http.post("/v1/check", json=body)
            assert response.status_code == 200, response.text
            answer = response.json()
            caller = by_gid[answer["principal"]["id"]]
            assert caller in labels, (name, answer)
            if answer["allowed"]:
                assert identifier in gen.access.reached(caller), (name, identifier, caller)
            seen[(name, identifier)] = answer["reason"]
    return seen


def expected_decisions(gen: Generated) -> dict[tuple[str, str], str]:
    access = gen.access
    return {
        (name, identifier): (
            "ok" if any(identifier in access.reached(m) for m in labels) else "api_not_granted"
        )
        for name, (_, labels) in gen.credentials.items()
        for identifier in IDENTIFIERS
    }


async def ask_every_view(
    graphql: GraphQLClient, http: httpx.AsyncClient, scenario: Scenario, gen: Generated, issuer: str
) -> None:
    access = gen.access
    expected = {label: access.reached(label) for label in access.workspace}
    assert await members_apis(graphql, gen) == expected
    assert await own_apis(graphql, scenario, gen, issuer) == expected_own_apis(access)
    assert await explanations(graphql, gen) == {
        (label, identifier): access.paths(label, identifier)
        for label in access.workspace
        for identifier in access.apis[access.workspace[label]]
    }
    assert await decisions(http, gen) == expected_decisions(gen)


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_every_view_of_access_follows_the_one_rule(
    seed: int,
    scenario: Scenario,
    graphql: GraphQLClient,
    http: httpx.AsyncClient,
    issuer: LocalIssuer,
) -> None:
    rng = random.Random(seed)
    gen = await generate(scenario, rng, issuer)
    assert gen.access.reached("nobody") == set()
    await ask_every_view(graphql, http, scenario, gen, issuer.url)
    # Again after changes: the decision endpoint's cached answers must follow them.
    await change(scenario, gen, rng)
    await ask_every_view(graphql, http, scenario, gen, issuer.url)
