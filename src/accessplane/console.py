"""The console: the single-page app built from ``console/`` into ``console_dist/``.

``/`` and every other browser navigation outside the API's own paths get ``index.html`` (the
app's router takes it from there); ``/assets/*`` are Vite's content-hashed files, cached for a
year; ``index.html`` is never cached, so a new build is picked up at once. GraphiQL at
``/graphql`` is served from the same build, so it works without internet. Without a build, ``/``
says how to get one.
"""

from __future__ import annotations

import html
import json
import logging
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Route

from accessplane.settings import Settings

logger = logging.getLogger(__name__)

DIST = Path(__file__).parent / "console_dist"

# Paths the console never answers for: the API's own (a typo there is a 404, not the app).
API_PREFIXES = ("/graphql", "/auth", "/v1", "/healthz", "/readyz", "/metrics", "/logos", "/assets")

# Scripts and styles only from this origin; Mantine and CodeMirror set inline style attributes.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
NO_CACHE = {"Cache-Control": "no-cache", **SECURITY_HEADERS}
IMMUTABLE = {
    "Cache-Control": "public, max-age=31536000, immutable",
    "X-Content-Type-Options": "nosniff",
}

MISSING_BUILD = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>AccessPlane</title></head>
<body style="font-family: sans-serif; max-width: 40rem; margin: 3rem auto; line-height: 1.5">
<h1>AccessPlane is running</h1>
<p>The API is at <a href="/graphql">/graphql</a>, but the console has not been built.</p>
<p>Install Node.js 20 or newer (with npm) and run <code>make serve</code>: it builds the console
from <code>console/</code> before starting the server. An installed wheel or the Docker image
carries the console already.</p>
</body></html>
"""

CONFIG_MARKER = "<!-- accessplane-config -->"


class Console:
    """Routes serving the built console and its GraphiQL page."""

    def __init__(self, settings: Settings, dist: Path | None = None) -> None:
        self.settings = settings
        self.dist = dist or DIST
        # What the sign-in page needs before anyone is signed in: the login providers.
        providers = [
            {"key": issuer.key, "name": issuer.name or issuer.issuer}
            for issuer in settings.oidc_issuers
            if issuer.client_id
        ]
        config = json.dumps({"providers": providers}, separators=(",", ":"))
        self.config_meta = f'<meta name="accessplane-config" content="{html.escape(config)}">'

    def routes(self) -> list[Route]:
        """Add these last: the catch-all answers only what no other route took."""
        return [
            Route("/assets/{path:path}", self.asset, methods=["GET", "HEAD"]),
            Route("/{path:path}", self.page, methods=["GET", "HEAD"]),
        ]

    def _html(self, name: str) -> str | None:
        try:
            text = (self.dist / name).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        return text.replace(CONFIG_MARKER, self.config_meta)

    async def asset(self, request: Request) -> Response:
        """A content-hashed build file: cached for a year, never changes under its name."""
        assets = (self.dist / "assets").resolve()
        wanted = (assets / request.path_params["path"]).resolve()
        if not wanted.is_relative_to(assets) or not wanted.is_file():
            return Response("Not Found", status_code=404, media_type="text/plain")
        return FileResponse(wanted, headers=IMMUTABLE)

    async def page(self, request: Request) -> Response:
        """``index.html`` for browser navigations (the history fallback), else 404."""
        path = request.url.path
        if any(path == prefix or path.startswith(prefix + "/") for prefix in API_PREFIXES):
            return Response("Not Found", status_code=404, media_type="text/plain")
        name = request.path_params["path"]
        if name and "/" not in name and name != "index.html":
            # Files of the build's root (favicon): short cache, they keep their names.
            static = self.dist / name
            if static.is_file() and not name.endswith(".html"):
                return FileResponse(static, headers={"Cache-Control": "public, max-age=3600"})
        if path != "/" and "text/html" not in request.headers.get("accept", ""):
            return Response("Not Found", status_code=404, media_type="text/plain")
        page = self._html("index.html")
        if page is None:
            return HTMLResponse(MISSING_BUILD, headers=NO_CACHE)
        return HTMLResponse(page, headers=NO_CACHE)

    def graphiql(self) -> Response | None:
        """GraphiQL from the console's build (no CDN), or None when the build is missing."""
        page = self._html("graphiql.html")
        if page is None:
            return None
        return HTMLResponse(page, headers=NO_CACHE)
