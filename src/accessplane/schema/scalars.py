"""Malformed IDs and date-times are the caller's mistake, refused on their own field: a
userError in a mutation, ``BAD_USER_INPUT`` in a query; never a failure of the whole request.

- ``ID``: every ID of this schema is a global ID (base64 of ``Type:id``). GraphQL's ``ID``
  scalar cannot be replaced, and Strawberry decodes global IDs before permission checks run,
  failing the request; so ``check_scalar_arguments`` replaces an ID that does not decode with
  ``MALFORMED_ID``, the ID of no type, before Strawberry sees the arguments. Permissions are
  then checked first (``UNAUTHENTICATED`` comes before any complaint about the input), and
  ``decode_id`` answers ``INVALID_ID`` on the input field.
- ``DateTime``: ISO 8601; a value that does not parse, or whose UTC time falls outside the
  years 1 to 9999, becomes ``INVALID_DATETIME``. A literal in the document itself is refused
  while the document is validated.
- ``String``: text holding a NUL character or an unpaired surrogate (valid JSON escapes, but no
  database stores them) becomes ``INVALID_TEXT``.

A mutation turns an ``InvalidValue`` into a userError on its field (``refuse_invalid_inputs``
in ``user_errors_as_payload``); any other field refuses it with ``BAD_USER_INPUT`` before its
resolver runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import strawberry
from graphql import (
    GraphQLError,
    GraphQLField,
    GraphQLID,
    GraphQLInputType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLString,
    StringValueNode,
    ValueNode,
    is_input_object_type,
    is_list_type,
    is_non_null_type,
)
from strawberry.relay.utils import from_base64, to_base64
from strawberry.types.base import has_object_definition
from strawberry.types.scalar import ScalarDefinition
from strawberry.utils.str_converters import to_camel_case

from accessplane.errors import FieldError, InputError, UserErrorCode

# No GraphQL type has an empty name, so no real ID decodes to this type.
MALFORMED_TYPE_NAME = ""
MALFORMED_ID = to_base64(MALFORMED_TYPE_NAME, "")

DATETIME_FORMAT = "an ISO 8601 date and time such as 2030-01-31T00:00:00Z"


@dataclass(frozen=True, slots=True)
class InvalidValue:
    """Stands for an input value that cannot be used, until it is refused on its field."""

    message: str


INVALID_DATETIME = InvalidValue(f"Not a valid date and time: use {DATETIME_FORMAT}.")
INVALID_TEXT = InvalidValue("The text may not hold NUL characters or unpaired surrogates.")


def _datetime(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is not None:
        parsed.astimezone(UTC)  # OverflowError near the ends of the calendar
    return parsed


def parse_datetime(value: object) -> datetime | InvalidValue:
    """A date and time (naive ones are kept as such: services say they need an offset)."""
    if not isinstance(value, str):
        raise GraphQLError(f"DateTime must be a string: {DATETIME_FORMAT}.")
    try:
        return _datetime(value)
    except (ValueError, OverflowError):
        return INVALID_DATETIME


def parse_datetime_literal(node: ValueNode, _variables: Any = None) -> datetime:
    if not isinstance(node, StringValueNode):
        raise GraphQLError(f"DateTime must be a string: {DATETIME_FORMAT}.", node)
    try:
        return _datetime(node.value)
    except (ValueError, OverflowError):
        raise GraphQLError(INVALID_DATETIME.message, node) from None


DATETIME_SCALAR: ScalarDefinition = strawberry.scalar(
    name="DateTime",
    description="Date with time (isoformat)",
    serialize=datetime.isoformat,
    parse_value=parse_datetime,
    parse_literal=parse_datetime_literal,
)

SCALARS: dict[object, ScalarDefinition] = {datetime: DATETIME_SCALAR}


def refuse_invalid_inputs(values: Iterable[object]) -> None:
    """Raise a userError for each ``InvalidValue`` in a mutation's input, on its field."""
    errors = [error for value in values for error in _invalid_fields(value, None)]
    if errors:
        raise InputError(errors)


def _invalid_fields(value: object, name: str | None) -> Iterator[FieldError]:
    if isinstance(value, InvalidValue):
        yield FieldError(name, value.message, UserErrorCode.INVALID)
    elif isinstance(value, list):
        for item in value:
            yield from _invalid_fields(item, name)
    elif has_object_definition(value) and value.__strawberry_definition__.is_input:
        for field in value.__strawberry_definition__.fields:
            yield from _invalid_fields(
                getattr(value, field.python_name, None),
                field.graphql_name or to_camel_case(field.python_name),
            )


def _is_global_id(value: object) -> bool:
    try:
        from_base64(value)  # type: ignore[arg-type]  # graphql-core coerced it to a str
    except ValueError:
        return False
    return True


def _is_storable(text: str) -> bool:
    if "\x00" in text:
        return False
    if text.isascii():
        return True
    try:
        text.encode()
    except UnicodeEncodeError:  # an unpaired surrogate
        return False
    return True


def _checked(value: Any, type_: GraphQLInputType, name: str, invalid: list[FieldError]) -> Any:
    """``value`` with its malformed IDs and unstorable text replaced; its invalid values go to
    ``invalid``. Containers are copied: graphql-core shares default values across requests."""
    if is_non_null_type(type_):
        type_ = type_.of_type
    if value is None:
        return None
    if is_list_type(type_):
        return [_checked(item, type_.of_type, name, invalid) for item in value]
    if is_input_object_type(type_):
        fields = type_.fields
        return {key: _checked(item, fields[key].type, key, invalid) for key, item in value.items()}
    if type_ is GraphQLID:
        return value if _is_global_id(value) else MALFORMED_ID
    if type_ is GraphQLString and not _is_storable(value):
        value = INVALID_TEXT
    if isinstance(value, InvalidValue):
        invalid.append(FieldError(name, value.message, UserErrorCode.INVALID))
    return value


def _holds(type_: GraphQLInputType, seen: set[str]) -> bool:
    """Whether values of ``type_`` can contain an ID, a DateTime or a String."""
    while is_non_null_type(type_) or is_list_type(type_):
        type_ = type_.of_type
    if is_input_object_type(type_):
        if type_.name in seen:
            return False
        seen.add(type_.name)
        return any(_holds(f.type, seen) for f in type_.fields.values())
    return type_ in (GraphQLID, GraphQLString) or getattr(type_, "name", None) == "DateTime"


def _wrap(field: GraphQLField, *, in_mutation: bool) -> None:
    resolve: Callable[..., Any] = field.resolve  # type: ignore[assignment]
    arguments = {
        name: argument.type for name, argument in field.args.items() if _holds(argument.type, set())
    }

    def checked_resolve(source: Any, info: Any, **kwargs: Any) -> Any:
        invalid: list[FieldError] = []
        for name, type_ in arguments.items():
            if name in kwargs:
                kwargs[name] = _checked(kwargs[name], type_, name, invalid)
        if invalid and not in_mutation:
            raise InputError(invalid)
        return resolve(source, info, **kwargs)

    checked_resolve._is_default = False  # type: ignore[attr-defined]  # as Strawberry marks it
    field.resolve = checked_resolve


def check_scalar_arguments(schema: GraphQLSchema) -> None:
    """Check the ID, DateTime and String arguments of every field that takes some (as the
    module's docstring says); other fields are left as they are, at no cost."""
    for type_ in schema.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        for field in type_.fields.values():
            if field.resolve is not None and any(
                _holds(argument.type, set()) for argument in field.args.values()
            ):
                _wrap(field, in_mutation=type_ is schema.mutation_type)
