"""Name patterns (a role's ``namePattern``), matched by RE2 in time linear in the name.

Python's ``re`` backtracks: ``(a+)+$`` against 30 ``a`` and a ``!`` takes minutes, and a
request matching it holds the event loop for all that time. RE2 has no backtracking, so
matching costs time proportional to the name whatever the pattern; the price is that it
refuses what needs backtracking (look-around, back-references) and patterns whose compiled
form exceeds a memory budget. Both are refused when a role is saved, with RE2's reason.
"""

from __future__ import annotations

import functools

import re2

MAX_PATTERN_LENGTH = 200
# RE2's memory budget for one compiled pattern; a larger program (e.g. nested counted
# repetitions) is refused instead of built.
_MAX_PROGRAM_BYTES = 1 << 20
_CACHED_PATTERNS = 256

_OPTIONS = re2.Options()
_OPTIONS.max_mem = _MAX_PROGRAM_BYTES
_OPTIONS.log_errors = False  # a refused pattern is the caller's mistake, reported to them


def _reason(error: re2.error) -> str:
    """RE2's message (bytes from the C++ library), readable and short."""
    raw = error.args[0] if error.args else ""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return text if len(text) <= 120 else text[:117] + "..."


@functools.lru_cache(maxsize=_CACHED_PATTERNS)
def _compiled(pattern: str) -> re2._Regexp[str]:
    return re2.compile(pattern, _OPTIONS)


def pattern_error(pattern: str) -> str | None:
    """Why ``pattern`` cannot be a name pattern, or None. The length is checked before the
    pattern is compiled."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        return f"at most {MAX_PATTERN_LENGTH} characters"
    try:
        _compiled(pattern)
    except re2.error as error:
        return f"not a valid RE2 pattern: {_reason(error)}"
    return None


def matches_whole(pattern: str, name: str) -> bool:
    """Whether the whole of ``name`` matches ``pattern``. A pattern that cannot be compiled
    (stored before patterns were checked as they are now) matches nothing: it fails closed."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        return False
    try:
        compiled = _compiled(pattern)
    except re2.error:
        return False
    return compiled.fullmatch(name) is not None
