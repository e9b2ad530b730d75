"""A database ready for sohoa: the newest schema, and the shipped units in an empty table.

It sits above the domains because it needs two of them: the platform's migrations and the
accounts' units.
"""

from __future__ import annotations

from sqlalchemy import Engine

from store.accounts.units import ensure_default_units
from store.platform.db import make_session_factory, unit_of_work
from store.platform.migrate import upgrade_database


def prepare_database(engine: Engine) -> None:
    """Migrate, then load the shipped units into an empty units table."""
    upgrade_database(engine)
    with unit_of_work(make_session_factory(engine)) as session:
        ensure_default_units(session)
