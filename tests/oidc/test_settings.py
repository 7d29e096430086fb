"""OIDC settings: issuers from the environment, checked at start."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from accessplane.settings import Settings
from accessplane.signin.oidc import safe_return_to

SECRET = "s" * 40


def test_issuers_are_read_as_json_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "ACCESSPLANE_OIDC_ISSUERS",
        '[{"issuer": "https://sso.example/realms/a", "client_id": "ap",'
        ' "client_secret": "s3cr3t-value", "groups_claim": "groups"}]',
    )

    (issuer,) = Settings(environment="test").oidc_issuers

    assert issuer.key == "https://sso.example/realms/a"
    assert issuer.audiences == ["ap"]  # the client id unless an audience is given
    assert issuer.client_secret is not None
    assert "s3cr3t-value" not in repr(issuer)  # secrets stay out of logs and tracebacks


def test_production_refuses_plain_http_issuers_and_duplicate_names() -> None:
    with pytest.raises(ValidationError, match="must use https"):
        Settings(
            environment="production",
            secret_key=SECRET,  # type: ignore[arg-type]
            oidc_issuers=[{"issuer": "http://sso.example"}],  # type: ignore[list-item]
        )
    with pytest.raises(ValidationError, match="distinct name"):
        Settings(
            environment="test",
            oidc_issuers=[  # type: ignore[list-item]
                {"issuer": "https://a.example", "name": "corp"},
                {"issuer": "https://b.example", "name": "corp"},
            ],
        )


def test_secure_cookies_everywhere_but_development_and_test() -> None:
    assert not Settings(environment="development").secure_cookies
    assert not Settings(environment="test").secure_cookies
    assert Settings(environment="production", secret_key=SECRET).secure_cookies  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "/"),
        ("", "/"),
        ("/apis?tab=people#top", "/apis?tab=people#top"),
        ("//evil.example", None),
        ("/\\evil.example", None),
        ("https://evil.example/", None),
        ("javascript:alert(1)", None),
        ("/ok\r\nLocation: https://evil.example", None),
        ("/" + "a" * 2000, None),
    ],
)
def test_return_to_is_a_path_of_this_site(value: str | None, expected: str | None) -> None:
    assert safe_return_to(value) == expected
