# AccessPlane: one stateless instance, production by default. Configure with ACCESSPLANE_*
# environment variables; it refuses to start without a real ACCESSPLANE_SECRET_KEY.
#
# Base images are pinned to exact versions. Pin them to digests too (image@sha256:...) where
# your registry is reachable: the digests were not recorded here because the machine that wrote
# this file could not reach the registry to read them.

# The console (console/): built here so the image, like the wheel, needs no Node at run time.
FROM node:20.19.5-bookworm-slim AS console
WORKDIR /src
COPY schema.graphql ./
COPY console/package.json console/package-lock.json ./console/
RUN PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix console --no-audit --no-fund
COPY console ./console
RUN npm run build --prefix console

# Python 3.11: the version the lockfiles are compiled for and CI tests.
FROM python:3.11.13-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md requirements.lock ./
COPY src ./src
COPY --from=console /src/src/accessplane/console_dist ./src/accessplane/console_dist
RUN pip install --no-cache-dir --prefix=/install -c requirements.lock ".[postgres,redis]"

FROM python:3.11.13-slim-bookworm
# A numeric user, so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
RUN groupadd --system --gid 10001 accessplane \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/accessplane --create-home \
        --shell /usr/sbin/nologin accessplane
COPY --from=build /install /usr/local
USER 10001:10001
WORKDIR /var/lib/accessplane
# Production: the default secret is refused, cookies are Secure, GraphiQL is off (set
# ACCESSPLANE_GRAPHIQL=true to serve it). The SQLite default lives in the volume below;
# PostgreSQL deployments set ACCESSPLANE_DATABASE_URL instead.
ENV ACCESSPLANE_ENVIRONMENT=production \
    ACCESSPLANE_GRAPHIQL=false \
    ACCESSPLANE_HOST=0.0.0.0 \
    ACCESSPLANE_PORT=8000 \
    ACCESSPLANE_DATABASE_URL=sqlite+aiosqlite:////var/lib/accessplane/accessplane.db \
    PYTHONUNBUFFERED=1
VOLUME ["/var/lib/accessplane"]
EXPOSE 8000
# Asks the port the server was configured with, so a changed ACCESSPLANE_PORT stays healthy.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; port = os.environ.get('ACCESSPLANE_PORT', '8000'); sys.exit(urllib.request.urlopen(f'http://127.0.0.1:{port}/readyz', timeout=2).status != 200)"]
CMD ["accessplane", "serve"]
