"""name what the *_by_id columns hold

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 09:00:00

``access_request.decided_by_id`` holds the deciding actor as the audit log names it (a member,
or an API Access key); ``api_access.created_by_id`` and ``api_grant.granted_by_id`` hold the
creating or granting principal (a user, or an API Access key); ``access_request.created_app``
says the access profile was created with the request. The columns are renamed to say so; their
values do not change. Batch mode: SQLite renames a column by copying its table.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, old name, new name)
RENAMES = [
    ("access_request", "decided_by_id", "decided_by_actor_id"),
    ("access_request", "created_app", "created_access_profile"),
    ("api_access", "created_by_id", "created_by_principal_id"),
    ("api_grant", "granted_by_id", "granted_by_principal_id"),
]


def _rename(renames: Sequence[tuple[str, str, str]]) -> None:
    tables = dict.fromkeys(table for table, _, _ in renames)
    for table in tables:
        with op.batch_alter_table(table) as batch:
            for name, old, new in renames:
                if name == table:
                    batch.alter_column(old, new_column_name=new)


def upgrade() -> None:
    _rename(RENAMES)


def downgrade() -> None:
    _rename([(table, new, old) for table, old, new in reversed(RENAMES)])
