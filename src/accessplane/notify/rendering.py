"""Rendering notifications from Jinja2 templates (``templates/<kind>.txt`` and ``.html``).

HTML is autoescaped (names and reasons come from users); text is not. Links into the console
arrive ready-made as ``console_url`` (built by ``accessplane.notify.links``) for the bodies of
the kinds that mention the console; no template builds a URL, and subjects carry none.

Subjects are short templates a workspace may change, so they render in Jinja2's sandbox and
lose any line break (a header must stay one line).

The sandbox keeps a template from reaching Python's internals, not from spending the CPU:
``{{ 9**10000000 }}`` alone holds a worker for half a minute. So a subject is checked before
it is compiled, when it is saved and again when it is rendered: placeholders, conditions,
comparisons, ``~``, ``+`` and ``-``, and a few filters whose output is capped. No loops, no
calls, no ``*``, ``/``, ``%`` or ``**``: what is left costs time in proportion to the
template and its values.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import (
    Environment,
    PackageLoader,
    StrictUndefined,
    Template,
    TemplateError,
    nodes,
    select_autoescape,
)
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
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
    NotificationKind.INVITE: "You have been added to {{ workspace_name }} on AccessPlane",
    NotificationKind.CERTIFICATE_EXPIRING: (
        'Client certificate of "{{ app_name }}" expires in {{ days_left }} '
        'day{{ "" if days_left == 1 else "s" }}'
    ),
    NotificationKind.CERTIFICATE_EXPIRED: 'Client certificate of "{{ app_name }}" has expired',
    NotificationKind.ALERT: (
        'Alert "{{ rule_name }}"{{ ": " ~ app_name if app_name }}{{ " (suspended)" if suspended }}'
    ),
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
    NotificationKind.INVITE: {
        "workspace_name": "Acme",
        "role_name": "Consumer",
        "consumer": True,
    },
    NotificationKind.CERTIFICATE_EXPIRING: {
        "workspace_name": "Acme",
        "app_name": "Mobile app",
        "client_name": "Partner Ltd",
        "certificate_subject": "CN=mobile.partner.example",
        "fingerprint": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "expires_at": "2030-01-31 00:00",
        "days_left": 7,
    },
    NotificationKind.CERTIFICATE_EXPIRED: {
        "workspace_name": "Acme",
        "app_name": "Mobile app",
        "client_name": "Partner Ltd",
        "certificate_subject": "CN=mobile.partner.example",
        "fingerprint": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "expires_at": "2030-01-31 00:00",
    },
    NotificationKind.ALERT: {
        "workspace_name": "Acme",
        "rule_name": "Denied bursts",
        "kind": "DENIAL_BURST",
        "app_name": "Mobile app",
        "summary": "20 calls (ip_not_allowed) within 5 min",
        "window_start": "2030-01-31 00:00",
        "suspended": True,
        "console_url": "https://accessplane.example/workspaces/V29ya3NwYWNlOjE=/alerts",
        "app_url": "https://accessplane.example/workspaces/V29ya3NwYWNlOjE=/clients/Q2xpZW50OjE=",
    },
}

_bodies = Environment(
    loader=PackageLoader("accessplane.notify", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)

# What a subject may hold. Every other node (loops, calls, set, macros, includes, attribute
# access, and the operators * / // % **) is refused before the template is compiled.
_SUBJECT_NODES: tuple[type[nodes.Node], ...] = (
    nodes.Template,
    nodes.Output,
    nodes.TemplateData,
    nodes.Const,
    nodes.Name,
    nodes.CondExpr,
    nodes.If,
    nodes.Compare,
    nodes.Operand,
    nodes.And,
    nodes.Or,
    nodes.Not,
    nodes.Neg,
    nodes.Pos,
    nodes.Add,
    nodes.Sub,
    nodes.Concat,
    nodes.Getitem,
    nodes.Slice,
    nodes.Filter,
    nodes.Test,
    nodes.Keyword,
    nodes.List,
    nodes.Tuple,
)
SUBJECT_FILTERS = (
    "capitalize",
    "count",
    "default",
    "first",
    "join",
    "last",
    "length",
    "lower",
    "string",
    "title",
    "trim",
    "truncate",
    "upper",
)
_REFUSED_NAMES: dict[type[nodes.Node], str] = {
    nodes.Mul: "the operator *",
    nodes.Div: "the operator /",
    nodes.FloorDiv: "the operator //",
    nodes.Mod: "the operator %",
    nodes.Pow: "the operator **",
    nodes.Call: "function calls",
    nodes.For: "loops",
    nodes.Getattr: "attributes",
    nodes.Assign: "{% set %}",
    nodes.AssignBlock: "{% set %}",
    nodes.Macro: "macros",
    nodes.CallBlock: "macros",
    nodes.FilterBlock: "{% filter %}",
    nodes.Include: "{% include %}",
    nodes.Import: "{% import %}",
    nodes.FromImport: "{% import %}",
    nodes.Extends: "{% extends %}",
    nodes.Block: "{% block %}",
    nodes.With: "{% with %}",
    nodes.Dict: "dicts",
}
# The longest text a filter, a ``+`` or a whole rendering may produce (the subject itself is
# cut to MAX_SUBJECT_LENGTH once its spaces are collapsed).
MAX_RENDERED_LENGTH = 10_000
MAX_NUMBER = 10**15


def _capped(name: str, filter_: Callable[..., Any]) -> Callable[..., Any]:
    """``filter_`` refusing to return text longer than MAX_RENDERED_LENGTH (``join`` on a
    name repeats it: chained, the output would grow geometrically)."""

    @functools.wraps(filter_)  # keeps Jinja's pass_eval_context/pass_environment marks
    def capped(*args: Any, **kwargs: Any) -> Any:
        result = filter_(*args, **kwargs)
        if isinstance(result, str) and len(result) > MAX_RENDERED_LENGTH:
            raise SecurityError(f"The filter '{name}' produced too long a text.")
        return result

    return capped


class SubjectEnvironment(SandboxedEnvironment):
    """The sandbox for subjects, with arithmetic bounded at run time as well: the static
    check refuses the costly operators, and ``+`` / ``-`` are for numbers and short texts."""

    intercepted_binops = frozenset(SandboxedEnvironment.default_binop_table)

    def __init__(self) -> None:
        super().__init__(autoescape=False)
        self.globals.clear()  # range(), lipsum(), ...: nothing a subject needs
        self.filters = {name: _capped(name, self.filters[name]) for name in SUBJECT_FILTERS}
        self.filters["d"] = self.filters["default"]

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator in ("+", "-"):
            if _is_number(left) and _is_number(right):
                result = self.binop_table[operator](left, right)
                if abs(result) <= MAX_NUMBER:
                    return result
                raise SecurityError("A number in the subject grew too large.")
            if (
                operator == "+"
                and isinstance(left, str)
                and isinstance(right, str)
                and len(left) + len(right) <= MAX_RENDERED_LENGTH
            ):
                return left + right
        raise SecurityError(f"A subject may not use the operator {operator} on these values.")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _refusal(node: nodes.Node) -> str | None:
    """What in ``node`` (not its children) a subject may not use, or None."""
    if not isinstance(node, _SUBJECT_NODES):
        return _REFUSED_NAMES.get(type(node), f"{type(node).__name__} expressions")
    if isinstance(node, nodes.Filter) and node.name not in _subjects.filters:
        return f"the filter '{node.name}' (allowed: {', '.join(SUBJECT_FILTERS)})"
    if isinstance(node, nodes.Test) and node.name not in _subjects.tests:
        return f"the test '{node.name}'"
    return None


def check_subject(template: str) -> Template:
    """Parse ``template``, refuse what a subject may not hold (SecurityError), and compile it.
    Raises TemplateError for a template that is not valid Jinja2 at all."""
    if len(template) > MAX_SUBJECT_LENGTH:
        raise SecurityError(f"A subject may be at most {MAX_SUBJECT_LENGTH} characters.")
    tree = _subjects.parse(template)
    for node in (tree, *tree.find_all(nodes.Node)):
        refused = _refusal(node)
        if refused is not None:
            raise SecurityError(
                f"A subject may not use {refused}; it may hold placeholders such as "
                "{{ app_name }}, {% if %} conditions and a few filters."
            )
    return _subjects.from_string(tree)


_subjects = SubjectEnvironment()
_compiled_subject = functools.lru_cache(maxsize=256)(check_subject)


@dataclass(frozen=True, slots=True)
class RenderedMail:
    """A notification's content, ready for the outbox."""

    subject: str
    text: str
    html: str


def _one_line(text: str) -> str:
    return " ".join(text.split())[:MAX_SUBJECT_LENGTH]


def render_subject(template: str, context: Mapping[str, Any]) -> str:
    """A subject from a (possibly workspace-provided) template, on one line. The template is
    checked first (see ``check_subject``) and the rendering stops at MAX_RENDERED_LENGTH."""
    compiled = _compiled_subject(template)
    parts: list[str] = []
    length = 0
    for part in compiled.generate(**context):
        parts.append(part)
        length += len(part)
        if length > MAX_RENDERED_LENGTH:
            break
    return _one_line("".join(parts)[:MAX_RENDERED_LENGTH])


def subject_error(kind: NotificationKind, template: str) -> str | None:
    """Why a workspace's subject template is unusable, or None."""
    if len(template) > MAX_SUBJECT_LENGTH:
        return f"A subject may be at most {MAX_SUBJECT_LENGTH} characters."
    if "\n" in template or "\r" in template:
        return "A subject must be one line."
    try:
        rendered = render_subject(template, SAMPLE_CONTEXT[kind])
    except SecurityError as error:
        return str(error.message or error)
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
