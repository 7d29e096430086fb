"""The ids a decision names its caller by are the GraphQL API's global ids, encoded without a
GraphQL library."""

from __future__ import annotations

import base64
import uuid

import pytest
from strawberry.relay import GlobalID, to_base64

from accessplane.decision.policies import GatewayCaller, global_id
from accessplane.decision.reasons import GatewayCallerKind


@pytest.mark.parametrize("type_name", ["AccessProfile", "Member", "Workspace", "Client"])
@pytest.mark.parametrize(
    "value",
    [
        uuid.UUID(int=0),
        uuid.UUID(int=2**128 - 1),
        uuid.UUID("9b2f1c4e-58aa-4b7e-9e0f-1d2c3b4a5f60"),
    ],
)
def test_global_ids_match_the_graphql_api_s(type_name: str, value: uuid.UUID) -> None:
    encoded = global_id(type_name, value)

    assert encoded == to_base64(type_name, str(value))
    assert encoded == str(GlobalID(type_name, str(value)))
    assert base64.b64decode(encoded).decode() == f"{type_name}:{value}"


def test_a_caller_s_answer_and_headers_carry_its_global_ids() -> None:
    member, workspace = uuid.uuid4(), uuid.uuid4()

    caller = GatewayCaller.create(GatewayCallerKind.MEMBER, member, "ada@example.com", workspace)

    assert caller.as_json() == {
        "type": "MEMBER",
        "id": str(GlobalID("Member", str(member))),
        "name": "ada@example.com",
        "workspaceId": str(GlobalID("Workspace", str(workspace))),
    }
    assert dict(caller.headers()) == {
        b"x-accessplane-principal-type": b"MEMBER",
        b"x-accessplane-principal-id": str(GlobalID("Member", str(member))).encode(),
        b"x-accessplane-workspace-id": str(GlobalID("Workspace", str(workspace))).encode(),
    }
