"""What a transaction changed, as tags that caches can drop entries by.

The decision endpoint caches credentials in memory and must forget them the moment the rows they
were built from change. Every flush of a session collects a tag per changed row of the tables
that decisions read (``access_profile:<id>``, ``client:<id>``, ``plan:<id>``, …); statements
that bypass the unit of work (bulk ``UPDATE``/``DELETE``) name their tags with ``changed()``.
At commit the tags go to the listeners subscribed to the session's engine (the application's
decision cache, which on PostgreSQL also sends a ``NOTIFY`` inside the transaction for the other
instances). A rollback drops them.
"""

from __future__ import annotations

import uuid
import weakref
from collections.abc import Iterable
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, event
from sqlalchemy.orm import Session

# session.info key of the tags collected so far in the session's transaction.
_TAGS = "accessplane.changes"


class ChangeListener(Protocol):
    """Told of the tags of every transaction committed on an engine."""

    def before_commit(self, connection: Connection, tags: frozenset[str]) -> None:
        """Inside the transaction, just before it commits (e.g. to send a NOTIFY with it)."""

    def after_commit(self, tags: frozenset[str]) -> None:
        """Once it has committed."""


# Per engine, so that every session of an application (and of its tests) reaches its caches;
# weak, so that a disposed engine takes its listeners with it.
_listeners: weakref.WeakKeyDictionary[Engine, list[ChangeListener]] = weakref.WeakKeyDictionary()


def subscribe(engine: Engine, listener: ChangeListener) -> None:
    """Tell ``listener`` about the transactions committed by sessions bound to ``engine``."""
    install()
    _listeners.setdefault(engine, []).append(listener)


def _listeners_of(session: Session) -> list[ChangeListener]:
    if not _listeners:
        return []
    bind = session.get_bind()
    engine = bind.engine if isinstance(bind, Connection) else bind
    return _listeners.get(engine, [])


# The set of issuers that apps trust (and so which JWTs are worth a look-up).
TRUSTED_ISSUERS = "trusted_issuers"


def tag(kind: str, value: uuid.UUID | str) -> str:
    return f"{kind}:{value}"


def workspace_access(workspace_id: uuid.UUID) -> str:
    """Who in the workspace reaches which API (grants, groups, members, roles, APIs)."""
    return tag("workspace_access", workspace_id)


def identity(issuer: str, name: str) -> str:
    """A subject (user) or OAuth client of an issuer, as OIDC tokens name them."""
    return tag("identity", f"{issuer}|{name}")


def certificate(fingerprint: str) -> str:
    """A client certificate by its fingerprint (lowercase hex SHA-256 of the DER): registering
    one may turn a fingerprint the decision endpoint found unknown into a known app."""
    return tag("certificate", fingerprint)


def changed(session: Session | Any, *tags: str) -> None:
    """Record tags for a change the unit of work cannot see (a bulk statement)."""
    sync = getattr(session, "sync_session", session)
    sync.info.setdefault(_TAGS, set()).update(tags)


def row_tags(instance: Any) -> Iterable[str]:
    """The tags of one changed row of the tables decisions read (none for other tables)."""
    table = getattr(instance, "__tablename__", None)
    match table:
        case "access_profile":
            yield tag("access_profile", instance.id)
            if instance.trusted_issuer:
                yield TRUSTED_ISSUERS
        case "access_profile_product" | "access_profile_revocation":
            yield tag("access_profile", instance.access_profile_id)
        case "access_profile_certificate":
            # The app (its cached policy lists its fingerprints) and the fingerprint itself.
            yield tag("access_profile", instance.access_profile_id)
            yield certificate(instance.fingerprint)
        case "client" | "plan" | "api_product":
            yield tag(table, instance.id)
        case "api_product_api" | "api_product_operation":
            yield tag("api_product", instance.product_id)
        case "api_operation":
            # Apps reaching the API carry its tag, whichever product brings it to them.
            yield tag("api", instance.api_id)
        case "api":
            yield tag("api", instance.id)
            yield workspace_access(instance.workspace_id)
        case "api_grant" | "member" | "role" | "member_group":
            yield workspace_access(instance.workspace_id)
            if table == "member":
                yield tag("user", instance.user_id)
        case "group_member":
            yield tag("group", instance.group_id)
        case "api_access":  # cached GraphQL principals (signin/principal_cache.py)
            yield tag("api_access", instance.id)
        case "api_access_revocation":
            yield tag("api_access", instance.api_access_id)
        case "service_account":
            yield tag("member", instance.member_id)
            yield identity(instance.issuer, instance.client_id)
        case "user_account":
            if instance.subject:
                yield identity(instance.issuer, instance.subject)


def _after_flush(session: Session, _context: Any) -> None:
    found: set[str] = set()
    for instance in (*session.new, *session.dirty, *session.deleted):
        found.update(row_tags(instance))
    if found:
        session.info.setdefault(_TAGS, set()).update(found)


def pending(session: Session) -> frozenset[str]:
    """The tags collected in the session's transaction so far."""
    return frozenset(session.info.get(_TAGS, ()))


def _before_commit(session: Session) -> None:
    if session.new or session.dirty or session.deleted:
        session.flush()  # commit would flush after this event: collect its tags first
    tags = pending(session)
    if not tags:
        return
    listeners = _listeners_of(session)
    if listeners:
        connection = session.connection()
        for listener in listeners:
            listener.before_commit(connection, tags)


def _after_commit(session: Session) -> None:
    tags = pending(session)
    session.info.pop(_TAGS, None)
    if not tags:
        return
    for listener in _listeners_of(session):
        listener.after_commit(tags)


def _after_rollback(session: Session) -> None:
    session.info.pop(_TAGS, None)


def install() -> None:
    """Collect tags in every ORM session of the process (idempotent)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "before_commit", _before_commit)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", _after_soft_rollback)


def _after_soft_rollback(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:  # the outermost transaction rolled back
        _after_rollback(session)
