"""The workspace configuration file: its models (pydantic), parsing and writing (YAML).

Objects are named by natural keys (names, identifiers, emails), never database ids, and the
writer sorts everything, so that a file kept in git changes only where the workspace did. A
section left out of a file is not managed: apply neither creates nor deletes its objects.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from accessplane.auth.permissions import Permission
from accessplane.errors import FieldError, InputError, UserErrorCode
from accessplane.models import AuthMethod, NotificationKind, QuotaPeriod, RateLimitPeriod, Weekday
from accessplane.services.operations import normalise_template

MAX_CONFIG_BYTES = 2 * 1024 * 1024
# Where editors find the schema: next to the file (`accessplane config-schema > ...`).
SCHEMA_FILE = "workspace-config.schema.json"

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Slug = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, max_length=63, pattern=r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$"
    ),
]
Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_lower=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
    ),
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
Requests = Annotated[int, Field(ge=1, le=1_000_000_000)]


def _sorted_unique(values: list[str]) -> list[str]:
    return sorted(set(values))


# Lists that are sets: kept sorted, so that the order in a file never makes a change.
Emails = Annotated[list[Email], AfterValidator(_sorted_unique)]
Slugs = Annotated[list[Slug], AfterValidator(_sorted_unique)]
Names = Annotated[list[Name], AfterValidator(_sorted_unique)]
Strings = Annotated[list[str], AfterValidator(_sorted_unique)]


class _Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", str_strip_whitespace=True
    )


class PermissionEntry(_Model):
    """A permission of a role; ``namePattern`` only on ``createApiAccess``."""

    name: Permission
    name_pattern: str | None = None


class RoleConfig(_Model):
    """A custom role (built-in roles are the same everywhere and never in the file)."""

    name: Name
    description: Text = ""
    all_apis: bool = False
    permissions: list[PermissionEntry] = []

    @field_validator("permissions")
    @classmethod
    def _sort(cls, value: list[PermissionEntry]) -> list[PermissionEntry]:
        return sorted(value, key=lambda p: p.name.value)


class MemberConfig(_Model):
    """A person of the workspace and their role (built-in or custom, by name)."""

    email: Email
    role: Name


class GroupConfig(_Model):
    name: Name
    description: Text = ""
    members: Emails = Field(default=[], description="Member emails.")


def _template(path: str) -> str:
    """The path as stored (``docs/operations.md``), so a second apply finds nothing to change."""
    normalised, problem = normalise_template(path)
    if problem is not None:
        raise ValueError(f"The path {problem}.")
    return normalised


Template = Annotated[str, StringConstraints(max_length=2000), AfterValidator(_template)]
Method = Annotated[str, StringConstraints(min_length=1, max_length=10, to_upper=True)]


class OperationConfig(_Model):
    """An operation of the API (``docs/operations.md``), keyed by method and path."""

    method: Method = Field(description="An HTTP method, or * for any.")
    path: Template = Field(description="A path template, e.g. /invoices/{id} or /files/*.")
    name: str = Field(default="", max_length=200, description="The OpenAPI operationId.")
    scopes: Strings = Field(default=[], description="OAuth2 scopes a token needs for it.")

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


class ApiConfig(_Model):
    identifier: Slug
    name: Name
    base_url: str = Field(default="", max_length=2000)
    description: Text = ""
    operations: list[OperationConfig] | None = Field(
        default=None,
        description="The operations the API declares; left out: not managed by this file.",
    )

    @field_validator("operations")
    @classmethod
    def _sort(cls, value: list[OperationConfig] | None) -> list[OperationConfig] | None:
        if value is None:
            return None
        keys = [operation.key for operation in value]
        twice = sorted({key for key in keys if keys.count(key) > 1})
        if twice:
            raise ValueError(f"Listed twice: {', '.join(twice)}.")
        return sorted(value, key=lambda o: (o.path, o.method))


class GrantsConfig(_Model):
    """Who reaches which API, besides roles with ``allApis``."""

    members: dict[Email, Slugs] = Field(
        default={}, description="Member email -> API identifiers (direct grants)."
    )
    groups: dict[Name, Slugs] = Field(
        default={}, description="Group name -> API identifiers (group grants)."
    )

    @field_validator("members", "groups")
    @classmethod
    def _sort(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        return {key: value[key] for key in sorted(value)}


class RateLimitConfig(_Model):
    requests: Requests
    period: RateLimitPeriod


class QuotaConfig(_Model):
    requests: Requests
    period: QuotaPeriod


class TimeWindowConfig(_Model):
    days: list[Weekday]
    start: str = Field(description="HH:MM, local time.")
    end: str = Field(description="HH:MM; before start runs past midnight.")
    time_zone: str = Field(description="IANA time zone, e.g. Europe/Berlin.")

    @field_validator("days")
    @classmethod
    def _sort(cls, value: list[Weekday]) -> list[Weekday]:
        order = list(Weekday)
        return sorted(set(value), key=order.index)


class PlanConfig(_Model):
    name: Name
    description: Text = ""
    rate_limit: RateLimitConfig | None = None
    quota: QuotaConfig | None = None
    time_window: TimeWindowConfig | None = None
    auto_approve: bool = False


class ProductConfig(_Model):
    name: Name
    description: Text = ""
    auth_method: AuthMethod
    published: bool = False
    apis: Slugs = Field(default=[], description="API identifiers.")
    operations: Strings | None = Field(
        default=None,
        description="Chosen operations, each '<API identifier> <METHOD> <path>', e.g. "
        "'billing GET /invoices/{id}'; their APIs are in the product too. Left out: not "
        "managed by this file.",
    )

    @model_validator(mode="after")
    def _operation_apis(self) -> ProductConfig:
        """Choosing an operation puts its API in the product: the file says so too, so that
        a second apply finds nothing to change."""
        named = [entry.split(" ", 1)[0] for entry in self.operations or []]
        self.apis = sorted({*self.apis, *(api for api in named if api)})
        return self


class AppConfig(_Model):
    """An app (access profile) of a client, without its token: apply prints new tokens once."""

    name: Name
    auth_method: AuthMethod
    allowed_ips: list[str] = []
    trusted_issuer: str = Field(default="", max_length=500)
    audience: str = Field(default="", max_length=500)
    token_client_id: str = Field(default="", max_length=255)
    required_scopes: Strings = []
    products: Names = Field(default=[], description="Product names.")
    plan: Name | None = Field(default=None, description="Plan name.")


class ClientConfig(_Model):
    name: Name
    description: Text = ""
    logo_url: str = Field(default="", max_length=2000)
    active: bool = True
    members: Emails = Field(default=[], description="Consumer member emails.")
    apps: list[AppConfig] = []

    @field_validator("apps")
    @classmethod
    def _sort(cls, value: list[AppConfig]) -> list[AppConfig]:
        return sorted(value, key=lambda a: a.name)


class NotificationsConfig(_Model):
    subjects: dict[NotificationKind, Annotated[str, StringConstraints(max_length=300)]] = Field(
        default={}, description="The workspace's own email subjects (Jinja2), per kind."
    )

    @field_validator("subjects")
    @classmethod
    def _sort(cls, value: dict[NotificationKind, str]) -> dict[NotificationKind, str]:
        return {kind: value[kind] for kind in sorted(value, key=lambda k: k.value) if value[kind]}


class WorkspaceConfig(_Model):
    """The declarative state of one workspace. A section left out is not managed."""

    model_config = ConfigDict(title="AccessPlane workspace configuration")

    version: Literal[1]
    workspace: Slug | None = Field(
        default=None, description="The slug of the workspace this file describes."
    )
    roles: list[RoleConfig] | None = None
    members: list[MemberConfig] | None = None
    groups: list[GroupConfig] | None = None
    apis: list[ApiConfig] | None = None
    grants: GrantsConfig | None = None
    plans: list[PlanConfig] | None = None
    products: list[ProductConfig] | None = None
    clients: list[ClientConfig] | None = None
    notifications: NotificationsConfig | None = None


def _path(location: Iterable[int | str]) -> str:
    """``("apis", 2, "identifier")`` as ``apis[2].identifier``."""
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _error_message(error: Any) -> str:
    message = str(error["msg"])
    if error["type"] == "extra_forbidden":
        return "Unknown field."
    return message


class _NoAliasLoader(yaml.SafeLoader):
    """Safe YAML without aliases: an alias bomb would expand into an enormous document."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(None, None, "aliases are not allowed", mark)
        return super().compose_node(parent, index)


def parse_config(text: str) -> WorkspaceConfig:
    """Read a file (YAML, or JSON which YAML includes), or raise an ``InputError`` with the
    path of every problem (``apis[2].identifier``)."""
    if len(text.encode()) > MAX_CONFIG_BYTES:
        raise InputError.one(
            None, f"The file is over {MAX_CONFIG_BYTES} bytes.", UserErrorCode.TOO_LONG
        )
    try:
        data = yaml.load(text, Loader=_NoAliasLoader)  # a SafeLoader subclass
    except yaml.YAMLError as error:
        raise InputError.one(None, f"Not valid YAML: {error}", UserErrorCode.INVALID) from None
    except (ValueError, TypeError, RecursionError) as error:
        # A value YAML recognises but cannot build (2001-13-45), or nesting beyond any file's.
        message = "nested too deeply" if isinstance(error, RecursionError) else str(error)
        raise InputError.one(None, f"Not valid YAML: {message}", UserErrorCode.INVALID) from None
    if not isinstance(data, dict):
        raise InputError.one(None, "The file must be a mapping.", UserErrorCode.INVALID)
    try:
        return WorkspaceConfig.model_validate(data)
    except ValidationError as error:
        raise InputError(
            [
                FieldError(_path(e["loc"]) or None, _error_message(e), UserErrorCode.INVALID)
                for e in error.errors()
            ]
        ) from None


def config_data(config: WorkspaceConfig) -> dict[str, Any]:
    """The file's content as plain data (camelCase keys, defaults left out)."""
    data: dict[str, Any] = config.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    return data


def dump_config(config: WorkspaceConfig) -> str:
    """The file as YAML, with the schema line editors validate it by."""
    body = yaml.safe_dump(
        config_data(config), sort_keys=False, allow_unicode=True, default_flow_style=False
    )
    return f"# yaml-language-server: $schema={SCHEMA_FILE}\n{body}"


def config_schema() -> str:
    """The JSON Schema of the file, for editors and CI."""
    schema = WorkspaceConfig.model_json_schema(by_alias=True)
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"
