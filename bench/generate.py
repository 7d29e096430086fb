"""Generate a reproducible benchmark dataset: one workspace with many APIs, members, groups and
grants, on SQLite or PostgreSQL.

The workspace, its built-in roles and its Owner API key come from the real bootstrap service;
the bulk rows are inserted with SQLAlchemy core ``insert()`` (the services would take hours for
200 k grants), after migrating with the project's own migrations. Every id, name and pairing
comes from a seeded random generator, so two runs with the same seed and scale hold the same data.

    .venv/bin/python -m bench.generate --database-url sqlite+aiosqlite:///bench/results/bench.db
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import typer
from sqlalchemy import Table, func, insert, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlmodel import SQLModel, col
from strawberry.relay import GlobalID

from accessplane.db import create_engine
from accessplane.db.migrate import upgrade
from accessplane.models import Api, ApiGrant, Group, GroupMember, Member, Role, User, Workspace
from accessplane.services.bootstrap import init_workspace
from bench.fixtures import Fixtures

CHUNK = 5000  # rows per executemany: large enough to be fast, small enough for memory
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)  # fixed timestamps keep the data reproducible
# Roles of the generated members, with their weights.
MEMBER_ROLES = {"Developer": 7, "Viewer": 2, "Admin": 1}

cli = typer.Typer(add_completion=False, help=__doc__)


@dataclass(frozen=True, slots=True)
class Scale:
    """How much to generate."""

    apis: int
    members: int
    groups: int
    grants: int
    direct_share: float  # the rest are group grants
    developer_grants: int  # direct grants of the benchmark's Developer member
    developer_groups: int  # groups the Developer member belongs to
    max_groups_per_member: int


@dataclass
class Rows:
    """Every bulk row, as dicts keyed by column name."""

    users: list[dict[str, Any]]
    members: list[dict[str, Any]]
    apis: list[dict[str, Any]]
    groups: list[dict[str, Any]]
    group_members: list[dict[str, Any]]
    grants: list[dict[str, Any]]
    developer_id: uuid.UUID
    developer_effective_apis: int


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _at(i: int) -> datetime:
    return EPOCH + timedelta(seconds=i)


def _unique_pairs(
    rng: random.Random,
    count: int,
    lefts: Sequence[uuid.UUID],
    rights: Sequence[uuid.UUID],
    taken: set[tuple[uuid.UUID, uuid.UUID]],
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """``count`` random (left, right) pairs not in ``taken`` (which is updated)."""
    if count > len(lefts) * len(rights) - len(taken):
        raise typer.BadParameter(f"cannot make {count} distinct grants at this scale")
    pairs: list[tuple[uuid.UUID, uuid.UUID]] = []
    while len(pairs) < count:
        pair = (rng.choice(lefts), rng.choice(rights))
        if pair not in taken:
            taken.add(pair)
            pairs.append(pair)
    return pairs


def build_rows(
    scale: Scale, *, seed: int, workspace_id: uuid.UUID, role_ids: dict[str, uuid.UUID]
) -> Rows:
    """All bulk rows, from ``seed`` alone (the workspace and role ids only label them)."""
    rng = random.Random(seed)
    common: dict[str, Any] = {"workspace_id": workspace_id}

    users: list[dict[str, Any]] = [
        {"id": _uuid(rng), "email": f"user{i:06d}@bench.example", "name": f"User {i}"}
        for i in range(scale.members)
    ]
    users.append({"id": _uuid(rng), "email": "developer@bench.example", "name": "Bench Developer"})
    for i, user in enumerate(users):
        user["created_at"] = _at(i)
    role_names = rng.choices(list(MEMBER_ROLES), weights=list(MEMBER_ROLES.values()), k=len(users))
    role_names[-1] = "Developer"
    members: list[dict[str, Any]] = [
        {
            **common,
            "id": _uuid(rng),
            "user_id": user["id"],
            "role_id": role_ids[role],
            "kind": "HUMAN",
            "created_at": _at(i),
        }
        for i, (user, role) in enumerate(zip(users, role_names, strict=True))
    ]
    developer_id: uuid.UUID = members[-1]["id"]
    member_ids = [m["id"] for m in members[:-1]]

    apis: list[dict[str, Any]] = [
        {
            **common,
            "id": _uuid(rng),
            "name": f"API {i:06d}",
            "identifier": f"api-{i:06d}",
            "base_url": f"https://api-{i:06d}.bench.example",
            "description": "",
            "created_at": _at(i),
        }
        for i in range(scale.apis)
    ]
    api_ids = [a["id"] for a in apis]
    groups: list[dict[str, Any]] = [
        {
            **common,
            "id": _uuid(rng),
            "name": f"Group {i:05d}",
            "description": "",
            "created_at": _at(i),
        }
        for i in range(scale.groups)
    ]
    group_ids = [g["id"] for g in groups]

    memberships: list[tuple[uuid.UUID, uuid.UUID]] = []
    for member_id in member_ids:
        k = rng.randint(0, min(scale.max_groups_per_member, len(group_ids)))
        memberships.extend((g, member_id) for g in rng.sample(group_ids, k))
    developer_groups = rng.sample(group_ids, min(scale.developer_groups, len(group_ids)))
    memberships.extend((g, developer_id) for g in developer_groups)
    group_members = [
        {"group_id": g, "member_id": m, "created_at": _at(i)}
        for i, (g, m) in enumerate(memberships)
    ]

    direct_total = round(scale.grants * scale.direct_share)
    developer_direct = min(scale.developer_grants, direct_total, len(api_ids))
    taken: set[tuple[uuid.UUID, uuid.UUID]] = set()
    direct = [(a, developer_id) for a in rng.sample(api_ids, developer_direct)]
    taken.update(direct)
    direct += _unique_pairs(rng, direct_total - developer_direct, api_ids, member_ids, taken)
    by_group = _unique_pairs(rng, scale.grants - direct_total, api_ids, group_ids, set())
    grant_common = {**common, "granted_by_id": None, "granted_by_name": "bench"}
    grants = [
        {**grant_common, "id": _uuid(rng), "api_id": a, "member_id": m, "group_id": None}
        for a, m in direct
    ] + [
        {**grant_common, "id": _uuid(rng), "api_id": a, "member_id": None, "group_id": g}
        for a, g in by_group
    ]
    for i, grant in enumerate(grants):
        grant["created_at"] = _at(i)

    chosen = set(developer_groups)
    effective = {a for a, m in direct if m == developer_id} | {
        a for a, g in by_group if g in chosen
    }
    return Rows(
        users=users,
        members=members,
        apis=apis,
        groups=groups,
        group_members=group_members,
        grants=grants,
        developer_id=developer_id,
        developer_effective_apis=len(effective),
    )


def _table(model: type[SQLModel]) -> Table:
    """The model's table, for core ``insert()``."""
    return SQLModel.metadata.tables[str(model.__tablename__)]


def _chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


async def _insert(connection: AsyncConnection, table: Any, rows: list[dict[str, Any]]) -> None:
    statement = insert(table)
    for chunk in _chunks(rows):
        await connection.execute(statement, chunk)


def _prepare_sqlite(url: str, *, reset: bool) -> None:
    """Make the SQLite file's folder; on reset, delete the file and its WAL."""
    database = Path(make_url(url).database or "")
    database.parent.mkdir(parents=True, exist_ok=True)
    if reset:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)


async def _reset_postgresql(url: str) -> None:
    """Start from an empty schema (only ever on the benchmark's own database)."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()


async def _is_empty(engine: AsyncEngine) -> bool:
    async with engine.connect() as connection:
        tables = await connection.run_sync(lambda c: inspect(c).get_table_names())
        if "workspace" not in tables:
            return True
        return not await connection.scalar(select(func.count()).select_from(Workspace))


async def generate(url: str, scale: Scale, *, seed: int, reset: bool) -> Fixtures:
    """Migrate, bootstrap the workspace, bulk-insert the rows, and describe the result."""
    if url.startswith("sqlite"):
        _prepare_sqlite(url, reset=reset)
    elif reset:
        await _reset_postgresql(url)
    engine = create_engine(url)
    try:
        if not await _is_empty(engine):
            raise typer.BadParameter("the database holds data already; pass --reset to wipe it")
        await upgrade(engine)
        secret = secrets.token_hex(32)
        async with AsyncSession(engine, expire_on_commit=False) as session:
            boot = await init_workspace(
                session, name="Bench", owner_email="owner@bench.example", secret=secret.encode()
            )
            roles = await session.scalars(
                select(Role).where(col(Role.workspace_id) == boot.workspace.id)
            )
            role_ids = {role.name: role.id for role in roles}
        rows = build_rows(scale, seed=seed, workspace_id=boot.workspace.id, role_ids=role_ids)
        tables: list[tuple[Table, list[dict[str, Any]]]] = [
            (_table(User), rows.users),
            (_table(Member), rows.members),
            (_table(Api), rows.apis),
            (_table(Group), rows.groups),
            (_table(GroupMember), rows.group_members),
            (_table(ApiGrant), rows.grants),
        ]
        async with engine.begin() as connection:
            for table, table_rows in tables:
                started = time.perf_counter()
                await _insert(connection, table, table_rows)
                elapsed = time.perf_counter() - started
                typer.echo(f"  {table.name}: {len(table_rows)} rows in {elapsed:.1f} s", err=True)
        # Planner statistics (and PostgreSQL's visibility map, for index-only scans), as
        # autovacuum or SQLite's PRAGMA optimize would leave them on a live database.
        async with engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(
                text("ANALYZE" if url.startswith("sqlite") else "VACUUM ANALYZE")
            )
    finally:
        await engine.dispose()
    return Fixtures(
        database_url=url,
        secret_key=secret,
        seed=seed,
        scale={
            "apis": scale.apis,
            "members": scale.members,
            "groups": scale.groups,
            "grants": scale.grants,
            "group_memberships": len(rows.group_members),
        },
        workspace_id=str(GlobalID("Workspace", str(boot.workspace.id))),
        owner_token=boot.token,
        developer_member_id=str(GlobalID("Member", str(rows.developer_id))),
        developer_effective_apis=rows.developer_effective_apis,
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )


@cli.command()
def main(
    database_url: str = typer.Option(
        "sqlite+aiosqlite:///bench/results/bench.db", help="SQLAlchemy async URL."
    ),
    out: Path = typer.Option(
        None, help="Fixtures JSON to write (default: bench/results/<dialect>.json)."
    ),
    apis: int = typer.Option(10_000, min=1),
    members: int = typer.Option(10_000, min=1),
    groups: int = typer.Option(1_000, min=1),
    grants: int = typer.Option(200_000, min=0),
    direct_share: float = typer.Option(0.8, min=0.0, max=1.0, help="Share of direct grants."),
    developer_grants: int = typer.Option(2_000, min=0, help="Direct grants of the Developer."),
    developer_groups: int = typer.Option(5, min=0, help="Groups the Developer belongs to."),
    max_groups_per_member: int = typer.Option(4, min=0),
    seed: int = typer.Option(20260101, help="Random seed: same seed and scale, same data."),
    reset: bool = typer.Option(False, help="Wipe the database first (SQLite file or schema)."),
) -> None:
    """Generate the dataset and write the fixtures file the benchmark reads."""
    scale = Scale(
        apis=apis,
        members=members,
        groups=groups,
        grants=grants,
        direct_share=direct_share,
        developer_grants=developer_grants,
        developer_groups=developer_groups,
        max_groups_per_member=max_groups_per_member,
    )
    started = time.perf_counter()
    fixtures = asyncio.run(generate(database_url, scale, seed=seed, reset=reset))
    path = out or Path("bench/results") / f"{fixtures.dialect}.json"
    fixtures.save(path)
    typer.echo(f"Generated in {time.perf_counter() - started:.0f} s; fixtures in {path}", err=True)


if __name__ == "__main__":
    cli()
