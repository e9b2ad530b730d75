"""index of failed logins, for the login throttle

Revision ID: 0008
Revises: 0007

The throttle counts a user name's failed logins of the last 15 minutes in the audit log. The
log also holds a line for every read by a service — hundreds a second on a busy day — so
`at` alone would make each login walk the last 15 minutes of everything. A partial index on
the failures only costs the other audit lines nothing.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_NAME = "ix_audit_log_login_failures"
_WHERE = sa.text("action = 'user.login_failed'")


def upgrade() -> None:
    op.create_index(
        _NAME, "audit_log", ["actor", "at"], postgresql_where=_WHERE, sqlite_where=_WHERE
    )


def downgrade() -> None:
    op.drop_index(_NAME, table_name="audit_log")
