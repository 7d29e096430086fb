"""Database errors that mean "a concurrent change won", not "the server is broken".

A unique or foreign key violation that escaped a service's own checks (two requests passed the
check before either committed), an edit of a row a concurrent request deleted meanwhile, or on
PostgreSQL a serialization failure or deadlock, is the caller's to retry: shown as CONFLICT,
logged as a warning without a traceback.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError

# PostgreSQL SQLSTATEs of a transaction rolled back for a concurrent one: serialization_failure,
# deadlock_detected.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})


def is_conflict(error: BaseException) -> bool:
    """Whether ``error`` is an integrity violation or a transaction lost to a concurrent one."""
    if isinstance(error, IntegrityError | StaleDataError):
        # StaleDataError: an UPDATE matched no row, deleted since it was read.
        return True
    if isinstance(error, DBAPIError):
        original = error.orig
        sqlstate = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
        return sqlstate in RETRYABLE_SQLSTATES
    return False


def describe(error: BaseException) -> str:
    """One line for the log: the driver's message, without the statement or its parameters
    (which may hold what the caller sent)."""
    original = error.orig if isinstance(error, DBAPIError) else error
    lines = str(original).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else type(original).__name__}"
