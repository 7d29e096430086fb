"""Operations at the gateway: which declared operation (method + path template) a request is,
and whether the app may call it (docs/decision.md, "Operations").

Two halves. ``normalise_target`` turns a request's method and path into a ``Target`` once per
request: the query is cut off, unreserved characters are percent-decoded and every other escape
is kept (upper-case hex), and anything different servers read differently is refused (encoded
``/`` or ``\\``, ``.``/``..`` segments, empty segments, ``;`` path parameters, NUL and other
control characters, double encoding), so a request never matches an operation it would not
match literally. ``OperationTable`` is an API's declared operations compiled into one segment
trie per method when the app's policy is cached; matching walks it segment by segment (no
pattern per operation), literals before parameters before a trailing wildcard.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from accessplane.decision.reasons import Reason

# "*" as an operation's method: any method.
ANY_METHOD = "*"
# Bounds on what one request may cost (longer input is refused, not truncated).
MAX_PATH_LENGTH = 8192
MAX_SEGMENTS = 128
MAX_METHOD_LENGTH = 20

_ALPHA = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_UNRESERVED = frozenset(_ALPHA + "0123456789-._~")
# Characters a segment may hold as they are: RFC 3986 pchar without "%" (escapes are decoded
# one by one) and without ";" (refused: Tomcat and others strip ";params" from a segment,
# most servers keep them, so the two would see different operations).
_PLAIN = frozenset(_UNRESERVED | set("!$&'()*+,=:@"))
# Bytes never accepted, raw or percent-encoded: "/" and "\" inside a segment (some upstreams
# decode them into separators), NUL and the other control characters.
_FORBIDDEN_BYTES = frozenset({0x2F, 0x5C, 0x7F, *range(0x20)})
# Raw characters refused outright; other printable ASCII outside pchar ('"', "<", "^", …)
# is percent-encoded, as a client should have sent it.
_REFUSED_CHARS = frozenset({";", "\\", "#", " ", *map(chr, (*range(0x20), 0x7F))})
_HEX = frozenset("0123456789abcdefABCDEF")
_TOKEN = frozenset(_ALPHA + "0123456789!#$%&'*+-.^_`|~")
_FAST_PATH = frozenset(_PLAIN | {"/"})


@dataclass(frozen=True, slots=True)
class Target:
    """A request's method (upper case) and path segments, normalised."""

    method: str
    segments: tuple[str, ...]


def normalise_method(method: str) -> str | None:
    """The method in upper case (methods are case-sensitive tokens, but gateways and clients
    send ``get``), or None if it is empty, too long or not an HTTP token."""
    if not method or len(method) > MAX_METHOD_LENGTH or not _TOKEN.issuperset(method):
        return None
    return method.upper()


def normalise_path(path: str, *, raw_bytes: bool = False) -> tuple[str, ...] | None:
    """The segments of a request path (its query cut off), or None when the path is refused.

    ``/invoices/42`` is ``("invoices", "42")``, ``/`` is ``()``; one trailing slash is
    ignored (``/invoices/`` is ``/invoices``). ``raw_bytes``: ``path`` holds the bytes a
    gateway sent, one character per byte (read as latin-1), so each character beyond ASCII
    is one byte to percent-encode; otherwise ``path`` is text, encoded as UTF-8."""
    if len(path) > MAX_PATH_LENGTH:
        return None
    query = path.find("?")
    if query >= 0:
        path = path[:query]
    if not path.startswith("/"):
        return None  # absolute-form, "*" or empty: no origin-form path to match
    if len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    raw = path[1:].split("/") if len(path) > 1 else []
    if len(raw) > MAX_SEGMENTS:
        return None
    if _FAST_PATH.issuperset(path):
        # The common case: nothing to decode, only empty and dot segments to refuse.
        if "" in raw or "." in raw or ".." in raw:
            return None
        return tuple(raw)
    segments = []
    encoding = "latin-1" if raw_bytes else "utf-8"
    for segment in raw:
        normal = normalise_segment(segment, encoding=encoding)
        if normal is None:
            return None
        segments.append(normal)
    return tuple(segments)


def _double_encoded(normal: str) -> bool:
    """Whether a normalised segment holds ``%25`` before two hex digits: an escape for an
    upstream that decodes twice (``%252F`` is a "/" to it). Checked after decoding, since
    ``%25%32%46`` becomes ``%252F`` once its unreserved digits are decoded."""
    at = normal.find("%25")
    while at >= 0:
        if at + 5 <= len(normal) and _HEX.issuperset(normal[at + 3 : at + 5]):
            return True
        at = normal.find("%25", at + 3)
    return False


def normalise_segment(segment: str, *, encoding: str = "utf-8") -> str | None:
    """One path segment in its normal form, or None when it is refused (empty, a dot
    segment, an encoded separator or control character, double encoding, ``;``, a bad
    escape). ``encoding``: how characters beyond ASCII become the bytes to percent-encode
    (``latin-1`` for a segment read from the bytes a gateway sent, one character a byte)."""
    if _PLAIN.issuperset(segment):
        return None if segment in ("", ".", "..") else segment
    out: list[str] = []
    i, end = 0, len(segment)
    while i < end:
        char = segment[i]
        if char == "%":
            escape = segment[i + 1 : i + 3]
            if len(escape) != 2 or not _HEX.issuperset(escape):
                return None
            byte = int(escape, 16)
            if byte in _FORBIDDEN_BYTES:
                return None
            if byte == 0x25 and _HEX.issuperset(segment[i + 3 : i + 5]) and i + 5 <= end:
                return None  # "%252F": a "/" for an upstream that decodes twice
            decoded = chr(byte)
            out.append(decoded if decoded in _UNRESERVED else "%" + escape.upper())
            i += 3
            continue
        if char in _REFUSED_CHARS:
            return None
        if char in _PLAIN:
            out.append(char)
        else:  # printable ASCII outside pchar, or beyond ASCII: its bytes, encoded
            encoded = _encoded(char, encoding)
            if encoded is None:
                return None
            out.append(encoded)
        i += 1
    normal = "".join(out)
    if normal in ("", ".", "..") or _double_encoded(normal):
        return None
    return normal


def _encoded(char: str, encoding: str) -> str | None:
    """A character's bytes in ``encoding``, percent-encoded (upper-case hex); None when it
    has none (beyond latin-1 in a path said to be bytes: not what a gateway sent)."""
    try:
        data = char.encode(encoding, "surrogatepass" if encoding == "utf-8" else "strict")
    except UnicodeEncodeError:
        return None
    return "".join(f"%{b:02X}" for b in data)


def normalise_target(method: str, path: str, *, raw_bytes: bool = False) -> Target | None:
    """The request's method and path normalised, or None when either is missing or refused;
    ``raw_bytes`` as for ``normalise_path``."""
    normal_method = normalise_method(method)
    if normal_method is None:
        return None
    segments = normalise_path(path, raw_bytes=raw_bytes)
    if segments is None:
        return None
    return Target(normal_method, segments)


@dataclass(frozen=True, slots=True)
class Operation:
    """A declared operation as decisions need it."""

    id: uuid.UUID
    method: str  # upper case, or ANY_METHOD
    path: str  # the template, e.g. /invoices/{id}
    scopes: frozenset[str] = frozenset()


def _template_segments(path: str) -> tuple[list[str | None], bool] | None:
    """A template's segments (None for a ``{name}`` parameter, literals normalised like a
    request's) and whether it ends in the ``/*`` wildcard; None if it cannot match anything."""
    if not path.startswith("/"):
        return None
    raw = path[1:].split("/") if path != "/" else []
    wildcard = bool(raw) and raw[-1] == "*"
    if wildcard:
        raw.pop()
    segments: list[str | None] = []
    for segment in raw:
        if len(segment) > 2 and segment.startswith("{") and segment.endswith("}"):
            segments.append(None)
            continue
        normal = normalise_segment(segment)
        if normal is None:
            return None
        segments.append(normal)
    return segments, wildcard


class _Node:
    """A trie node: the segments read so far. ``leaf``: the operations ending here;
    ``wildcard``: those ending here in ``/*`` (one or more further segments)."""

    __slots__ = ("folded", "leaf", "literals", "param", "wildcard")

    def __init__(self) -> None:
        self.literals: dict[str, _Node] = {}
        self.folded: frozenset[str] = frozenset()  # the literals in lower case
        self.param: _Node | None = None
        self.leaf: tuple[Operation, ...] = ()
        self.wildcard: tuple[Operation, ...] = ()

    def child(self, segment: str | None) -> _Node:
        if segment is None:
            if self.param is None:
                self.param = _Node()
            return self.param
        found = self.literals.get(segment)
        if found is None:
            found = self.literals[segment] = _Node()
        return found

    def seal(self) -> None:
        """Fill the case-folded literals, once the trie is complete."""
        self.folded = frozenset(name.lower() for name in self.literals)
        for node in self.literals.values():
            node.seal()
        if self.param is not None:
            self.param.seal()


def _ranked(held: tuple[Operation, ...], operation: Operation) -> tuple[Operation, ...]:
    """The operations one trie position answers with: a method named explicitly wins over
    ``*``; operations equally specific (``/a/{x}`` and ``/a/{y}``) are kept together."""
    if not held:
        return (operation,)
    held_any = held[0].method == ANY_METHOD
    adding_any = operation.method == ANY_METHOD
    if held_any == adding_any:
        return (*held, operation)
    return held if adding_any else (operation,)


# Returned by a walk that met a segment differing from a declared literal only in letter case:
# upstreams disagree on case, so such a request is refused rather than matched to a parameter.
_AMBIGUOUS: tuple[Operation, ...] = ()


def _walk(node: _Node, segments: tuple[str, ...], index: int) -> tuple[Operation, ...] | None:
    """The most specific operations matching ``segments[index:]`` below ``node`` (literal
    before parameter before wildcard, at the first segment where they differ), ``_AMBIGUOUS``,
    or None. A node is visited only at its own depth, so a walk visits each node at most
    once; on real APIs it follows one branch."""
    if index == len(segments):
        return node.leaf or None
    segment = segments[index]
    child = node.literals.get(segment)
    if child is not None:
        found = _walk(child, segments, index + 1)
        if found is not None:
            return found
    elif node.folded and segment.lower() in node.folded:
        return _AMBIGUOUS
    if node.param is not None:
        found = _walk(node.param, segments, index + 1)
        if found is not None:
            return found
    return node.wildcard or None


@dataclass(frozen=True, slots=True, eq=False)
class OperationTable:
    """An API's declared operations, compiled: one trie per method named by some operation
    (holding that method's operations and the ``*`` ones), and one of the ``*`` operations
    for every other method. Equal (and hashed) by its operations, so the decision cache keeps
    one table per API however many apps it serves."""

    operations: frozenset[Operation]
    _by_method: dict[str, _Node] = field(repr=False)
    _any: _Node = field(repr=False)
    _hash: int = field(repr=False)

    @classmethod
    def compile(cls, operations: Iterable[Operation]) -> OperationTable:
        """Build the tries. Operations whose template cannot match any request (a
        ``..`` segment, an encoded ``/``) are left out."""
        ops = frozenset(operations)
        # Sorted: operations equally specific answer in a stable order.
        ordered = sorted(ops, key=lambda op: (op.path, op.method, op.id))
        parsed = [(op, _template_segments(op.path)) for op in ordered]
        methods = {op.method for op in ops} - {ANY_METHOD}
        by_method = {m: _build(parsed, {m, ANY_METHOD}) for m in methods}
        return cls(ops, by_method, _build(parsed, {ANY_METHOD}), hash(ops))

    def match(self, target: Target) -> tuple[Operation, ...]:
        """The most specific declared operations matching the target (empty: none)."""
        root = self._by_method.get(target.method, self._any)
        found = _walk(root, target.segments, 0)
        return found or ()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, OperationTable) and other.operations == self.operations

    def __hash__(self) -> int:
        return self._hash


def _build(
    parsed: Sequence[tuple[Operation, tuple[list[str | None], bool] | None]], methods: set[str]
) -> _Node:
    root = _Node()
    for operation, template in parsed:
        if template is None or operation.method not in methods:
            continue
        segments, wildcard = template
        node = root
        for segment in segments:
            node = node.child(segment)
        if wildcard:
            node.wildcard = _ranked(node.wildcard, operation)
        else:
            node.leaf = _ranked(node.leaf, operation)
    root.seal()
    return root


@dataclass(frozen=True, slots=True)
class OperationGrant:
    """What an app may call of one API that declares operations: the API's table and the ids
    of the allowed operations (None: all of them, a product holds the whole API)."""

    table: OperationTable
    allowed: frozenset[uuid.UUID] | None

    def check(self, target: Target | None, scopes: frozenset[str] | None) -> Reason | None:
        """None when the request is an allowed operation (and ``scopes``, a token's, hold the
        operation's; None for credentials without scopes), else the refusal's reason."""
        if target is None:
            return Reason.OPERATION_NOT_ALLOWED
        allowed = self.allowed
        reason = Reason.OPERATION_NOT_ALLOWED
        for operation in self.table.match(target):
            if allowed is not None and operation.id not in allowed:
                continue
            if scopes is None or operation.scopes <= scopes:
                return None
            reason = Reason.INSUFFICIENT_SCOPE
        return reason
