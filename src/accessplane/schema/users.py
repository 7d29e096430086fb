"""Users: the people behind members."""

from __future__ import annotations

import strawberry

from accessplane import models


@strawberry.type
class User:
    """A person."""

    email: str
    name: str

    @classmethod
    def from_model(cls, user: models.User) -> User:
        return cls(email=user.email, name=user.name)
