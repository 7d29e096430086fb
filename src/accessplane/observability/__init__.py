"""What operators watch: Prometheus metrics (``metrics``), structured logs (``logging``) and
optional OpenTelemetry traces (``tracing``); docs/observability.md describes them."""
