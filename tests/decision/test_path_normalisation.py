"""Request paths and methods as operations see them (``decision/operations.py``): decoded
where every server agrees, refused where servers disagree, never matching an operation the
path would not match literally."""

from __future__ import annotations

import pytest

from accessplane.decision.operations import (
    MAX_PATH_LENGTH,
    MAX_SEGMENTS,
    normalise_method,
    normalise_path,
    normalise_target,
)


@pytest.mark.parametrize(
    ("path", "segments"),
    [
        ("/", ()),
        ("/invoices", ("invoices",)),
        ("/invoices/42", ("invoices", "42")),
        # The query string is not part of the path.
        ("/invoices?a=b", ("invoices",)),
        ("/invoices/42?a=/../admin&b=%2F", ("invoices", "42")),
        ("/?a=b", ()),
        # One trailing slash is ignored.
        ("/invoices/", ("invoices",)),
        ("/invoices/42/?x", ("invoices", "42")),
        # Unreserved characters are decoded ...
        ("/%69nvoices/%34%32", ("invoices", "42")),
        ("/%7Euser/a%2Db%2Ec%5Fd", ("~user", "a-b.c_d")),
        # ... other escapes kept, in upper case.
        ("/caf%c3%a9", ("caf%C3%A9",)),
        ("/a%20b", ("a%20b",)),
        ("/a%3Bb", ("a%3Bb",)),
        ("/a%3fb", ("a%3Fb",)),
        # Characters a client should have encoded are encoded.
        ("/café", ("caf%C3%A9",)),
        ('/a"b', ("a%22b",)),
        # Sub-delimiters, ":" and "@" are plain segment characters.
        ("/a:b@c!$&'()*+,=", ("a:b@c!$&'()*+,=",)),
        # Dots inside a segment are ordinary.
        ("/v1.2/...", ("v1.2", "...")),
    ],
)
def test_paths_are_normalised(path: str, segments: tuple[str, ...]) -> None:
    assert normalise_path(path) == segments


@pytest.mark.parametrize(
    "path",
    [
        # Dot segments: an upstream may resolve them to another operation.
        "/files/../admin",
        "/files/./admin",
        "/..",
        "/files/..",
        "/files/%2e%2e/admin",
        "/files/%2E%2E/admin",
        "/files/.%2e/admin",
        "/files/%2e/admin",
        # Encoded separators: an upstream may decode them into segments.
        "/invoices/1%2F..%2Fadmin",
        "/invoices/1%2fadmin",
        "/invoices/1%5Cadmin",
        "/invoices/1%5cadmin",
        # A raw backslash is a separator for some servers.
        "/invoices\\admin",
        # Empty segments: // is collapsed by some servers and not others.
        "//invoices",
        "/invoices//42",
        "/invoices//",
        # Path parameters: Tomcat and others strip ";x", most servers keep it.
        "/invoices/1;x",
        "/admin;/invoices",
        # NUL and other control characters, raw or encoded.
        "/invoices/1%00",
        "/invoices/1\x00",
        "/invoices/1%0d%0aX:y",
        "/invoices/1\n",
        "/a%7f",
        # Double encoding: "/" or ".." for an upstream that decodes twice.
        "/invoices/1%252F..%252Fadmin",
        "/a/%252e%252e",
        # Bad escapes.
        "/a%zz",
        "/a%2",
        "/a%",
        # Not an origin-form path.
        "",
        "invoices",
        "*",
        "http://example.com/invoices",
        "?a=b",
        # A fragment or a space has no place in a request target.
        "/a#b",
        "/a b",
    ],
)
def test_ambiguous_paths_are_refused(path: str) -> None:
    assert normalise_path(path) is None


def test_a_lone_percent_sign_is_kept_encoded() -> None:
    assert normalise_path("/100%25") == ("100%25",)
    assert normalise_path("/100%25x") == ("100%25x",)


def test_paths_are_bounded() -> None:
    assert normalise_path("/" + "a" * (MAX_PATH_LENGTH - 1)) is not None
    assert normalise_path("/" + "a" * MAX_PATH_LENGTH) is None
    assert normalise_path("/a" * MAX_SEGMENTS) is not None
    assert normalise_path("/a" * (MAX_SEGMENTS + 1)) is None


@pytest.mark.parametrize(
    ("method", "normal"),
    [
        ("GET", "GET"),
        ("get", "GET"),
        ("Post", "POST"),
        ("PROPFIND", "PROPFIND"),
        ("", None),
        ("GET ", None),
        ("G/T", None),
        ("X" * 21, None),
    ],
)
def test_methods_are_upper_case_tokens(method: str, normal: str | None) -> None:
    assert normalise_method(method) == normal


def test_a_target_needs_both() -> None:
    target = normalise_target("get", "/invoices/42?x=1")
    assert target is not None
    assert (target.method, target.segments) == ("GET", ("invoices", "42"))
    assert normalise_target("", "/invoices") is None
    assert normalise_target("GET", "") is None
    assert normalise_target("GET", "/a/../b") is None
