"""A real nginx for tests, run by the test's user in a directory of its own.

Everything nginx writes (pid, logs, temporary files) stays in that directory, it listens on free
loopback ports only, and it runs in the foreground as one process, so a test can start and stop
it like any other child process. ``NginxProcess.http`` is what goes inside the ``http`` block.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

FALLBACK_BINARY = Path("/usr/sbin/nginx")  # Debian's path, not on a normal user's PATH
AUTH_REQUEST_MODULE = "--with-http_auth_request_module"


def nginx_binary() -> str | None:
    """nginx from PATH, else Debian's /usr/sbin/nginx, else None."""
    found = shutil.which("nginx")
    if found is not None:
        return found
    if os.access(FALLBACK_BINARY, os.X_OK):
        return str(FALLBACK_BINARY)
    return None


def nginx_unavailable_reason() -> str | None:
    """Why nginx cannot run the gateway tests here, or None."""
    binary = nginx_binary()
    if binary is None:
        return "nginx is not installed (apt-get install nginx-light)"
    # `nginx -V` prints its build options on stderr.
    built = subprocess.run([binary, "-V"], capture_output=True, text=True, check=False)
    if AUTH_REQUEST_MODULE not in built.stdout + built.stderr:
        return f"{binary} was built without the auth_request module"
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


MAIN_CONFIG = """\
daemon off;
master_process off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log notice;

events {{
    worker_connections 256;
}}

http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    default_type application/octet-stream;

{http}
}}
"""


@dataclass
class NginxProcess:
    """One nginx serving ``http`` (the inside of the ``http`` block) from ``directory``, ready
    once every port of ``ports`` accepts connections."""

    directory: Path
    http: str
    ports: list[int] = field(default_factory=list)
    start_timeout: float = 10.0
    stop_timeout: float = 10.0
    process: asyncio.subprocess.Process | None = None

    @property
    def config_path(self) -> Path:
        return self.directory / "nginx.conf"

    def _command(self, *extra: str) -> list[str]:
        binary = nginx_binary()
        if binary is None:
            raise RuntimeError(nginx_unavailable_reason())
        prefix, error_log = f"{self.directory}/", str(self.directory / "error.log")
        return [binary, "-p", prefix, "-c", str(self.config_path), "-e", error_log, *extra]

    def write_config(self) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(MAIN_CONFIG.format(dir=self.directory, http=self.http))
        return self.config_path

    async def check_config(self) -> str:
        """``nginx -t`` on the written configuration; raises with its output if invalid."""
        self.write_config()
        check = await asyncio.create_subprocess_exec(
            *self._command("-t"),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await check.communicate()
        text = output.decode()
        if check.returncode != 0:
            raise RuntimeError(f"nginx -t failed:\n{text}")
        return text

    async def start(self) -> NginxProcess:
        self.write_config()
        with (self.directory / "stderr.log").open("ab") as stderr:
            self.process = await asyncio.create_subprocess_exec(
                *self._command(), stdout=stderr, stderr=stderr
            )
        await self._wait_ready()
        return self

    async def _wait_ready(self) -> None:
        """Poll the ports until they accept connections (bounded); fail if nginx exits."""
        deadline = time.monotonic() + self.start_timeout
        waiting = list(self.ports)
        while waiting:
            assert self.process is not None
            if self.process.returncode is not None:
                raise RuntimeError(f"nginx exited ({self.process.returncode}):\n{self.errors()}")
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", waiting[0])
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"nginx did not listen on {waiting[0]} in {self.start_timeout}s:\n"
                        f"{self.errors()}"
                    ) from None
                await asyncio.sleep(0.02)
                continue
            writer.close()
            await writer.wait_closed()
            waiting.pop(0)

    async def stop(self) -> None:
        """Graceful shutdown (SIGQUIT), then SIGTERM, then SIGKILL, each bounded."""
        process, self.process = self.process, None
        if process is None or process.returncode is not None:
            return
        for sig in (signal.SIGQUIT, signal.SIGTERM, signal.SIGKILL):
            process.send_signal(sig)
            try:
                await asyncio.wait_for(process.wait(), self.stop_timeout)
                return
            except TimeoutError:
                continue

    def log(self, name: str) -> list[str]:
        """The lines of a log written in the directory (none if it does not exist yet)."""
        path = self.directory / name
        return path.read_text().splitlines() if path.exists() else []

    def errors(self) -> str:
        return "\n".join(self.log("error.log") + self.log("stderr.log"))
