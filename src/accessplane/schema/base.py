"""Shared GraphQL building blocks: user errors, connections, global ids."""

from __future__ import annotations

import functools
import logging
import typing
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, ParamSpec, TypeVar, overload

import strawberry
from strawberry import relay
from strawberry.relay.types import NodeType  # Connection must reuse relay's type variable
from strawberry.utils.str_converters import to_camel_case

from accessplane import errors
from accessplane.db import conflicts
from accessplane.errors import InputError, UserErrorCode
from accessplane.schema.scalars import MALFORMED_TYPE_NAME, refuse_invalid_inputs
from accessplane.services.pagination import Page, PageArgs, count, page_args

P = ParamSpec("P")
R = TypeVar("R")

logger = logging.getLogger(__name__)

UserErrorCodeEnum = strawberry.enum(UserErrorCode, name="UserErrorCode")


@strawberry.type
class UserError:
    """Why an input was refused. ``field`` is the input field's name, or null for the whole."""

    field: str | None
    message: str
    code: UserErrorCodeEnum  # type: ignore[valid-type]

    @classmethod
    def from_domain(
        cls, error: errors.FieldError, fields: Mapping[str, str] | None = None
    ) -> UserError:
        return cls(field=input_path(error.field, fields), message=error.message, code=error.code)


def input_path(domain_path: str | None, fields: Mapping[str, str] | None = None) -> str | None:
    """The input path of a field a service names by its domain path ("time_window.days"):
    as the resolver's ``fields`` maps it, else each part in camelCase, the name Strawberry
    gives the input field of that Python name ("timeWindow.days")."""
    if domain_path is None:
        return None
    if fields and domain_path in fields:
        return fields[domain_path]
    return ".".join(to_camel_case(part) for part in domain_path.split("."))


@strawberry.type
class Connection(relay.Connection[NodeType]):
    """A page of results with the total count (counted only when asked for)."""

    counter: strawberry.Private[Callable[[], Awaitable[int]] | None] = None

    @strawberry.field(description="How many results there are in all pages.")
    async def total_count(self) -> int:
        assert self.counter is not None
        return await self.counter()

    @classmethod
    def from_page(
        cls,
        page: Page[Any],
        convert: Callable[[Any], NodeType],
        counter: Callable[[], Awaitable[int]],
    ) -> Connection[NodeType]:
        edges = [
            relay.Edge(cursor=cursor, node=convert(item))
            for item, cursor in zip(page.items, page.cursors, strict=True)
        ]
        return cls(
            edges=edges,
            page_info=relay.PageInfo(
                has_next_page=page.has_next_page,
                has_previous_page=page.has_previous_page,
                start_cursor=page.cursors[0] if page.cursors else None,
                end_cursor=page.cursors[-1] if page.cursors else None,
            ),
            counter=counter,
        )


def child_connection(
    loader: Any, parent_id: uuid.UUID, page: Page[Any], convert: Callable[[Any], NodeType]
) -> Connection[NodeType]:
    """A connection nested under a parent; ``totalCount`` goes through the batched
    ``loader`` (a ``ChildCountLoader``)."""

    async def counter() -> int:
        return int(await loader.load(parent_id))

    return Connection.from_page(page, convert, counter)


def root_connection(
    session: Any, page: Page[Any], convert: Callable[[Any], NodeType]
) -> Connection[NodeType]:
    """A connection over a root list; ``totalCount`` runs one COUNT of the same query."""
    query = page.count_query
    assert query is not None

    async def counter() -> int:
        return await count(session, query)

    return Connection.from_page(page, convert, counter)


DEFAULT_PAGE_SIZE = 20


def parse_page(first: int | None, after: str | None, *, maximum: int) -> PageArgs:
    """Page arguments of a connection field; ``first`` runs from 1 to ``maximum``."""
    return page_args(first, after, default=min(DEFAULT_PAGE_SIZE, maximum), maximum=maximum)


def decode_id(global_id: relay.GlobalID, type_name: str, *, field: str) -> uuid.UUID:
    """The database id inside a global id of ``type_name``, or a userError on ``field``."""
    if global_id.type_name == MALFORMED_TYPE_NAME:
        raise InputError.one(field, "The ID is malformed.", UserErrorCode.INVALID_ID)
    if global_id.type_name != type_name:
        raise InputError.one(field, f"Expected the ID of a {type_name}.", UserErrorCode.INVALID_ID)
    try:
        return uuid.UUID(global_id.node_id)
    except ValueError:
        raise InputError.one(field, "The ID is malformed.", UserErrorCode.INVALID_ID) from None


def decode_any_id(global_id: relay.GlobalID, *, field: str) -> uuid.UUID:
    """The database id inside a global id of any type (audit targets are of many types)."""
    try:
        return uuid.UUID(global_id.node_id)
    except ValueError:
        raise InputError.one(field, "The ID is malformed.", UserErrorCode.INVALID_ID) from None


def decode_ids(
    global_ids: Iterable[relay.GlobalID] | None, type_name: str, *, field: str
) -> list[uuid.UUID]:
    return [decode_id(gid, type_name, field=field) for gid in global_ids or ()]


def to_global_id(type_name: str, value: uuid.UUID) -> relay.GlobalID:
    return relay.GlobalID(type_name, str(value))


Resolver = Callable[P, Awaitable[R]]


@overload
def user_errors_as_payload(resolver: Resolver[P, R], /) -> Resolver[P, R]: ...


@overload
def user_errors_as_payload(
    *, fields: Mapping[str, str]
) -> Callable[[Resolver[P, R]], Resolver[P, R]]: ...


def user_errors_as_payload(
    resolver: Resolver[P, R] | None = None, /, *, fields: Mapping[str, str] | None = None
) -> Resolver[P, R] | Callable[[Resolver[P, R]], Resolver[P, R]]:
    """Turn a service's ``InputError`` into the mutation payload's ``userErrors``: nothing was
    written, and the client learns every refused field at once. Services name fields by their
    domain paths; ``input_path`` gives the input's (``fields`` maps those the camelCase rule
    does not give, so renaming an input field changes only its resolver).

    A conflict with a concurrent change that no service check foresaw (an integrity error, or
    on PostgreSQL a serialization failure or deadlock) becomes a ``CONFLICT`` userError: the
    transaction is rolled back, so nothing was written, and the log gets one warning line."""
    if resolver is None:
        return functools.partial(_with_user_errors, fields=fields or {})
    return _with_user_errors(resolver, fields={})


def _with_user_errors(resolver: Resolver[P, R], *, fields: Mapping[str, str]) -> Resolver[P, R]:
    def payload(user_errors: list[UserError]) -> R:
        payload_type = typing.get_type_hints(resolver)["return"]
        return typing.cast("R", payload_type(user_errors=user_errors))

    @functools.wraps(resolver)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            refuse_invalid_inputs(kwargs.values())
            return await resolver(*args, **kwargs)
        except InputError as error:
            return payload([UserError.from_domain(e, fields) for e in error.errors])
        except Exception as error:
            conflict = _as_conflict(error)
            if conflict is None:
                raise
            await _roll_back(args, kwargs)
            if conflict is not error:
                logger.warning(
                    "%s lost to a concurrent change: %s",
                    resolver.__name__,
                    conflicts.describe(error),
                )
            return payload(
                [UserError(field=None, message=conflict.message, code=UserErrorCode.CONFLICT)]
            )

    wrapper.maps_user_errors = True  # type: ignore[attr-defined]  # a test checks each mutation
    return wrapper


def _as_conflict(error: Exception) -> errors.Conflict | None:
    if isinstance(error, errors.Conflict):
        return error
    return errors.Conflict() if conflicts.is_conflict(error) else None


async def _roll_back(args: Iterable[Any], kwargs: dict[str, Any]) -> None:
    """End the request session's failed transaction, so nothing of it is written and the
    payload's fields can still be read."""
    for value in (*args, *kwargs.values()):
        if isinstance(value, strawberry.Info):
            await value.context.session.rollback()
            return
