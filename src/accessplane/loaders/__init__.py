"""Per-request dataloaders: every relation and count is batched, never queried per row.

Adding a loader is writing its class (``loaders/<aggregate>.py``); a resolver then asks the
request's registry for it by class: ``info.context.loaders.get(UserByIdLoader)``, and for the
batched count of a page loader's children: ``info.context.loaders.count(GroupsByApiIdLoader)``.
"""

from __future__ import annotations

import inspect
from typing import Any, TypeVar, cast

from aiodataloader import DataLoader
from sqlalchemy.ext.asyncio import AsyncSession

from accessplane.auth.principals import Principal
from accessplane.loaders.base import ChildCountLoader, PageLoader

AnyLoader = TypeVar("AnyLoader", bound=DataLoader[Any, Any])


# Constructor parameter names by loader class, read once per process.
_WANTED: dict[type[DataLoader[Any, Any]], tuple[str, ...]] = {}


def wanted(kind: type[DataLoader[Any, Any]]) -> tuple[str, ...]:
    """The request parts ``kind``'s constructor takes, by parameter name."""
    names = _WANTED.get(kind)
    if names is None:
        names = tuple(inspect.signature(kind).parameters)
        unknown = set(names) - set(Loaders.PARTS)
        if unknown:
            raise TypeError(
                f"{kind.__name__}() takes {sorted(unknown)}; a loader takes only {Loaders.PARTS}"
            )
        _WANTED[kind] = names
    return names


class Loaders:
    """The loaders of one request, each made on first use, so nothing cached outlives the
    request and a request pays only for the loaders it uses."""

    # What a loader's constructor may ask for, by parameter name.
    PARTS = ("session", "viewer")

    def __init__(self, session: AsyncSession, viewer: Principal) -> None:
        self.session = session
        self.viewer = viewer
        self._made: dict[object, DataLoader[Any, Any]] = {}

    def get(self, kind: type[AnyLoader]) -> AnyLoader:
        """This request's ``kind`` loader."""
        made = self._made.get(kind)
        if made is None:
            made = kind(**{name: getattr(self, name) for name in wanted(kind)})
            self._made[kind] = made
        return cast("AnyLoader", made)  # made for this very key

    def count(self, kind: type[PageLoader[Any]]) -> ChildCountLoader:
        """How many children each parent has in ``kind``'s pages: the same query, grouped."""
        key = (ChildCountLoader, kind)
        made = self._made.get(key)
        if made is None:
            made = ChildCountLoader(self.get(kind))
            self._made[key] = made
        return cast("ChildCountLoader", made)
