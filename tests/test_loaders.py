"""The per-request loader registry: a loader is its class, made once per request on first use."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from typing import Any

import pytest
from aiodataloader import DataLoader
from sqlalchemy.ext.asyncio import AsyncSession

import accessplane.loaders
from accessplane.auth.principals import SYSTEM
from accessplane.loaders import Loaders
from accessplane.loaders.base import ByIdLoader, ChildCountLoader
from accessplane.loaders.grants import ApisByMemberIdLoader, GroupsByApiIdLoader


def loader_classes() -> list[type[DataLoader[Any, Any]]]:
    """Every concrete loader a resolver may ask for (the shared bases excluded)."""
    found = []
    for module_info in pkgutil.iter_modules(accessplane.loaders.__path__):
        if module_info.name == "base":
            continue
        module = importlib.import_module(f"accessplane.loaders.{module_info.name}")
        for _, value in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(value, DataLoader)
                and value.__module__ == module.__name__
                and not inspect.isabstract(value)
            ):
                found.append(value)
    return found


def fresh() -> Loaders:
    return Loaders(AsyncSession(), SYSTEM)


async def test_every_loader_is_made_once_per_request() -> None:
    classes = loader_classes()
    assert len(classes) >= 17
    loaders, other = fresh(), fresh()
    for kind in classes:
        made = loaders.get(kind)
        assert type(made) is kind
        assert loaders.get(kind) is made
        assert other.get(kind) is not made


async def test_loaders_get_the_request_session_and_viewer() -> None:
    loaders = fresh()
    apis = loaders.get(ApisByMemberIdLoader)
    assert apis.session is loaders.session
    assert apis.viewer is SYSTEM


async def test_a_count_groups_its_page_loader_query_of_the_same_request() -> None:
    loaders = fresh()
    count = loaders.count(GroupsByApiIdLoader)
    assert isinstance(count, ChildCountLoader)
    assert count.pages is loaders.get(GroupsByApiIdLoader)
    assert loaders.count(GroupsByApiIdLoader) is count
    assert loaders.count(ApisByMemberIdLoader) is not count


async def test_a_loader_asking_for_an_unknown_part_is_refused() -> None:
    class Odd(ByIdLoader[Any]):
        def __init__(self, session: AsyncSession, clock: object) -> None:
            super().__init__(session)

    with pytest.raises(TypeError, match="clock"):
        fresh().get(Odd)
