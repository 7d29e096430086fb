"""Rendering notifications from Jinja2 templates (``templates/<kind>.txt`` and ``.html``).

HTML is autoescaped (names and reasons come from users); text is not. Subjects are short
templates a workspace may change, so they render in Jinja2's sandbox and lose any line break
(a header must stay one line).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, TemplateError, select_autoescape
from jinja2.sandbox import SandboxedEnvironment

from accessplane.models import NotificationKind

logger = logging.getLogger(__name__)

MAX_SUBJECT_LENGTH = 200

DEFAULT_SUBJECTS: dict[NotificationKind, str] = {
    NotificationKind.ACCESS_REQUESTED: "Access requested: {{ app_name }} by {{ requester }}",
    NotificationKind.APPROVE: "Access approved: {{ app_name }}",
    NotificationKind.REJECT: "Access request rejected: {{ app_name }}",
    NotificationKind.EXPIRING: (
        'API key "{{ key_name }}" expires in {{ days_left }} day{{ "" if days_left == 1 else "s" }}'
    ),
    NotificationKind.EXPIRED: 'API key "{{ key_name }}" has expired',
}

# Example values for checking a workspace's subject before it is stored.
SAMPLE_CONTEXT: dict[NotificationKind, dict[str, Any]] = {
    NotificationKind.ACCESS_REQUESTED: {
        "workspace_name": "Acme",
        "app_name": "Mobile app",
        "client_name": "Partner Ltd",
        "requester": "dev@partner.example",
        "products": ["Payments"],
        "plan_name": "Gold",
    },
    NotificationKind.APPROVE: {
        "workspace_name": "Acme",
        "app_name": "Mobile app",
        "products": ["Payments"],
        "plan_name": "Gold",
        "reason": "",
    },
    NotificationKind.REJECT: {
        "workspace_name": "Acme",
        "app_name": "Mobile app",
        "products": ["Payments"],
        "reason": "Incomplete",
    },
    NotificationKind.EXPIRING: {
        "workspace_name": "Acme",
        "key_name": "ci",
        "expires_at": "2030-01-31 00:00",
        "days_left": 7,
    },
    NotificationKind.EXPIRED: {
        "workspace_name": "Acme",
        "key_name": "ci",
        "expires_at": "2030-01-31 00:00",
    },
}

_bodies = Environment(
    loader=PackageLoader("accessplane.notify", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)
_subjects = SandboxedEnvironment(autoescape=False)


@dataclass(frozen=True, slots=True)
class RenderedMail:
    """A notification's content, ready for the outbox."""

    subject: str
    text: str
    html: str


def _one_line(text: str) -> str:
    return " ".join(text.split())[:MAX_SUBJECT_LENGTH]


def render_subject(template: str, context: Mapping[str, Any]) -> str:
    """A subject from a (possibly workspace-provided) template, on one line."""
    return _one_line(_subjects.from_string(template).render(**context))


def subject_error(kind: NotificationKind, template: str) -> str | None:
    """Why a workspace's subject template is unusable, or None."""
    if len(template) > MAX_SUBJECT_LENGTH:
        return f"A subject may be at most {MAX_SUBJECT_LENGTH} characters."
    if "\n" in template or "\r" in template:
        return "A subject must be one line."
    try:
        rendered = render_subject(template, SAMPLE_CONTEXT[kind])
    except TemplateError as error:
        return f"The subject is not a valid template: {error.message or error}"
    except Exception as error:  # e.g. ``{{ 1 / 0 }}``: the template's own arithmetic
        return f"The subject fails to render: {type(error).__name__}"
    if not rendered:
        return "The subject renders empty."
    return None


def render(
    kind: NotificationKind, context: Mapping[str, Any], subject_template: str | None = None
) -> RenderedMail:
    """Render ``kind``'s text and HTML bodies and its subject. A workspace's subject that fails
    on real values falls back to the default: a mail never breaks the event it reports."""
    subject = ""
    if subject_template:
        try:
            subject = render_subject(subject_template, context)
        except Exception as error:  # the sandbox raises TemplateErrors and Python's own errors
            logger.warning("custom %s subject failed (%r); using the default", kind.value, error)
    subject = subject or render_subject(DEFAULT_SUBJECTS[kind], context)
    text = _bodies.get_template(f"{kind.value}.txt").render(**context)
    html = _bodies.get_template(f"{kind.value}.html").render(**context)
    return RenderedMail(subject=subject, text=text, html=html)
