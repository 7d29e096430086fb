"""nginx running deploy/nginx/accessplane.conf in front of the e2e server, for story.spec.ts.

Usage: ``python gateway.py DIRECTORY ACCESSPLANE_PORT API_IDENTIFIER``. Templates the documented
configuration the way tests/decision/test_nginx.py does (free loopback ports, the upstream a
second server of the same nginx that answers 200) and asks about the API ``API_IDENTIFIER``
rather than "orders". Prints one JSON line, ``{"port": N}`` once nginx listens or
``{"skip": reason}`` if nginx cannot run here, and stops nginx on SIGTERM or SIGINT.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.support.nginx import NginxProcess, free_port, nginx_unavailable_reason  # noqa: E402

GATEWAY_CONF = REPO / "deploy" / "nginx" / "accessplane.conf"
UPSTREAM = """\
server {{
    listen 127.0.0.1:{port};
    location / {{
        default_type text/plain;
        return 200 "upstream reached\\n";
    }}
}}
"""


def gateway_config(*, listen: int, accessplane: int, upstream: int, api: str) -> str:
    """The documented configuration with this run's addresses; each placeholder must occur
    once, so a change of the documented file's shape is noticed."""
    text = GATEWAY_CONF.read_text()
    for old, new in {
        "listen 80;": f"listen 127.0.0.1:{listen};",
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{accessplane};",
        "server 127.0.0.1:9000;": f"server 127.0.0.1:{upstream};",
        "authorize?api=orders;": f"authorize?api={api};",
    }.items():
        if text.count(old) != 1:
            raise SystemExit(f"{old!r} should occur once in {GATEWAY_CONF}")
        text = text.replace(old, new)
    return text


async def serve(directory: Path, accessplane: int, api: str) -> None:
    reason = nginx_unavailable_reason()
    if reason is not None:
        print(json.dumps({"skip": reason}), flush=True)
        return
    listen, upstream = free_port(), free_port()
    config = gateway_config(listen=listen, accessplane=accessplane, upstream=upstream, api=api)
    http = UPSTREAM.format(port=upstream) + config
    nginx = NginxProcess(directory, http, ports=[listen, upstream])
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    await nginx.start()
    try:
        print(json.dumps({"port": listen}), flush=True)
        await stop.wait()
    finally:
        await nginx.stop()


if __name__ == "__main__":
    asyncio.run(serve(Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]))
