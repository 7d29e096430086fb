"""API operations in the service layer: templates, duplicates, permissions, audit, and the
operations products choose."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlmodel import col

from accessplane.errors import Forbidden, InputError, NotFound, UserErrorCode
from accessplane.models import (
    ApiOperation,
    ApiProductApi,
    ApiProductOperation,
    AuditEvent,
    AuthMethod,
)
from accessplane.services import operations, products, workspace_config
from accessplane.services.operations import (
    OperationEdit,
    normalise_template,
    template_problem,
)
from accessplane.services.roles import PermissionSpec
from tests.support.scenario import Scenario


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/invoices",
        "/invoices/{id}",
        "/invoices/{invoice_id}/lines/{line.id}",
        "/files/*",
        "/*",
        "/v1/users/{id}/avatar.png",
        "/a/%20b/~c",
    ],
)
def test_valid_templates(path: str) -> None:
    assert template_problem(path) is None


@pytest.mark.parametrize(
    ("path", "normalised"),
    [
        ("/caf%c3%a9", "/caf%C3%A9"),
        ("/%69nvoices/%7Ebob", "/invoices/~bob"),
        ("/100%25", "/100%25"),
        ("/a/{id}/*", "/a/{id}/*"),
    ],
)
def test_literals_are_normalised_as_requests_are(path: str, normalised: str) -> None:
    assert normalise_template(path) == (normalised, None)


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("invoices", "must start with /"),
        ("", "must start with /"),
        ("/invoices?page=2", "query string"),
        ("/invoices#top", "fragment"),
        ("/invoices//lines", "empty segments"),
        ("/invoices/", "empty segments"),
        ("/invoices/../admin", ". or .."),
        ("/./invoices", ". or .."),
        ("/files/*/meta", "only as its last segment"),
        ("/files/x|y", "characters a URL path cannot"),
        ("/report.{format}", "one whole {parameter}"),
        ("/{}", "one whole {parameter}"),
        ("/{1st}", "one whole {parameter}"),
        ("/{id}/{id}", "names the parameter {id} twice"),
        ("/a b", "characters a URL path cannot"),
        ("/a;b", "characters a URL path cannot"),
        ("/" + "a" * 2000, "at most 2000 characters"),
        ("/%2e%2E/admin", ". or .."),
        ("/a%2fb", "an encoded /"),
        ("/a%5Cb", "an encoded /"),
        ("/a%00", "control character"),
        ("/a%2541", "double encoding"),
        ("/a%zz", "characters a URL path cannot"),
        ("/a" * 101, "at most 100 segments"),
    ],
)
def test_invalid_templates(path: str, problem: str) -> None:
    found = template_problem(path)
    assert found is not None
    assert problem in found


async def test_create_normalises_checks_and_audits(session, scenario: Scenario) -> None:
    world = await scenario.workspace()
    api = await scenario.api(world)

    made = await operations.create_operation(
        session=session,
        actor=world.owner.principal,
        api_id=api.id,
        method=" get ",
        path="/invoices/{id}",
        name="getInvoice",
        scopes=["invoices:read", "invoices:read", "admin"],
    )

    stored = await session.get(ApiOperation, made.id)
    assert (stored.method, stored.path, stored.name) == ("GET", "/invoices/{id}", "getInvoice")
    assert stored.scopes == ["invoices:read", "admin"]
    assert stored.workspace_id == world.workspace.id
    event = (
        await session.scalars(select(AuditEvent).where(col(AuditEvent.target_id) == made.id))
    ).one()
    assert event.action == "createApiOperation"
    assert event.after["path"] == "/invoices/{id}"


async def test_bad_input_names_every_field_and_writes_nothing(session, scenario) -> None:
    world = await scenario.workspace()
    api = await scenario.api(world)

    with pytest.raises(InputError) as refused:
        await operations.create_operation(
            session=session,
            actor=world.owner.principal,
            api_id=api.id,
            method="FETCH",
            path="/a/../b",
            name="x" * 201,
            scopes=["bad scope", 'quote"d'],
        )

    fields = [(e.field, e.code) for e in refused.value.errors]
    assert ("method", UserErrorCode.INVALID) in fields
    assert ("path", UserErrorCode.INVALID) in fields
    assert ("name", UserErrorCode.TOO_LONG) in fields
    assert fields.count(("scopes", UserErrorCode.INVALID)) == 2
    assert (await session.scalars(select(ApiOperation))).all() == []


async def test_too_many_scopes_are_refused(session, scenario: Scenario) -> None:
    world = await scenario.workspace()
    api = await scenario.api(world)
    with pytest.raises(InputError) as refused:
        await operations.create_operation(
            session=session,
            actor=world.owner.principal,
            api_id=api.id,
            method="GET",
            path="/a",
            scopes=[f"s{i}" for i in range(51)],
        )
    assert refused.value.errors[0].message == "At most 50 scopes (51 given)."


async def test_duplicate_method_and_path_is_a_user_error(session, scenario: Scenario) -> None:
    world = await scenario.workspace()
    api, other_api = await scenario.api(world), await scenario.api(world)
    owner = world.owner.principal
    await operations.create_operation(
        session=session, actor=owner, api_id=api.id, method="GET", path="/a/{id}"
    )
    # The same template on another API, or another method on the same one, is fine.
    await operations.create_operation(
        session=session, actor=owner, api_id=other_api.id, method="GET", path="/a/{id}"
    )
    post = await operations.create_operation(
        session=session, actor=owner, api_id=api.id, method="*", path="/a/{id}"
    )

    with pytest.raises(InputError) as refused:
        await operations.create_operation(
            session=session, actor=owner, api_id=api.id, method="get", path="/a/{id}"
        )
    assert [(e.field, e.code) for e in refused.value.errors] == [("path", UserErrorCode.DUPLICATE)]
    with pytest.raises(InputError):  # an edit onto a taken template too
        await operations.update_operation(
            session=session,
            actor=owner,
            operation_id=post.id,
            edit=OperationEdit(method="GET"),
        )


async def test_update_and_delete(session, scenario: Scenario) -> None:
    world = await scenario.workspace()
    api = await scenario.api(world)
    owner = world.owner.principal
    made = await operations.create_operation(
        session=session, actor=owner, api_id=api.id, method="GET", path="/a"
    )
    created_at = made.updated_at

    await operations.update_operation(
        session=session,
        actor=owner,
        operation_id=made.id,
        edit=OperationEdit(path="/a/{id}", scopes=["read"], name="show"),
    )
    stored = await session.get(ApiOperation, made.id)
    assert (stored.method, stored.path, stored.name, stored.scopes) == (
        "GET",
        "/a/{id}",
        "show",
        ["read"],
    )
    assert stored.updated_at >= created_at

    await operations.delete_operation(session=session, actor=owner, operation_id=made.id)
    session.expunge_all()
    assert await session.get(ApiOperation, made.id) is None
    actions = (
        await session.scalars(select(AuditEvent.action).where(col(AuditEvent.target_id) == made.id))
    ).all()
    assert sorted(actions) == ["createApiOperation", "deleteApiOperation", "updateApiOperation"]


async def test_editing_needs_update_api_and_access_to_the_api(session, scenario) -> None:
    world = await scenario.workspace()
    api = await scenario.api(world)
    made = await operations.create_operation(
        session=session, actor=world.owner.principal, api_id=api.id, method="GET", path="/a"
    )
    viewer = await scenario.member(world, "Viewer")
    await scenario.grant(world, api, people=[viewer])
    await scenario.custom_role(
        world, "Editor", [PermissionSpec("getApi"), PermissionSpec("updateApi")]
    )
    editor = await scenario.member(world, "Editor")  # reaches no API
    other = await scenario.workspace()

    with pytest.raises(Forbidden):
        await operations.create_operation(
            session=session, actor=viewer.principal, api_id=api.id, method="GET", path="/b"
        )
    with pytest.raises(NotFound):  # holds updateApi, but the API is invisible to them
        await operations.delete_operation(
            session=session, actor=editor.principal, operation_id=made.id
        )
    with pytest.raises(NotFound):
        await operations.update_operation(
            session=session,
            actor=other.owner.principal,
            operation_id=made.id,
            edit=OperationEdit(name="x"),
        )
    assert await session.get(ApiOperation, made.id) is not None


async def _operation(session, world, api, path: str) -> ApiOperation:
    return await operations.create_operation(
        session=session, actor=world.owner.principal, api_id=api.id, method="GET", path=path
    )


async def _chosen(session, product_id) -> tuple[set, set]:
    apis = set(
        (
            await session.scalars(
                select(ApiProductApi.api_id).where(col(ApiProductApi.product_id) == product_id)
            )
        ).all()
    )
    ops = set(
        (
            await session.scalars(
                select(ApiProductOperation.operation_id).where(
                    col(ApiProductOperation.product_id) == product_id
                )
            )
        ).all()
    )
    return apis, ops


async def test_choosing_operations_puts_their_apis_in_the_product(session, scenario) -> None:
    world = await scenario.workspace()
    billing, pets, audit = [await scenario.api(world) for _ in range(3)]
    invoices = await _operation(session, world, billing, "/invoices")
    list_pets = await _operation(session, world, pets, "/pets")
    owner = world.owner.principal

    product = await products.create_product(
        session=session,
        actor=owner,
        workspace_id=world.workspace.id,
        name="Partner",
        auth_method=AuthMethod.AUTH_TOKEN,
        api_ids=[audit.id],
        operation_ids=[invoices.id],
    )
    assert await _chosen(session, product.id) == ({audit.id, billing.id}, {invoices.id})

    # New operations replace the chosen ones; their APIs join, the others stay.
    await products.update_product(
        session=session, actor=owner, product_id=product.id, operation_ids=[list_pets.id]
    )
    assert await _chosen(session, product.id) == (
        {audit.id, billing.id, pets.id},
        {list_pets.id},
    )

    # New APIs alone keep the chosen operations of the APIs that stay.
    await products.update_product(
        session=session, actor=owner, product_id=product.id, api_ids=[pets.id]
    )
    assert await _chosen(session, product.id) == ({pets.id}, {list_pets.id})
    await products.update_product(
        session=session, actor=owner, product_id=product.id, api_ids=[audit.id]
    )
    assert await _chosen(session, product.id) == ({audit.id}, set())


async def test_unknown_and_foreign_operations_are_not_found(session, scenario) -> None:
    world, other = await scenario.workspace(), await scenario.workspace()
    foreign = await _operation(session, other, await scenario.api(other), "/x")
    product = await scenario.product(world, "Partner")

    with pytest.raises(InputError) as refused:
        await products.update_product(
            session=session,
            actor=world.owner.principal,
            product_id=product.id,
            operation_ids=[foreign.id],
        )
    assert [(e.field, e.code) for e in refused.value.errors] == [
        ("operation_ids", UserErrorCode.NOT_FOUND)
    ]
    assert await _chosen(session, product.id) == (set(), set())


async def test_deleting_an_operation_drops_it_from_products_but_never_their_last_choice(
    session, scenario
) -> None:
    world = await scenario.workspace()
    api = await scenario.api(world)
    made = await _operation(session, world, api, "/a")
    product = await products.create_product(
        session=session,
        actor=world.owner.principal,
        workspace_id=world.workspace.id,
        name="Partner",
        auth_method=AuthMethod.AUTH_TOKEN,
        operation_ids=[made.id],
    )

    other = await _operation(session, world, api, "/b")
    # A refused delete rolls back, which expires the session's objects: keep their ids.
    api_id, product_id, other_id = api.id, product.id, other.id
    await products.update_product(
        session=session,
        actor=world.owner.principal,
        product_id=product_id,
        operation_ids=[made.id, other_id],
    )

    await operations.delete_operation(
        session=session, actor=world.owner.principal, operation_id=made.id
    )
    assert await _chosen(session, product_id) == ({api_id}, {other_id})

    # The product's last chosen operation of the API: deleting it would let the product grant
    # the whole API, so it is refused and nothing changes.
    with pytest.raises(InputError) as refused:
        await operations.delete_operation(
            session=session, actor=world.owner.principal, operation_id=other_id
        )
    (error,) = refused.value.errors
    assert (error.field, error.code) == ("id", UserErrorCode.IN_USE)
    assert "The products 'Partner' chose no other operation of this API" in error.message
    assert await _chosen(session, product_id) == ({api_id}, {other_id})
    audited = await session.scalars(
        select(AuditEvent.action).where(col(AuditEvent.action) == "deleteApiOperation")
    )
    assert len(audited.all()) == 1

    # Once the product grants the API whole by choice, the operation goes.
    await products.update_product(
        session=session, actor=world.owner.principal, product_id=product_id, operation_ids=[]
    )
    await operations.delete_operation(
        session=session, actor=world.owner.principal, operation_id=other_id
    )
    assert await _chosen(session, product_id) == ({api_id}, set())


CONFIG = """
version: 1
apis:
  - identifier: billing
    name: Billing
    operations:
      - {method: get, path: /invoices, name: listInvoices, scopes: [invoices:read]}
      - {method: GET, path: "/invoices/{id}", scopes: [invoices:read]}
      - {method: "*", path: /caf%c3%a9/*}
products:
  - name: Readers
    authMethod: AUTH_TOKEN
    operations: ["billing GET /invoices", "billing GET /invoices/{id}"]
"""


async def _apply(session, world, workspace_id, text: str, *, prune: bool = False):
    return await workspace_config.apply_workspace_config(
        session=session,
        actor=world.owner.principal,
        workspace_id=workspace_id,
        text=text,
        secret=b"s" * 32,
        prune=prune,
    )


async def test_configuration_as_code_declares_operations_and_chosen_ones(session, scenario):
    world = await scenario.workspace()
    ws = world.workspace.id  # read now: a commit expires the row

    applied = await _apply(session, world, ws, CONFIG)

    assert [c.line() for c in applied.changes if c.kind == "operation"] == [
        "+ operation billing * /caf%C3%A9/*",
        "+ operation billing GET /invoices",
        "+ operation billing GET /invoices/{id}",
    ]
    exported = await workspace_config.export_workspace_config(
        session=session, actor=world.owner.principal, workspace_id=ws
    )
    assert "- billing GET /invoices/{id}" in exported
    assert "path: /caf%C3%A9/*" in exported
    again = await _apply(session, world, ws, CONFIG)
    assert again.changes == []  # the file, normalised, is the workspace

    # A scope edited, an operation left out: kept without prune, deleted with it.
    edited = CONFIG.replace(
        '      - {method: GET, path: "/invoices/{id}", scopes: [invoices:read]}\n', ""
    ).replace("scopes: [invoices:read]}", "scopes: [invoices:list]}")
    edited = edited.replace(', "billing GET /invoices/{id}"', "")
    kept = await _apply(session, world, ws, edited)
    assert sorted(c.line() for c in kept.changes) == [
        "~ operation billing GET /invoices: scopes +invoices:list -invoices:read",
        "~ product Readers: operations -billing GET /invoices/{id}",
    ]
    pruned = await _apply(session, world, ws, edited, prune=True)
    assert [c.line() for c in pruned.changes] == ["- operation billing GET /invoices/{id}"]
    session.expunge_all()
    paths = (await session.scalars(select(ApiOperation.path))).all()
    assert sorted(paths) == ["/caf%C3%A9/*", "/invoices"]


async def test_configuration_errors_name_their_place(session, scenario: Scenario) -> None:
    world = await scenario.workspace()
    ws = world.workspace.id
    bad_path = CONFIG.replace("path: /invoices,", "path: /invoices/../x,")
    unknown = CONFIG.replace('"billing GET /invoices"', '"billing DELETE /invoices"')

    with pytest.raises(InputError) as refused:
        await _apply(session, world, ws, bad_path)
    assert [(e.field, e.message) for e in refused.value.errors] == [
        ("apis[0].operations[0].path", "Value error, The path must not have . or .. segments.")
    ]
    with pytest.raises(InputError) as refused:
        await _apply(session, world, ws, unknown)
    assert [(e.field, e.code) for e in refused.value.errors] == [
        ("products[0].operations[0]", UserErrorCode.NOT_FOUND)
    ]
    assert (await session.scalars(select(ApiOperation))).all() == []  # all or nothing


async def test_apply_with_prune_keeps_a_products_last_chosen_operation(session, scenario) -> None:
    """The product section left out keeps its choice; pruning that choice's operation would
    let the product grant the whole API, so the apply is refused and writes nothing."""
    world = await scenario.workspace()
    ws = world.workspace.id
    await _apply(session, world, ws, CONFIG)
    without = CONFIG.split("products:")[0].replace(
        "      - {method: get, path: /invoices, name: listInvoices, scopes: [invoices:read]}\n"
        '      - {method: GET, path: "/invoices/{id}", scopes: [invoices:read]}\n',
        "",
    )

    with pytest.raises(InputError) as refused:
        await _apply(session, world, ws, without, prune=True)

    assert [e.code for e in refused.value.errors] == [UserErrorCode.IN_USE]
    assert "'Readers' chose no other operation" in refused.value.errors[0].message
    session.expunge_all()
    paths = (await session.scalars(select(ApiOperation.path))).all()
    assert sorted(paths) == ["/caf%C3%A9/*", "/invoices", "/invoices/{id}"]
