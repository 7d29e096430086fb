"""Cursors are opaque to clients, but a client can forge one: whatever it holds, a cursor that
is not one the server made is BAD_USER_INPUT, on every database."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.support.scenario import Scenario

APIS = """
query Apis($id: ID!, $after: String) {
  workspace(id: $id) { apis(first: 5, after: $after) { edges { node { name } } } }
}
"""
AUDIT_EVENTS = """
query Audit($id: ID!, $after: String) {
  workspace(id: $id) { auditEvents(first: 5, after: $after) { edges { node { action } } } }
}
"""
SOME_ID = "3f1f4b8e-9b7e-4f7a-9a55-2f5a3c1d0e6b"


def cursor(values: Any) -> str:
    """A cursor as the server encodes one (URL-safe base64 of a JSON list)."""
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


# Well-formed cursors whose values have the wrong JSON types for the sort columns.
FORGED = [
    ["a", 5],
    ["a", None],
    ["a", ["b"]],
    [5, SOME_ID],
    [True, SOME_ID],
    [None, SOME_ID],
    [1.5, SOME_ID],
    [{"a": 1}, SOME_ID],
]


@pytest.mark.parametrize("values", FORGED, ids=json.dumps)
async def test_a_cursor_with_values_of_other_types_is_refused(
    graphql, scenario: Scenario, values: list[Any]
) -> None:
    world = await scenario.workspace()
    await scenario.api(world)

    result = await graphql.as_principal(world.owner.principal).execute(
        APIS, id=world.id, after=cursor(values)
    )

    assert result.error_codes == ["BAD_USER_INPUT"], result.errors


@pytest.mark.parametrize(
    "values",
    [[5, SOME_ID], ["2030-01-01T00:00:00+00:00", 5], [["2030"], SOME_ID]],
    ids=json.dumps,
)
async def test_a_time_cursor_with_values_of_other_types_is_refused(
    graphql, scenario: Scenario, values: list[Any]
) -> None:
    world = await scenario.workspace()

    result = await graphql.as_principal(world.owner.principal).execute(
        AUDIT_EVENTS, id=world.id, after=cursor(values)
    )

    assert result.error_codes == ["BAD_USER_INPUT"], result.errors
