"""The decision endpoint's memory: credentials it has looked up, and the ones that do not exist.

Two bounded LRU maps: ``entries`` holds what a lookup found (an app's policy, a member's reach
to an API, or a known "no"), each with the tags of the rows it was built from; ``unknown``
holds keyed hashes of tokens that match nothing, so that guessing costs no SQL. ``invalidate``
drops every entry carrying one of the tags of a committed change.

A lookup that straddles an invalidation must not store what it read before the change: loads
take a ``generation`` first and ``put`` refuses them if an invalidation happened since.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any

from accessplane.db.changes import TRUSTED_ISSUERS


@dataclass(slots=True)
class _Entry:
    value: Any
    tags: tuple[str, ...]
    expires: float


_CERTIFICATE_TAG = "certificate:"


def certificate_key(digest: bytes) -> tuple[str, bytes]:
    """The key of a client certificate (the raw SHA-256 of its DER) in both maps."""
    return ("certificate", digest)


def _changes_products(tags: list[str]) -> bool:
    """Whether a change may change which APIs MTLS products hold: a product, its APIs or an
    API's identifier changed."""
    return any(name.startswith(("api:", "api_product:")) for name in tags)


def _creates_credentials(name: str) -> bool:
    """Whether a change may turn an unknown credential into a known one: a new app trusting an
    issuer (or a new client id for it), a new user or service account of an OIDC issuer.
    New ``apt_`` tokens need nothing: their hashes were never seen."""
    return name == TRUSTED_ISSUERS or name.startswith("identity:")


class DecisionCache:
    """Tagged LRU of looked-up credentials plus an LRU of unknown ones."""

    def __init__(
        self,
        *,
        size: int,
        unknown_size: int,
        ttl: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.size, self.unknown_size, self.ttl, self.clock = size, unknown_size, ttl, clock
        self.entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self.unknown: OrderedDict[Hashable, float] = OrderedDict()
        # tag -> the key of its only entry, or a set of keys (most tags name one app).
        self._by_tag: dict[str, Hashable | set[Hashable]] = {}
        self._interned: dict[Any, Any] = {}
        self.generation = 0
        # Plain counts (read by the metrics at scrape time): hit ratios cost nothing per call.
        self.hits = self.misses = self.unknown_hits = 0
        # The identifiers of the APIs MTLS products hold (``loading.certificate_apis``) and
        # when they expire: one value, not a credential, so kept apart from ``entries``.
        self._certificate_apis: tuple[frozenset[str], float] | None = None

    def certificate_apis(self) -> frozenset[str] | None:
        """The cached identifiers of the APIs MTLS products hold, or None."""
        found = self._certificate_apis
        if found is None or found[1] <= self.clock():
            return None
        return found[0]

    def put_certificate_apis(self, apis: frozenset[str], generation: int) -> None:
        """Keep the MTLS products' APIs, unless something changed since their load began."""
        if generation == self.generation:
            self._certificate_apis = (apis, self.clock() + self.ttl)

    def intern(self, value: Any) -> Any:
        """One shared copy of an immutable value that many entries hold (a workspace id, a
        plan, a set of APIs), so memory grows with credentials, not with their attributes."""
        found = self._interned.get(value)
        if found is not None:
            return found
        if len(self._interned) >= self.size:
            self._interned.clear()  # stale values pile up only through churn; start afresh
        self._interned[value] = value
        return value

    def get(self, key: Hashable) -> Any | None:
        """The cached value, or None when absent or older than the TTL."""
        entry = self.entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        if entry.expires <= self.clock():
            self._drop(key)
            self.misses += 1
            return None
        self.entries.move_to_end(key)
        self.hits += 1
        return entry.value

    def put(self, key: Hashable, value: Any, tags: Iterable[str], generation: int) -> None:
        """Store a lookup's result, unless something changed since it began."""
        if generation != self.generation:
            return
        self._drop(key)
        entry = _Entry(value, tuple(tags), self.clock() + self.ttl)
        self.entries[key] = entry
        for name in entry.tags:
            found = self._by_tag.get(name)
            if found is None:
                self._by_tag[name] = key
            elif isinstance(found, set):
                found.add(key)
            elif found != key:
                self._by_tag[name] = {found, key}
        while len(self.entries) > self.size:
            self._drop(next(iter(self.entries)))

    def is_unknown(self, key: Hashable) -> bool:
        expires = self.unknown.get(key)
        if expires is None:
            return False
        if expires <= self.clock():
            del self.unknown[key]
            return False
        self.unknown.move_to_end(key)
        self.unknown_hits += 1
        return True

    def put_unknown(self, key: Hashable, generation: int) -> None:
        if generation != self.generation:
            return
        self.unknown[key] = self.clock() + self.ttl
        self.unknown.move_to_end(key)
        while len(self.unknown) > self.unknown_size:
            self.unknown.popitem(last=False)

    def _drop(self, key: Hashable) -> None:
        entry = self.entries.pop(key, None)
        if entry is None:
            return
        for name in entry.tags:
            found = self._by_tag.get(name)
            if isinstance(found, set):
                found.discard(key)
                if len(found) == 1:
                    self._by_tag[name] = next(iter(found))
            elif found == key:
                del self._by_tag[name]

    def invalidate(self, tags: Iterable[str] | None) -> int:
        """Forget the entries built from rows with these tags (None: everything, including
        the unknown credentials, since a change may have created what was unknown).
        Returns how many entries went."""
        self.generation += 1
        if tags is None:
            self._certificate_apis = None
            dropped = len(self.entries)
            self.entries.clear()
            self.unknown.clear()
            self._by_tag.clear()
            self._interned.clear()
            return dropped
        dropped = 0
        tags = list(tags)
        if _changes_products(tags):
            self._certificate_apis = None
        if any(_creates_credentials(name) for name in tags):
            self.unknown.clear()
        for name in tags:
            if name.startswith(_CERTIFICATE_TAG):  # a registered certificate is known now
                try:
                    digest = bytes.fromhex(name[len(_CERTIFICATE_TAG) :])
                except ValueError:
                    continue
                self.unknown.pop(certificate_key(digest), None)
        for name in tags:
            found = self._by_tag.get(name)
            if found is None:
                continue
            for key in list(found) if isinstance(found, set) else [found]:
                self._drop(key)
                dropped += 1
        return dropped

    def sizes(self) -> dict[str, int]:
        return {"credentials": len(self.entries), "unknown": len(self.unknown)}

    def lookups(self) -> dict[tuple[str, str], int]:
        """Look-ups so far by (cache, result): ``credentials`` counts every ``get``, ``unknown``
        the credentials known to be unknown (a ``credentials`` miss answered without SQL)."""
        return {
            ("credentials", "hit"): self.hits,
            ("credentials", "miss"): self.misses,
            ("unknown", "hit"): self.unknown_hits,
        }
