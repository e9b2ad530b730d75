"""Bring a database to the newest schema (Alembic) and load the default units."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["url"] = url  # not via set_main_option: '%' in passwords would break it
    return cfg


def upgrade_database(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to `revision`; safe to run on every start."""
    cfg = alembic_config(str(engine.url))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)
