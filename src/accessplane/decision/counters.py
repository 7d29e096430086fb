"""Fixed-window counters in this process's memory: the rate limiter's store on one instance.

``limits``' own in-memory storage walks every live counter on each increment (its expiry
sweep), so a decision costs more the more other apps are active: 13 % of the CPU with 1 000
live counters, 68.5 % with 20 000. Here a counter is a dictionary entry (count, end of its
window): an expired window is replaced when its key is next counted, and the windows nobody
counts again are swept a few at a time, oldest first, on each increment. A decision therefore
touches a bounded number of entries whatever the number of live counters.

The store has the methods of ``limits``' async storages that the limiter uses (``incr``,
``get``, ``get_expiry``, ``clear``, ``reset``), so the limiter counts in memory and in Redis
alike. It runs on the event loop's thread, and none of its methods awaits: each is atomic.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass

# Expired windows removed at most per increment. Each increment opens at most one window, so
# any number above 1 removes them faster than they appear.
SWEEP_BATCH = 4


@dataclass(slots=True)
class Window:
    """A counter and the time (``clock`` seconds) its window ends."""

    count: int
    end: float


class MemoryCounters:
    """Fixed-window counters with lazy expiry and a bounded sweep per increment."""

    def __init__(
        self, *, clock: Callable[[], float] = time.time, sweep_batch: int = SWEEP_BATCH
    ) -> None:
        # Wall-clock seconds by default: ``get_expiry`` answers a time, like ``limits``' storages.
        self.clock = clock
        self.sweep_batch = sweep_batch
        self.windows: MutableMapping[str, Window] = {}
        # By window length, the (end, key) of every window opened, in the order they were
        # opened: windows of one length end in that order too, so the expired ones are in front.
        # A key's entry is stale once the key has a later window; the sweep skips it.
        self._ending: dict[float, deque[tuple[float, str]]] = {}

    async def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        """Add ``amount`` to the count of ``key``'s window, opening a window of ``expiry``
        seconds if it has none (or its window ended); the count after adding."""
        now = self.clock()
        self._sweep(now)
        window = self.windows.get(key)
        if window is not None and window.end > now:
            window.count += amount
            return window.count
        end = now + expiry
        self.windows[key] = Window(amount, end)
        ending = self._ending.get(expiry)
        if ending is None:
            ending = self._ending[expiry] = deque()
        ending.append((end, key))
        return amount

    async def get(self, key: str) -> int:
        """The count of ``key``'s current window (0 without one)."""
        window = self.windows.get(key)
        return window.count if window is not None and window.end > self.clock() else 0

    async def get_expiry(self, key: str) -> float:
        """When ``key``'s window ends; now if it has none."""
        now = self.clock()
        window = self.windows.get(key)
        return window.end if window is not None and window.end > now else now

    async def clear(self, key: str) -> None:
        """Forget ``key``'s window: its next request opens a new one."""
        self.windows.pop(key, None)

    async def reset(self) -> int:
        """Forget every window; the number there was."""
        count = len(self.windows)
        self.windows.clear()
        self._ending.clear()
        return count

    async def check(self) -> bool:
        """Always reachable (``limits``' health check)."""
        return True

    def _sweep(self, now: float) -> None:
        """Remove up to ``sweep_batch`` windows that ended, oldest first in each length."""
        budget = self.sweep_batch
        for ending in self._ending.values():
            while budget > 0 and ending and ending[0][0] <= now:
                end, key = ending.popleft()
                budget -= 1
                window = self.windows.get(key)
                if window is not None and window.end == end:
                    del self.windows[key]
            if budget == 0:
                return
