# AccessPlane: one stateless instance. Configure with ACCESSPLANE_* environment variables.
FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-cache-dir --prefix=/install ".[postgres,redis]"

FROM python:3.12-slim
RUN useradd --system --uid 10001 --home /var/lib/accessplane --create-home accessplane
COPY --from=build /install /usr/local
USER accessplane
WORKDIR /var/lib/accessplane
ENV ACCESSPLANE_HOST=0.0.0.0 \
    ACCESSPLANE_PORT=8000 \
    ACCESSPLANE_DATABASE_URL=sqlite+aiosqlite:////var/lib/accessplane/accessplane.db
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/readyz').status != 200)"
CMD ["accessplane", "serve"]
