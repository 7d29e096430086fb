"""addAccessProfileCertificate, removeAccessProfileCertificate, AccessProfile.certificates and
certificateBoundTokens over GraphQL: success, each refusal as a userError on its field with
nothing written, who may do what, and the list's fixed SQL statement count."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from accessplane.models import AccessProfileCertificate, AuditEvent
from tests.support.certificates import (
    GARBAGE_PEM,
    NOT_PEM,
    CertificateAuthority,
    expired_certificate,
    mtls_app,
    not_yet_valid_certificate,
    register,
)
from tests.support.scenario import Scenario, gid
from tests.support.statements import statements_per_page

CERTIFICATE = "id fingerprint subject issuer serialNumber notBefore notAfter pem createdAt"
ADD = f"""
mutation Add($input: AddAccessProfileCertificateInput!) {{
  addAccessProfileCertificate(input: $input) {{
    certificate {{ {CERTIFICATE} }} userErrors {{ field message code }}
  }}
}}
"""
REMOVE = """
mutation Remove($input: RemoveAccessProfileCertificateInput!) {
  removeAccessProfileCertificate(input: $input) {
    removedCertificateId userErrors { field message code }
  }
}
"""
APP = """
query App($id: ID!) {
  node(id: $id) {
    ... on AccessProfile { authMethod certificateBoundTokens certificates { fingerprint subject } }
  }
}
"""
CREATE = """
mutation Create($input: CreateAccessProfileInput!) {
  createAccessProfile(input: $input) {
    token accessProfile { id authMethod certificateBoundTokens tokenHint }
    userErrors { field message code }
  }
}
"""
UPDATE = """
mutation Update($input: UpdateAccessProfileInput!) {
  updateAccessProfile(input: $input) {
    accessProfile { certificateBoundTokens } userErrors { field message code }
  }
}
"""
CLIENTS = """
query Clients($id: ID!, $first: Int) {
  workspace(id: $id) {
    clients(first: $first) {
      edges { node { name accessProfiles(first: 5) {
        edges { node { name certificates { fingerprint notAfter } } }
      } } }
    }
  }
}
"""


@pytest.fixture(scope="module")
def ca() -> CertificateAuthority:
    return CertificateAuthority.create()


async def stored_count(session: Any) -> int:
    found = await session.scalar(select(func.count()).select_from(AccessProfileCertificate))
    await session.commit()
    return int(found)


async def test_an_admin_registers_and_removes_a_certificate(
    graphql, scenario: Scenario, session, ca: CertificateAuthority
) -> None:
    world = await scenario.workspace()
    app = await mtls_app(scenario, world)
    owner = graphql.as_principal(world.owner.principal)
    issued = ca.issue("orders.partner.example")

    added = (
        await owner.execute(
            ADD, input={"accessProfileId": gid("AccessProfile", app.id), "pem": issued.pem}
        )
    ).ok()["addAccessProfileCertificate"]

    assert added["userErrors"] == []
    certificate = added["certificate"]
    assert certificate["fingerprint"] == issued.fingerprint
    assert certificate["subject"] == "CN=orders.partner.example,O=AccessPlane Tests"
    assert certificate["issuer"] == "CN=AccessPlane Test CA,O=AccessPlane Tests"
    assert certificate["serialNumber"] == issued.serial_hex
    assert certificate["pem"] == issued.pem
    listed = (await owner.execute(APP, id=gid("AccessProfile", app.id))).ok()["node"]
    assert listed == {
        "authMethod": "MTLS",
        "certificateBoundTokens": False,
        "certificates": [{"fingerprint": issued.fingerprint, "subject": certificate["subject"]}],
    }
    node = (
        await owner.execute(
            "query N($id: ID!) { node(id: $id) { ... on AccessProfileCertificate "
            "{ fingerprint } } }",
            id=certificate["id"],
        )
    ).ok()["node"]
    assert node == {"fingerprint": issued.fingerprint}

    removed = (await owner.execute(REMOVE, input={"id": certificate["id"]})).ok()
    assert removed["removeAccessProfileCertificate"] == {
        "removedCertificateId": certificate["id"],
        "userErrors": [],
    }
    assert await stored_count(session) == 0
    actions = (await session.scalars(select(AuditEvent.action))).all()
    assert {"addAccessProfileCertificate", "removeAccessProfileCertificate"} <= set(actions)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda ca: "", "Paste the app's client certificate (PEM)."),
        (lambda ca: NOT_PEM, "This is not a PEM certificate"),
        (lambda ca: GARBAGE_PEM, "This is not a valid X.509 certificate"),
        (lambda ca: ca.issue().pem_with_key, "The input holds a private key; nothing was stored."),
        (lambda ca: ca.issue().pem + ca.issue().pem, "One certificate at a time"),
        (lambda ca: expired_certificate(ca).pem, "The certificate expired on"),
        (lambda ca: not_yet_valid_certificate(ca).pem, "The certificate is not valid yet"),
        (lambda ca: ca.pem, "This is a CA certificate"),
        (lambda ca: "A" * 20_000, "A certificate in PEM is at most 16 KB"),
    ],
    ids=[
        "empty",
        "not-pem",
        "garbage",
        "private-key",
        "several",
        "expired",
        "not-yet-valid",
        "ca",
        "too-large",
    ],
)
async def test_bad_input_is_a_user_error_on_pem_and_writes_nothing(
    graphql, scenario: Scenario, session, ca: CertificateAuthority, make, message: str
) -> None:
    world = await scenario.workspace()
    app = await mtls_app(scenario, world)

    payload = (
        await graphql.as_principal(world.owner.principal).execute(
            ADD, input={"accessProfileId": gid("AccessProfile", app.id), "pem": make(ca)}
        )
    ).ok()["addAccessProfileCertificate"]

    assert payload["certificate"] is None
    [error] = payload["userErrors"]
    assert error["field"] == "pem"
    assert error["message"].startswith(message)
    assert await stored_count(session) == 0


async def test_a_duplicate_and_a_non_mtls_app_are_user_errors(
    graphql, scenario: Scenario, session, ca: CertificateAuthority
) -> None:
    world, other = await scenario.workspace(), await scenario.workspace()
    issued = ca.issue("taken")
    await register(scenario, other, await mtls_app(scenario, other), issued)
    mine = await mtls_app(scenario, world)
    token_app = await scenario.app(world, await scenario.client(world))
    owner = graphql.as_principal(world.owner.principal)

    duplicate = (
        await owner.execute(
            ADD, input={"accessProfileId": gid("AccessProfile", mine.id), "pem": issued.pem}
        )
    ).ok()["addAccessProfileCertificate"]
    wrong_app = (
        await owner.execute(
            ADD,
            input={
                "accessProfileId": gid("AccessProfile", token_app.access_profile.id),
                "pem": ca.issue().pem,
            },
        )
    ).ok()["addAccessProfileCertificate"]

    assert duplicate["userErrors"] == [
        {
            "field": "pem",
            "message": "This certificate is already registered to another app; a certificate "
            "identifies one app.",
            "code": "DUPLICATE",
        }
    ]
    assert wrong_app["userErrors"][0]["field"] == "accessProfileId"
    assert "registered to MTLS apps" in wrong_app["userErrors"][0]["message"]
    assert await stored_count(session) == 1


async def test_the_clients_consumers_see_the_certificates_but_do_not_change_them(
    graphql, scenario: Scenario, session, ca: CertificateAuthority
) -> None:
    world = await scenario.workspace()
    client = await scenario.client(world)
    consumer = await scenario.consumer(world, client)
    app = await mtls_app(scenario, world, client)
    added = await register(scenario, world, app, ca.issue("seen"))
    caller = graphql.as_principal(consumer.principal)

    seen = (await caller.execute(APP, id=gid("AccessProfile", app.id))).ok()["node"]
    refused = await caller.execute(REMOVE, input={"id": gid("AccessProfileCertificate", added.id)})

    assert [c["fingerprint"] for c in seen["certificates"]] == [added.fingerprint]
    assert refused.error_codes == ["FORBIDDEN"]
    assert await stored_count(session) == 1


async def test_malformed_and_wrong_type_ids_are_user_errors(
    graphql, scenario: Scenario, ca: CertificateAuthority
) -> None:
    world = await scenario.workspace()
    app = await mtls_app(scenario, world)
    owner = graphql.as_principal(world.owner.principal)

    wrong_type = (
        await owner.execute(
            ADD, input={"accessProfileId": gid("Client", app.client_id), "pem": ca.issue().pem}
        )
    ).ok()["addAccessProfileCertificate"]
    removed = (await owner.execute(REMOVE, input={"id": gid("AccessProfile", app.id)})).ok()

    assert wrong_type["userErrors"][0]["field"] == "accessProfileId"
    assert wrong_type["userErrors"][0]["code"] == "INVALID_ID"
    assert removed["removeAccessProfileCertificate"]["userErrors"][0]["code"] == "INVALID_ID"


# --- MTLS and certificateBoundTokens on apps ----------------------------------------------


async def test_create_an_mtls_app_and_a_certificate_bound_jwt_app(
    graphql, scenario: Scenario
) -> None:
    world = await scenario.workspace()
    client = gid("Client", (await scenario.client(world)).id)
    owner = graphql.as_principal(world.owner.principal)

    mtls = (
        await owner.execute(
            CREATE, input={"clientId": client, "name": "Certified", "authMethod": "MTLS"}
        )
    ).ok()["createAccessProfile"]
    bound = (
        await owner.execute(
            CREATE,
            input={
                "clientId": client,
                "name": "Bound",
                "authMethod": "JWT",
                "trustedIssuer": "https://idp.example.com",
                "certificateBoundTokens": True,
            },
        )
    ).ok()["createAccessProfile"]
    unbound = (
        await owner.execute(
            UPDATE, input={"id": bound["accessProfile"]["id"], "certificateBoundTokens": False}
        )
    ).ok()["updateAccessProfile"]

    assert mtls["userErrors"] == []
    assert mtls["token"] is None
    assert mtls["accessProfile"]["authMethod"] == "MTLS"
    assert mtls["accessProfile"]["tokenHint"] is None
    assert bound["accessProfile"]["certificateBoundTokens"] is True
    assert unbound == {"accessProfile": {"certificateBoundTokens": False}, "userErrors": []}


async def test_certificate_bound_tokens_are_refused_for_apps_without_tokens(
    graphql, scenario: Scenario
) -> None:
    world = await scenario.workspace()
    client = gid("Client", (await scenario.client(world)).id)
    owner = graphql.as_principal(world.owner.principal)

    refused = (
        await owner.execute(
            CREATE,
            input={
                "clientId": client,
                "name": "Certified",
                "authMethod": "MTLS",
                "certificateBoundTokens": True,
            },
        )
    ).ok()["createAccessProfile"]

    assert refused["accessProfile"] is None
    assert refused["userErrors"] == [
        {
            "field": "certificateBoundTokens",
            "message": "certificateBoundTokens is for the token methods (OAUTH2, JWT, OIDC), "
            "not MTLS.",
            "code": "INVALID",
        }
    ]


# --- statement count ------------------------------------------------------------------------


async def test_certificates_of_a_page_of_apps_cost_the_same_for_10_and_100_rows(
    graphql, scenario: Scenario, count_queries, ca: CertificateAuthority
) -> None:
    world = await scenario.workspace()
    for i in range(100):
        client = await scenario.client(world, f"Client {i:03}")
        app = await mtls_app(scenario, world, client, "Certified")
        for j in range(2):
            await register(scenario, world, app, ca.issue(f"c{i}-{j}"))
    caller = graphql.as_principal(world.owner.principal)

    async def page(first: int) -> None:
        data = (await caller.execute(CLIENTS, id=world.id, first=first)).ok()
        edges = data["workspace"]["clients"]["edges"]
        assert len(edges) == first
        apps = edges[-1]["node"]["accessProfiles"]["edges"]
        assert len(apps[0]["node"]["certificates"]) == 2

    statements = await statements_per_page(count_queries, page)

    assert statements[10] == statements[100], statements
    assert statements[100] <= 8, statements
