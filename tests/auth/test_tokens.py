"""The token format: prefix, randomness, checksum, keyed hash."""

from __future__ import annotations

import pytest

from accessplane.auth.tokens import TokenKind, issue_token, parse_token, token_digest

SECRET = b"s" * 32


def test_issued_tokens_have_prefix_checksum_and_hint() -> None:
    issued = issue_token(TokenKind.API_ACCESS, SECRET)

    assert issued.plaintext.startswith("apk_")
    assert len(issued.plaintext) == 4 + 36
    assert parse_token(issued.plaintext) is TokenKind.API_ACCESS
    assert issued.hint == issued.plaintext[-4:]
    assert issued.digest == token_digest(issued.plaintext, SECRET)
    assert issued.plaintext not in issued.digest


def test_tokens_are_unique_and_the_digest_depends_on_the_secret() -> None:
    tokens = {issue_token(TokenKind.ACCESS_PROFILE, SECRET).plaintext for _ in range(1000)}

    assert len(tokens) == 1000
    token = tokens.pop()
    assert token.startswith("apt_")
    assert token_digest(token, SECRET) != token_digest(token, b"t" * 32)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # checksum off
        lambda t: t[:10] + ("x" if t[10] != "x" else "y") + t[11:],  # body off
        lambda t: "xyz_" + t[4:],  # unknown prefix
        lambda t: t[:-2],  # too short
        lambda t: t.replace("_", ""),  # no separator
        lambda t: t[:8] + "!" + t[9:],  # outside the alphabet
    ],
)
def test_malformed_tokens_are_recognised_without_a_lookup(mangle) -> None:  # type: ignore[no-untyped-def]
    token = issue_token(TokenKind.API_ACCESS, SECRET).plaintext

    assert parse_token(mangle(token)) is None
