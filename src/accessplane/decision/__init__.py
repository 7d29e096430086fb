"""The data plane: ``/v1/check`` and forward auth, their caches, rate limits and usage."""
