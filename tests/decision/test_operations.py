"""The operation matcher (``decision/operations.py``): which declared operation a normalised
request is, literals before parameters before wildcards, methods, and the grant check."""

from __future__ import annotations

import uuid

import pytest

from accessplane.decision.operations import (
    ANY_METHOD,
    Operation,
    OperationGrant,
    OperationTable,
    Target,
    normalise_target,
)
from accessplane.decision.reasons import Reason


def op(method: str, path: str, *scopes: str) -> Operation:
    return Operation(uuid.uuid4(), method, path, frozenset(scopes))


def matched(table: OperationTable, method: str, path: str) -> list[str]:
    """The templates (with methods) a request matches, most specific first."""
    target = normalise_target(method, path)
    assert target is not None, (method, path)
    return [f"{o.method} {o.path}" for o in table.match(target)]


INVOICES = OperationTable.compile(
    [
        op("GET", "/invoices"),
        op("POST", "/invoices"),
        op("GET", "/invoices/{id}"),
        op("GET", "/invoices/search"),
        op("GET", "/invoices/{id}/items"),
        op("DELETE", "/invoices/{id}"),
        op("GET", "/files/*"),
        op(ANY_METHOD, "/health"),
        op("GET", "/"),
    ]
)


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/invoices", ["GET /invoices"]),
        ("POST", "/invoices", ["POST /invoices"]),
        ("GET", "/invoices/42", ["GET /invoices/{id}"]),
        ("GET", "/invoices/42/items", ["GET /invoices/{id}/items"]),
        ("DELETE", "/invoices/42", ["DELETE /invoices/{id}"]),
        # A literal wins over a parameter.
        ("GET", "/invoices/search", ["GET /invoices/search"]),
        # But a literal only of another method leaves the parameter to match.
        ("DELETE", "/invoices/search", ["DELETE /invoices/{id}"]),
        ("GET", "/files/a", ["GET /files/*"]),
        ("GET", "/files/a/b/c", ["GET /files/*"]),
        ("PATCH", "/health", ["* /health"]),
        ("GET", "/health", ["* /health"]),
        ("GET", "/", ["GET /"]),
    ],
)
def test_requests_match_their_most_specific_operation(
    method: str, path: str, expected: list[str]
) -> None:
    assert matched(INVOICES, method, path) == expected


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/invoices/42/items/7"),  # one segment too many for {id}/items
        ("GET", "/invoices/42/other"),
        ("GET", "/files"),  # /* needs at least one further segment
        ("PUT", "/invoices/42"),  # no PUT declared
        ("POST", "/invoices/42"),
        ("GET", "/unknown"),
        ("GET", "/health/deep"),
        ("HEAD", "/invoices"),  # HEAD is not GET: declare it (or "*") to allow it
    ],
)
def test_requests_no_operation_declares_match_nothing(method: str, path: str) -> None:
    assert matched(INVOICES, method, path) == []


def test_a_parameter_matches_exactly_one_non_empty_segment() -> None:
    table = OperationTable.compile([op("GET", "/invoices/{id}")])
    assert matched(table, "GET", "/invoices/42") == ["GET /invoices/{id}"]
    assert matched(table, "GET", "/invoices/42/items") == []
    # "/invoices/" is "/invoices" (one trailing slash is ignored), which declares nothing.
    assert matched(table, "GET", "/invoices/") == []
    assert matched(table, "GET", "/invoices") == []


def test_the_walk_backtracks_from_a_literal_that_leads_nowhere() -> None:
    table = OperationTable.compile(
        [op("GET", "/invoices/search"), op("GET", "/invoices/{id}/items")]
    )
    assert matched(table, "GET", "/invoices/search/items") == ["GET /invoices/{id}/items"]


def test_a_wildcard_is_the_last_resort_at_its_position() -> None:
    table = OperationTable.compile(
        [op("GET", "/files/*"), op("GET", "/files/{name}"), op("GET", "/files/readme")]
    )
    assert matched(table, "GET", "/files/readme") == ["GET /files/readme"]
    assert matched(table, "GET", "/files/a") == ["GET /files/{name}"]
    assert matched(table, "GET", "/files/a/b") == ["GET /files/*"]


def test_a_named_method_wins_over_any_method_at_the_same_template() -> None:
    table = OperationTable.compile([op(ANY_METHOD, "/reports"), op("GET", "/reports")])
    assert matched(table, "GET", "/reports") == ["GET /reports"]
    assert matched(table, "POST", "/reports") == ["* /reports"]


def test_templates_equally_specific_are_all_candidates() -> None:
    table = OperationTable.compile([op("GET", "/a/{x}"), op("GET", "/a/{y}")])
    assert sorted(matched(table, "GET", "/a/1")) == ["GET /a/{x}", "GET /a/{y}"]


def test_a_segment_differing_from_a_literal_only_in_case_is_refused() -> None:
    # Case-insensitive upstreams would route /users/ME to /users/me, case-sensitive ones to
    # /users/{id}: neither is assumed, the request matches nothing.
    table = OperationTable.compile([op("GET", "/users/me"), op("GET", "/users/{id}")])
    assert matched(table, "GET", "/users/me") == ["GET /users/me"]
    assert matched(table, "GET", "/users/ME") == []
    assert matched(table, "GET", "/users/42") == ["GET /users/{id}"]
    # Also when another branch would have matched it.
    table = OperationTable.compile([op("GET", "/users/me"), op("GET", "/{a}/{b}")])
    assert matched(table, "GET", "/users/Me") == []


def test_methods_are_case_insensitive_on_the_request() -> None:
    assert matched(INVOICES, "get", "/invoices") == ["GET /invoices"]
    assert matched(INVOICES, "Post", "/invoices") == ["POST /invoices"]


def test_template_literals_are_normalised_like_requests() -> None:
    table = OperationTable.compile([op("GET", "/caf%c3%a9/%7Euser"), op("GET", "/n%C3%BC")])
    assert matched(table, "GET", "/caf%C3%A9/~user") == ["GET /caf%c3%a9/%7Euser"]
    assert matched(table, "GET", "/nü") == ["GET /n%C3%BC"]


def test_templates_that_can_match_nothing_are_left_out() -> None:
    table = OperationTable.compile(
        [op("GET", "/a/../admin"), op("GET", "/a%2Fb"), op("GET", "relative")]
    )
    assert matched(table, "GET", "/admin") == []
    assert matched(table, "GET", "/a/b") == []


def test_tables_are_equal_by_their_operations() -> None:
    ops = [op("GET", "/a"), op("POST", "/b")]
    assert OperationTable.compile(ops) == OperationTable.compile(reversed(ops))
    assert hash(OperationTable.compile(ops)) == hash(OperationTable.compile(ops))
    assert OperationTable.compile(ops) != OperationTable.compile(ops[:1])


def test_two_hundred_operations_match_as_quickly_as_one_branch() -> None:
    # 200 resources with five operations each: matching follows one branch of the trie.
    ops = []
    for n in range(40):
        ops += [
            op("GET", f"/r{n}"),
            op("POST", f"/r{n}"),
            op("GET", f"/r{n}/{{id}}"),
            op("PUT", f"/r{n}/{{id}}"),
            op("GET", f"/r{n}/{{id}}/children/*"),
        ]
    table = OperationTable.compile(ops)
    assert matched(table, "GET", "/r39/7/children/a/b") == ["GET /r39/{id}/children/*"]
    assert matched(table, "PUT", "/r0/x") == ["PUT /r0/{id}"]


# The grant: allowed operations and scopes.

SEARCH = op("GET", "/invoices/search", "invoices:search")
READ = op("GET", "/invoices/{id}", "invoices:read")
WRITE = op("POST", "/invoices")
TABLE = OperationTable.compile([SEARCH, READ, WRITE])


def target(method: str, path: str) -> Target | None:
    return normalise_target(method, path)


def test_a_grant_of_the_whole_api_allows_every_declared_operation_only() -> None:
    grant = OperationGrant(TABLE, None)
    assert grant.check(target("GET", "/invoices/1"), None) is None
    assert grant.check(target("POST", "/invoices"), None) is None
    assert grant.check(target("DELETE", "/invoices/1"), None) is Reason.OPERATION_NOT_ALLOWED
    assert grant.check(target("GET", "/other"), None) is Reason.OPERATION_NOT_ALLOWED


def test_a_grant_of_some_operations_refuses_the_others() -> None:
    grant = OperationGrant(TABLE, frozenset({READ.id}))
    assert grant.check(target("GET", "/invoices/1"), None) is None
    assert grant.check(target("POST", "/invoices"), None) is Reason.OPERATION_NOT_ALLOWED
    # The literal is more specific: not allowed, and not answered by {id} instead.
    assert grant.check(target("GET", "/invoices/search"), None) is Reason.OPERATION_NOT_ALLOWED


def test_no_method_or_path_is_refused() -> None:
    grant = OperationGrant(TABLE, None)
    assert grant.check(None, None) is Reason.OPERATION_NOT_ALLOWED
    assert target("", "/invoices") is None
    assert target("GET", "") is None


def test_tokens_need_the_operation_s_scopes() -> None:
    grant = OperationGrant(TABLE, None)
    read = target("GET", "/invoices/1")
    assert grant.check(read, frozenset()) is Reason.INSUFFICIENT_SCOPE
    assert grant.check(read, frozenset({"invoices:search"})) is Reason.INSUFFICIENT_SCOPE
    assert grant.check(read, frozenset({"invoices:read", "other"})) is None
    assert grant.check(target("POST", "/invoices"), frozenset()) is None  # declares none
    # Not allowed stays not allowed, whatever the scopes.
    only_write = OperationGrant(TABLE, frozenset({WRITE.id}))
    assert only_write.check(read, frozenset({"invoices:read"})) is Reason.OPERATION_NOT_ALLOWED
