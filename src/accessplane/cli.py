"""The ``accessplane`` command."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import typer
import uvicorn
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from accessplane import __version__
from accessplane.db import create_engine
from accessplane.db.migrate import migration_lock, upgrade
from accessplane.notify.outbox import run_worker
from accessplane.services.bootstrap import Bootstrap, init_workspace, is_empty
from accessplane.settings import Settings, get_settings

app = typer.Typer(help="AccessPlane: the control plane for API access.", no_args_is_help=True)


async def _migrate(settings: Settings) -> None:
    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


async def _init(
    settings: Settings, name: str, owner_email: str, *, only_if_empty: bool
) -> Bootstrap | None:
    engine = create_engine(settings.database_url)
    try:
        return await _init_on(engine, settings, name, owner_email, only_if_empty=only_if_empty)
    finally:
        await engine.dispose()


async def _init_on(
    engine: AsyncEngine, settings: Settings, name: str, owner_email: str, *, only_if_empty: bool
) -> Bootstrap | None:
    async with AsyncSession(engine, expire_on_commit=False) as session:
        if only_if_empty and not await is_empty(session):
            return None
        return await init_workspace(
            session,
            name=name,
            owner_email=owner_email,
            secret=settings.secret_key.get_secret_value().encode(),
        )


async def _start(settings: Settings) -> Bootstrap | None:
    """Migrate, then bootstrap an empty database, one starting instance at a time: any number
    started together migrate once and create one first workspace."""
    engine = create_engine(settings.database_url)
    try:
        async with migration_lock(engine):
            await upgrade(engine, lock=False)
            return await _init_on(
                engine,
                settings,
                settings.bootstrap_workspace_name,
                settings.bootstrap_owner_email,
                only_if_empty=True,
            )
    finally:
        await engine.dispose()


def _show_bootstrap(result: Bootstrap, settings: Settings) -> None:
    url = f"http://{settings.host}:{settings.port}/graphql"
    typer.echo(
        f"\nCreated workspace '{result.workspace.name}' and an Owner API key.\n"
        f"The key is shown this once; store it now:\n\n    {result.token}\n\n"
        f"Try it in GraphiQL at {url} with the header\n"
        f'    {{"Authorization": "Bearer {result.token}"}}\n'
        f"or: curl -s {url} -H 'Authorization: Bearer {result.token}' "
        "-H 'Content-Type: application/json' -d '{\"query\": \"{ viewer { name } }\"}'\n"
    )


@app.command()
def migrate() -> None:
    """Apply database migrations."""
    asyncio.run(_migrate(get_settings()))
    typer.echo("Database is up to date.")


@app.command()
def init(
    name: str = typer.Option("Default", help="The workspace's name."),
    owner_email: str = typer.Option(..., help="Email of the workspace's first Owner."),
) -> None:
    """Create a workspace and print an Owner API key (shown once)."""
    settings = get_settings()
    asyncio.run(_migrate(settings))
    result = asyncio.run(_init(settings, name, owner_email, only_if_empty=False))
    assert result is not None
    _show_bootstrap(result, settings)


@app.command()
def serve(
    host: str | None = typer.Option(None, help="Address to bind (default from settings)."),
    port: int | None = typer.Option(None, help="Port (default from settings)."),
    workers: int = typer.Option(1, help="Worker processes."),
    reload: bool = typer.Option(False, help="Reload on code changes (development)."),
) -> None:
    """Migrate, bootstrap an empty database, and serve the API."""
    settings = get_settings()
    if host is not None:
        settings.host = host
    if port is not None:
        settings.port = port
    logging.basicConfig(level=logging.INFO)
    result = asyncio.run(_start(settings))
    if result is not None:
        _show_bootstrap(result, settings)
    uvicorn.run(
        "accessplane.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        reload=reload,
        proxy_headers=False,
    )


@app.command()
def worker(
    once: bool = typer.Option(False, help="Send what is due once, then exit (for cron)."),
) -> None:
    """Send queued email (SMTP, or the log) and expiry reminders, until interrupted."""
    settings = get_settings()
    logging.basicConfig(level=logging.INFO)
    asyncio.run(_migrate(settings))
    report = asyncio.run(run_worker(settings, once=once))
    if report is not None:
        typer.echo(f"sent {report.sent}, retrying {report.retried}, failed {report.failed}")


@app.command()
def schema(
    breaking_against: Path | None = typer.Option(
        None,
        help="Instead of the SDL, list the breaking changes from this older schema file.",
    ),
) -> None:
    """Print the GraphQL schema (SDL): `accessplane schema > schema.graphql`."""
    from graphql import build_schema as parse_sdl
    from graphql import find_breaking_changes

    from accessplane.schema.build import build_schema

    current = build_schema(Settings()).as_str()
    if breaking_against is None:
        typer.echo(current)
        return
    changes = find_breaking_changes(
        parse_sdl(breaking_against.read_text(encoding="utf-8")), parse_sdl(current)
    )
    if not changes:
        typer.echo("No breaking changes.")
    for change in changes:
        typer.echo(f"BREAKING {change.type.name}: {change.description}")


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


if __name__ == "__main__":
    app()
