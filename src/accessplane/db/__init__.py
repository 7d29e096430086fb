"""Database engine, sessions and transactions."""

from accessplane.db.engine import create_engine, transaction

__all__ = ["create_engine", "transaction"]
