"""Importing an API's operations from an OpenAPI 3.0 / 3.1 document (``docs/operations.md``).

The document is the caller's: every step is bounded. Its size is checked before parsing; YAML
is read by the safe loader (libyaml's when available) and refused at its first alias (an alias
bomb expands a small file into an enormous tree); nesting and the number of nodes are bounded
before the validator walks it; the validator (openapi-spec-validator) resolves no reference
outside the document (no file and no URL is ever read), walks each schema once however many
$refs share it, checks default values within ``MAX_VALIDATION_STEPS`` and reports at most
``MAX_REPORTED_ERRORS`` problems.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

import re2
import yaml

# jsonschema ships no type information (openapi-spec-validator, typed, is built on it).
from jsonschema.exceptions import ValidationError, best_match  # type: ignore[import-untyped]
from jsonschema.validators import extend  # type: ignore[import-untyped]
from jsonschema_path import SchemaPath
from openapi_schema_validator import OAS30Validator, OAS31Validator
from openapi_spec_validator.validation import (
    OpenAPIV30SpecValidator,
    OpenAPIV31SpecValidator,
    keywords,
)
from referencing.exceptions import PointerToNowhere, Unresolvable
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accessplane.auth.permissions import Permission
from accessplane.auth.principals import Principal
from accessplane.db import transaction
from accessplane.errors import Conflict, FieldError, InputError, UserErrorCode
from accessplane.models import Api, ApiOperation
from accessplane.models.base import utcnow
from accessplane.services.audit import AuditAction, record_change
from accessplane.services.operations import (
    MAX_OPERATIONS_PER_API,
    check_choices_survive,
    check_scopes,
    normalise_template,
)
from accessplane.services.scoping import get_accessible_api
from accessplane.services.validation import Checks, excerpt

MAX_DOCUMENT_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 500_000
MAX_REPORTED_ERRORS = 20
FIELD = "document"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
OAUTH_SCHEME_TYPES = ("oauth2", "openIdConnect")
MAX_REF_HOPS = 16
# Keyword applications the validator may make checking one document's default values against
# their schemas. Shared $refs let a small document stand for an exponentially large one (s0:
# allOf [s1, s1], s1: allOf [s2, s2], …); real defaults take a few steps each.
MAX_VALIDATION_STEPS = 50_000


def pointer(parts: Sequence[Any]) -> str:
    """The RFC 6901 JSON pointer of a location (``/paths/~1invoices/get``)."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def document_error(location: Sequence[Any] | None, message: str) -> FieldError:
    """A userError on the document, naming where the problem is when it is known."""
    if location is None:
        where = ""
    else:
        where = f" at {pointer(location)}" if location else " at the document's root"
    return FieldError(FIELD, f"Invalid OpenAPI document{where}: {message}", UserErrorCode.INVALID)


# libyaml's parser when PyYAML was built with it: the pure-Python one takes seconds per MiB.
_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_OPENING = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSING = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


def _scan_yaml(text: str) -> None:
    """Refuse aliases at the first one, before anything expands (an alias bomb), and nesting
    beyond ``MAX_DEPTH`` before a recursive composer meets it; the parser's events are flat."""
    try:
        _scan_events(yaml.parse(text, Loader=_YAML_LOADER))
    except yaml.YAMLError as error:
        # libyaml's scanner bounds flow nesting ([[[…) itself, ahead of the events we count.
        if "maximum nesting depth" in str(error):
            raise RecursionError from None
        raise


def _scan_events(events: Iterator[Any]) -> None:
    depth = 0
    for event in events:
        if isinstance(event, yaml.AliasEvent):
            mark = event.start_mark
            where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
            raise yaml.YAMLError(f"YAML aliases (*name) are not accepted{where}")
        if isinstance(event, _OPENING):
            depth += 1
            if depth > MAX_DEPTH:
                raise RecursionError
        elif isinstance(event, _CLOSING):
            depth -= 1


def parse_document(text: str) -> dict[str, Any]:
    """The document as data (JSON, or YAML read safely), or an ``InputError``."""
    if len(text) > MAX_DOCUMENT_BYTES or len(text.encode()) > MAX_DOCUMENT_BYTES:
        raise InputError.one(
            FIELD,
            f"The document is over {MAX_DOCUMENT_BYTES // (1024 * 1024)} MiB.",
            UserErrorCode.TOO_LONG,
        )
    if not text.strip():
        raise InputError.one(FIELD, "The document is empty.", UserErrorCode.REQUIRED)
    try:
        data = _load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        raise InputError.one(
            FIELD, f"Neither valid JSON nor YAML: {_first_line(error)}", UserErrorCode.INVALID
        ) from None
    except RecursionError:
        raise InputError.one(
            FIELD, f"The document nests deeper than {MAX_DEPTH} levels.", UserErrorCode.INVALID
        ) from None
    except (ValueError, TypeError):
        # A value YAML recognises but cannot build (2001-13-45).
        raise InputError.one(
            FIELD, "The document holds a value that cannot be read.", UserErrorCode.INVALID
        ) from None
    if not isinstance(data, dict):
        raise InputError.one(
            FIELD, "The document must be a JSON or YAML object.", UserErrorCode.INVALID
        )
    _check_shape(data)
    return data


def _load(text: str) -> Any:
    if text.lstrip().startswith("{"):
        return json.loads(text)
    _scan_yaml(text)
    return yaml.load(text, Loader=_YAML_LOADER)  # a safe loader: no Python objects


def _first_line(error: Exception) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return " ".join(lines[:3])[:300]


def _check_shape(data: dict[str, Any]) -> None:
    """Bound nesting and size before anything walks the tree recursively."""
    nodes = 0
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            raise InputError.one(
                FIELD, f"The document holds over {MAX_NODES} values.", UserErrorCode.TOO_LONG
            )
        if depth > MAX_DEPTH:
            raise InputError.one(
                FIELD, f"The document nests deeper than {MAX_DEPTH} levels.", UserErrorCode.INVALID
            )
        if isinstance(value, dict):
            if any(not isinstance(key, str) for key in value):
                raise InputError.one(
                    FIELD, "Every key of the document must be a string.", UserErrorCode.INVALID
                )
            stack.extend((child, depth + 1) for child in value.values())
        elif isinstance(value, list):
            stack.extend((child, depth + 1) for child in value)


def _search(pattern: str, text: str) -> bool | None:
    """``re.search`` by RE2 (linear time); None for a pattern RE2 cannot run."""
    try:
        return re2.search(pattern, text) is not None
    except re2.error:
        return None


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and _search(pattern, instance) is False:
        yield ValidationError(f"{excerpt(instance)} does not match {excerpt(pattern)}")


def _pattern_properties(
    validator: Any, patterns: Mapping[str, Any], instance: Any, schema: Any
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            if _search(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


class _TooMuchWork(Exception):
    """The document's validation went past ``MAX_VALIDATION_STEPS``."""


# The steps left to the document being validated (set per validation, in its thread).
_steps_left: ContextVar[list[int] | None] = ContextVar("openapi_steps_left", default=None)


def _spend() -> None:
    left = _steps_left.get()
    if left is not None:
        left[0] -= 1
        if left[0] < 0:
            raise _TooMuchWork


Keyword = Callable[[Any, Any, Any, Any], Any]


def _counted(keyword: Keyword) -> Keyword:
    def run(validator: Any, value: Any, instance: Any, schema: Any) -> Any:
        _spend()
        return keyword(validator, value, instance, schema)

    return run


def _value_keywords(base: Any) -> dict[str, Keyword]:
    # A document's example and default values are checked against its own schemas, whose
    # ``pattern``s are the caller's: they run on RE2, so no pattern can backtrack for ever.
    # Every keyword counts a step: shared $refs repeat work exponentially otherwise.
    keywords_ = {**base.VALIDATORS, "pattern": _pattern, "patternProperties": _pattern_properties}
    return {name: _counted(keyword) for name, keyword in keywords_.items()}


class _SafeV30Values(keywords.OpenAPIV30ValueValidator):
    value_validator_cls = extend(OAS30Validator, _value_keywords(OAS30Validator))


class _SafeV31Values(keywords.OpenAPIV31ValueValidator):
    value_validator_cls = extend(OAS31Validator, _value_keywords(OAS31Validator))


class _IdRegistry(list[Any]):
    """The schema validator's dedupe lists, with set membership (a list's is linear, so a
    document of n schemas cost n² comparisons)."""

    def __init__(self) -> None:
        super().__init__()
        self._seen: set[Any] = set()

    def append(self, item: Any) -> None:
        self._seen.add(item)
        super().append(item)

    def __contains__(self, item: object) -> bool:
        return item in self._seen


@dataclass
class _PropertyMemo:
    found: dict[int, set[str]] = field(default_factory=dict)
    open: set[int] = field(default_factory=set)


def _collect_properties(memo: _PropertyMemo, schema: SchemaPath) -> set[str]:
    """The property names reachable from a schema, as the library's ``_collect_properties``,
    but each schema walked once (the library's walks a shared $ref once per way to it)."""
    value = schema.read_value()
    key = id(value)
    if key in memo.found:
        return memo.found[key]
    if key in memo.open or not isinstance(value, Mapping):
        return set()  # a cycle: its properties are being collected further up
    memo.open.add(key)
    props: set[str] = set()
    if "properties" in schema:
        # A SchemaPath iterates over child paths; keys() gives the names.
        props.update(str(name) for name in (schema / "properties").keys())  # noqa: SIM118
    for keyword in ("allOf", "anyOf", "oneOf"):
        if keyword in schema:
            for sub in schema / keyword:
                props |= _collect_properties(memo, sub)
    for keyword in ("items", "not"):
        if keyword in schema:
            props |= _collect_properties(memo, schema / keyword)
    memo.open.discard(key)
    memo.found[key] = props
    return props


class _BoundedV30Schema(keywords.OpenAPIV30SchemaValidator):
    def __init__(self, registry: Any) -> None:
        super().__init__(registry)
        self.visited_schema_ids = _IdRegistry()
        self.meta_checked_schema_ids = _IdRegistry()
        self.memo = _PropertyMemo()

    def _collect_properties(self, schema: SchemaPath) -> set[str]:
        return _collect_properties(self.memo, schema)


class _BoundedV31Schema(keywords.OpenAPIV31SchemaValidator):
    def __init__(self, registry: Any) -> None:
        super().__init__(registry)
        self.visited_schema_ids = _IdRegistry()
        self.meta_checked_schema_ids = _IdRegistry()
        self.memo = _PropertyMemo()

    def _collect_properties(self, schema: SchemaPath) -> set[str]:
        return _collect_properties(self.memo, schema)


class _LocalV30(OpenAPIV30SpecValidator):
    # No resolver handlers: a $ref to a file or a URL is unresolvable instead of fetched.
    resolver_handlers: Any = {}
    keyword_validators = {
        **OpenAPIV30SpecValidator.keyword_validators,
        "default": _SafeV30Values,
        "schema": _BoundedV30Schema,
    }


class _LocalV31(OpenAPIV31SpecValidator):
    resolver_handlers: Any = {}
    keyword_validators = {
        **OpenAPIV31SpecValidator.keyword_validators,
        "default": _SafeV31Values,
        "schema": _BoundedV31Schema,
    }


def validate_document(data: dict[str, Any]) -> None:
    """Validate against the OpenAPI 3.0 / 3.1 specification; an ``InputError`` listing each
    problem with its JSON pointer."""
    version = str(data.get("openapi", ""))
    validator: OpenAPIV30SpecValidator | OpenAPIV31SpecValidator
    if version.startswith("3.0."):
        validator = _LocalV30(data)
    elif version.startswith("3.1."):
        validator = _LocalV31(data)
    else:
        raise InputError.one(
            FIELD,
            "Only OpenAPI 3.0 and 3.1 documents are accepted (the 'openapi' field, e.g. 3.1.0).",
            UserErrorCode.INVALID,
        )
    _check_operation_count(data)
    budget = _steps_left.set([MAX_VALIDATION_STEPS])
    try:
        errors = list(islice(_errors(validator, data), MAX_REPORTED_ERRORS))
    finally:
        _steps_left.reset(budget)
    if errors:
        raise InputError(errors)


def _check_operation_count(data: dict[str, Any]) -> None:
    """More operations than an API may declare can never be imported: refused before the
    validator, whose cost grows with them."""
    paths = data.get("paths")
    if not isinstance(paths, Mapping):
        return
    count = sum(
        sum(1 for method in HTTP_METHODS if method in item)
        for item in paths.values()
        if isinstance(item, Mapping)
    )
    if count > MAX_OPERATIONS_PER_API:
        raise InputError.one(
            FIELD,
            f"The document declares {count} operations; an API declares at most "
            f"{MAX_OPERATIONS_PER_API}.",
            UserErrorCode.INVALID,
        )


def _errors(
    validator: OpenAPIV30SpecValidator | OpenAPIV31SpecValidator, data: dict[str, Any]
) -> Iterator[FieldError]:
    try:
        # The validator's own iter_errors is cached per instance for the life of the process;
        # its two steps run here directly, so nothing of the caller's document is kept.
        for error in validator.schema_validator.iter_errors(data):
            yield _schema_error(error)
        for error in validator.root_validator(validator.schema_path):
            # The semantic checks (unresolved path parameters, duplicate operationIds) name
            # their path and method in the message and carry no location.
            location = list(error.absolute_path)
            yield document_error(location or None, _short(error.message))
    except PointerToNowhere as error:
        yield document_error(None, f"the reference {excerpt(str(error.ref), 80)} points nowhere.")
    except Unresolvable as error:
        yield document_error(
            None,
            f"the reference {excerpt(str(error.ref), 80)} cannot be resolved "
            "(only references within the document are followed).",
        )
    except RecursionError:
        yield document_error(None, "its references nest too deeply.")
    except _TooMuchWork:
        yield document_error(
            None,
            f"checking its default values against their schemas takes over "
            f"{MAX_VALIDATION_STEPS} steps (shared $refs nested many levels deep, or very "
            "large defaults); simplify them.",
        )


def _schema_error(error: ValidationError) -> FieldError:
    # "not valid under any of the given schemas" says little: name the likeliest cause.
    best = best_match([error])
    return document_error(list(best.absolute_path), _short(best.message))


def _short(message: str) -> str:
    return message if len(message) <= 300 else message[:299] + "…"


@dataclass(frozen=True, slots=True)
class DeclaredOperation:
    """One operation found in a document, in AccessPlane's terms."""

    method: str
    path: str
    name: str
    scopes: list[str]


@dataclass
class _Extraction:
    operations: list[DeclaredOperation] = field(default_factory=list)
    errors: list[FieldError] = field(default_factory=list)


def extract_operations(data: dict[str, Any]) -> list[DeclaredOperation]:
    """Paths x methods of a valid document, with operationId as name and the OAuth2 scopes
    its security requirements need; an ``InputError`` names each path it cannot convert."""
    found = _Extraction()
    schemes = _oauth_schemes(data)
    default_security = data.get("security")
    for raw_path, item in (data.get("paths") or {}).items():
        item = _resolve(data, item)
        path, problem = normalise_template(convert_path(str(raw_path)))
        if problem is not None:
            found.errors.append(document_error(["paths", raw_path], f"the path {problem}."))
            continue
        for method in HTTP_METHODS:
            operation = item.get(method) if isinstance(item, Mapping) else None
            if not isinstance(operation, Mapping):
                continue
            location = ["paths", raw_path, method]
            security = operation.get("security", default_security)
            checks = Checks()
            scopes = check_scopes(checks, "scopes", _required_scopes(security, schemes))
            name = str(operation.get("operationId") or "").strip()
            for error in checks.errors:
                found.errors.append(document_error([*location, "security"], error.message))
            if len(name) > 200:
                found.errors.append(
                    document_error([*location, "operationId"], "at most 200 characters.")
                )
            found.operations.append(DeclaredOperation(method.upper(), path, name, scopes))
    if found.errors:
        raise InputError(found.errors[:MAX_REPORTED_ERRORS])
    return found.operations


def convert_path(openapi_path: str) -> str:
    """An OpenAPI path template as ours: the same ``{name}`` parameters; a trailing ``/`` is
    dropped (one segment fewer, as gateways route it alike)."""
    path = openapi_path.strip()
    if len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    return path


def _resolve(data: dict[str, Any], value: Any) -> Any:
    """Follow local ``$ref``s (``#/components/...``); the validator has checked they resolve."""
    for _ in range(MAX_REF_HOPS):
        if not isinstance(value, Mapping) or not isinstance(value.get("$ref"), str):
            return value
        ref = value["$ref"]
        if not ref.startswith("#/"):
            return {}
        target: Any = data
        for part in ref[2:].split("/"):
            key = part.replace("~1", "/").replace("~0", "~")
            target = target.get(key) if isinstance(target, Mapping) else None
        value = target
    return {}


def _oauth_schemes(data: dict[str, Any]) -> set[str]:
    """Names of the document's OAuth2 and OpenID Connect security schemes."""
    schemes = (data.get("components") or {}).get("securitySchemes") or {}
    return {
        name
        for name, scheme in schemes.items()
        if isinstance(_resolve(data, scheme), Mapping)
        and _resolve(data, scheme).get("type") in OAUTH_SCHEME_TYPES
    }


def _required_scopes(security: Any, schemes: set[str]) -> list[str]:
    """The scopes every caller the requirement admits carries.

    A security requirement list is alternatives (any one suffices), each requiring all of its
    schemes; only OAuth2/OpenID Connect schemes have scopes. One list of scopes that must all be
    present can only be what every alternative needs: their intersection (so no caller the
    document admits is refused). An alternative without an OAuth scheme (an API key, or ``{}``
    for anonymous) needs no scope, and so leaves none.
    """
    if not isinstance(security, list) or not security:
        return []
    common: list[str] | None = None
    for requirement in security:
        needed: list[str] = []
        if isinstance(requirement, Mapping):
            for scheme, scopes in requirement.items():
                if scheme in schemes and isinstance(scopes, list):
                    needed.extend(str(s) for s in scopes if str(s) not in needed)
        common = needed if common is None else [s for s in common if s in needed]
    return common or []


async def read_document(text: str) -> list[DeclaredOperation]:
    """Parse, validate and extract, off the event loop (the steps are CPU work, bounded)."""
    return await asyncio.to_thread(_read, text)


def _read(text: str) -> list[DeclaredOperation]:
    data = parse_document(text)
    validate_document(data)
    return extract_operations(data)


@dataclass(frozen=True, slots=True)
class OperationChange:
    """An operation the import adds, changes or removes; ``previous_*`` for a changed one."""

    method: str
    path: str
    name: str
    scopes: list[str]
    previous_name: str | None = None
    previous_scopes: list[str] | None = None


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an import did (or, in a dry run, would do). ``removed`` lists the API's operations
    the document lacks; they were deleted only when ``pruned``."""

    added: list[OperationChange]
    changed: list[OperationChange]
    removed: list[OperationChange]
    unchanged_count: int
    dry_run: bool
    pruned: bool


@dataclass
class _Plan:
    new: list[DeclaredOperation] = field(default_factory=list)
    edits: list[tuple[ApiOperation, DeclaredOperation]] = field(default_factory=list)
    gone: list[ApiOperation] = field(default_factory=list)
    unchanged: int = 0


def _plan(existing: Sequence[ApiOperation], declared: Sequence[DeclaredOperation]) -> _Plan:
    by_key = {(op.method, op.path): op for op in existing}
    plan = _Plan()
    for operation in declared:
        current = by_key.pop((operation.method, operation.path), None)
        if current is None:
            plan.new.append(operation)
        elif current.name != operation.name or sorted(current.scopes) != sorted(operation.scopes):
            plan.edits.append((current, operation))
        else:
            plan.unchanged += 1
    plan.gone = sorted(by_key.values(), key=lambda op: (op.path, op.method))
    return plan


def _check_duplicates(declared: Sequence[DeclaredOperation]) -> None:
    """Two OpenAPI paths that convert to one template (``/a`` and ``/a/``) would be one
    operation declared twice."""
    seen: set[tuple[str, str]] = set()
    errors: list[FieldError] = []
    for operation in declared:
        key = (operation.method, operation.path)
        if key in seen:
            errors.append(
                document_error(
                    ["paths", operation.path],
                    f"{operation.method} {excerpt(operation.path, 80)} is declared twice.",
                )
            )
        seen.add(key)
    if errors:
        raise InputError(errors[:MAX_REPORTED_ERRORS])


def _result(plan: _Plan, *, dry_run: bool, prune: bool) -> ImportResult:
    return ImportResult(
        added=[OperationChange(o.method, o.path, o.name, list(o.scopes)) for o in plan.new],
        changed=[
            OperationChange(
                new.method, new.path, new.name, list(new.scopes), old.name, list(old.scopes)
            )
            for old, new in plan.edits
        ],
        removed=[OperationChange(o.method, o.path, o.name, list(o.scopes)) for o in plan.gone],
        unchanged_count=plan.unchanged,
        dry_run=dry_run,
        pruned=prune and not dry_run,
    )


async def import_openapi(
    *,
    session: AsyncSession,
    actor: Principal,
    api_id: uuid.UUID,
    document: str,
    dry_run: bool = False,
    prune: bool = False,
) -> ImportResult:
    """Declare the operations of an OpenAPI 3.0/3.1 document on an API one may edit: new ones
    are added, those whose name or scopes differ are changed, and with ``prune`` those the
    document lacks are deleted. All in one transaction with one audit event (the counts);
    ``dry_run`` answers the same diff and writes nothing."""
    api = await get_accessible_api(session, actor, api_id, Permission.UPDATE_API)
    declared = await read_document(document)
    _check_duplicates(declared)
    existing = list(
        (
            await session.scalars(select(ApiOperation).where(col(ApiOperation.api_id) == api.id))
        ).all()
    )
    plan = _plan(existing, declared)
    kept = len(existing) - (len(plan.gone) if prune else 0)
    if kept + len(plan.new) > MAX_OPERATIONS_PER_API:
        raise InputError.one(
            FIELD,
            f"An API declares at most {MAX_OPERATIONS_PER_API} operations; the import would "
            f"leave {kept + len(plan.new)}.",
            UserErrorCode.INVALID,
        )
    gone = {op.id for op in plan.gone} if prune else set()
    if gone:  # in a dry run too: it answers what the real import would
        await check_choices_survive(session, api.id, gone, field="prune")
    result = _result(plan, dry_run=dry_run, prune=prune)
    if dry_run:
        return result
    try:
        async with transaction(session):
            if gone:  # again, in the transaction that deletes them
                await check_choices_survive(session, api.id, gone, field="prune")
            _write(session, api, plan, prune=prune)
            await session.flush()
            record_change(session, actor, api, AuditAction.IMPORT_OPEN_API, after=_counts(result))
    except IntegrityError:
        raise Conflict() from None  # a concurrent edit declared one of the templates
    return result


def _write(session: AsyncSession, api: Api, plan: _Plan, *, prune: bool) -> None:
    now = utcnow()
    for operation in plan.new:
        session.add(
            ApiOperation(
                workspace_id=api.workspace_id,
                api_id=api.id,
                method=operation.method,
                path=operation.path,
                name=operation.name,
                scopes=list(operation.scopes),
            )
        )
    for current, operation in plan.edits:
        current.name, current.scopes = operation.name, list(operation.scopes)
        current.updated_at = now
        session.add(current)
    if prune:
        for gone in plan.gone:
            # Through the session: the flush deletes them and tags the API for the caches.
            session.sync_session.delete(gone)


def _counts(result: ImportResult) -> dict[str, Any]:
    return {
        "added": len(result.added),
        "changed": len(result.changed),
        "removed": len(result.removed) if result.pruned else 0,
        "unchanged": result.unchanged_count,
    }
