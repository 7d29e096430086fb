"""Subjects render with bounded cost at send time too: a subject stored before the rules of
today (or written to the database by other means) falls back to the default subject."""

from __future__ import annotations

import logging

import pytest

from accessplane.models import NotificationKind
from accessplane.notify.rendering import (
    MAX_SUBJECT_LENGTH,
    SAMPLE_CONTEXT,
    render,
    render_subject,
)

APPROVE = SAMPLE_CONTEXT[NotificationKind.APPROVE]


@pytest.mark.parametrize(
    "subject",
    [
        "{{ 9**1000 }}",
        "{% for i in range(1000) %}{{ app_name }}{% endfor %}",
        "{{ app_name|center(100000) }}",
        "{{ app_name" + '|join("xx")' * 14 + " }}",
        "{{ app_name + 1 }}",
        "{{ products + products }}",
        "x" * (MAX_SUBJECT_LENGTH + 1),
    ],
)
def test_a_stored_subject_with_unbounded_cost_falls_back_to_the_default(
    subject: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="accessplane.notify.rendering"):
        mail = render(NotificationKind.APPROVE, APPROVE, subject)

    assert mail.subject == "Access approved: Mobile app"
    [warning] = caplog.records
    assert warning.getMessage().startswith("custom approve subject failed")
    assert warning.exc_info is None  # the workspace's mistake, not a server fault


def test_a_subject_renders_placeholders_conditions_and_simple_filters() -> None:
    subject = (
        "{{ app_name|upper }}: {{ products|join(', ') }}"
        "{% if plan_name %} on {{ plan_name|lower }}{% endif %} ({{ products|length + 1 }})"
    )

    assert render_subject(subject, APPROVE) == "MOBILE APP: Payments on gold (2)"


def test_the_default_subjects_obey_the_rules() -> None:
    for kind, context in SAMPLE_CONTEXT.items():
        assert render(kind, {**context, "console_url": "https://access.example.com/"}).subject
