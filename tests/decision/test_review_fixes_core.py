"""Regressions of a security review of the decision endpoint's core: double encoding hidden
behind encoded hex digits, non-ASCII paths sent as bytes by forward-auth gateways, and the
in-flight load that concurrent first requests share (``Decider._once``)."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from starlette.types import ASGIApp, Receive, Scope, Send

from accessplane.auth.jwt import JwtValidator
from accessplane.db.engine import create_engine
from accessplane.decision.cache import DecisionCache
from accessplane.decision.decider import Decider
from accessplane.decision.operations import normalise_path, normalise_target
from accessplane.decision.ratelimits import Limiter, storage_for
from accessplane.settings import Settings
from tests.decision.test_operations import ask, choose, declare
from tests.support.gateway import PEER, Gate, Shop
from tests.support.scenario import Scenario

# 1. Double encoding with encoded hex digits.


@pytest.mark.parametrize(
    "path",
    [
        "/files/x%25%32%46delete",  # %25 %32 %46: "%", "2", "F" once decoded, so %252F
        "/files/x%25%32Fdelete",
        "/files/x%252%46delete",
        "/files/x%25%34%31",  # %2541
        "/files/x%25%36%31",  # %25a1: the digits decode to lower-case hex
    ],
)
def test_double_encoding_through_encoded_hex_digits_is_refused(path: str) -> None:
    assert normalise_path(path) is None


@pytest.mark.parametrize(
    ("path", "segments"),
    [
        ("/files/100%25", ("files", "100%25")),  # a plain "%", encoded, is fine
        ("/files/100%25%32", ("files", "100%252")),  # one hex digit after it: no escape
        ("/files/100%25x%32%46", ("files", "100%25x2F")),
    ],
)
def test_an_encoded_percent_sign_not_followed_by_an_escape_is_kept(
    path: str, segments: tuple[str, ...]
) -> None:
    assert normalise_path(path) == segments


async def test_a_double_encoded_separator_does_not_reach_an_operation_not_granted(
    gate: Gate, shop: Shop, scenario: Scenario
) -> None:
    read = await declare(scenario, shop.api, "GET", "/files/{name}")
    await declare(scenario, shop.api, "GET", "/files/{name}/delete")
    await choose(scenario, shop.product, read)
    assert await ask(gate, shop.token, "GET", "/files/x") == "ok"
    assert await ask(gate, shop.token, "GET", "/files/x/delete") == "operation_not_allowed"
    for path in ("/files/x%25%32%46delete", "/files/x%25%32%66delete", "/files/x%252Fdelete"):
        assert await ask(gate, shop.token, "GET", path) == "operation_not_allowed", path


# 2. Non-ASCII paths: the gateway's bytes, or /v1/check's text.


def test_bytes_read_as_latin_1_are_encoded_byte_for_byte() -> None:
    sent = "/café".encode().decode("latin-1")  # what the forward-auth endpoint reads
    assert normalise_path(sent, raw_bytes=True) == ("caf%C3%A9",)
    assert normalise_path("/café") == ("caf%C3%A9",)  # text: UTF-8
    # A byte that is not UTF-8 stays that byte.
    assert normalise_path("/caf\xe9", raw_bytes=True) == ("caf%E9",)
    # Beyond latin-1 a path said to be bytes is not what a gateway sent.
    assert normalise_target("GET", "/caf\u20ac", raw_bytes=True) is None
    assert normalise_target("GET", "/caf\u20ac") is not None


def _with_raw_path(app: ASGIApp, raw_path: bytes) -> ASGIApp:
    """``app`` behind a server that hands it this request target as sent (httpx quotes
    non-ASCII in the URL, servers such as uvicorn pass the bytes on in ``raw_path``)."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope = {**scope, "raw_path": raw_path}
        await app(scope, receive, send)

    return wrapped


async def _authorize_raw(app: ASGIApp, token: str, raw_path: bytes) -> httpx.Response:
    transport = httpx.ASGITransport(app=_with_raw_path(app, raw_path), client=(PEER, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.get(
            "/v1/authorize/x", headers={"X-API-Key": token, "X-AccessPlane-Api": "orders"}
        )


async def test_a_non_ascii_path_matches_on_both_endpoints(
    app: ASGIApp, http: httpx.AsyncClient, gate: Gate, shop: Shop, scenario: Scenario
) -> None:
    await declare(scenario, shop.api, "GET", "/café")
    # /v1/check: a JSON string, encoded as UTF-8.
    assert (await gate.check(shop.token, method="GET", path="/café"))["reason"] == "ok"
    assert (await gate.check(shop.token, method="GET", path="/caf%C3%A9"))["reason"] == "ok"
    # Forward auth (nginx's X-Original-URI, Traefik's X-Forwarded-Uri): the raw bytes.
    for name in ("X-Original-URI", "X-Forwarded-Uri"):
        answered = await http.get(
            "/v1/authorize",
            params={"api": "orders"},
            headers={"X-API-Key": shop.token, name: "/café".encode(), "X-Original-Method": "GET"},
        )
        assert answered.status_code == 200, (name, answered.text)
    # Envoy: the path appended to /v1/authorize, as the client sent it.
    answered = await _authorize_raw(app, shop.token, "/v1/authorize/café".encode())
    assert answered.status_code == 200, answered.text
    # Another path's bytes still match nothing (é in latin-1 is not é in UTF-8).
    answered = await _authorize_raw(app, shop.token, b"/v1/authorize/caf\xe9")
    assert answered.status_code == 403
    assert answered.headers["x-accessplane-reason"] == "operation_not_allowed"


# 3. The shared in-flight load.


@pytest.fixture
async def decider(settings: Settings) -> AsyncIterator[Decider]:
    engine = create_engine(settings.database_url)
    yield Decider(
        settings=settings,
        sessions=async_sessionmaker(engine),
        cache=DecisionCache(size=100, unknown_size=100, ttl=60),
        limiter=Limiter(storage_for(None)),
        member_tokens=JwtValidator(settings),
    )
    await engine.dispose()


class GatedLoad:
    """A load that waits for ``gate`` and counts its runs."""

    def __init__(self, value: Any) -> None:
        self.value = value
        self.started = asyncio.Event()
        self.gate = asyncio.Event()
        self.runs = 0
        self.error: BaseException | None = None

    async def __call__(self) -> Any:
        self.runs += 1
        self.started.set()
        await self.gate.wait()
        if self.error is not None:
            raise self.error
        return self.value


async def _until_waiting(task: asyncio.Task[Any]) -> None:
    """Let ``task`` run up to its first wait (the event loop runs it once)."""
    await asyncio.sleep(0)
    assert not task.done()


async def test_a_cancelled_first_caller_leaves_the_others_answered(decider: Decider) -> None:
    load = GatedLoad("policy")
    first = asyncio.create_task(decider._once("key", load))
    await load.started.wait()
    others = [asyncio.create_task(decider._once("key", load)) for _ in range(3)]
    for other in others:
        await _until_waiting(other)
    first.cancel()  # the gateway's client went away
    with pytest.raises(asyncio.CancelledError):
        await first
    load.gate.set()
    assert [await other for other in others] == ["policy"] * 3
    assert load.runs == 1


async def test_a_failed_load_reaches_every_caller_and_is_retrieved_without_them(
    decider: Decider,
) -> None:
    unretrieved: list[dict[str, Any]] = []
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: unretrieved.append(context))
    try:
        load = GatedLoad(None)
        load.error = RuntimeError("database down")
        callers = [asyncio.create_task(decider._once("key", load)) for _ in range(2)]
        await load.started.wait()
        load.gate.set()
        for caller in callers:
            with pytest.raises(RuntimeError, match="database down"):
                await caller
        # Every caller gone before the load fails: the error is still retrieved.
        lonely = GatedLoad(None)
        lonely.error = RuntimeError("database down")
        gone = asyncio.create_task(decider._once("other", lonely))
        await lonely.started.wait()
        gone.cancel()
        with pytest.raises(asyncio.CancelledError):
            await gone
        running = decider._loading["other"][1]
        lonely.gate.set()
        await asyncio.wait([running])  # ends without anyone awaiting its result
        await asyncio.sleep(0)  # its done callbacks run on the loop's next turn
        assert decider._loading == {}
        del gone, callers, running
        gc.collect()
        assert unretrieved == []
    finally:
        loop.set_exception_handler(previous)


async def test_a_caller_after_an_invalidation_does_not_join_a_load_from_before(
    decider: Decider,
) -> None:
    before = GatedLoad("allowed")  # read the rows before the revocation committed
    first = asyncio.create_task(decider._once("key", before))
    await before.started.wait()
    decider.cache.invalidate(["access_profile:revoked"])  # the revocation is committed
    after = GatedLoad("revoked")
    after.gate.set()
    later = asyncio.create_task(decider._once("key", after))
    await asyncio.sleep(0)  # the later caller reaches the running load (or starts its own)
    before.gate.set()
    assert await later == "revoked"
    assert after.runs == 1
    assert await first == "allowed"  # started before the change: its own answer
    # Callers in one generation still share one load.
    shared = GatedLoad("again")
    callers = [asyncio.create_task(decider._once("key", shared)) for _ in range(3)]
    await shared.started.wait()
    shared.gate.set()
    assert [await caller for caller in callers] == ["again"] * 3
    assert shared.runs == 1
    assert decider._loading == {}
