"""The Dockerfile and compose.yaml, checked without a Docker engine: the image is production by
default and refuses to start without a secret (its environment, run through the CLI), base
images are pinned, the compose services restart, check their health, keep secrets out of the
file and the Owner key out of the log, and the compose nginx spreads requests over the
instances with the client's own address (a real nginx, where installed)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.conftest import require_service
from tests.decision.test_nginx import serving
from tests.support.nginx import NginxProcess, free_port, nginx_binary

ROOT = Path(__file__).parent.parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text()
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
NGINX_CONF = ROOT / "deploy" / "compose" / "nginx.conf"
# An exact release: name:1.2.3 (PostgreSQL's releases are 16.9) with an optional variant
# (-slim-bookworm, -alpine).
EXACT = re.compile(r"^(postgres:\d+\.\d+|[a-z0-9./-]+:\d+\.\d+\.\d+)(-[a-z0-9-]+)?$")


def runtime_environment() -> dict[str, str]:
    """The ENV of the Dockerfile's last stage (the image that runs)."""
    last_stage = DOCKERFILE[DOCKERFILE.rindex("\nFROM ") :]
    [block] = re.findall(r"^ENV (.*?)(?<!\\)$", last_stage, flags=re.MULTILINE | re.DOTALL)
    pairs = re.findall(r"(\w+)=(\S+)", block)
    return dict(pairs)


def test_the_image_is_production_by_default() -> None:
    environment = runtime_environment()

    assert environment["ACCESSPLANE_ENVIRONMENT"] == "production"
    assert environment["ACCESSPLANE_GRAPHIQL"] == "false"
    assert "ACCESSPLANE_SECRET_KEY" not in environment
    assert not re.search(r"^ARG .*SECRET", DOCKERFILE, flags=re.MULTILINE)


def test_the_image_refuses_to_start_without_a_secret_in_one_line(tmp_path: Path) -> None:
    # The image's environment, with its data folder moved here; no ACCESSPLANE_SECRET_KEY.
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ACCESSPLANE_")}
    image = runtime_environment()
    image["ACCESSPLANE_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path}/accessplane.db"
    command = [str(Path(sys.executable).parent / "accessplane"), "serve"]

    done = subprocess.run(
        command,
        env=environment | image,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode != 0
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "ACCESSPLANE_SECRET_KEY" in done.stderr
    assert not (tmp_path / "accessplane.db").exists()


def test_base_images_are_pinned_to_releases() -> None:
    images = re.findall(r"^FROM (\S+)", DOCKERFILE, flags=re.MULTILINE)
    images += [s["image"] for s in SERVICES.values() if not s["image"].startswith("accessplane")]

    assert len(images) >= 6
    assert [image for image in images if not EXACT.match(image)] == []


def test_the_image_runs_as_a_user_and_checks_the_configured_port() -> None:
    [user] = re.findall(r"^USER (\S+)$", DOCKERFILE, flags=re.MULTILINE)
    [healthcheck] = re.findall(r"^HEALTHCHECK .*?\n(?!\s)", DOCKERFILE, flags=re.M | re.S)

    assert not user.startswith(("0:", "root"))
    assert "ACCESSPLANE_PORT" in healthcheck
    assert "/readyz" in healthcheck
    assert re.search(r"^VOLUME \[\"/var/lib/accessplane\"\]$", DOCKERFILE, flags=re.M)


def test_compose_services_restart_and_check_their_health() -> None:
    long_running = {name for name in SERVICES if name != "init"}

    assert {SERVICES[n].get("restart") for n in long_running} == {"unless-stopped"}
    assert SERVICES["init"]["restart"] == "no"
    # The worker serves no HTTP, so the image's HTTP check would call it unhealthy.
    checked = {n for n in long_running if "test" in SERVICES[n].get("healthcheck", {})}
    assert checked == long_running - {"worker", "accessplane"}
    assert SERVICES["worker"]["healthcheck"] == {"disable": True}
    assert "healthcheck" not in SERVICES["accessplane"]  # the image's HEALTHCHECK


def test_compose_runs_several_instances_behind_nginx_only() -> None:
    accessplane = SERVICES["accessplane"]

    assert accessplane["deploy"]["replicas"] >= 2
    assert "ports" not in accessplane
    assert [name for name, s in SERVICES.items() if "ports" in s] == ["nginx"]
    assert "http://accessplane:8000" in NGINX_CONF.read_text()


def test_compose_keeps_secrets_in_the_env_file() -> None:
    environment = SERVICES["accessplane"]["environment"]
    redis = SERVICES["redis"]

    assert environment["ACCESSPLANE_GRAPHIQL"] == "false"
    assert environment["ACCESSPLANE_ENVIRONMENT"] == "production"
    assert environment["ACCESSPLANE_SECRET_KEY"].startswith("${ACCESSPLANE_SECRET_KEY:?")
    assert "${POSTGRES_PASSWORD:?" in environment["ACCESSPLANE_DATABASE_URL"]
    assert environment["ACCESSPLANE_REDIS_URL"].startswith("redis://:${REDIS_PASSWORD:?")
    assert redis["command"][redis["command"].index("--requirepass") + 1].startswith(
        "${REDIS_PASSWORD:?"
    )
    assert SERVICES["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith(
        "${POSTGRES_PASSWORD:?"
    )
    example = (ROOT / "deploy" / "compose" / "env.example").read_text()
    assert {"ACCESSPLANE_SECRET_KEY=", "POSTGRES_PASSWORD=", "REDIS_PASSWORD="} <= set(
        example.splitlines()
    )


def test_compose_writes_the_owner_key_to_a_file_not_the_log() -> None:
    init = SERVICES["init"]
    script = init["command"][-1]

    assert "accessplane init " in script
    assert "--owner-key-file /var/lib/accessplane/owner-key" in script
    assert "init:/var/lib/accessplane" in init["volumes"]
    # serve bootstraps (and prints a key) only on an empty database: init must run first.
    for name in ("accessplane", "worker"):
        assert SERVICES[name]["depends_on"]["init"] == {
            "condition": "service_completed_successfully"
        }


async def echo(request: Request) -> JSONResponse:
    body = await request.body()
    return JSONResponse({"headers": dict(request.headers), "body": len(body)})


@asynccontextmanager
async def compose_nginx(directory: Path, upstream: int) -> AsyncIterator[str]:
    """deploy/compose/nginx.conf on a free port, sending to 127.0.0.1:``upstream`` instead of
    Docker's DNS name (the only change)."""
    require_service("nginx", nginx_binary() is not None, "apt-get install nginx-light")
    listen = free_port()
    text = NGINX_CONF.read_text()
    for old, new in (
        ("listen 80;", f"listen 127.0.0.1:{listen};"),
        ("http://accessplane:8000", f"http://127.0.0.1:{upstream}"),
    ):
        assert text.count(old) == 1
        text = text.replace(old, new)
    nginx = NginxProcess(directory, text, ports=[listen])
    await nginx.start()
    try:
        yield f"http://127.0.0.1:{listen}"
    finally:
        await nginx.stop()


async def test_compose_nginx_forwards_with_the_clients_address(tmp_path: Path) -> None:
    upstream = free_port()
    app = Starlette(routes=[Route("/{path:path}", echo, methods=["GET", "POST"])])
    async with (
        serving(app, upstream),
        compose_nginx(tmp_path / "nginx", upstream) as url,
        httpx.AsyncClient(base_url=url) as client,
    ):
        forged = await client.get("/graphql", headers={"X-Forwarded-For": "198.51.100.9"})
        upload = await client.post("/graphql", content=b"x" * 2_000_000)
        too_big = await client.post("/graphql", content=b"x" * 4_000_000)

    headers = forged.json()["headers"]
    assert headers["x-forwarded-for"] == "127.0.0.1"
    assert headers["host"] == url.removeprefix("http://")
    assert headers["x-request-id"]
    assert upload.json()["body"] == 2_000_000
    assert too_big.status_code == 413
