"""The viewer's memberships tell a client which of its permissions carry a constraint, so the
console can show a key's name pattern before the server refuses a name."""

from __future__ import annotations

from accessplane.services.roles import PermissionSpec

VIEWER = """
query {
  viewer { memberships { workspace { id } permissions permissionConstraints { name namePattern } } }
}
"""


async def test_a_name_pattern_on_create_api_access_is_listed(graphql, scenario) -> None:
    world = await scenario.workspace()
    await scenario.custom_role(
        world,
        "CI keys",
        [
            PermissionSpec("getApiAccess"),
            PermissionSpec("createApiAccess", name_pattern="ci-.*"),
            PermissionSpec("getRole"),
        ],
    )
    person = await scenario.member(world, "CI keys")

    viewer = (await graphql.as_principal(person.principal).execute(VIEWER)).ok()["viewer"]

    [membership] = viewer["memberships"]
    assert membership["permissions"] == ["createApiAccess", "getApiAccess", "getRole"]
    assert membership["permissionConstraints"] == [
        {"name": "createApiAccess", "namePattern": "ci-.*"}
    ]


async def test_unconstrained_permissions_are_not_listed(graphql, scenario) -> None:
    world = await scenario.workspace()
    token = await scenario.api_key(world, "Developer")

    owner = (await graphql.as_principal(world.owner.principal).execute(VIEWER)).ok()["viewer"]
    key = (await graphql.as_key(token).execute(VIEWER)).ok()["viewer"]

    assert owner["memberships"][0]["permissionConstraints"] == []
    assert key["memberships"][0]["permissionConstraints"] == []
