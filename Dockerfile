# AccessPlane: one stateless instance. Configure with ACCESSPLANE_* environment variables.

# The console (console/): built here so the image, like the wheel, needs no Node at run time.
FROM node:20-slim AS console
WORKDIR /src
COPY schema.graphql ./
COPY console/package.json console/package-lock.json ./console/
RUN PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix console --no-audit --no-fund
COPY console ./console
RUN npm run build --prefix console

FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md requirements.lock ./
COPY src ./src
COPY --from=console /src/src/accessplane/console_dist ./src/accessplane/console_dist
RUN pip install --no-cache-dir --prefix=/install -c requirements.lock ".[postgres,redis]"

FROM python:3.12-slim
RUN useradd --system --uid 10001 --home /var/lib/accessplane --create-home accessplane
COPY --from=build /install /usr/local
USER accessplane
WORKDIR /var/lib/accessplane
ENV ACCESSPLANE_HOST=0.0.0.0 \
    ACCESSPLANE_PORT=8000 \
    ACCESSPLANE_DATABASE_URL=sqlite+aiosqlite:////var/lib/accessplane/accessplane.db
VOLUME /var/lib/accessplane
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s CMD python -c "import os,urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:%s/readyz' % os.environ.get('ACCESSPLANE_PORT', '8000')).status != 200)"
CMD ["accessplane", "serve"]
