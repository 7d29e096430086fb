"""The README's GraphQL examples of the consumer walk-through are valid against the schema, so
the documentation cannot drift from the code (a renamed field or input fails here)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import parse, validate

from accessplane.schema.build import build_schema
from accessplane.settings import Settings

README = Path(__file__).parent.parent / "README.md"
SECTION = "## Consumers: requesting and approving access"


def consumer_examples() -> list[str]:
    text = README.read_text()
    start = text.index(SECTION)
    end = text.index("\n## ", start + len(SECTION))
    return re.findall(r"```graphql\n(.*?)```", text[start:end], flags=re.DOTALL)


def test_the_walk_through_has_its_examples() -> None:
    names = " ".join(consumer_examples())
    for operation in (
        "createApiProduct",
        "createPlan",
        "createClient",
        "submitAccessRequest",
        "accessRequests",
        "approveAccessRequest",
    ):
        assert operation in names


@pytest.mark.parametrize("example", consumer_examples())
def test_each_example_is_valid_graphql_for_the_schema(example: str) -> None:
    schema = build_schema(Settings(environment="test"))

    errors = validate(schema._schema, parse(example))

    assert errors == []
