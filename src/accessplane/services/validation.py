"""Input checks that gather every problem of one input before anything is written."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from accessplane.errors import FieldError, InputError, UserErrorCode

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$")

EXCERPT_LENGTH = 40


def excerpt(value: str, limit: int = EXCERPT_LENGTH) -> str:
    """A short, quoted excerpt of a caller's input for a message: a userError never echoes a
    long input back whole."""
    text = value if len(value) <= limit else value[: limit - 1] + "…"
    return f"'{text}'"


@dataclass
class Checks:
    """Collects field errors; ``raise_if_any`` ends the operation with all of them.

    Fields are named by their domain path (``new_access_profile.allowed_ips``); the GraphQL
    layer gives each its input path. A message names the field by ``label`` (default: the
    path), the words the caller reads."""

    errors: list[FieldError] = field(default_factory=list)

    def add(self, field_name: str | None, message: str, code: UserErrorCode) -> None:
        self.errors.append(FieldError(field_name, message, code))

    def text(
        self,
        field_name: str,
        value: str | None,
        *,
        max_length: int,
        required: bool = True,
        label: str | None = None,
    ) -> str:
        """A trimmed string: present when required and no longer than ``max_length``."""
        text = (value or "").strip()
        label = label or field_name
        if required and not text:
            self.add(field_name, f"{label} must not be empty.", UserErrorCode.REQUIRED)
        elif len(text) > max_length:
            self.add(
                field_name,
                f"{label} must be at most {max_length} characters.",
                UserErrorCode.TOO_LONG,
            )
        return text

    def slug(self, field_name: str, value: str | None, *, max_length: int = 63) -> str:
        """Lower-case letters, digits and inner hyphens, as in DNS labels and URL paths."""
        text = self.text(field_name, value, max_length=max_length)
        if text and len(text) <= max_length and not _SLUG.match(text):
            self.add(
                field_name,
                f"{field_name} may hold only lower-case letters, digits and inner hyphens.",
                UserErrorCode.INVALID,
            )
        return text

    def email(self, field_name: str, value: str | None) -> str:
        text = self.text(field_name, value, max_length=254).lower()
        if text and len(text) <= 254 and not _EMAIL.match(text):
            self.add(
                field_name, f"{excerpt(text)} is not a valid email address.", UserErrorCode.INVALID
            )
        return text

    def url(
        self,
        field_name: str,
        value: str | None,
        *,
        max_length: int = 2000,
        label: str | None = None,
    ) -> str:
        text = self.text(field_name, value, max_length=max_length, required=False, label=label)
        if text and len(text) <= max_length and not _URL.match(text):
            self.add(
                field_name, f"{label or field_name} must be an http(s) URL.", UserErrorCode.INVALID
            )
        return text

    def at_most(self, field_name: str, count: int, limit: int, noun: str) -> bool:
        """Whether ``count`` items fit in ``limit``; a userError if not. Lists are counted
        before their items are parsed, so an oversized list costs no parsing."""
        if count <= limit:
            return True
        self.add(field_name, f"At most {limit} {noun} ({count} given).", UserErrorCode.INVALID)
        return False

    def raise_if_any(self) -> None:
        if self.errors:
            raise InputError(self.errors)


def slugify(text: str) -> str:
    """A slug derived from a display name."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:63].strip("-") or "workspace"
