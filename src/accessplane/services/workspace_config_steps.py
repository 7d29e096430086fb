"""The plan of an apply: one step per object to create, update or delete, each calling the
service that owns the object. Steps look ids up when they run, so an object created by an
earlier step of the same apply can be referred to by a later one."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from accessplane.auth.principals import Principal
from accessplane.errors import InputError, UserErrorCode
from accessplane.services import (
    access_profiles,
    apis,
    clients,
    grants,
    groups,
    members,
    notifications,
    operations,
    plans,
    products,
    roles,
)
from accessplane.services.access_profiles import TokenSettings
from accessplane.services.workspace_config_file import (
    ApiConfig,
    AppConfig,
    ClientConfig,
    GrantsConfig,
    GroupConfig,
    MemberConfig,
    OperationConfig,
    PlanConfig,
    ProductConfig,
    RoleConfig,
    WorkspaceConfig,
)
from accessplane.services.workspace_config_state import Ids, State

SYMBOLS = {"create": "+", "update": "~", "delete": "-"}


@dataclass(frozen=True, slots=True)
class Change:
    """One planned change, e.g. ``~ plan gold: rateLimit.requests 100 -> 200``."""

    action: str  # create, update, delete
    kind: str  # role, member, group, api, operation, grant, plan, product, client, app, …
    name: str
    detail: str = ""

    def line(self) -> str:
        text = f"{SYMBOLS[self.action]} {self.kind} {self.name}"
        return f"{text}: {self.detail}" if self.detail else text


@dataclass(frozen=True, slots=True)
class Credential:
    """The token of an app that apply created: its only copy."""

    client: str
    app: str
    token: str


@dataclass
class Context:
    """What the steps share while they run."""

    session: AsyncSession
    actor: Principal
    workspace_id: uuid.UUID
    secret: bytes
    ids: Ids
    credentials: list[Credential] = field(default_factory=list)

    def service(self) -> dict[str, Any]:
        """The arguments every service takes."""
        return {"session": self.session, "actor": self.actor}


Run = Callable[[Context], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Step:
    change: Change
    path: str  # where in the file the change comes from, for its errors
    run: Run


def _value(value: Any) -> str:
    return "none" if value is None else json.dumps(value, ensure_ascii=False)


def _describe(key: str, old: Any, new: Any) -> Iterator[str]:
    """The differences of one field, e.g. ``rateLimit.requests 100 -> 200`` or
    ``members +a@example.com -b@example.com``."""
    if isinstance(old, dict) and isinstance(new, dict):
        for sub in dict.fromkeys([*old, *new]):
            if old.get(sub) != new.get(sub):
                yield from _describe(f"{key}.{sub}", old.get(sub), new.get(sub))
    elif isinstance(old, list) and isinstance(new, list):
        added = [f"+{v}" for v in new if v not in old]
        removed = [f"-{v}" for v in old if v not in new]
        yield " ".join([key, *added, *removed])
    else:
        yield f"{key} {_value(old)} -> {_value(new)}"


def diff(old: BaseModel, new: BaseModel, *, skip: tuple[str, ...] = ()) -> list[str]:
    """The fields (camelCase) that differ, described."""
    before = old.model_dump(mode="json", by_alias=True)
    after = new.model_dump(mode="json", by_alias=True)
    return [
        text
        for key in after
        if key not in skip and before.get(key) != after[key]
        for text in _describe(key, before.get(key), after[key])
    ]


def lookup(table: dict[Any, uuid.UUID], key: Any, path: str, label: str) -> uuid.UUID:
    """The id of a named object, or a userError at ``path``."""
    found = table.get(key)
    if found is None:
        raise InputError.one(path, f"No {label} '{key}'.", UserErrorCode.NOT_FOUND)
    return found


def _lookup_all(table: dict[Any, uuid.UUID], keys: list[str], path: str, label: str) -> list[Any]:
    return [lookup(table, key, f"{path}[{i}]", label) for i, key in enumerate(keys)]


M = TypeVar("M", bound=BaseModel)


@dataclass
class Matched(Generic[M]):
    """A section of the file against the workspace, by natural key."""

    created: list[tuple[int, M]] = field(default_factory=list)
    kept: list[tuple[int, M, M]] = field(default_factory=list)  # index, current, desired
    removed: list[M] = field(default_factory=list)


def match(current: list[M] | None, desired: list[M] | None, key: str) -> Matched[M]:
    """Pair the objects of a section; an unmanaged section (``None``) matches nothing."""
    result: Matched[M] = Matched()
    if desired is None:
        return result
    existing = {getattr(item, key): item for item in current or []}
    wanted = {getattr(item, key) for item in desired}
    for i, item in enumerate(desired):
        old = existing.get(getattr(item, key))
        if old is None:
            result.created.append((i, item))
        else:
            result.kept.append((i, old, item))
    result.removed = [item for item in current or [] if getattr(item, key) not in wanted]
    return result


@dataclass
class Plan:
    """The steps, gathered by phase: creates and updates in dependency order, then deletes in
    the reverse order."""

    prune: bool
    writes: list[Step] = field(default_factory=list)
    deletes: list[Step] = field(default_factory=list)
    # Names being deleted, whose dependants go with them (a deleted API takes its grants).
    gone: dict[str, set[str]] = field(default_factory=dict)

    def create(self, kind: str, name: str, path: str, run: Run, detail: str = "") -> None:
        self.writes.append(Step(Change("create", kind, name, detail), path, run))

    def update(self, kind: str, name: str, path: str, details: list[str], run: Run) -> None:
        if details:
            self.writes.append(Step(Change("update", kind, name, "; ".join(details)), path, run))

    def delete(self, kind: str, name: str, path: str, run: Run) -> None:
        if self.prune:
            self.gone.setdefault(kind, set()).add(name)
            self.deletes.insert(0, Step(Change("delete", kind, name), path, run))

    def steps(self) -> list[Step]:
        return [*self.writes, *self.deletes]


def _role_steps(plan: Plan, current: list[RoleConfig], desired: list[RoleConfig] | None) -> None:
    def specs(role: RoleConfig) -> list[roles.PermissionSpec]:
        return [roles.PermissionSpec(p.name.value, p.name_pattern) for p in role.permissions]

    def create(role: RoleConfig) -> Run:
        async def run(ctx: Context) -> None:
            made = await roles.create_role(
                **ctx.service(),
                workspace_id=ctx.workspace_id,
                name=role.name,
                description=role.description,
                permissions=specs(role),
                all_apis=role.all_apis,
            )
            ctx.ids.roles[role.name] = made.id

        return run

    def update(role: RoleConfig) -> Run:
        async def run(ctx: Context) -> None:
            await roles.update_role(
                **ctx.service(),
                role_id=ctx.ids.roles[role.name],
                description=role.description,
                permissions=specs(role),
                all_apis=role.all_apis,
            )

        return run

    def delete(name: str) -> Run:
        async def run(ctx: Context) -> None:
            await roles.delete_role(**ctx.service(), role_id=ctx.ids.roles[name])

        return run

    matched = match(current, desired, "name")
    for i, role in matched.created:
        plan.create("role", role.name, f"roles[{i}]", create(role))
    for i, old, new in matched.kept:
        plan.update("role", new.name, f"roles[{i}]", diff(old, new), update(new))
    for role in matched.removed:
        plan.delete("role", role.name, "roles", delete(role.name))


def _member_steps(
    plan: Plan, current: list[MemberConfig], desired: list[MemberConfig] | None
) -> None:
    def create(member: MemberConfig, path: str) -> Run:
        async def run(ctx: Context) -> None:
            made = await members.add_member(
                **ctx.service(),
                workspace_id=ctx.workspace_id,
                email=member.email,
                role_id=lookup(ctx.ids.roles, member.role, f"{path}.role", "role"),
            )
            ctx.ids.members[member.email] = made.id

        return run

    def update(member: MemberConfig, path: str) -> Run:
        async def run(ctx: Context) -> None:
            await members.update_member_role(
                **ctx.service(),
                member_id=ctx.ids.members[member.email],
                role_id=lookup(ctx.ids.roles, member.role, f"{path}.role", "role"),
            )

        return run

    def delete(email: str) -> Run:
        async def run(ctx: Context) -> None:
            await members.remove_member(**ctx.service(), member_id=ctx.ids.members[email])

        return run

    matched = match(current, desired, "email")
    for i, member in matched.created:
        path = f"members[{i}]"
        plan.create("member", member.email, path, create(member, path), f"role {member.role}")
    for i, old, new in matched.kept:
        path = f"members[{i}]"
        plan.update("member", new.email, path, diff(old, new), update(new, path))
    for member in matched.removed:
        plan.delete("member", member.email, "members", delete(member.email))


def _group_steps(plan: Plan, current: list[GroupConfig], desired: list[GroupConfig] | None) -> None:
    def create(group: GroupConfig, path: str) -> Run:
        async def run(ctx: Context) -> None:
            made = await groups.create_group(
                **ctx.service(),
                workspace_id=ctx.workspace_id,
                name=group.name,
                description=group.description,
                member_ids=_lookup_all(ctx.ids.members, group.members, f"{path}.members", "member"),
            )
            ctx.ids.groups[group.name] = made.id

        return run

    def update(old: GroupConfig, new: GroupConfig, path: str) -> Run:
        async def run(ctx: Context) -> None:
            group_id = ctx.ids.groups[new.name]
            if old.description != new.description:
                await groups.update_group(
                    **ctx.service(), group_id=group_id, description=new.description
                )
            added = [e for e in new.members if e not in old.members]
            removed = [e for e in old.members if e not in new.members]
            if added:
                ids = _lookup_all(ctx.ids.members, added, f"{path}.members", "member")
                await groups.add_group_members(**ctx.service(), group_id=group_id, member_ids=ids)
            if removed:
                ids = [ctx.ids.members[e] for e in removed]
                await groups.remove_group_members(
                    **ctx.service(), group_id=group_id, member_ids=ids
                )

        return run

    def delete(name: str) -> Run:
        async def run(ctx: Context) -> None:
            await groups.delete_group(**ctx.service(), group_id=ctx.ids.groups[name])

        return run

    matched = match(current, desired, "name")
    for i, group in matched.created:
        path = f"groups[{i}]"
        plan.create("group", group.name, path, create(group, path))
    for i, old, new in matched.kept:
        path = f"groups[{i}]"
        plan.update("group", new.name, path, diff(old, new), update(old, new, path))
    for group in matched.removed:
        plan.delete("group", group.name, "groups", delete(group.name))


def _api_steps(plan: Plan, current: list[ApiConfig], desired: list[ApiConfig] | None) -> None:
    def create(api: ApiConfig) -> Run:
        async def run(ctx: Context) -> None:
            made = await apis.create_api(
                **ctx.service(),
                workspace_id=ctx.workspace_id,
                name=api.name,
                identifier=api.identifier,
                base_url=api.base_url,
                description=api.description,
            )
            ctx.ids.apis[api.identifier] = ctx.ids.all_apis[api.identifier] = made.id

        return run

    def update(api: ApiConfig) -> Run:
        async def run(ctx: Context) -> None:
            await apis.update_api(
                **ctx.service(),
                api_id=ctx.ids.apis[api.identifier],
                name=api.name,
                base_url=api.base_url,
                description=api.description,
            )

        return run

    def delete(identifier: str) -> Run:
        async def run(ctx: Context) -> None:
            await apis.delete_api(**ctx.service(), api_id=ctx.ids.apis[identifier])

        return run

    matched = match(current, desired, "identifier")
    for i, api in matched.created:
        plan.create("api", api.identifier, f"apis[{i}]", create(api))
    for i, old, new in matched.kept:
        details = diff(old, new, skip=("operations",))  # their own steps
        plan.update("api", new.identifier, f"apis[{i}]", details, update(new))
    for api in matched.removed:
        plan.delete("api", api.identifier, "apis", delete(api.identifier))


def _operation_steps(plan: Plan, current: list[ApiConfig], desired: list[ApiConfig] | None) -> None:
    """The operations of each API whose file entry lists them (after the APIs, before the
    products that choose them); those the file leaves out go only when pruning, and with
    a deleted API."""
    existing = {api.identifier: api.operations or [] for api in current}
    for i, api in enumerate(desired or []):
        if api.operations is None:
            continue
        path = f"apis[{i}].operations"
        matched = match(existing.get(api.identifier, []), api.operations, "key")
        for j, item in matched.created:
            name = f"{api.identifier} {item.key}"
            plan.create("operation", name, f"{path}[{j}]", _create_operation(api.identifier, item))
        for j, old, new in matched.kept:
            name = f"{api.identifier} {new.key}"
            run = _update_operation(api.identifier, new)
            plan.update("operation", name, f"{path}[{j}]", diff(old, new), run)
        for item in matched.removed:
            name = f"{api.identifier} {item.key}"
            plan.delete("operation", name, path, _delete_operation(api.identifier, item))


def _operation_key(api: str, item: OperationConfig) -> tuple[str, str, str]:
    return (api, item.method, item.path)


def _create_operation(api: str, item: OperationConfig) -> Run:
    async def run(ctx: Context) -> None:
        made = await operations.create_operation(
            **ctx.service(),
            api_id=ctx.ids.apis[api],
            method=item.method,
            path=item.path,
            name=item.name,
            scopes=item.scopes,
        )
        ctx.ids.operations[_operation_key(api, item)] = made.id

    return run


def _update_operation(api: str, item: OperationConfig) -> Run:
    async def run(ctx: Context) -> None:
        await operations.update_operation(
            **ctx.service(),
            operation_id=ctx.ids.operations[_operation_key(api, item)],
            edit=operations.OperationEdit(name=item.name, scopes=item.scopes),
        )

    return run


def _delete_operation(api: str, item: OperationConfig) -> Run:
    async def run(ctx: Context) -> None:
        await operations.delete_operation(
            **ctx.service(), operation_id=ctx.ids.operations[_operation_key(api, item)]
        )

    return run


def _chosen_operations(ctx: Context, entries: list[str] | None, path: str) -> list[Any] | None:
    """The ids of a product's chosen operations (``None``: not managed by the file)."""
    if entries is None:
        return None
    found = []
    for i, entry in enumerate(entries):
        api, _, rest = entry.partition(" ")
        method, _, template = rest.strip().partition(" ")
        normalised = operations.normalise_template(template.strip())[0]
        key = (api, method.upper(), normalised)
        found.append(lookup(ctx.ids.operations, key, f"{path}[{i}]", "operation"))
    return found


def _grant_pairs(config: GrantsConfig | None) -> set[tuple[str, str, str]]:
    """(grantee kind, grantee, API identifier) of every grant."""
    if config is None:
        return set()
    return {("member", m, api) for m, ids in config.members.items() for api in ids} | {
        ("group", g, api) for g, ids in config.groups.items() for api in ids
    }


def _grant_steps(plan: Plan, current: GrantsConfig, desired: GrantsConfig | None) -> None:
    def change(kind: str, grantee: str, api: str, *, revoke: bool) -> Run:
        path = f"grants.{kind}s.{grantee}"

        async def run(ctx: Context) -> None:
            table = ctx.ids.members if kind == "member" else ctx.ids.groups
            grantee_id = lookup(table, grantee, path, kind)
            arguments: dict[str, Any] = {
                "api_id": lookup(ctx.ids.apis, api, path, "API"),
                "member_ids": [grantee_id] if kind == "member" else [],
                "group_ids": [grantee_id] if kind == "group" else [],
            }
            if revoke:
                await grants.revoke_access(**ctx.service(), **arguments)
            else:
                await grants.grant_access(**ctx.service(), **arguments)

        return run

    if desired is None:
        return
    now, wanted = _grant_pairs(current), _grant_pairs(desired)
    for kind, grantee, api in sorted(wanted - now):
        name = f"{api} -> {kind} {grantee}"
        plan.create("grant", name, f"grants.{kind}s", change(kind, grantee, api, revoke=False))
    for kind, grantee, api in sorted(now - wanted, reverse=True):
        if grantee in plan.gone.get(kind, set()) or api in plan.gone.get("api", set()):
            continue  # deleting the grantee or the API takes the grant with it
        name = f"{api} -> {kind} {grantee}"
        plan.delete("grant", name, f"grants.{kind}s", change(kind, grantee, api, revoke=True))


def _limits(plan_config: PlanConfig) -> dict[str, Any]:
    rate, quota, window = plan_config.rate_limit, plan_config.quota, plan_config.time_window
    return {
        "description": plan_config.description,
        "rate_limit": rate and plans.RateLimit(rate.requests, rate.period),
        "quota": quota and plans.Quota(quota.requests, quota.period),
        "time_window": window
        and plans.TimeWindow(window.days, window.start, window.end, window.time_zone),
        "auto_approve": plan_config.auto_approve,
    }


def _plan_steps(plan: Plan, current: list[PlanConfig], desired: list[PlanConfig] | None) -> None:
    def create(item: PlanConfig) -> Run:
        async def run(ctx: Context) -> None:
            made = await plans.create_plan(
                **ctx.service(), workspace_id=ctx.workspace_id, name=item.name, **_limits(item)
            )
            ctx.ids.plans[item.name] = made.id

        return run

    def update(item: PlanConfig) -> Run:
        async def run(ctx: Context) -> None:
            await plans.update_plan(
                **ctx.service(), plan_id=ctx.ids.plans[item.name], **_limits(item)
            )

        return run

    def delete(name: str) -> Run:
        async def run(ctx: Context) -> None:
            await plans.delete_plan(**ctx.service(), plan_id=ctx.ids.plans[name])

        return run

    matched = match(current, desired, "name")
    for i, item in matched.created:
        plan.create("plan", item.name, f"plans[{i}]", create(item))
    for i, old, new in matched.kept:
        plan.update("plan", new.name, f"plans[{i}]", diff(old, new), update(new))
    for item in matched.removed:
        plan.delete("plan", item.name, "plans", delete(item.name))


def _product_steps(
    plan: Plan, current: list[ProductConfig], desired: list[ProductConfig] | None
) -> None:
    def create(item: ProductConfig, path: str) -> Run:
        async def run(ctx: Context) -> None:
            made = await products.create_product(
                **ctx.service(),
                workspace_id=ctx.workspace_id,
                name=item.name,
                auth_method=item.auth_method,
                api_ids=_lookup_all(ctx.ids.all_apis, item.apis, f"{path}.apis", "API"),
                description=item.description,
                published=item.published,
                operation_ids=_chosen_operations(ctx, item.operations, f"{path}.operations") or [],
            )
            ctx.ids.products[item.name] = made.id

        return run

    def update(old: ProductConfig, new: ProductConfig, path: str) -> Run:
        async def run(ctx: Context) -> None:
            await products.update_product(
                **ctx.service(),
                product_id=ctx.ids.products[new.name],
                description=new.description,
                auth_method=new.auth_method if new.auth_method != old.auth_method else None,
                api_ids=_lookup_all(ctx.ids.all_apis, new.apis, f"{path}.apis", "API"),
                published=new.published,
                operation_ids=_chosen_operations(ctx, new.operations, f"{path}.operations"),
            )

        return run

    def delete(name: str) -> Run:
        async def run(ctx: Context) -> None:
            await products.delete_product(**ctx.service(), product_id=ctx.ids.products[name])

        return run

    matched = match(current, desired, "name")
    for i, item in matched.created:
        path = f"products[{i}]"
        plan.create("product", item.name, path, create(item, path))
    for i, old, new in matched.kept:
        path = f"products[{i}]"
        # Chosen operations left out of the file are not managed: no change to show.
        skip = ("operations",) if new.operations is None else ()
        details = diff(old, new, skip=skip)
        plan.update("product", new.name, path, details, update(old, new, path))
    for item in matched.removed:
        plan.delete("product", item.name, "products", delete(item.name))


def _client_steps(
    plan: Plan, current: list[ClientConfig], desired: list[ClientConfig] | None
) -> None:
    def create(item: ClientConfig, path: str) -> Run:
        async def run(ctx: Context) -> None:
            made = await clients.create_client(
                **ctx.service(),
                workspace_id=ctx.workspace_id,
                name=item.name,
                description=item.description,
                logo_url=item.logo_url or None,
                member_ids=_lookup_all(ctx.ids.members, item.members, f"{path}.members", "member"),
            )
            ctx.ids.clients[item.name] = made.id
            if not item.active:
                await clients.set_client_active(**ctx.service(), client_id=made.id, active=False)

        return run

    def update(old: ClientConfig, new: ClientConfig, path: str) -> Run:
        async def run(ctx: Context) -> None:
            client_id = ctx.ids.clients[new.name]
            if diff(old, new, skip=("active", "apps")):
                await clients.update_client(
                    **ctx.service(),
                    client_id=client_id,
                    description=new.description,
                    logo_url=new.logo_url if new.logo_url != old.logo_url else None,
                    member_ids=[
                        *_lookup_all(ctx.ids.members, new.members, f"{path}.members", "member"),
                        *ctx.ids.unlisted_client_members.get(new.name, []),
                    ],
                )
            if old.active != new.active:
                await clients.set_client_active(
                    **ctx.service(), client_id=client_id, active=new.active
                )

        return run

    def delete(name: str) -> Run:
        async def run(ctx: Context) -> None:
            await clients.delete_client(**ctx.service(), client_id=ctx.ids.clients[name])

        return run

    matched = match(current, desired, "name")
    for i, item in matched.created:
        path = f"clients[{i}]"
        plan.create("client", item.name, path, create(item, path))
        _app_steps(plan, item.name, path, [], item.apps)
    for i, old, new in matched.kept:
        path = f"clients[{i}]"
        details = diff(old, new, skip=("apps",))
        plan.update("client", new.name, path, details, update(old, new, path))
        _app_steps(plan, new.name, path, old.apps, new.apps)
    for item in matched.removed:
        plan.delete("client", item.name, "clients", delete(item.name))


def _app_arguments(ctx: Context, app: AppConfig, path: str) -> dict[str, Any]:
    plan_id = None if app.plan is None else lookup(ctx.ids.plans, app.plan, f"{path}.plan", "plan")
    return {
        "allowed_ips": app.allowed_ips,
        "product_ids": _lookup_all(ctx.ids.products, app.products, f"{path}.products", "product"),
        "plan_id": plan_id,
    }


def _check_app_change(old: AppConfig, new: AppConfig, path: str) -> None:
    """What the app service cannot change, refused before anything runs."""
    if new.auth_method != old.auth_method:
        raise InputError.one(
            f"{path}.authMethod",
            "An app's authentication method is fixed: give the app another name.",
            UserErrorCode.INVALID,
        )
    if new.plan is None and old.plan is not None:
        raise InputError.one(
            f"{path}.plan", "An app's plan can be changed, not removed.", UserErrorCode.INVALID
        )


def _app_steps(
    plan: Plan, client: str, client_path: str, current: list[AppConfig], desired: list[AppConfig]
) -> None:
    def create(app: AppConfig, path: str) -> Run:
        async def run(ctx: Context) -> None:
            token = TokenSettings(
                app.trusted_issuer, app.audience, app.token_client_id, app.required_scopes
            )
            issued = await access_profiles.create_access_profile(
                **ctx.service(),
                secret=ctx.secret,
                client_id=ctx.ids.clients[client],
                name=app.name,
                auth_method=app.auth_method,
                token=token,
                **_app_arguments(ctx, app, path),
            )
            ctx.ids.apps[(client, app.name)] = issued.access_profile.id
            if issued.token is not None:
                ctx.credentials.append(Credential(client, app.name, issued.token))

        return run

    def update(new: AppConfig, path: str) -> Run:
        async def run(ctx: Context) -> None:
            app_id = ctx.ids.apps[(client, new.name)]
            arguments = _app_arguments(ctx, new, path)
            arguments["product_ids"] += ctx.ids.unlisted_app_products.get(app_id, [])
            await access_profiles.update_access_profile(
                **ctx.service(),
                access_profile_id=app_id,
                trusted_issuer=new.trusted_issuer,
                audience=new.audience,
                token_client_id=new.token_client_id,
                required_scopes=new.required_scopes,
                **arguments,
            )

        return run

    def delete(name: str) -> Run:
        async def run(ctx: Context) -> None:
            await access_profiles.delete_access_profile(
                **ctx.service(), access_profile_id=ctx.ids.apps[(client, name)]
            )

        return run

    matched = match(current, desired, "name")
    for i, app in matched.created:
        path = f"{client_path}.apps[{i}]"
        plan.create("app", f"{client}/{app.name}", path, create(app, path))
    for i, old, new in matched.kept:
        path = f"{client_path}.apps[{i}]"
        _check_app_change(old, new, path)
        plan.update("app", f"{client}/{new.name}", path, diff(old, new), update(new, path))
    for app in matched.removed:
        plan.delete("app", f"{client}/{app.name}", f"{client_path}.apps", delete(app.name))


def _notification_steps(plan: Plan, current: WorkspaceConfig, desired: WorkspaceConfig) -> None:
    if desired.notifications is None or current.notifications is None:
        return
    old, new = current.notifications.subjects, desired.notifications.subjects

    async def run(ctx: Context) -> None:
        # An empty subject restores the default of a kind the file no longer sets.
        subjects = {kind: new.get(kind, "") for kind in {*old, *new}}
        await notifications.update_notification_settings(
            **ctx.service(), workspace_id=ctx.workspace_id, subjects=subjects
        )

    details = diff(current.notifications, desired.notifications)
    plan.update("notifications", "subjects", "notifications", details, run)


def _check_built_in(desired: WorkspaceConfig, ids: Ids) -> None:
    for i, role in enumerate(desired.roles or []):
        if role.name in ids.built_in_roles:
            raise InputError.one(
                f"roles[{i}].name",
                f"'{role.name}' is a built-in role: the file holds custom roles only.",
                UserErrorCode.BUILT_IN,
            )


def plan_steps(desired: WorkspaceConfig, state: State, *, prune: bool) -> list[Step]:
    """Every step, in the order they must run."""
    _check_built_in(desired, state.ids)
    current = state.config
    plan = Plan(prune=prune)
    _role_steps(plan, current.roles or [], desired.roles)
    _member_steps(plan, current.members or [], desired.members)
    _group_steps(plan, current.groups or [], desired.groups)
    _api_steps(plan, current.apis or [], desired.apis)
    _operation_steps(plan, current.apis or [], desired.apis)
    _plan_steps(plan, current.plans or [], desired.plans)
    _product_steps(plan, current.products or [], desired.products)
    _client_steps(plan, current.clients or [], desired.clients)
    _notification_steps(plan, current, desired)
    # Last of the writes, first of the deletes: grants need their API and grantee, and a
    # deleted grantee or API takes its grants along.
    _grant_steps(plan, current.grants or GrantsConfig(), desired.grants)
    return plan.steps()
