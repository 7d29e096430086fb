"""The in-memory counters of the rate limiter (``decision/counters.py``): counts, windows,
expiry on a clock the tests move, and work per increment that does not grow with the number of
other live counters."""

from __future__ import annotations

import uuid
from collections import UserDict
from collections.abc import Iterator
from datetime import UTC, datetime

from limits import RateLimitItemPerMinute

from accessplane.decision.counters import SWEEP_BATCH, MemoryCounters, Window
from accessplane.decision.policies import PlanPolicy, Quota, QuotaPeriod
from accessplane.decision.ratelimits import Limiter, storage_for
from accessplane.decision.reasons import Reason


class Clock:
    """A clock that moves only when told to."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class CountingWindows(UserDict[str, Window]):
    """The store's windows, noting every key read, written, removed or iterated over."""

    def __init__(self) -> None:
        super().__init__()
        self.touched: set[str] = set()

    def __getitem__(self, key: str) -> Window:
        self.touched.add(key)
        return super().__getitem__(key)

    def __setitem__(self, key: str, value: Window) -> None:
        self.touched.add(key)
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        self.touched.add(key)
        super().__delitem__(key)

    def __contains__(self, key: object) -> bool:
        self.touched.add(str(key))
        return super().__contains__(key)

    def __iter__(self) -> Iterator[str]:
        for key in super().__iter__():
            self.touched.add(key)
            yield key


async def test_counts_add_up_within_a_window() -> None:
    store = MemoryCounters(clock=Clock())

    assert [await store.incr("a", 60) for _ in range(3)] == [1, 2, 3]
    assert await store.incr("a", 60, amount=5) == 8
    assert await store.incr("b", 60) == 1
    assert await store.get("a") == 8
    assert await store.get("unknown") == 0


async def test_a_window_starts_with_its_first_request_and_ends_after_its_length() -> None:
    clock = Clock()
    store = MemoryCounters(clock=clock)
    await store.incr("a", 60)
    start = clock.now

    clock.now += 59.5
    assert await store.incr("a", 60) == 2  # the same window: it did not restart
    assert await store.get_expiry("a") == start + 60

    clock.now = start + 60
    assert await store.get("a") == 0
    assert await store.get_expiry("a") == clock.now  # no window: now, as limits' storages say
    assert await store.incr("a", 60) == 1
    assert await store.get_expiry("a") == start + 120


async def test_clear_and_reset_forget_windows() -> None:
    store = MemoryCounters(clock=Clock())
    for key in ("a", "b", "c"):
        await store.incr(key, 60)

    await store.clear("a")
    assert await store.get("a") == 0
    assert await store.incr("a", 60) == 1
    assert await store.reset() == 3
    assert [await store.get(key) for key in ("a", "b", "c")] == [0, 0, 0]
    assert await store.incr("b", 60) == 1
    assert await store.check()


async def test_expired_windows_are_swept_without_being_counted_again() -> None:
    clock = Clock()
    store = MemoryCounters(clock=clock, sweep_batch=2)
    for n in range(10):
        await store.incr(f"idle-{n}", 1)
    await store.incr("month", 31 * 86400)
    clock.now += 2

    await store.incr("busy", 1)
    assert len(store.windows) == 12 - 2  # two swept per increment
    for _ in range(4):
        await store.incr("busy", 1)
    assert set(store.windows) == {"month", "busy"}  # a long window does not hold the others up
    assert await store.get("busy") == 5


async def test_a_renewed_window_is_not_swept_with_its_predecessor() -> None:
    clock = Clock()
    store = MemoryCounters(clock=clock, sweep_batch=10)
    await store.incr("a", 1)
    clock.now += 1
    assert await store.incr("a", 1) == 1  # a new window; the first one's end is still queued
    clock.now += 0.5

    await store.incr("b", 1)  # sweeps the first window's entry
    assert await store.get("a") == 1


async def test_an_increment_touches_few_entries_among_20k_live_counters() -> None:
    clock = Clock()
    store = MemoryCounters(clock=clock)
    windows = store.windows = CountingWindows()
    for n in range(20_000):
        await store.incr(f"app-{n}", 60)
    clock.now += 30

    windows.touched.clear()
    assert await store.incr("app-7", 60) == 2
    assert await store.get_expiry("app-7") == clock.now + 30
    assert windows.touched == {"app-7"}

    # All 20 k windows ended at once: each increment sweeps a bounded share of them.
    clock.now += 60
    for n in range(100):
        windows.touched.clear()
        assert await store.incr(f"new-{n}", 60) == 1
        assert len(windows.touched) <= SWEEP_BATCH + 1
    assert len(windows) == 20_000 - 100 * SWEEP_BATCH + 100


async def test_the_limiter_counts_rate_limits_and_quotas_in_memory() -> None:
    limiter = Limiter(storage_for(None))
    assert isinstance(limiter.storage, MemoryCounters)
    plan = PlanPolicy(
        id=uuid.uuid4(),
        rate_limit=RateLimitItemPerMinute(2),
        quota=Quota(3, QuotaPeriod.DAY),
        window=None,
    )
    app, now = uuid.uuid4(), datetime.now(UTC)

    outcomes = [await limiter.check(plan, app, now) for _ in range(3)]
    assert [o.reason for o in outcomes] == [None, None, Reason.RATE_LIMITED]
    assert [o.state.remaining for o in outcomes if o.state] == [1, 0, 0]
    assert all(0 < o.state.reset_seconds <= 60 for o in outcomes if o.state)

    other = PlanPolicy(id=uuid.uuid4(), rate_limit=None, quota=plan.quota, window=None)
    reasons = [(await limiter.check(other, app, now)).reason for _ in range(2)]
    assert reasons == [None, Reason.QUOTA_EXCEEDED]  # 2 counted before, the third passes
