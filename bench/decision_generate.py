"""Generate the decision endpoint's benchmark dataset: N apps (access profiles) with ``apt_``
tokens, all allowed to call one API, on SQLite or PostgreSQL.

One workspace, one API (``orders``), one ``AUTH_TOKEN`` product holding it, one client, and two
plans: ``warm`` with a rate limit no benchmark reaches, and ``limited`` with 1 request per hour.
N apps hold the product on ``warm``; a few more hold it on ``limited``. Every app also holds a
second product, whose API (``orders-ops``) declares 200 operations of which the product chose
100: the same credentials, decided with an operation check. Everything, tokens and
their keyed digests included, comes from the seed: the same seed and scale give the same rows.
Rows go in with SQLAlchemy core ``insert()`` on the models' tables (executemany, in chunks),
after the project's migrations.

    .venv/bin/python -m bench.decision_generate --credentials 1000000 --reset \
        --database-url sqlite+aiosqlite:///bench/results/decision-1m.db
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import string
import time
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import typer
from sqlalchemy import Table, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import SQLModel

from accessplane.auth.tokens import HINT_LENGTH, TokenKind, format_token, token_digest
from accessplane.db import create_engine
from accessplane.db.migrate import upgrade
from accessplane.models import (
    AccessProfile,
    AccessProfileCertificate,
    AccessProfileProduct,
    Api,
    ApiOperation,
    ApiProduct,
    ApiProductApi,
    ApiProductOperation,
    AuthMethod,
    Client,
    Plan,
    RateLimitPeriod,
    Workspace,
)
from bench.fixtures import DecisionFixtures, scale_label
from bench.generate import _is_empty, _prepare_sqlite, _reset_postgresql

CHUNK = 20_000  # apps per executemany (and per transaction)
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)  # fixed timestamps keep the data reproducible
ALPHABET = string.digits + string.ascii_uppercase + string.ascii_lowercase  # tokens' base62
BODY_LENGTH = 30  # random characters of a token
API_IDENTIFIER = "orders"
# The API declaring operations: RESOURCES resources of five operations each (list, create,
# read, replace, delete), the first of them "orders" (the benchmark asks GET /orders); its
# product chose every GET and the PUTs of half the resources.
OPS_API_IDENTIFIER = "orders-ops"
RESOURCES = 40
OPERATIONS = RESOURCES * 5
# Far above what one app sees in a benchmark (a few requests per second each), so warm traffic
# is never limited but still goes through the rate limiter. A per-second window also keeps a
# moving-window limiter's memory small; --warm-period minute keeps every app that was asked in
# the last minute counting (the live-counters scenario, bench.decision_run --live-apps).
WARM_LIMIT = 100_000
WARM_PERIOD = RateLimitPeriod.SECOND
LIMITED_LIMIT = (1, RateLimitPeriod.HOUR)
RESULTS = Path("bench/results")

cli = typer.Typer(add_completion=False, help=__doc__)


@dataclass
class Streams:
    """Independent seeded random streams, so changing one count does not move the others."""

    seed: int
    rows: random.Random = field(init=False)  # ids and tokens of the rows, in order
    sample: random.Random = field(init=False)  # which warm tokens go to the sample file
    unknown: random.Random = field(init=False)  # tokens nobody holds
    operations: random.Random = field(init=False)  # the declared operations' ids

    def __post_init__(self) -> None:
        self.rows = random.Random(f"{self.seed}:rows")
        self.operations = random.Random(f"{self.seed}:operations")
        self.sample = random.Random(f"{self.seed}:sample")
        self.unknown = random.Random(f"{self.seed}:unknown")


def bench_secret(seed: int, purpose: str) -> str:
    """A bench-only secret derived from the seed: the same seed gives the same digests. Never a
    production secret (it is public as soon as the seed is)."""
    return hashlib.sha256(f"accessplane-bench:{purpose}:{seed}".encode()).hexdigest()


def new_token(rng: random.Random) -> str:
    """A well-formed ``apt_`` token (valid checksum) from ``rng``."""
    return format_token(TokenKind.ACCESS_PROFILE, "".join(rng.choices(ALPHABET, k=BODY_LENGTH)))


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _table(model: type[SQLModel]) -> Table:
    return SQLModel.metadata.tables[str(model.__tablename__)]


@dataclass(frozen=True, slots=True)
class Base:
    """The few rows every app refers to."""

    workspace_id: uuid.UUID
    client_id: uuid.UUID
    product_id: uuid.UUID
    warm_plan_id: uuid.UUID
    limited_plan_id: uuid.UUID
    rows: list[tuple[type[SQLModel], dict[str, Any]]]
    ops_product_id: uuid.UUID | None = None  # the product of the API declaring operations


def base_rows(rng: random.Random, warm_period: RateLimitPeriod = WARM_PERIOD) -> Base:
    """Workspace, client, API, product, the product's API and the two plans."""
    workspace_id, client_id, api_id, product_id, warm_id, limited_id = (
        _uuid(rng) for _ in range(6)
    )
    ws = {"workspace_id": workspace_id}
    plan: dict[str, Any] = {"description": "", "quota_requests": None, "quota_period": None}
    plan |= {"time_window": None, "auto_approve": False, "created_at": EPOCH}
    rows: list[tuple[type[SQLModel], dict[str, Any]]] = [
        (Workspace, {"id": workspace_id, "name": "Bench", "slug": "bench", "created_at": EPOCH}),
        (Client, {**ws, "id": client_id, "name": "Bench client", "description": "",
                  "logo_url": "", "active": True, "has_logo": False, "created_at": EPOCH,
                  "updated_at": EPOCH}),
        (Api, {**ws, "id": api_id, "name": "Orders", "identifier": API_IDENTIFIER,
               "base_url": "https://orders.bench.example", "description": "",
               "created_at": EPOCH}),
        (ApiProduct, {**ws, "id": product_id, "name": "Orders", "description": "",
                      "auth_method": AuthMethod.AUTH_TOKEN, "published": True,
                      "created_at": EPOCH}),
        (ApiProductApi, {**ws, "product_id": product_id, "api_id": api_id}),
        (Plan, {**ws, **plan, "id": warm_id, "name": "warm",
                "rate_limit_requests": WARM_LIMIT, "rate_limit_period": warm_period}),
        (Plan, {**ws, **plan, "id": limited_id, "name": "limited",
                "rate_limit_requests": LIMITED_LIMIT[0],
                "rate_limit_period": LIMITED_LIMIT[1]}),
    ]  # fmt: skip
    return Base(workspace_id, client_id, product_id, warm_id, limited_id, rows)


def operation_rows(
    rng: random.Random, workspace_id: uuid.UUID
) -> tuple[uuid.UUID, list[tuple[type[SQLModel], dict[str, Any]]]]:
    """The API declaring OPERATIONS operations, its product and the operations it chose."""
    ws = {"workspace_id": workspace_id}
    api_id, product_id = _uuid(rng), _uuid(rng)
    rows: list[tuple[type[SQLModel], dict[str, Any]]] = [
        (Api, {**ws, "id": api_id, "name": "Orders with operations",
               "identifier": OPS_API_IDENTIFIER, "base_url": "https://ops.bench.example",
               "description": "", "created_at": EPOCH}),
        (ApiProduct, {**ws, "id": product_id, "name": "Orders operations", "description": "",
                      "auth_method": AuthMethod.AUTH_TOKEN, "published": True,
                      "created_at": EPOCH}),
        (ApiProductApi, {**ws, "product_id": product_id, "api_id": api_id}),
    ]  # fmt: skip
    for n in range(RESOURCES):
        resource = "/orders" if n == 0 else f"/resource{n:02d}"
        for method, path in (
            ("GET", resource),
            ("POST", resource),
            ("GET", resource + "/{id}"),
            ("PUT", resource + "/{id}"),
            ("DELETE", resource + "/{id}"),
        ):
            operation_id = _uuid(rng)
            rows.append(
                (ApiOperation, {**ws, "id": operation_id, "api_id": api_id, "method": method,
                                "path": path, "name": "", "scopes": [], "created_at": EPOCH,
                                "updated_at": EPOCH})
            )  # fmt: skip
            if method == "GET" or (method == "PUT" and n % 2 == 0):
                rows.append(
                    (ApiProductOperation,
                     {**ws, "product_id": product_id, "operation_id": operation_id})
                )  # fmt: skip
    return product_id, rows


def app_rows(
    rng: random.Random,
    base: Base,
    *,
    prefix: str,
    indices: range,
    plan_id: uuid.UUID,
    secret: bytes,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """The access profiles ``<prefix>-<index>``, their product rows and their tokens."""
    profiles: list[dict[str, Any]] = []
    products: list[dict[str, Any]] = []
    tokens: list[str] = []
    for index in indices:
        profile_id = _uuid(rng)
        token = new_token(rng)
        name = f"{prefix}-{index:07d}"
        created = EPOCH + timedelta(seconds=index)
        profiles.append(
            {
                "id": profile_id,
                "workspace_id": base.workspace_id,
                "client_id": base.client_id,
                "name": name,
                "auth_method": AuthMethod.AUTH_TOKEN,
                "plan_id": plan_id,
                "allowed_ips": [],
                "trusted_issuer": "",
                "audience": "",
                "token_client_id": "",
                "required_scopes": [],
                "token_digest": token_digest(token, secret),
                "token_hint": token[-HINT_LENGTH:],
                "version": 1,
                "created_at": created,
                "updated_at": created,
            }
        )
        for product_id in (base.product_id, base.ops_product_id):
            if product_id is None:
                continue
            products.append(
                {
                    "access_profile_id": profile_id,
                    "product_id": product_id,
                    "workspace_id": base.workspace_id,
                    "created_at": created,
                }
            )
        tokens.append(token)
    return profiles, products, tokens


async def _insert_apps(
    connection: AsyncConnection, profiles: list[dict[str, Any]], products: list[dict[str, Any]]
) -> None:
    await connection.execute(insert(_table(AccessProfile)), profiles)
    await connection.execute(insert(_table(AccessProfileProduct)), products)


# MTLS apps (--certificates): each holds one registered certificate. Only the fingerprint takes
# part in a decision, so each certificate row is a seeded random fingerprint (what a SHA-256 of
# a DER looks like) with placeholder details: the look-up path is the real one, and generating
# a million X.509 certificates would only cost time.
CERTIFICATE_NOT_AFTER = datetime(2099, 1, 1, tzinfo=UTC)


def mtls_product_rows(
    rng: random.Random, base: Base
) -> tuple[uuid.UUID, list[tuple[type[SQLModel], dict[str, Any]]]]:
    """An ``MTLS`` product holding ``orders``, for the MTLS apps."""
    api_id = next(row["id"] for model, row in base.rows if model is Api)
    product_id = _uuid(rng)
    ws = {"workspace_id": base.workspace_id}
    return product_id, [
        (ApiProduct, {**ws, "id": product_id, "name": "Orders mTLS", "description": "",
                      "auth_method": AuthMethod.MTLS, "published": True, "created_at": EPOCH}),
        (ApiProductApi, {**ws, "product_id": product_id, "api_id": api_id}),
    ]  # fmt: skip


def certificate_app_rows(
    rng: random.Random, base: Base, product_id: uuid.UUID, indices: range
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """The MTLS apps ``mtls-<index>`` on the warm plan, their product and certificate rows,
    and their fingerprints."""
    profiles, products, certificates, fingerprints = [], [], [], []
    for index in indices:
        profile_id, fingerprint = _uuid(rng), f"{rng.getrandbits(256):064x}"
        created = EPOCH + timedelta(seconds=index)
        ws = {"workspace_id": base.workspace_id}
        profiles.append(
            {**ws, "id": profile_id, "client_id": base.client_id, "name": f"mtls-{index:07d}",
             "auth_method": AuthMethod.MTLS, "plan_id": base.warm_plan_id, "allowed_ips": [],
             "trusted_issuer": "", "audience": "", "token_client_id": "", "required_scopes": [],
             "token_digest": None, "token_hint": "", "version": 1, "created_at": created,
             "updated_at": created}
        )  # fmt: skip
        products.append(
            {**ws, "access_profile_id": profile_id, "product_id": product_id,
             "created_at": created}
        )  # fmt: skip
        certificates.append(
            {**ws, "id": _uuid(rng), "access_profile_id": profile_id, "fingerprint": fingerprint,
             "subject": f"CN=mtls-{index:07d}", "issuer": "CN=Bench CA",
             "serial_number": fingerprint[:32], "not_before": EPOCH,
             "not_after": CERTIFICATE_NOT_AFTER, "pem": "", "created_at": created}
        )  # fmt: skip
        fingerprints.append(fingerprint)
    return profiles, products, certificates, fingerprints


async def insert_certificate_apps(
    engine: Any, base: Base, *, count: int, seed: int, sample: int, unknown: int
) -> tuple[list[str], list[str]]:
    """Insert ``count`` MTLS apps; the XFCC header values (``Hash=<fingerprint>``) of a
    random sample of them, and of fingerprints nobody registered."""
    rng = random.Random(f"{seed}:certificates")
    chosen = random.Random(f"{seed}:certificates-sample").sample(range(count), min(sample, count))
    position = {index: i for i, index in enumerate(chosen)}
    sampled: list[str] = [""] * len(chosen)
    product_id, rows = mtls_product_rows(rng, base)
    async with engine.begin() as connection:
        for model, row in rows:
            await connection.execute(insert(_table(model)), [row])
    started = time.perf_counter()
    for start in range(0, count, CHUNK):
        stop = min(start + CHUNK, count)
        profiles, products, certificates, fingerprints = certificate_app_rows(
            rng, base, product_id, range(start, stop)
        )
        async with engine.begin() as connection:
            await _insert_apps(connection, profiles, products)
            await connection.execute(insert(_table(AccessProfileCertificate)), certificates)
        for offset, fingerprint in enumerate(fingerprints, start):
            if offset in position:
                sampled[position[offset]] = f"Hash={fingerprint}"
        if (stop // CHUNK) % 10 == 0 or stop == count:
            typer.echo(f"  {stop:,} MTLS apps in {time.perf_counter() - started:.0f} s", err=True)
    strangers = random.Random(f"{seed}:certificates-unknown")
    return sampled, [f"Hash={strangers.getrandbits(256):064x}" for _ in range(unknown)]


def _write_tokens(path: Path, tokens: list[str]) -> None:
    path.write_text("".join(f"{t}\n" for t in tokens))
    path.chmod(0o600)


@dataclass(frozen=True, slots=True)
class Generated:
    warm_sample: list[str]
    unknown: list[str]
    limited: list[str]
    certificates: list[str] = field(default_factory=list)  # XFCC values, registered
    unknown_certificates: list[str] = field(default_factory=list)


async def generate(
    url: str,
    *,
    credentials: int,
    limited: int,
    sample: int,
    unknown: int,
    seed: int,
    reset: bool,
    warm_period: RateLimitPeriod = WARM_PERIOD,
    certificates: int = 0,
) -> Generated:
    """Migrate, insert every row, and return the tokens the benchmark needs."""
    if url.startswith("sqlite"):
        _prepare_sqlite(url, reset=reset)
    elif reset:
        await _reset_postgresql(url)
    streams = Streams(seed)
    secret = bench_secret(seed, "secret-key").encode()
    # Which warm apps go to the sample file, in a random order (the benchmark rotates through
    # the first lines of it, so they must not all be the oldest apps).
    chosen = streams.sample.sample(range(credentials), min(sample, credentials))
    position = {index: i for i, index in enumerate(chosen)}
    warm_sample: list[str] = [""] * len(chosen)

    engine = create_engine(url)
    try:
        if not await _is_empty(engine):
            raise typer.BadParameter("the database holds data already; pass --reset to wipe it")
        await upgrade(engine)
        base = base_rows(streams.rows, warm_period)
        ops_product_id, ops_rows = operation_rows(streams.operations, base.workspace_id)
        base = replace(base, ops_product_id=ops_product_id)
        async with engine.begin() as connection:
            for model, row in [*base.rows, *ops_rows]:
                await connection.execute(insert(_table(model)), [row])
        started = time.perf_counter()
        for start in range(0, credentials, CHUNK):
            stop = min(start + CHUNK, credentials)
            profiles, products, tokens = app_rows(
                streams.rows, base, prefix="app", indices=range(start, stop),
                plan_id=base.warm_plan_id, secret=secret,
            )  # fmt: skip
            async with engine.begin() as connection:
                await _insert_apps(connection, profiles, products)
            for offset, token in enumerate(tokens, start):
                if offset in position:
                    warm_sample[position[offset]] = token
            if (stop // CHUNK) % 10 == 0 or stop == credentials:
                elapsed = time.perf_counter() - started
                typer.echo(f"  {stop:,} apps in {elapsed:.0f} s", err=True)
        profiles, products, limited_tokens = app_rows(
            streams.rows, base, prefix="limited", indices=range(limited),
            plan_id=base.limited_plan_id, secret=secret,
        )  # fmt: skip
        async with engine.begin() as connection:
            await _insert_apps(connection, profiles, products)
        certificate_sample: tuple[list[str], list[str]] = ([], [])
        if certificates:
            certificate_sample = await insert_certificate_apps(
                engine, base, count=certificates, seed=seed, sample=sample, unknown=unknown
            )
        # Planner statistics, as autovacuum or SQLite's PRAGMA optimize would leave them.
        started = time.perf_counter()
        async with engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(
                text("ANALYZE" if url.startswith("sqlite") else "VACUUM ANALYZE")
            )
        typer.echo(f"  analyzed in {time.perf_counter() - started:.0f} s", err=True)
    finally:
        await engine.dispose()
    # Collisions with stored tokens are as likely as guessing one (178 random bits).
    unknown_tokens = [new_token(streams.unknown) for _ in range(unknown)]
    return Generated(warm_sample, unknown_tokens, limited_tokens, *certificate_sample)


def default_out(url: str, credentials: int) -> Path:
    """``bench/results/decision-1m.db`` -> ``bench/results/decision-1m.json``."""
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite") and parsed.database:
        return Path(parsed.database).with_suffix(".json")
    return RESULTS / f"decision-{parsed.get_backend_name()}-{scale_label(credentials)}.json"


@cli.command()
def main(
    credentials: int = typer.Option(1_000, min=1, help="Apps on the unlimited plan."),
    database_url: str = typer.Option(
        None, help="SQLAlchemy async URL (default: sqlite under bench/results/)."
    ),
    out: Path = typer.Option(
        None, help="Fixtures JSON (default: the SQLite file's name with .json)."
    ),
    limited: int = typer.Option(20, min=1, help="Apps on the 1-per-hour plan."),
    sample: int = typer.Option(
        100_000, min=1, help="Warm tokens written to the sample file (at most --credentials)."
    ),
    unknown: int = typer.Option(1_000, min=1, help="Well-formed tokens that no app holds."),
    seed: int = typer.Option(20260101, help="Random seed: same seed and scale, same data."),
    reset: bool = typer.Option(False, help="Wipe the database first (SQLite file or schema)."),
    warm_period: RateLimitPeriod = typer.Option(
        WARM_PERIOD.value,
        case_sensitive=False,
        help="The window of the warm plan's rate limit (minute: every app asked within the "
        "last minute keeps a live counter).",
    ),
    certificates: int = typer.Option(
        0, min=0, help="MTLS apps, each with one registered certificate (0: none)."
    ),
) -> None:
    """Generate the dataset and write the fixtures file and token files the benchmark reads."""
    url = database_url or f"sqlite+aiosqlite:///{RESULTS}/decision-{scale_label(credentials)}.db"
    path = out or default_out(url, credentials)
    started = time.perf_counter()
    generated = asyncio.run(
        generate(
            url,
            credentials=credentials,
            limited=limited,
            sample=sample,
            unknown=unknown,
            seed=seed,
            reset=reset,
            warm_period=warm_period,
            certificates=certificates,
        )
    )
    seconds = time.perf_counter() - started
    warm_file = path.with_suffix(".warm.txt")
    unknown_file = path.with_suffix(".unknown.txt")
    limited_file = path.with_suffix(".limited.txt")
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_tokens(warm_file, generated.warm_sample)
    _write_tokens(unknown_file, generated.unknown)
    _write_tokens(limited_file, generated.limited)
    certificates_file = path.with_suffix(".certificates.txt")
    unknown_certificates_file = path.with_suffix(".unknown-certificates.txt")
    if certificates:
        _write_tokens(certificates_file, generated.certificates)
        _write_tokens(unknown_certificates_file, generated.unknown_certificates)
    DecisionFixtures(
        database_url=url,
        secret_key=bench_secret(seed, "secret-key"),
        gateway_secret=bench_secret(seed, "gateway-secret"),
        seed=seed,
        credentials=credentials,
        api=API_IDENTIFIER,
        warm_plan=f"{WARM_LIMIT}/{warm_period.value}",
        limited_plan=f"{LIMITED_LIMIT[0]}/{LIMITED_LIMIT[1].value}",
        warm_tokens_file=str(warm_file),
        warm_tokens=len(generated.warm_sample),
        unknown_tokens_file=str(unknown_file),
        unknown_tokens=len(generated.unknown),
        limited_tokens_file=str(limited_file),
        limited_tokens=len(generated.limited),
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        generation_seconds=round(seconds, 1),
        certificates=certificates,
        certificates_file=str(certificates_file) if certificates else "",
        unknown_certificates_file=str(unknown_certificates_file) if certificates else "",
    ).save(path)
    typer.echo(f"Generated {credentials:,} apps in {seconds:.0f} s; fixtures in {path}", err=True)


if __name__ == "__main__":
    cli()
