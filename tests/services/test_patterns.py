"""Name patterns: RE2 syntax, whole-name matching, refusals with a reason, and stored patterns
the engine cannot take failing closed."""

from __future__ import annotations

import pytest

from accessplane.auth.patterns import MAX_PATTERN_LENGTH, matches_whole, pattern_error
from accessplane.auth.permissions import Permission
from accessplane.auth.principals import Grant


@pytest.mark.parametrize(
    ("pattern", "name", "matches"),
    [
        ("ci-.*", "ci-deploy", True),
        ("ci-.*", "my-ci-deploy", False),  # the whole name, not a part of it
        ("^ci-", "ci-deploy", False),
        ("^ci-.*$", "ci-deploy", True),
        ("(?i)CI-[a-z]+", "ci-deploy", True),
        (r"team-\d{2}-.+", "team-07-release", True),
        (r"team-\d{2}-.+", "team-7-release", False),
        ("(a+)+$", "a" * 98 + "!", False),  # catastrophic for a backtracking engine
        ("(a+)+$", "a" * 98, True),
    ],
)
def test_patterns_match_whole_names(pattern: str, name: str, matches: bool) -> None:
    assert pattern_error(pattern) is None
    assert matches_whole(pattern, name) is matches


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("(?=ci-)ci-.*", "invalid perl operator: (?="),  # look-ahead
        ("(?<=x)y", "invalid perl operator: (?<"),  # look-behind
        (r"(a)\1", r"invalid escape sequence: \1"),  # back-reference
        ("ci-([", "missing ]"),
        ("a{1001}", "invalid repetition size"),
        (r"\pL{500}", "pattern too large"),  # beyond the compiled program's memory budget
    ],
)
def test_patterns_the_engine_cannot_take_are_refused_with_its_reason(
    pattern: str, reason: str
) -> None:
    error = pattern_error(pattern)

    assert error is not None
    assert error.startswith("not a valid RE2 pattern: ")
    assert reason in error


def test_a_long_pattern_is_refused_before_it_is_compiled() -> None:
    assert pattern_error("a" * MAX_PATTERN_LENGTH) is None
    assert pattern_error("(" * (MAX_PATTERN_LENGTH + 1)) == (
        f"at most {MAX_PATTERN_LENGTH} characters"
    )
    assert pattern_error("(" * 1_000_000) == f"at most {MAX_PATTERN_LENGTH} characters"


def test_a_stored_pattern_the_engine_cannot_take_matches_no_name() -> None:
    """Roles saved before patterns were checked by RE2 may hold look-arounds; such a
    constraint allows nothing rather than failing the request."""
    grant = Grant(Permission.CREATE_API_ACCESS, {"namePattern": "(?=ci-)ci-.*"})
    too_long = Grant(Permission.CREATE_API_ACCESS, {"namePattern": "x" * 201})

    assert grant.allows_name("ci-deploy") is False
    assert too_long.allows_name("x" * 201) is False
    assert Grant(Permission.CREATE_API_ACCESS, {"namePattern": "ci-.*"}).allows_name("ci-x")
    assert Grant(Permission.CREATE_API_ACCESS).allows_name("anything")
