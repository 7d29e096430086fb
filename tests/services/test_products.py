"""API products in the service layer: the catalogue's visibility and products in use."""

from __future__ import annotations

import pytest

from accessplane.errors import InputError, NotFound, UserErrorCode
from accessplane.models import AuthMethod
from accessplane.services import access_requests, products
from accessplane.services.access_requests import NewAccessProfile
from accessplane.services.pagination import PageArgs
from tests.conftest import SECRET
from tests.support.scenario import Scenario


async def test_drafts_are_visible_to_product_managers_only(session, scenario: Scenario) -> None:
    world = await scenario.workspace()
    draft = await scenario.product(world, "Draft", published=False)
    await scenario.product(world, "Live")
    consumer = await scenario.consumer(world)
    viewer = await scenario.member(world, "Viewer")

    for person, expected in (
        (consumer, ["Live"]),
        (viewer, ["Live"]),
        (world.owner, ["Draft", "Live"]),
    ):
        page = await products.list_products(
            session=session,
            actor=person.principal,
            workspace_id=world.workspace.id,
            filter=products.ApiProductFilter(),
            args=PageArgs(first=10),
        )
        assert [p.name for p in page.items] == expected
    with pytest.raises(NotFound):
        await products.get_visible_product(session, consumer.principal, draft.id)
    with pytest.raises(NotFound):  # a draft is invisible, not merely forbidden
        await products.update_product(
            session=session, actor=consumer.principal, product_id=draft.id, name="x"
        )


async def test_a_product_named_by_a_pending_request_is_in_use(session, scenario: Scenario):
    world = await scenario.workspace()
    client = await scenario.client(world)
    consumer = await scenario.consumer(world, client)
    product = await scenario.product(world, "Payments")
    await access_requests.submit_access_request(
        session=session,
        actor=consumer.principal,
        secret=SECRET.encode(),
        product_ids=[product.id],
        plan_id=(await scenario.plan(world)).id,
        new_access_profile=NewAccessProfile(client_id=client.id, name="Mobile"),
    )

    with pytest.raises(InputError) as refused:
        await products.delete_product(
            session=session, actor=world.owner.principal, product_id=product.id
        )
    assert refused.value.errors[0].code is UserErrorCode.IN_USE
    with pytest.raises(InputError):
        await products.update_product(
            session=session,
            actor=world.owner.principal,
            product_id=product.id,
            auth_method=AuthMethod.JWT,
        )


async def test_an_unused_products_method_may_change(session, scenario: Scenario) -> None:
    world = await scenario.workspace()
    product = await scenario.product(world, "Payments")

    changed = await products.update_product(
        session=session,
        actor=world.owner.principal,
        product_id=product.id,
        auth_method=AuthMethod.JWT,
    )

    assert changed.auth_method is AuthMethod.JWT
