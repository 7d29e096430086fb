"""AccessPlane with the rate limiter counting in ``limits``' own in-memory storage, as before
``decision/counters.py``: the yardstick of the live-counters scenario.

    .venv/bin/python -m bench.decision_run --app bench.decision_limits_memory:create_app ...
"""

from __future__ import annotations

from limits.aio.storage import MemoryStorage
from starlette.applications import Starlette

import accessplane.app


def create_app() -> Starlette:
    """The app, its limiter's in-memory counters in ``limits.aio.storage.MemoryStorage``."""
    accessplane.app.storage_for = lambda redis_url: MemoryStorage()  # type: ignore[assignment]
    return accessplane.app.create_app()
