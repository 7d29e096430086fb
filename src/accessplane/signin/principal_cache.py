"""Principals of GraphQL requests, cached in process so a warm request runs no SQL to know who
is calling.

Entries live in a tagged LRU of their own (``decision.cache.DecisionCache``, at most ``SIZE``
principals), which the decision cache's invalidator drops by the same change tags
(``db.changes``): on the instance that commits a change at once, on the others when its
``NOTIFY`` arrives (``decision.invalidation``), and never later than
``ACCESSPLANE_DECISION_CACHE_TTL`` whatever happens to notifications.

What each cached principal is built from, and so the tags that drop it:

- an API key (``apk_``, its current token only): ``api_access:<id>`` (regenerated, deleted,
  its role or expiry changed) and ``workspace_access:<workspace>`` (its role's permissions);
- a person (console session with an OIDC login, or a bearer JWT with a user): ``user:<id>``
  (a membership added, changed or removed) and ``workspace_access:<workspace>`` per membership
  (its role's permissions); a bearer JWT's entry also carries ``identity:<issuer>|<subject>``;
- a service member (client-credentials JWT): ``identity:<issuer>|<client>`` (linked or
  unlinked), ``member:<id>``, ``user:<id>`` and ``workspace_access:<workspace>``.

An API key's expiry is checked on every hit (``valid_until``), so an expired key is looked up
again and refused with its reason. A console session's own row is still read on every request:
logout ends it with a bulk ``DELETE`` that names no tag.
"""

from __future__ import annotations

import uuid
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import datetime

from accessplane.auth.principals import Principal
from accessplane.db.changes import tag, workspace_access
from accessplane.decision.cache import DecisionCache

# The first element of every principal key.
_NAMESPACE = "principal"
# Principals held at most: people and keys calling the GraphQL API, far fewer than apps.
SIZE = 10_000


@dataclass(frozen=True, slots=True)
class _Cached:
    principal: Principal
    valid_until: datetime | None  # an API key's expiry: a hit after it is a miss


def api_key(digest: str) -> Hashable:
    """The key of an API key's principal: its token's keyed hash, never the token."""
    return (_NAMESPACE, "api_key", digest)


def user(user_id: uuid.UUID) -> Hashable:
    """The key of a person's principal as a console session finds it (by user id)."""
    return (_NAMESPACE, "user", user_id)


def token_user(issuer: str, subject: str) -> Hashable:
    """The key of the person a bearer JWT names."""
    return (_NAMESPACE, "token_user", issuer, subject)


def token_client(issuer: str, client_id: str) -> Hashable:
    """The key of the service member a client-credentials JWT acts as."""
    return (_NAMESPACE, "token_client", issuer, client_id)


def principal_tags(principal: Principal) -> set[str]:
    """The tags every principal carries: its memberships' reach and, for members, who they are."""
    found = {workspace_access(workspace_id) for workspace_id in principal.memberships}
    found |= {tag("workspace", workspace_id) for workspace_id in principal.memberships}
    if principal.credential_id is not None:
        found.add(tag("api_access", principal.credential_id))
    elif principal.id is not None:
        found.add(tag("user", principal.id))
    for membership in principal.memberships.values():
        if membership.member_id is not None:
            found.add(tag("member", membership.member_id))
    return found


class PrincipalCache:
    """Looked-up principals by credential, in a tagged LRU with a TTL."""

    def __init__(self, store: DecisionCache) -> None:
        self.store = store

    @property
    def generation(self) -> int:
        """Taken before a look-up; ``put`` refuses the result if a change committed since."""
        return self.store.generation

    def get(self, key: Hashable, now: datetime) -> Principal | None:
        """The cached principal, or None when absent, expired by TTL or past its validity."""
        found = self.store.get(key)
        if not isinstance(found, _Cached):
            return None
        if found.valid_until is not None and found.valid_until <= now:
            return None
        return found.principal

    def put(
        self,
        key: Hashable,
        principal: Principal,
        generation: int,
        *,
        valid_until: datetime | None = None,
        extra_tags: Iterable[str] = (),
    ) -> None:
        """Remember a principal found with SQL that began at ``generation``."""
        tags = principal_tags(principal) | set(extra_tags)
        self.store.put(key, _Cached(principal, valid_until), sorted(tags), generation)
