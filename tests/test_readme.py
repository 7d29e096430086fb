"""Every GraphQL example of the README is valid against the schema, so the documentation cannot
drift from the code (a renamed field or input fails here)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import parse, validate

from accessplane.schema.build import build_schema
from accessplane.settings import Settings

README = Path(__file__).parent.parent / "README.md"


def examples(section: str | None = None) -> list[str]:
    """The ```graphql blocks of the README, or of one of its sections."""
    text = README.read_text()
    if section is not None:
        start = text.index(section)
        text = text[start : text.index("\n## ", start + len(section))]
    return re.findall(r"```graphql\n(.*?)```", text, flags=re.DOTALL)


@pytest.mark.parametrize(
    ("section", "operations"),
    [
        (
            "## A first walk through GraphiQL",
            ["createApi", "addMember", "createGroup", "grantApiAccess", "explainAccess"],
        ),
        (
            "## API keys and email",
            ["createApiAccess", "apiAccesses", "regenerateApiAccess", "deleteApiAccesses"],
        ),
        (
            "## Consumers: requesting and approving access",
            [
                "createApiProduct",
                "createPlan",
                "createClient",
                "submitAccessRequest",
                "accessRequests",
                "approveAccessRequest",
            ],
        ),
    ],
)
def test_each_walk_through_shows_its_operations(section: str, operations: list[str]) -> None:
    shown = " ".join(examples(section))
    assert [op for op in operations if op not in shown] == []


@pytest.mark.parametrize("example", examples())
def test_each_example_is_valid_graphql_for_the_schema(example: str) -> None:
    schema = build_schema(Settings(environment="test"))

    errors = validate(schema._schema, parse(example))

    assert errors == []
