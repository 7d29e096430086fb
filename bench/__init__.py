"""Reproducible benchmarks of AccessPlane and their data generator (see bench/README.md)."""
