"""Services name refused fields by domain path; the resolver layer gives clients input paths."""

from __future__ import annotations

import pytest

from accessplane.schema.base import input_path


@pytest.mark.parametrize(
    ("domain_path", "expected"),
    [
        ("name", "name"),
        ("time_window.time_zone", "timeWindow.timeZone"),
        ("new_access_profile.allowed_ips", "newAccessProfile.allowedIps"),
        ("token_client_id", "tokenClientId"),
        (None, None),
    ],
)
def test_domain_paths_become_camel_case_input_paths(
    domain_path: str | None, expected: str | None
) -> None:
    assert input_path(domain_path) == expected


def test_a_resolver_maps_a_renamed_input_field_and_leaves_the_rest() -> None:
    # An input field renamed in the schema only: its resolver maps the service's name to it.
    fields = {"rate_limit.requests": "limit.perPeriod"}

    assert input_path("rate_limit.requests", fields) == "limit.perPeriod"
    assert input_path("rate_limit.period", fields) == "rateLimit.period"
