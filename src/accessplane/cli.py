"""The ``accessplane`` command.

Only typer and the standard library load with this module, so ``--help`` and ``version`` answer
at once: each command imports what it runs (SQLAlchemy, the app, services, uvicorn) inside its
body. New commands follow the same pattern; ``tests/test_cli_startup.py`` checks it.

An operator's mistake (a setting, an unreachable database, a duplicate workspace) ends the
command with one line on stderr and exit code 1, never a traceback.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Coroutine, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from accessplane import __version__

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from accessplane.services.bootstrap import Bootstrap
    from accessplane.settings import Settings

app = typer.Typer(help="AccessPlane: the control plane for API access.", no_args_is_help=True)

T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run``, imported only by the commands that need an event loop."""
    import asyncio

    return asyncio.run(coroutine)


def fail(message: str) -> typer.Exit:
    """Print ``accessplane: <message>`` on stderr; raise the result to exit with code 1."""
    typer.echo(f"accessplane: {message}", err=True)
    return typer.Exit(1)


@contextmanager
def operator_errors() -> Iterator[None]:
    """Turn the errors an operator can fix into one line and exit code 1."""
    from accessplane.errors import InputError
    from accessplane.settings import ConfigurationError

    try:
        yield
    except ConfigurationError as error:
        raise fail(f"configuration error: {_one_line(error)}") from None
    except InputError as error:
        raise fail(_one_line(error)) from None


def _configure_logging(settings: Settings) -> dict[str, Any]:
    """Text or JSON lines at the configured level (``ACCESSPLANE_LOG_FORMAT``/``_LEVEL``);
    returns the configuration, which uvicorn applies in each server worker too."""
    from accessplane.observability.logging import configure_logging

    return configure_logging(settings.log_format, settings.log_level)


@contextmanager
def metrics_directory(workers: int) -> Iterator[str | None]:
    """With several workers, a fresh private directory (mode 0700) for their shared metrics
    in ``PROMETHEUS_MULTIPROC_DIR``, set before they start and removed when the server
    stops: a scrape answered by any worker then counts all of them. One worker keeps its
    metrics in memory, so an inherited directory is ignored."""
    import shutil
    import tempfile

    from accessplane.observability.metrics import MULTIPROCESS_DIR

    previous = os.environ.pop(MULTIPROCESS_DIR, None)
    path = tempfile.mkdtemp(prefix="accessplane-metrics-") if workers > 1 else None
    if path is not None:
        os.environ[MULTIPROCESS_DIR] = path
    try:
        yield path
    finally:
        os.environ.pop(MULTIPROCESS_DIR, None)
        if previous is not None:
            os.environ[MULTIPROCESS_DIR] = previous
        if path is not None:
            shutil.rmtree(path, ignore_errors=True)


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


def load_settings() -> Settings:
    """The process settings; an invalid environment is a ``ConfigurationError``."""
    from accessplane.settings import load_settings

    return load_settings()


@asynccontextmanager
async def database(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """An engine for ``settings.database_url`` that has connected once, disposed at the end: a
    bad URL, a missing database or an unreachable server is a ``ConfigurationError`` here
    rather than a traceback from inside a migration."""
    from sqlalchemy.exc import ArgumentError, DBAPIError, InvalidRequestError

    from accessplane.db import create_engine
    from accessplane.settings import ConfigurationError

    try:
        engine = create_engine(settings.database_url)
    except (ArgumentError, InvalidRequestError, ImportError) as error:
        raise ConfigurationError(f"ACCESSPLANE_DATABASE_URL: {error}") from None
    try:
        _check_sqlite_file(engine.url.database if engine.dialect.name == "sqlite" else None)
        try:
            async with engine.connect():
                pass
        except (OSError, DBAPIError) as error:
            reason = error.orig if isinstance(error, DBAPIError) else error
            shown = engine.url.render_as_string(hide_password=True)
            raise ConfigurationError(f"cannot connect to the database {shown}: {reason}") from None
        yield engine
    finally:
        await engine.dispose()


def _check_sqlite_file(database: str | None) -> None:
    """Refuse a SQLite file that cannot be made before aiosqlite tries: its failed connection
    leaves a thread that reports to an event loop already closed, a traceback on stderr."""
    from accessplane.settings import ConfigurationError

    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.parent.is_dir():
        raise ConfigurationError(f"ACCESSPLANE_DATABASE_URL: no directory {path.parent}")
    if not path.exists() and not os.access(path.parent, os.W_OK | os.X_OK):
        raise ConfigurationError(
            f"ACCESSPLANE_DATABASE_URL: cannot create {path}: {path.parent} is not writable"
        )


async def _migrate(settings: Settings) -> None:
    from accessplane.db.migrate import upgrade

    async with database(settings) as engine:
        await upgrade(engine)


async def _init(
    settings: Settings, name: str, owner_email: str, *, only_if_empty: bool
) -> Bootstrap | None:
    """Create a workspace (only on an empty database if ``only_if_empty``), under the migration
    lock so that two concurrent runs cannot both pass the check for a duplicate name."""
    from accessplane.db.migrate import migration_lock

    async with database(settings) as engine, migration_lock(engine):
        return await _init_on(engine, settings, name, owner_email, only_if_empty=only_if_empty)


async def _init_on(
    engine: AsyncEngine, settings: Settings, name: str, owner_email: str, *, only_if_empty: bool
) -> Bootstrap | None:
    from sqlalchemy.ext.asyncio import AsyncSession

    from accessplane.services.bootstrap import init_workspace, is_empty

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
    from accessplane.db.migrate import migration_lock, upgrade

    async with database(settings) as engine, migration_lock(engine):
        await upgrade(engine, lock=False)
        return await _init_on(
            engine,
            settings,
            settings.bootstrap_workspace_name,
            settings.bootstrap_owner_email,
            only_if_empty=True,
        )


def graphql_url(settings: Settings) -> str:
    """Where this server's GraphQL API is reached: under ``ACCESSPLANE_PUBLIC_URL`` when set,
    else at the configured host and port (``localhost`` for a wildcard address)."""
    from accessplane.notify.links import console_base_url

    return f"{console_base_url(settings)}/graphql"


def _show_bootstrap(result: Bootstrap, settings: Settings, *, key_file: Path | None = None) -> None:
    url = graphql_url(settings)
    if key_file is not None:
        typer.echo(
            f"\nCreated workspace '{result.workspace.name}' and an Owner API key, written to "
            f"{key_file} (readable by its owner only).\n"
            f"Try it in GraphiQL at {url} with the header\n"
            '    {"Authorization": "Bearer <the key>"}\n'
        )
        return
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
    with operator_errors():
        run(_migrate(load_settings()))
    typer.echo("Database is up to date.")


def _open_key_file(path: Path) -> int:
    """Create ``path`` for the Owner key, readable and writable by its owner only (0600). It
    must not exist yet: an earlier key is never overwritten."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise fail(f"{path} exists already; remove it or choose another --owner-key-file") from None
    except OSError as error:
        raise fail(f"cannot create {path}: {error.strerror}") from None
    os.fchmod(descriptor, 0o600)  # whatever the umask
    return descriptor


def _create_workspace(settings: Settings, name: str, owner_email: str) -> Bootstrap:
    with operator_errors():
        run(_migrate(settings))
        result = run(_init(settings, name, owner_email, only_if_empty=False))
    assert result is not None
    return result


@app.command()
def init(
    name: str = typer.Option("Default", help="The workspace's name (unique)."),
    owner_email: str = typer.Option(..., help="Email of the workspace's first Owner."),
    owner_key_file: Path | None = typer.Option(
        None,
        help="Write the Owner API key to this new file (mode 0600) instead of printing it.",
        dir_okay=False,
    ),
) -> None:
    """Create a workspace and print an Owner API key (shown once)."""
    with operator_errors():
        settings = load_settings()
    if owner_key_file is None:
        _show_bootstrap(_create_workspace(settings, name, owner_email), settings)
        return
    # The file is made first, so that a path it cannot be written to creates no workspace.
    descriptor = _open_key_file(owner_key_file)
    try:
        result = _create_workspace(settings, name, owner_email)
    except BaseException:
        os.close(descriptor)
        owner_key_file.unlink()
        raise
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        file.write(f"{result.token}\n")
    _show_bootstrap(result, settings, key_file=owner_key_file)


WORKERS_NEED_SHARED_STATE = (
    "--workers > 1 needs PostgreSQL and Redis "
    "(SQLite keeps caches and rate-limit counters per process)"
)


def server_stack() -> tuple[str, str]:
    """uvicorn's event loop and HTTP parser: uvloop and httptools, both C and both dependencies
    (uvloop except on Windows), else asyncio and the pure-Python h11. Named rather than
    ``auto``, which picks the same, so the choice is visible and tested."""
    from importlib.util import find_spec

    loop = "uvloop" if find_spec("uvloop") is not None else "asyncio"
    http = "httptools" if find_spec("httptools") is not None else "h11"
    return loop, http


def _check_workers(settings: Settings, workers: int) -> None:
    """Several workers share state only through PostgreSQL (cache invalidation by ``NOTIFY``)
    and Redis (rate-limit counters): otherwise a plan's limit counts once per worker and a
    revocation reaches the other workers only when their cache entry expires."""
    on_postgresql = settings.database_url.split(":", 1)[0].split("+", 1)[0] == "postgresql"
    if workers > 1 and not (on_postgresql and settings.redis_url):
        raise fail(WORKERS_NEED_SHARED_STATE)


@app.command()
def serve(
    host: str | None = typer.Option(None, help="Address to bind (default from settings)."),
    port: int | None = typer.Option(None, help="Port (default from settings)."),
    workers: int = typer.Option(
        1, help="Worker processes (more than 1 needs PostgreSQL and Redis)."
    ),
    reload: bool = typer.Option(False, help="Reload on code changes (development)."),
) -> None:
    """Migrate, bootstrap an empty database, and serve the API."""
    with operator_errors():
        settings = load_settings()
        if host is not None:
            settings.host = host
        if port is not None:
            settings.port = port
        _check_workers(settings, workers)  # before migrating: a refused start changes nothing
        log_config = _configure_logging(settings)
        result = run(_start(settings))
    if result is not None:
        _show_bootstrap(result, settings)
    import uvicorn

    loop, http = server_stack()
    with metrics_directory(workers):
        uvicorn.run(
            "accessplane.app:create_app",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=workers,
            reload=reload,
            proxy_headers=False,
            loop=loop,
            http=http,
            log_config=log_config,
        )


@app.command()
def worker(
    once: bool = typer.Option(False, help="Send what is due once, then exit (for cron)."),
) -> None:
    """Send queued email (SMTP, or the log) and expiry reminders, until interrupted."""
    from accessplane.notify.outbox import run_worker

    with operator_errors():
        settings = load_settings()
        _configure_logging(settings)
        run(_migrate(settings))
    report = run(run_worker(settings, once=once))
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

    with operator_errors():
        current = build_schema(load_settings()).as_str()
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


@contextmanager
def _config_errors() -> Iterator[None]:
    """A refused file or change: each error on a line of its own, with its path in the file."""
    from accessplane.errors import DomainError, InputError

    try:
        yield
    except InputError as error:
        for e in error.errors:
            typer.echo(f"accessplane: {e.field + ': ' if e.field else ''}{e.message}", err=True)
        raise typer.Exit(1) from None
    except DomainError as error:
        raise fail(_one_line(error)) from None


KEY_OPTION = typer.Option(
    None, "--key", envvar="ACCESSPLANE_KEY", help="Act as this API key (default: the system)."
)


@app.command("export")
def export_config(
    workspace: str = typer.Option(..., "--workspace", help="The workspace's id or slug."),
    output: Path | None = typer.Option(None, "-o", "--output", help="Write to this file."),
    key: str | None = KEY_OPTION,
) -> None:
    """Write a workspace's configuration as YAML (no secrets): see `accessplane apply`."""
    from accessplane import cli_workspace_config as config

    with operator_errors(), _config_errors():
        settings = load_settings()
        text = run(_with_database(settings, lambda e: config.export(e, settings, workspace, key)))
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


async def _with_database(settings: Settings, work: Any) -> Any:
    async with database(settings) as engine:
        return await work(engine)


@app.command("apply")
def apply_config(
    file: Path = typer.Option(..., "-f", "--file", exists=True, dir_okay=False),
    workspace: str | None = typer.Option(
        None, "--workspace", help="The workspace's id or slug (default: the file's workspace)."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the plan, write nothing."),
    prune: bool = typer.Option(False, "--prune", help="Delete what the file leaves out."),
    credentials_file: Path | None = typer.Option(
        None, help="Write the tokens of new apps to this new file (mode 0600), not the output."
    ),
    key: str | None = KEY_OPTION,
) -> None:
    """Make a workspace match a configuration file, in one transaction."""
    from accessplane import cli_workspace_config as config

    options = config.ApplyOptions(
        file.read_text(encoding="utf-8"), workspace, key, dry_run=dry_run, prune=prune
    )
    if credentials_file is not None and credentials_file.exists():
        raise fail(f"{credentials_file} exists already; tokens are never written over")
    with operator_errors(), _config_errors():
        settings = load_settings()
        if config.target(options) is None:
            raise fail("name the workspace: --workspace, or `workspace:` in the file")
        result = run(_with_database(settings, lambda e: config.apply(e, settings, options)))
    for change in result.changes:
        typer.echo(change.line())
    if not result.changes:
        typer.echo("No changes.")
    elif dry_run:
        typer.echo(f"Dry run: {len(result.changes)} change(s) planned, nothing written.")
    else:
        typer.echo(f"Applied {len(result.changes)} change(s).")
    _show_credentials(result.credentials, credentials_file)


def _show_credentials(credentials: list[Any], path: Path | None) -> None:
    """The tokens of the apps apply created: their only copies."""
    from accessplane import cli_workspace_config as config

    if not credentials:
        return
    lines = "".join(f"{c.client}/{c.app}: {c.token}\n" for c in credentials)
    if path is None:
        typer.echo(f"\nTokens of the new apps, shown this once:\n{lines}", nl=False)
        return
    try:
        descriptor = config.open_private_file(path)
    except OSError as error:
        typer.echo(f"\nCould not create {path} ({error.strerror}); the tokens:\n{lines}", nl=False)
        raise typer.Exit(1) from None
    with os.fdopen(descriptor, "w", encoding="ascii") as out:
        out.write(lines)
    typer.echo(f"Tokens of {len(credentials)} new app(s) written to {path}.")


@app.command("config-schema")
def config_schema() -> None:
    """Print the JSON Schema of the configuration file (docs/workspace-config.schema.json)."""
    from accessplane.services.workspace_config_file import config_schema as schema_text

    typer.echo(schema_text(), nl=False)


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


if __name__ == "__main__":
    app()
