"""A property-based sweep over every GraphQL operation: whatever a caller sends, the answer is
clear. Every root query field, every ``Workspace`` field and every mutation of the served schema
is called with generated arguments (see tests/support/sweep.py) by the Owner, by a member
without permissions and without a credential; no answer may be "Unexpected error.", an HTTP
5xx or an error without ``extensions.code``, and nothing may be logged at ERROR with a
traceback.

CI runs a fixed number of derandomized examples per operation (the ``ci`` Hypothesis profile);
``make fuzz`` runs many more, randomized (``ACCESSPLANE_SWEEP_PROFILE=long``).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import GraphQLObjectType
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from accessplane.schema.build import build_schema
from accessplane.settings import OidcIssuer, Settings
from tests.support.graphql import GraphQLClient
from tests.support.scenario import Scenario
from tests.support.sweep import (
    SWEEP_ISSUER,
    WORKSPACE_VARIABLE,
    Answer,
    Callers,
    Operation,
    Values,
    error_records,
    operations,
    populate,
    served_schema,
)

# Hypothesis keeps caches (never an example database: see the profiles) under pytest's own
# ignored cache directory, not in the repository.
set_hypothesis_home_dir(Path(__file__).resolve().parents[2] / ".pytest_cache" / ".hypothesis")

SCHEMA = served_schema()
OPERATIONS = operations(SCHEMA)

settings.register_profile(
    "ci",
    # Sized so the sweep of every operation stays within about two minutes on SQLite.
    max_examples=12,
    derandomize=True,
    database=None,  # nothing written into the repository
    deadline=None,  # one example is three requests; their time is not the property
    # Failures are reported as found: shrinking each would cost many more requests.
    phases=(Phase.explicit, Phase.generate),
    print_blob=False,
    suppress_health_check=[
        # The populated workspace is built once per operation on purpose: examples share it.
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
settings.register_profile(
    "long",
    parent=settings.get_profile("ci"),
    max_examples=300,
    derandomize=False,
    phases=tuple(Phase),
)
PROFILE = settings.get_profile(os.environ.get("ACCESSPLANE_SWEEP_PROFILE", "ci"))


@pytest.fixture(name="settings")
def trusting_settings(settings: Settings) -> Settings:
    """The suite's settings, trusting an identity provider (never contacted: the sweep sends
    no tokens of it), so linkServiceAccount and setGroupClaimMapping get past the issuer."""
    issuer = OidcIssuer(issuer=SWEEP_ISSUER, groups_claim="groups")
    return settings.model_copy(update={"oidc_issuers": [issuer]})


@pytest.fixture
async def callers(scenario: Scenario, graphql: GraphQLClient, http: httpx.AsyncClient) -> Callers:
    """The callers, and the populated workspace they share for all examples of an operation."""
    return Callers(await populate(scenario), graphql, http)


def test_the_sweep_covers_every_operation() -> None:
    names = {operation.name for operation in OPERATIONS}
    executable = build_schema(Settings(environment="test"))._schema  # what the app executes
    workspace = executable.get_type("Workspace")
    assert isinstance(workspace, GraphQLObjectType)
    for root, type_ in (("Query", executable.query_type), ("Mutation", executable.mutation_type)):
        assert type_ is not None
        assert {f"{root}.{name}" for name in type_.fields} <= names
    assert {f"Workspace.{name}" for name in workspace.fields} <= names


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, "Internal Server Error"),
        (200, {"data": None, "errors": [{"message": "Unexpected error."}]}),
        (200, {"data": None, "errors": [{"message": "Variable '$id' got invalid value"}]}),
        (200, {"data": None, "errors": [{"message": "Oops.", "extensions": {}}]}),
        (200, ["not", "an", "object"]),
    ],
)
def test_the_sweep_refuses_an_unclear_answer(status: int, body: Any) -> None:
    assert Answer("Owner", status, body).problems() != []


def test_the_sweep_accepts_clear_answers() -> None:
    refused = {"message": "Refused.", "extensions": {"code": "FORBIDDEN"}}
    assert Answer("Owner", 200, {"data": None, "errors": [refused]}).problems() == []
    assert Answer("Owner", 413, {"error": "too_large"}).problems() == []


def test_the_sweep_notices_a_traceback_in_the_log() -> None:
    logger = logging.getLogger("accessplane.sweep")
    with error_records() as logged:
        logger.error("A caller's mistake, said without a traceback.")
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("A failure of the server.")
    assert len(logged.problems()) == 1


@pytest.mark.parametrize("operation", OPERATIONS, ids=repr)
@settings(PROFILE)
@given(data=st.data())
async def test_every_operation_answers_clearly(
    operation: Operation, callers: Callers, data: st.DataObject
) -> None:
    populated = callers.populated
    variables = data.draw(Values(populated.pool, SCHEMA).variables(operation), label="variables")
    if operation.in_workspace:
        variables = {**variables, WORKSPACE_VARIABLE: populated.world.id}
    with error_records() as logged:
        answers = await callers.answers(operation.document, variables)
    problems = [f"{a.caller}: {p}" for a in answers for p in a.problems()] + logged.problems()
    assert not problems, "\n".join([operation.document, *problems])
