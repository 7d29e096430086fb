"""Domain errors, raised by services and the auth layer, shown by GraphQL and HTTP alike.

``extensions`` is read by graphql-core when it wraps an exception raised in a resolver, so a
service's ``Forbidden`` reaches the client as ``extensions.code == "FORBIDDEN"`` unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    """Codes of errors that end a whole operation (GraphQL errors, not userErrors)."""

    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    CONFLICT = "CONFLICT"  # a concurrent change won; nothing was written, try again


class DomainError(Exception):
    """Base of the errors that are the caller's, not the server's."""

    code: ErrorCode

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    @property
    def extensions(self) -> dict[str, Any]:
        return {"code": self.code.value, **self.details}


class Unauthenticated(DomainError):
    """No credential, or one that is unknown, malformed, expired or revoked."""

    code = ErrorCode.UNAUTHENTICATED


class Forbidden(DomainError):
    """The principal is known but lacks the permission."""

    code = ErrorCode.FORBIDDEN


class NotFound(DomainError):
    """No such object, or one the principal may not know of (another workspace's)."""

    code = ErrorCode.NOT_FOUND


class Conflict(DomainError):
    """A concurrent change won (a unique or foreign key violation no check foresaw, or a
    transaction the database rolled back for another): nothing was written; try again."""

    code = ErrorCode.CONFLICT

    def __init__(
        self, message: str = "A concurrent change won; nothing was written. Try again."
    ) -> None:
        super().__init__(message)


class UserErrorCode(StrEnum):
    """Why one input field was refused."""

    INVALID = "INVALID"
    REQUIRED = "REQUIRED"
    TOO_LONG = "TOO_LONG"
    DUPLICATE = "DUPLICATE"
    NOT_FOUND = "NOT_FOUND"
    INVALID_ID = "INVALID_ID"
    CONFIRMATION_REQUIRED = "CONFIRMATION_REQUIRED"
    PATTERN_MISMATCH = "PATTERN_MISMATCH"
    OUT_OF_SCOPE_PERMISSION = "OUT_OF_SCOPE_PERMISSION"
    BUILT_IN = "BUILT_IN"
    IN_USE = "IN_USE"
    LAST_OWNER = "LAST_OWNER"
    CONFLICT = "CONFLICT"  # a concurrent change won; nothing was written, try again


@dataclass(frozen=True, slots=True)
class FieldError:
    """One refused input field; ``field`` is the input's camelCase name."""

    field: str | None
    message: str
    code: UserErrorCode


class InputError(DomainError):
    """Bad input: one or more field errors, shown as ``userErrors``; nothing was written."""

    # Mutations turn it into userErrors; in a query (a bad filter id) it is a GraphQL error.
    code = ErrorCode.BAD_USER_INPUT

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors

    @property
    def extensions(self) -> dict[str, Any]:
        return {
            "code": self.code.value,
            "userErrors": [
                {"field": e.field, "message": e.message, "code": e.code.value} for e in self.errors
            ],
        }

    @classmethod
    def one(cls, field: str | None, message: str, code: UserErrorCode) -> InputError:
        return cls([FieldError(field, message, code)])
